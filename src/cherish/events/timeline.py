"""A customer's history as the events domain holds it: the timeline a page at a time, the orders with their lines,
and the few figures of them a profile shows."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cherish.customers.service import surviving
from cherish.db.dialects import raw_rows, read_time
from cherish.errors import InvalidInput
from cherish.events.models import Event, Order, OrderLine
from cherish.events.summary import timeline_line


def _cursor(timestamp: datetime, event_id: int) -> str:
    raw = json.dumps([timestamp.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(stamp), int(event_id)
    except (ValueError, TypeError):
        raise InvalidInput("before is not a cursor returned by an earlier page") from None


def cursor_time(cursor: str) -> datetime:
    """When the item a page's cursor points after happened (later pages hold what came before it)."""
    return _read_cursor(cursor)[0]


TIMELINE_KINDS = ("order", "track", "identify", "page", "screen", "group", "alias")
_ORDER = "Order "  # a track event so named is an order's (Order Completed, Order Shipped, …): kind "order"


def timeline(session: Session, customer_id: str, *, channel: str | None = None, before: str | None = None,
             limit: int = 50, kind: str | None = None, event: str | None = None) -> dict[str, Any]:
    """Everything that happened with this customer, newest first, on every channel, a page at a time; only one
    channel, one kind of item (``order``, ``track``, ``identify``, …) or one event (``Feedback Submitted``) when
    asked."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    query = select(Event).where(Event.customer_id == customer_id)
    if channel:
        query = query.where(Event.channel == channel.lower())
    if kind:
        if kind not in TIMELINE_KINDS:
            raise InvalidInput(f"unknown kind {kind!r}; choose one of {', '.join(TIMELINE_KINDS)}")
        orders = func.substr(Event.event, 1, len(_ORDER)) == _ORDER  # (SQLite's LIKE ignores case)
        if kind == "order":
            query = query.where(Event.type == "track", orders)
        elif kind == "track":
            query = query.where(Event.type == "track", or_(Event.event.is_(None), ~orders))
        else:
            query = query.where(Event.type == kind)
    if event:
        query = query.where(Event.event == event)
    if before:
        stamp, event_id = _read_cursor(before)
        query = query.where(or_(Event.timestamp < stamp, and_(Event.timestamp == stamp, Event.id < event_id)))
    rows = session.scalars(query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit + 1)).all()
    items = []
    for row in rows[:limit]:
        payload = row.payload if isinstance(row.payload, dict) else {}
        properties = payload.get("properties") if row.type != "identify" else payload.get("traits")
        shown = "order" if row.type == "track" and (row.event or "").startswith(_ORDER) else row.type
        properties = properties if isinstance(properties, dict) else {}
        items.append({
            "id": row.id, "kind": shown, "event": row.event, "channel": row.channel,
            "timestamp": row.timestamp, "properties": properties,
            "summary": timeline_line(shown, row.event, properties),
        })
    next_cursor = _cursor(rows[limit - 1].timestamp, rows[limit - 1].id) if len(rows) > limit else None
    return {"items": items, "next": next_cursor}


def orders_of(session: Session, customer_id: str, *, limit: int = 100, offset: int = 0) -> list[Order]:
    """The customer's orders, latest first, a page at a time."""
    return list(session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit).offset(offset)
    ))


def count_orders(session: Session, customer_id: str) -> int:
    """How many orders the customer has, whatever their status."""
    return session.scalar(select(func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0


def order_lines(session: Session, orders: list[Order]) -> dict[int, list[OrderLine]]:
    """The lines of each of ``orders``, by the order's key, in the order they came."""
    lines: dict[int, list[OrderLine]] = {order.id: [] for order in orders}
    if lines:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_pk.in_(list(lines)))
                                    .order_by(OrderLine.id)):
            lines[line.order_pk].append(line)
    return lines


def purchases_by_currency(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """Completed orders per currency: how many, their value less refunds, the first and the last (oldest
    currency first)."""
    rows = raw_rows(
        session, "SELECT currency, count(*), coalesce(sum(value - refunded), 0.0), min(placed_at), max(placed_at) "
                 "FROM orders WHERE customer_id = ? AND status IN ('completed', 'partially_refunded') "
                 "GROUP BY currency ORDER BY currency", [customer_id])
    return [{"currency": currency, "orders": count, "revenue": revenue, "first": read_time(first),
             "last": read_time(last)} for currency, count, revenue, first, last in rows]


def last_seen(session: Session, customer_id: str) -> datetime | None:
    """When the customer's latest event happened."""
    (latest,), = raw_rows(session, "SELECT max(timestamp) FROM events WHERE customer_id = ?", [customer_id])
    return read_time(latest)


def recent_customers(session: Session, *, limit: int) -> list[str]:
    """The customers whose events arrived last, most recent first (merged or erased ones too)."""
    latest = session.scalars(select(Event.customer_id).order_by(Event.id.desc()).limit(limit * 20)).all()
    return list(dict.fromkeys(latest))[:limit]


def holder_of_order(session: Session, order_id: str) -> str | None:
    """The surviving customer an order number belongs to (its buyer, or whom the buyer was merged into); None
    when there is no such order or its buyer was erased. One query through the driver, for lookups."""
    rows = raw_rows(session, "SELECT c.id, c.merged_into, c.erased_at FROM orders o JOIN customers c "
                             "ON c.id = o.customer_id WHERE o.order_id = ?", [order_id.strip()])
    return surviving(*rows[0]) if rows else None


def owner_of_order(session: Session, order_id: str) -> list[str]:
    """The customers an order number names (as stored: the customer may have been merged since)."""
    return list(session.scalars(select(Order.customer_id).where(Order.order_id == order_id.strip())))


def carried_keys(session: Session, customer_ids: list[str]) -> list[str]:
    """Every identifier (TYPE:VALUE) the customers' events carried, each once."""
    carried = (key for (held,) in session.execute(select(Event.identifiers).where(Event.customer_id.in_(customer_ids)))
               for key in held or [])
    return list(dict.fromkeys(carried))
