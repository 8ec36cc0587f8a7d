"""Promises made to customers, on their own table: a delivery date from an order, or a callback or refund an agent
recorded, each due at a time; kept when it happens by then, broken when it happens later or the time passes.

A delivery date is a day in the business time zone: the promise is due at the end of that day there (a parcel
delivered at 23:30 local on the promised day is on time, though it is the next day in UTC)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.cases.models import Promise
from cherish.cases.rules import PROMISE_KINDS
from cherish.db.base import utcnow
from cherish.db.dialects import existing_values, insert_ignore, raw_rows
from cherish.errors import Conflict, InvalidInput, NotFound

MINOR_LATE = timedelta(days=1)  # a delivery late by less than this is a minor broken promise: an apology, no case
TRUST_YEARS = 2  # promises settled longer ago than this no longer weigh on trust


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first moment after ``day`` in ``zone`` (as UTC): a promise for that day is due before it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def from_orders(session: Session, orders: list[dict[str, Any]], zone: ZoneInfo, now: datetime) -> int:
    """Keep a delivery promise for each order that carries a promised delivery date (once per order); how many
    are new (``orders``: ``order_id``, ``customer_id``, ``promised_delivery_date``)."""
    known = existing_values(session, Promise.order_id, [o["order_id"] for o in orders])
    rows = [{"customer_id": o["customer_id"], "kind": "delivery", "order_id": o["order_id"],
             "what": f"delivery of order {o['order_id']} by {o['promised_delivery_date']:%Y-%m-%d}"[:300],
             "due_at": end_of_day(o["promised_delivery_date"], zone), "status": "open", "minor": False,
             "created_by": None, "created_at": now} for o in orders
            if o.get("promised_delivery_date") and o["order_id"] not in known]
    insert_ignore(session, Promise, rows, index=("order_id",))
    return len(rows)


def delivered(session: Session, deliveries: dict[str, datetime]) -> list[Promise]:
    """Settle the open delivery promises of delivered orders (order id → when it was delivered); those settled."""
    settled: list[Promise] = []
    ids = list(deliveries)
    for start in range(0, len(ids), 500):
        for promise in session.scalars(select(Promise).where(Promise.order_id.in_(ids[start:start + 500]),
                                                             Promise.status == "open").with_for_update()):
            at = deliveries[promise.order_id or ""]
            if at < promise.due_at:
                promise.status, promise.settled_at = "kept", at
            else:
                promise.status, promise.settled_at = "broken", at
                promise.minor = at - promise.due_at < MINOR_LATE
            settled.append(promise)
    session.flush()
    return settled


def lapsed(session: Session, now: datetime, *, limit: int = 500) -> list[Promise]:
    """Open promises whose time has passed: broken now (a delivery still not made a day after its date is not a
    minor matter; within that day its delivery may yet come, and settles it as kept or minor)."""
    late = ((Promise.kind == "delivery") & (Promise.due_at <= now - MINOR_LATE)) | (
        (Promise.kind != "delivery") & (Promise.due_at <= now))
    found = list(session.scalars(select(Promise).where(Promise.status == "open", late)
                                 .order_by(Promise.due_at).limit(limit).with_for_update(skip_locked=True)))
    for promise in found:
        promise.status, promise.settled_at, promise.minor = "broken", now, False
    session.flush()
    return found


def broken_since(session: Session, since: datetime, *, limit: int) -> list[Promise]:
    """The newest ``limit`` promises broken from ``since`` on, oldest first."""
    return list(reversed(list(session.scalars(
        select(Promise).where(Promise.status == "broken", Promise.settled_at >= since)
        .order_by(Promise.settled_at.desc()).limit(limit)))))


def record(session: Session, *, customer_id: str, kind: str, what: str, due_at: datetime, actor: str,
           now: datetime | None = None) -> Promise:
    """A promise an agent made (a callback, a refund), due at ``due_at``."""
    now = now or utcnow()
    if kind not in PROMISE_KINDS or kind == "delivery":
        raise InvalidInput("an agent records a callback, refund or other promise (delivery promises come from "
                           "orders' promised_delivery_date)")
    if not what.strip():
        raise InvalidInput("say what was promised")
    if due_at.tzinfo is None:
        raise InvalidInput("a promise's due time has a time zone (2026-12-02T15:00:00+01:00)")
    promise = Promise(customer_id=customer_id, kind=kind, what=what.strip()[:300], due_at=due_at, status="open",
                      minor=False, created_by=actor, created_at=now)
    session.add(promise)
    session.flush()
    return promise


def keep(session: Session, promise_id: int, *, now: datetime | None = None) -> Promise:
    """An agent marks a promise kept (the callback made, the refund paid); kept late is broken."""
    now = now or utcnow()
    promise = get(session, promise_id, lock=True)
    if promise.status != "open":
        raise Conflict(f"promise {promise_id} is {promise.status} already")
    promise.status, promise.settled_at = ("kept" if now < promise.due_at else "broken"), now
    session.flush()
    return promise


def get(session: Session, promise_id: int, *, lock: bool = False) -> Promise:
    query = select(Promise).where(Promise.id == promise_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no promise {promise_id}")
    return found


def of_customers(session: Session, customer_ids: list[str], *, limit: int = 50) -> list[Promise]:
    return list(session.scalars(select(Promise).where(Promise.customer_id.in_(customer_ids))
                                .order_by(Promise.due_at.desc(), Promise.id.desc()).limit(limit)))


def listing(session: Session, *, customer_ids: list[str] | None, status: str | None, limit: int,
            offset: int) -> tuple[list[Promise], int]:
    query = select(Promise)
    if customer_ids is not None:
        query = query.where(Promise.customer_id.in_(customer_ids))
    if status:
        query = query.where(Promise.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Promise.due_at.desc(), Promise.id.desc()).limit(limit)
                                .offset(offset))), total


def trust(session: Session, customer_ids: list[str], now: datetime | None = None) -> dict[str, Any]:
    """The customer's trust indicator: of the promises settled in the last two years, the share kept, counted
    as if one more had been kept (a customer with no history starts at 100; one broken promise of one brings it
    to 50, of ten to 91)."""
    now = now or utcnow()
    since = now - timedelta(days=365 * TRUST_YEARS)
    marks = ", ".join("?" for _ in customer_ids)
    rows = dict(raw_rows(session, f"SELECT status, count(*) FROM promises WHERE customer_id IN ({marks}) "
                                  "AND (status = 'open' OR settled_at >= ?) GROUP BY status",
                         [*customer_ids, since]))  # (the customer 360's hot path: straight to the driver)
    kept, broken = int(rows.get("kept", 0)), int(rows.get("broken", 0))
    return {"score": round(100 * (kept + 1) / (kept + broken + 1)), "kept": kept, "broken": broken,
            "open": int(rows.get("open", 0))}


def late_between(session: Session, since: datetime, until: datetime) -> list[tuple[str, str | None]]:
    """(customer id, order id) of the delivery promises due from ``since`` to before ``until`` that were broken."""
    return [(cid, oid) for cid, oid in session.execute(
        select(Promise.customer_id, Promise.order_id).where(
            Promise.kind == "delivery", Promise.status == "broken", Promise.due_at >= since, Promise.due_at < until)
        .order_by(Promise.due_at))]
