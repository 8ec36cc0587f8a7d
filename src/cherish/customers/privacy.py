"""Privacy requests: export everything held about a customer, or erase their personal data for good."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.customers.models import Customer
from cherish.customers.service import find, profile
from cherish.db.base import utcnow
from cherish.db.customer_rows import Erasure, erase_rows, export_rows
from cherish.errors import NotFound
from cherish.events.models import Event
from cherish.identity.models import Identifier, IdentityReview


def _family(session: Session, customer_id: str) -> list[str]:
    """The customer and every id merged into it."""
    return [customer_id, *session.scalars(select(Customer.id).where(Customer.merged_into == customer_id))]


def export(session: Session, customer: Customer) -> dict[str, Any]:
    """Everything cherish holds about this customer, as JSON-ready data: the profile, then each section a
    domain declares in the customer-row contract (events, orders, feedback, notes, merges)."""
    data = profile(session, customer)
    family = _family(session, customer.id)
    data["merged_ids"] = family[1:]
    data.update(export_rows(session, family))
    return data


def export_by_id(session: Session, customer_id: str) -> dict[str, Any]:
    """What ``export`` gives for the customer with this id, or for the one it was merged into."""
    found, survivor = find(session, customer_id)
    if survivor:
        found, _ = find(session, survivor)
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    return export(session, found)


def erase(session: Session, customer_id: str, *, actor: str) -> dict[str, int]:
    """Remove the person's personal data from every table; keep an audit record without any.

    What an erasure covers: the customer and every id merged into it; an account held apart from it only by a
    guardrail review because it carried one of its identifiers (the same email under a second login: the
    person's own, waiting for someone to confirm); and, everywhere else, free text that names one of its
    identifiers (another customer's event, a rejected message): the value is replaced by ``[erased]``."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound(f"no customer {customer_id}")
    if customer.merged_into:
        customer_id = customer.merged_into
    people = _person(session, customer_id)
    keys = [f"{t}:{v}" for t, v in session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.customer_id.in_(people)))]
    carried = (key for (held,) in session.execute(select(Event.identifiers).where(Event.customer_id.in_(people)))
               for key in held or [])
    keys = list(dict.fromkeys([*keys, *carried]))  # each key once, however many events carried it
    counts = {"customers": len(people), "identifiers": len(keys)}
    # values short enough to occur by chance in unrelated text (a user id "42") are not searched for
    values = sorted({v for key in keys if len(v := key.split(":", 1)[1]) >= 6}, key=len, reverse=True)
    counts.update(erase_rows(session, Erasure(people=people, keys=keys, values=values)))
    now = utcnow()
    session.execute(update(Customer).where(Customer.id.in_(people)).values(name=None, erased_at=now))
    audit(session, actor=actor, action="erase", subject=customer_id, details=counts)
    return counts


def _person(session: Session, customer_id: str) -> list[str]:
    """The customer, its merged ids, and accounts a guardrail held apart because they carried its identifiers."""
    people = set(_family(session, customer_id))
    frontier = set(people)
    while frontier:
        keys = {f"{t}:{v}" for t, v in session.execute(
            select(Identifier.type, Identifier.value).where(Identifier.customer_id.in_(frontier)))}
        found: set[str] = set()
        for a, b, evidence in session.execute(
                select(IdentityReview.customer_a, IdentityReview.customer_b, IdentityReview.evidence)
                .where(IdentityReview.reason.startswith("guardrail"),
                       or_(IdentityReview.customer_a.in_(frontier), IdentityReview.customer_b.in_(frontier)))):
            if keys.intersection((evidence or {}).get("identifiers") or []):
                for other in (a, b):
                    if other not in people:
                        found.update(_family(session, other))
        people |= found
        frontier = found
    return sorted(people)
