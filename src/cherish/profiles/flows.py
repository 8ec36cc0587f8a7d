"""Privacy requests: export everything held about a customer, or erase their personal data for good."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.customers import service as customers
from cherish.db.customer_rows import Erasure, erase_rows, export_rows
from cherish.errors import NotFound
from cherish.events.timeline import carried_keys
from cherish.identity.lookup import keys_of
from cherish.identity.service import person_of
from cherish.profiles.service import profile

if TYPE_CHECKING:
    from cherish.customers.models import Customer


def export(session: Session, customer: Customer) -> dict[str, Any]:
    """Everything cherish holds about this customer, as JSON-ready data: the profile, then each section a
    domain declares in the customer-row contract (events, orders, feedback, notes, merges)."""
    data = profile(session, customer)
    family = customers.family(session, customer.id)
    data["merged_ids"] = family[1:]
    data.update(export_rows(session, family))
    return data


def export_by_id(session: Session, customer_id: str) -> dict[str, Any]:
    """What ``export`` gives for the customer with this id, or for the one it was merged into."""
    found, survivor = customers.find(session, customer_id)
    if survivor:
        found, _ = customers.find(session, survivor)
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    return export(session, found)


def erase(session: Session, customer_id: str, *, actor: str) -> dict[str, int]:
    """Remove the person's personal data from every table; keep an audit record without any.

    What an erasure covers: the customer and every id merged into it; an account held apart from it only by a
    guardrail review because it carried one of its identifiers (the same email under a second login: the
    person's own, waiting for someone to confirm); and, everywhere else, free text that names one of its
    identifiers (another customer's event, a rejected message): the value is replaced by ``[erased]``."""
    survivor = customers.survivor_of(session, customer_id)
    if survivor is None:
        raise NotFound(f"no customer {customer_id}")
    people = person_of(session, survivor)
    keys = list(dict.fromkeys([*keys_of(session, people), *carried_keys(session, people)]))  # each key once
    counts = {"customers": len(people), "identifiers": len(keys)}
    # values short enough to occur by chance in unrelated text (a user id "42") are not searched for
    values = sorted({v for key in keys if len(v := key.split(":", 1)[1]) >= 6}, key=len, reverse=True)
    counts.update(erase_rows(session, Erasure(people=people, keys=keys, values=values)))
    customers.mark_erased(session, people)
    audit(session, actor=actor, action="erase", subject=survivor, details=counts)
    return counts
