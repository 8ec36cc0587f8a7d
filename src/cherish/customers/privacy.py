"""Privacy requests: export everything held about a customer, or erase their personal data for good."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.customers.service import notes_of, profile
from cherish.db.base import utcnow
from cherish.errors import NotFound
from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from cherish.feedback.models import Answer
from cherish.identity.models import Identifier, IdentityReview, MatchRunMerge, Merge


def _family(session: Session, customer_id: str) -> list[str]:
    """The customer and every id merged into it."""
    return [customer_id, *session.scalars(select(Customer.id).where(Customer.merged_into == customer_id))]


def export(session: Session, customer: Customer) -> dict[str, Any]:
    """Everything cherish holds about this customer, as JSON-ready data."""
    data = profile(session, customer)
    data["merged_ids"] = _family(session, customer.id)[1:]
    events = session.scalars(select(Event).where(Event.customer_id == customer.id).order_by(Event.timestamp)).all()
    data["events"] = [
        {"message_id": e.message_id, "type": e.type, "event": e.event, "channel": e.channel,
         "timestamp": e.timestamp, "received_at": e.received_at, "payload": e.payload} for e in events
    ]
    orders = session.scalars(select(Order).where(Order.customer_id == customer.id).order_by(Order.placed_at)).all()
    lines: dict[int, list[dict[str, Any]]] = {}
    if orders:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_pk.in_([o.id for o in orders]))):
            lines.setdefault(line.order_pk, []).append(
                {"product_id": line.product_id, "sku": line.sku, "name": line.name, "category": line.category,
                 "price": line.price, "quantity": line.quantity})
    data["orders"] = [
        {"order_id": o.order_id, "status": o.status, "value": o.value, "refunded": o.refunded, "currency": o.currency,
         "placed_at": o.placed_at, "channel": o.channel, "branch": o.branch,
         "promised_delivery_date": o.promised_delivery_date, "delivered_at": o.delivered_at,
         "products": lines.get(o.id, [])} for o in orders
    ]
    data["feedback"] = [
        {"score_type": a.score_type, "score": a.score, "comment": a.comment, "survey": a.survey, "channel": a.channel,
         "answered_at": a.answered_at}
        for a in session.scalars(select(Answer).where(Answer.customer_id == customer.id).order_by(Answer.answered_at))
    ]
    data["notes"] = [{"author": n.author, "body": n.body, "created_at": n.created_at} for n in notes_of(session, customer.id)]
    data["merges"] = [
        {"survivor_id": m.survivor_id, "merged_id": m.merged_id, "reason": m.reason, "at": m.at,
         "identifier": f"{m.identifier_type}:{m.identifier_value}" if m.identifier_type else None}
        for m in session.scalars(select(Merge).where(Merge.survivor_id == customer.id).order_by(Merge.at))
    ]
    return data


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
    counts["events"] = session.execute(
        update(Event).where(Event.customer_id.in_(people)).values(payload={"erased": True}, identifiers=[])
    ).rowcount
    for model in (Identifier, Trait, Consent, Note):
        session.execute(delete(model).where(model.customer_id.in_(people)))
    # scores stay for the aggregates, tied to an id that no longer names anyone; the words were theirs
    session.execute(update(Answer).where(Answer.customer_id.in_(people)).values(comment=None))
    # what they bought stays for the aggregates; a line's name can be a message ("Gift for Erin ...")
    order_pks = select(Order.id).where(Order.customer_id.in_(people)).scalar_subquery()
    session.execute(update(OrderLine).where(OrderLine.order_pk.in_(order_pks)).values(name=None))
    session.execute(update(Order).where(Order.customer_id.in_(people)).values(coupon=None))
    # values short enough to occur by chance in unrelated text (a user id "42") are not searched for
    values = sorted({v for key in keys if len(v := key.split(":", 1)[1]) >= 6}, key=len, reverse=True)
    # Rejected events carry no customer id: those that named them are deleted, others lose the values.
    wanted = set(keys)
    doomed, redacted = [], 0
    for row_id, held, payload in session.execute(
            select(RejectedEvent.id, RejectedEvent.identifier_keys, RejectedEvent.payload)):
        if wanted.intersection(held or []):
            doomed.append(row_id)
            continue
        cleaned = _redact(payload, values)
        if cleaned != payload:
            session.execute(update(RejectedEvent).where(RejectedEvent.id == row_id).values(payload=cleaned))
            redacted += 1
    if doomed:
        session.execute(delete(RejectedEvent).where(RejectedEvent.id.in_(doomed)))
    counts["rejected_events"] = len(doomed) + redacted
    counts["other_events"] = _redact_events(session, values, people)
    session.execute(
        update(Merge).where(or_(Merge.survivor_id.in_(people), Merge.merged_id.in_(people)))
        .values(identifier_value=None)
    )
    session.execute(delete(IdentityReview).where(
        or_(IdentityReview.customer_a.in_(people), IdentityReview.customer_b.in_(people))))
    # a run's merge keeps what undoing it needs: the folded customer's identifiers and the values compared
    session.execute(
        update(MatchRunMerge)
        .where(or_(MatchRunMerge.survivor_id.in_(people), MatchRunMerge.merged_id.in_(people)))
        .values(identifiers=[], evidence={"erased": True})
    )
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


def _redact_events(session: Session, values: list[str], people: list[str]) -> int:
    """Replace the identifiers' values in other customers' events (a gift's recipient, a referral)."""
    if not values:
        return 0
    text = func.lower(cast(Event.payload, String))
    naming = or_(*(text.like(f"%{_like(value.lower())}%", escape="\\") for value in values))
    changed = 0
    for row_id, payload in session.execute(
            select(Event.id, Event.payload).where(naming, Event.customer_id.not_in(people))):
        cleaned = _redact(payload, values)
        if cleaned != payload:
            session.execute(update(Event).where(Event.id == row_id).values(payload=cleaned))
            changed += 1
    return changed


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _redact(value: Any, secrets: list[str]) -> Any:
    """``value`` (JSON) with every occurrence of each secret, in any letter case, replaced by ``[erased]``."""
    if isinstance(value, str):
        for secret in secrets:
            if secret and secret.lower() in value.lower():
                value = re.sub(re.escape(secret), "[erased]", value, flags=re.IGNORECASE)
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value
