"""The events service: messages parsed and validated (the part of intake that needs no database), events and
rejected messages stored. Intake as a whole, across the domains, is `events.flows`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.db.dialects import bulk_insert_columns, existing_values, json_text
from cherish.events.messages import (
    MAX_DEPTH,
    InvalidMessage,
    Message,
    cut_at_depth,
    nested_deeper,
    parse_message,
)
from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from cherish.identity.normalize import Key, identifiers_from_traits, normalize_plain

MAX_REASON = 1000  # the rejected events table's reason column


def identifier_keys_of(raw: Any, settings: Settings) -> list[str]:
    """Best-effort identifier keys of a raw (possibly invalid) message, so an erasure can find it."""
    if not isinstance(raw, dict):
        return []
    keys: list[Key] = []
    for name, kind in (("userId", "user_id"), ("anonymousId", "anonymous_id"), ("previousId", "user_id")):
        value = normalize_plain(raw.get(name))
        if value:
            keys.append((kind, value))
    context = raw.get("context")
    for holder in (raw.get("traits"), context.get("traits") if isinstance(context, dict) else None):
        if isinstance(holder, dict):
            keys.extend(identifiers_from_traits(holder, settings))
    return sorted({f"{k}:{v}" for k, v in keys})


@dataclass
class Parsed:
    """A batch read and validated, before anything is stored: the part of intake that needs no database."""

    received_at: datetime
    messages: list[Message]
    rejected: list[dict[str, Any]]
    rejected_rows: list[dict[str, Any]]


def parse_batch(raws: list[Any], *, settings: Settings, received_at: datetime | None = None,
                batch_sent_at: Any = None, forced_type: str | None = None) -> Parsed:
    """Validate every message of ``raws``; the invalid ones are set aside with their reason and index."""
    received_at = received_at or utcnow()
    if forced_type:
        raws = [{**raw, "type": forced_type} if isinstance(raw, dict) else raw for raw in raws]
    parsed = Parsed(received_at, [], [], [])
    for index, raw in enumerate(raws):
        try:
            text = _text_within_depth(raw)  # what the event row stores; also where a NUL character would show
            if text is None:
                # kept readable (and storable) in the rejected list, one level past the limit: still too deep,
                # a replay rejects it again for the same reason until a corrected message is given
                raw = cut_at_depth(raw, MAX_DEPTH + 1)
                raise InvalidMessage(f"the message nests objects and lists more than {MAX_DEPTH} levels deep")
            if "\\u0000" in text and _nul_inside(raw):  # a hit may be a literal backslash-u: checked exactly
                raw = _without_nul(raw)  # kept readable (and storable) in the rejected list
                raise InvalidMessage("text must not contain NUL characters (\\u0000)")
            message = parse_message(raw, settings=settings, received_at=received_at, batch_sent_at=batch_sent_at,
                                    forced_type=forced_type)
            message.payload_text = text
            parsed.messages.append(message)
        except InvalidMessage as exc:
            reason = str(exc)
            if len(reason) > MAX_REASON:  # one that quotes what was sent at length: the reason column holds 1000
                reason = reason[: MAX_REASON - 1] + "…"
            parsed.rejected.append({"index": index, "message": reason})
            parsed.rejected_rows.append({
                "received_at": received_at, "batch_index": index, "reason": reason, "payload": raw,
                "identifier_keys": identifier_keys_of(raw, settings), "status": "rejected",
            })
    return parsed


def _text_within_depth(raw: Any) -> str | None:
    """The JSON text of a message, or None when it nests deeper than MAX_DEPTH (cheap for the usual message: a
    text with fewer brackets than the limit cannot nest deeper, so only the rare bracket-heavy one is walked)."""
    try:
        text = json_text(raw)
    except RecursionError:  # deeper than any JSON encoder goes (orjson stops at 255 levels, json near 1000)
        return None
    if text.count("{") + text.count("[") > MAX_DEPTH and nested_deeper(raw, MAX_DEPTH):
        return None
    return text


def _nul_inside(value: Any) -> bool:
    """Whether any text of a message holds a NUL character, which PostgreSQL cannot store in text or JSON."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_inside(k) or _nul_inside(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_inside(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def seen_messages(session: Session, message_ids: list[str]) -> set[str]:
    """The message ids of ``message_ids`` stored before (a message resent is stored once)."""
    return existing_values(session, Event.__table__.c.message_id, message_ids)


def store_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write event rows (their identifiers a list, their payload JSON text already) in bulk."""
    if not rows:
        return
    bulk_insert_columns(session, Event.__table__, {
        **{name: [r[name] for r in rows] for name in ("message_id", "customer_id", "type", "event", "channel",
                                                     "timestamp", "received_at")},
        "identifiers": [json_text(r["identifiers"]) for r in rows],
        "payload": [r["payload"] for r in rows],
    })


def store_rejected(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set aside messages that were refused, with their reasons, for the rejected list."""
    if rows:
        session.execute(insert(RejectedEvent), rows)


def message_size(raw: Any) -> int:
    return len(orjson.dumps(raw, default=str))


@dataclass(frozen=True)
class Happened:
    """A stored event as a trigger reads it."""

    id: int
    message_id: str
    customer_id: str
    event: str
    channel: str | None
    timestamp: datetime
    properties: dict[str, Any]


def newest_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


def named_after(session: Session, names: list[str], after: int, through: int,
                since: datetime | None = None) -> list[Happened]:
    """The events named ``names`` stored with an id in (``after``, ``through``] (and, given ``since``, that
    happened from then on), oldest first."""
    rows = session.execute(select(Event.id, Event.message_id, Event.customer_id, Event.event, Event.channel,
                                  Event.timestamp, Event.payload)
                           .where(Event.id > after, Event.id <= through, Event.event.in_(names),
                                  *([Event.timestamp >= since] if since is not None else []))
                           .order_by(Event.id))
    return [Happened(row.id, row.message_id, row.customer_id, row.event or "", row.channel, row.timestamp,
                     (row.payload.get("properties") or {}) if isinstance(row.payload, dict) else {})
            for row in rows]


def of_customers_named(session: Session, customer_ids: list[str], names: list[str], since: datetime
                       ) -> list[Happened]:
    """The customers' events named ``names`` that happened from ``since`` on, oldest first."""
    found: list[Happened] = []
    for start in range(0, len(customer_ids), 500):
        found += [
            Happened(row.id, row.message_id, row.customer_id, row.event or "", row.channel, row.timestamp,
                     (row.payload.get("properties") or {}) if isinstance(row.payload, dict) else {})
            for row in session.execute(
                select(Event.id, Event.message_id, Event.customer_id, Event.event, Event.channel, Event.timestamp,
                       Event.payload)
                .where(Event.customer_id.in_(customer_ids[start:start + 500]), Event.timestamp >= since,
                       Event.event.in_(names)))]
    return sorted(found, key=lambda e: (e.timestamp, e.id))


def revenue_of(session: Session, customer_ids: list[str]) -> dict[str, float]:
    """What each customer has spent, net of refunds (customers without an order are left out)."""
    found: dict[str, float] = {}
    for start in range(0, len(customer_ids), 500):
        found.update((cid, float(total or 0)) for cid, total in session.execute(
            select(Order.customer_id, func.sum(Order.value - Order.refunded))
            .where(Order.customer_id.in_(customer_ids[start:start + 500])).group_by(Order.customer_id)))
    return found


def revenue_cutoffs(session: Session) -> tuple[float, float] | None:
    """What a customer must have spent to be among the top quarter and the top tenth (None without orders)."""
    spent = select(func.sum(Order.value - Order.refunded).label("spent")).group_by(Order.customer_id).subquery()
    n = session.scalar(select(func.count()).select_from(spent)) or 0
    if not n:
        return None
    quarter, tenth = (session.scalar(select(spent.c.spent).order_by(spent.c.spent.desc()).limit(1)
                                     .offset(max(0, int(n * share) - 1))) for share in (0.25, 0.10))
    return float(quarter or 0), float(tenth or 0)


def orders_named(session: Session, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Orders by their id: customer, channel, branch, value, when placed and promised."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(order_ids), 500):
        for order in session.scalars(select(Order).where(Order.order_id.in_(order_ids[start:start + 500]))):
            found[order.order_id] = {"order_id": order.order_id, "customer_id": order.customer_id,
                                     "channel": order.channel, "branch": order.branch, "value": order.value,
                                     "placed_at": order.placed_at,
                                     "promised_delivery_date": order.promised_delivery_date,
                                     "delivered_at": order.delivered_at}
    return found


def orders_between(session: Session, since: datetime, until: datetime, *, channel: str | None = None,
                   product: str | None = None, limit: int = 200_000) -> list[tuple[str, str]]:
    """(customer id, order id) of the orders placed from ``since`` to before ``until`` (on ``channel``, holding a
    line whose product id or SKU is ``product``)."""
    query = select(Order.customer_id, Order.order_id).where(Order.placed_at >= since, Order.placed_at < until)
    if channel:
        query = query.where(Order.channel == channel)
    if product:
        query = query.where(Order.id.in_(select(OrderLine.order_pk).where(
            (OrderLine.product_id == product) | (OrderLine.sku == product))))
    return [(cid, oid) for cid, oid in session.execute(query.order_by(Order.placed_at).limit(limit))]


def order_times(session: Session, customer_ids: list[str]) -> dict[str, list[datetime]]:
    """When each customer placed each of their orders."""
    found: dict[str, list[datetime]] = {}
    for start in range(0, len(customer_ids), 500):
        for cid, at in session.execute(select(Order.customer_id, Order.placed_at).where(
                Order.customer_id.in_(customer_ids[start:start + 500]))):
            found.setdefault(cid, []).append(at)
    return found
