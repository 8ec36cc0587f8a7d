"""Privacy requests: export everything held about a customer, or erase their personal data for good."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
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
    """Remove the customer's personal data from every table; keep an audit record without any."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound(f"no customer {customer_id}")
    if customer.merged_into:
        customer_id = customer.merged_into
        customer = session.get(Customer, customer_id)
    family = _family(session, customer_id)
    keys = [f"{t}:{v}" for t, v in session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.customer_id == customer_id))]
    counts = {"identifiers": len(keys)}
    counts["events"] = session.execute(
        update(Event).where(Event.customer_id == customer_id).values(payload={"erased": True}, identifiers=[])
    ).rowcount
    for model in (Identifier, Trait, Consent, Note):
        session.execute(delete(model).where(model.customer_id == customer_id))
    # scores stay for the aggregates, tied to an id that no longer names anyone; the words were theirs
    session.execute(update(Answer).where(Answer.customer_id == customer_id).values(comment=None))
    # Rejected events carry no customer id: find them by the identifiers they named.
    wanted = set(keys)
    doomed = [r.id for r in session.execute(select(RejectedEvent.id, RejectedEvent.identifier_keys))
              if wanted.intersection(r.identifier_keys or [])]
    if doomed:
        session.execute(delete(RejectedEvent).where(RejectedEvent.id.in_(doomed)))
    counts["rejected_events"] = len(doomed)
    session.execute(
        update(Merge).where(or_(Merge.survivor_id.in_(family), Merge.merged_id.in_(family)))
        .values(identifier_value=None)
    )
    session.execute(
        update(IdentityReview)
        .where(or_(IdentityReview.customer_a.in_(family), IdentityReview.customer_b.in_(family)))
        .values(evidence={"erased": True})
    )
    # a run's merge keeps what undoing it needs: the folded customer's identifiers and the values compared
    session.execute(
        update(MatchRunMerge)
        .where(or_(MatchRunMerge.survivor_id.in_(family), MatchRunMerge.merged_id.in_(family)))
        .values(identifiers=[], evidence={"erased": True})
    )
    now = utcnow()
    session.execute(update(Customer).where(Customer.id.in_(family)).values(name=None, erased_at=now))
    audit(session, actor=actor, action="erase", subject=customer_id, details=counts)
    return counts
