"""The events domain's part of the customer-row contract (`cherish.db.customer_rows`): events, orders (with their
lines) and rejected messages."""

from __future__ import annotations

import re
import typing
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from cherish.db.customer_rows import CustomerRows, Erasure, Export, Split, declare, declare_history
from cherish.events.models import Event, Order, OrderLine, RejectedEvent

_BATCH = 500  # ids per IN (…) list


def _split_events(session: Session, split: Split) -> None:
    """The events that carried the split identifier go with it."""
    ids = [e.id for e in split.events]
    for start in range(0, len(ids), _BATCH):
        session.execute(update(Event).where(Event.id.in_(ids[start : start + _BATCH])).values(customer_id=split.target))


def _split_orders(session: Session, split: Split) -> None:
    """An order goes with the events about it (``Order …`` events naming its order_id)."""
    order_ids = {str(e.payload["properties"].get("order_id")) for e in split.events
                 if (e.event or "").startswith("Order ") and isinstance(e.payload, dict)
                 and isinstance(e.payload.get("properties"), dict)}
    if order_ids:
        session.execute(update(Order).where(Order.order_id.in_(order_ids), Order.customer_id == split.owner)
                        .values(customer_id=split.target))


def _erase_events(session: Session, erasure: Erasure) -> dict[str, int]:
    """The person's events keep their place (when, what kind) without their content; other customers' events
    that name one of the person's identifiers (a gift's recipient, a referral) lose the value."""
    result = session.execute(update(Event).where(Event.customer_id.in_(erasure.people))
                             .values(payload={"erased": True}, identifiers=[]))
    erased = typing.cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's
    return {"events": erased, "other_events": _redact_events(session, erasure.values, erasure.people)}


def _erase_orders(session: Session, erasure: Erasure) -> dict[str, int]:
    """What they bought stays for the aggregates; a line's name can be a message ("Gift for Erin ..."), a coupon
    a personal code."""
    order_pks = select(Order.id).where(Order.customer_id.in_(erasure.people)).scalar_subquery()
    session.execute(update(OrderLine).where(OrderLine.order_pk.in_(order_pks)).values(name=None))
    session.execute(update(Order).where(Order.customer_id.in_(erasure.people)).values(coupon=None))
    return {}


def _erase_rejected(session: Session, erasure: Erasure) -> dict[str, int]:
    """Rejected messages carry no customer id: those that named the person are deleted, others lose the values."""
    wanted = set(erasure.keys)
    doomed, redacted = [], 0
    for row_id, held, payload in session.execute(
            select(RejectedEvent.id, RejectedEvent.identifier_keys, RejectedEvent.payload)):
        if wanted.intersection(held if isinstance(held, list) else []):
            doomed.append(row_id)
            continue
        cleaned = redact(payload, erasure.values)
        if cleaned != payload:
            session.execute(update(RejectedEvent).where(RejectedEvent.id == row_id).values(payload=cleaned))
            redacted += 1
    for start in range(0, len(doomed), _BATCH):
        session.execute(delete(RejectedEvent).where(RejectedEvent.id.in_(doomed[start : start + _BATCH])))
    return {"rejected_events": len(doomed) + redacted}


def _redact_events(session: Session, values: list[str], people: list[str]) -> int:
    """Replace the identifiers' values in other customers' events."""
    if not values:
        return 0
    text = func.lower(cast(Event.payload, String))
    naming = or_(*(text.contains(value.lower(), autoescape=True) for value in values))
    changed = 0
    for row_id, payload in session.execute(
            select(Event.id, Event.payload).where(naming, Event.customer_id.not_in(people))):
        cleaned = redact(payload, values)
        if cleaned != payload:
            session.execute(update(Event).where(Event.id == row_id).values(payload=cleaned))
            changed += 1
    return changed


def redact(value: Any, secrets: list[str]) -> Any:
    """``value`` (JSON) with every occurrence of each secret, in any letter case, replaced by ``[erased]``."""
    if isinstance(value, str):
        for secret in secrets:
            if secret and secret.lower() in value.lower():
                value = re.sub(re.escape(secret), "[erased]", value, flags=re.IGNORECASE)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def _events(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"message_id": e.message_id, "type": e.type, "event": e.event, "channel": e.channel,
             "timestamp": e.timestamp, "received_at": e.received_at, "payload": e.payload}
            for e in session.scalars(select(Event).where(Event.customer_id.in_(customer_ids))
                                     .order_by(Event.timestamp, Event.id))]


def _orders(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    orders = session.scalars(select(Order).where(Order.customer_id.in_(customer_ids))
                             .order_by(Order.placed_at, Order.id)).all()
    lines: dict[int, list[dict[str, Any]]] = {}
    pks = [o.id for o in orders]
    for start in range(0, len(pks), _BATCH):
        for line in session.scalars(select(OrderLine).where(OrderLine.order_pk.in_(pks[start : start + _BATCH]))
                                    .order_by(OrderLine.id)):
            lines.setdefault(line.order_pk, []).append(
                {"product_id": line.product_id, "sku": line.sku, "name": line.name, "category": line.category,
                 "price": line.price, "quantity": line.quantity})
    return [{"order_id": o.order_id, "status": o.status, "value": o.value, "refunded": o.refunded,
             "currency": o.currency, "placed_at": o.placed_at, "channel": o.channel, "branch": o.branch,
             "promised_delivery_date": o.promised_delivery_date, "delivered_at": o.delivered_at,
             "products": lines.get(o.id, [])} for o in orders]


declare(
    CustomerRows("events", unmerge=_split_events, erase=_erase_events, export=Export("events", _events),
                 why="what happened, in every channel: the events that carried a split identifier go with it; "
                     "an erasure keeps when and what kind, not the content"),
    CustomerRows("orders", unmerge=_split_orders, erase=_erase_orders, export=Export("orders", _orders),
                 why="orders follow the events about them; an erasure keeps the purchase, not its free text"),
    CustomerRows("rejected_events", columns=(), erase=_erase_rejected,
                 why="messages intake refused hold no customer id but can name the person"),
)


def _history(session: Session, customer_id: str) -> list[Any]:
    return list(session.execute(
        select(Event.id, Event.message_id, Event.type, Event.event, Event.timestamp, Event.identifiers, Event.payload)
        .where(Event.customer_id == customer_id).order_by(Event.timestamp, Event.id)))


declare_history(_history)
