"""The customer 360: profile, identifiers, traits, consent, order stats and the cross-channel timeline."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.models import CHANNELS, PURPOSES, Consent, Customer, Note, Trait
from cherish.customers.summary import timeline_line
from cherish.customers.traits import NAME_TRAITS, display_name
from cherish.db.base import utcnow
from cherish.db.dialects import json_reader, raw_rows, read_time, upsert
from cherish.errors import InvalidInput
from cherish.events.models import Event, Order, OrderLine
from cherish.identity.models import Identifier
from cherish.identity.normalize import known_types, normalize

LOOKUP_FIELDS = ("email", "phone", "user_id", "anonymous_id", "loyalty_id", "order_id")


def find(session: Session, customer_id: str) -> tuple[Customer | None, str | None]:
    """The customer with this id, or (None, survivor id) when it was merged, or (None, None)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        return None, None
    if customer.merged_into:
        return None, customer.merged_into
    return customer, None


def profile(session: Session, customer: Customer) -> dict[str, Any]:
    """The customer-360 JSON of one (surviving) customer."""
    return _profile(session, customer.id, customer.created_at, customer.name)


def profile_by_id(session: Session, customer_id: str) -> dict[str, Any] | None:
    """The customer-360 JSON of a surviving customer found by id (None if there is none), for the hot path of
    lookups: every query here goes straight to the driver (the ORM's work per statement was most of a lookup)."""
    rows = raw_rows(session, "SELECT created_at, name FROM customers WHERE id = ? AND merged_into IS NULL "
                             "AND erased_at IS NULL", [customer_id])
    return _profile(session, customer_id, read_time(rows[0][0]), rows[0][1]) if rows else None


_SCORE_COLUMNS = ("as_of", "recency_days", "frequency", "monetary", "r", "f", "m", "p_alive", "stage", "stage_since",
                  "health", "health_reasons", "clv")


def _profile(session: Session, customer_id: str, created_at: datetime | None, name: str | None) -> dict[str, Any]:
    read_json = json_reader(session)
    identifiers = raw_rows(session, "SELECT type, value, first_seen, last_seen FROM identifiers WHERE customer_id = ? "
                                    "ORDER BY type, first_seen", [customer_id])
    traits = raw_rows(session, "SELECT name, value FROM traits WHERE customer_id = ? ORDER BY name", [customer_id])
    consent = raw_rows(session, "SELECT purpose, channel, status, at, source FROM consent WHERE customer_id = ? "
                                "ORDER BY purpose, channel", [customer_id])
    by_currency = raw_rows(
        session, "SELECT currency, count(*), coalesce(sum(value - refunded), 0.0), min(placed_at), max(placed_at) "
                 "FROM orders WHERE customer_id = ? AND status IN ('completed', 'partially_refunded') "
                 "GROUP BY currency ORDER BY currency", [customer_id])
    (last_seen,), = raw_rows(session, "SELECT max(timestamp) FROM events WHERE customer_id = ?", [customer_id])
    placed = [read_time(at) for row in by_currency for at in row[3:5] if at is not None]
    scores = raw_rows(session, f"SELECT {', '.join(_SCORE_COLUMNS)} FROM customer_scores WHERE customer_id = ?",
                      [customer_id])
    score = dict(zip(_SCORE_COLUMNS, scores[0], strict=True)) if scores else None
    return {
        "id": customer_id,
        "created_at": created_at,
        "scores": None if score is None else {
            "as_of": _day(score["as_of"]), "recency_days": score["recency_days"], "frequency": score["frequency"],
            "monetary": round(score["monetary"], 2), "rfm": {"r": score["r"], "f": score["f"], "m": score["m"]},
            "p_alive": score["p_alive"], "stage": score["stage"], "stage_since": _day(score["stage_since"]),
            "health": score["health"], "health_reasons": read_json(score["health_reasons"]),
            "clv": score["clv"],
        },
        # the heading follows the name traits shown below it (a merge keeps each trait's latest value)
        "name": display_name({t: read_json(v) for t, v in traits}) or name,
        "identifiers": [
            {"type": kind, "value": value, "first_seen": read_time(seen_first), "last_seen": read_time(seen_last)}
            for kind, value, seen_first, seen_last in identifiers
        ],
        "traits": {trait: read_json(value) for trait, value in traits},
        "consent": [
            {"purpose": purpose, "channel": channel, "status": status, "at": read_time(at), "source": source}
            for purpose, channel, status, at, source in consent
        ],
        "stats": {
            "orders": sum(row[1] for row in by_currency),
            "revenue": round(sum(float(row[2]) for row in by_currency), 2),
            "revenue_by_currency": {currency: round(float(revenue), 2) for currency, _, revenue, *_ in by_currency},
            "first_order_at": min(placed, default=None), "last_order_at": max(placed, default=None),
            "last_seen_at": read_time(last_seen),
        },
    }


def _day(value: Any) -> str | None:
    """A date as ISO text (SQLite gives it as text already)."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def lookup(session: Session, settings: Settings, *, kind: str, value: str) -> str | None:
    """The surviving customer id that an identifier (normalised as intake does) or order number points to."""
    if kind == "order_id":
        rows = raw_rows(session, "SELECT c.id, c.merged_into, c.erased_at FROM orders o JOIN customers c "
                                 "ON c.id = o.customer_id WHERE o.order_id = ?", [value.strip()])
    else:
        if kind not in known_types(settings):
            raise InvalidInput(f"unknown identifier type {kind!r}; known: {', '.join(known_types(settings))}")
        normalized = normalize(kind, value, settings)
        if normalized is None:
            raise InvalidInput(f"{value!r} is not a valid {kind}")
        rows = raw_rows(session, "SELECT c.id, c.merged_into, c.erased_at FROM identifiers i JOIN customers c "
                                 "ON c.id = i.customer_id WHERE i.type = ? AND i.value = ?", [kind, normalized])
    if not rows:
        return None
    owner, survivor, erased = rows[0]
    if erased is not None:
        return None
    return survivor or owner


SEARCH_CAP = 1000  # matches counted per kind of match; a search that finds more says "1,000+"


def search(session: Session, settings: Settings, query: str, *, limit: int = 25) -> list[dict[str, Any]]:
    """Customers whose name, email, phone, any identifier or order number matches ``query``."""
    return search_page(session, settings, query, limit=limit)["items"]


def search_page(session: Session, settings: Settings, query: str, *, limit: int = 25,
                offset: int = 0) -> dict[str, Any]:
    """One page of a search, with how many customers match in all (``capped`` when there are more to count)."""
    ids, capped = _matching_ids(session, settings, query.strip())
    return {"items": _summaries(session, ids[offset : offset + limit]), "total": len(ids), "capped": capped,
            "offset": offset, "limit": limit}


def _matching_ids(session: Session, settings: Settings, text: str) -> tuple[list[str], bool]:
    """Every surviving customer id the search matches, best matches first (at most SEARCH_CAP of each kind)."""
    if not text:
        return [], False
    cap = SEARCH_CAP
    ids: list[str] = []
    for kind in ("email", "phone"):
        normalized = normalize(kind, text, settings)
        if normalized:
            ids += session.scalars(
                select(Identifier.customer_id).where(Identifier.type == kind, Identifier.value == normalized)
            ).all()
    exact = session.scalars(select(Identifier.customer_id).where(Identifier.value == text).limit(cap)).all()
    ids += exact
    ids += session.scalars(select(Order.customer_id).where(Order.order_id == text)).all()
    named = session.scalars(
        select(Customer.id)
        .where(func.lower(Customer.name).contains(text.lower(), autoescape=True), Customer.merged_into.is_(None),
               Customer.erased_at.is_(None))
        .order_by(Customer.name, Customer.id)
        .limit(cap)
    ).all()
    ids += named
    emails: list[str] = []
    if "@" in text:
        emails = session.scalars(
            select(Identifier.customer_id)
            # a range, not LIKE: SQLite's case-insensitive LIKE cannot use the (type, value) index
            .where(Identifier.type == "email", Identifier.value >= text.lower(),
                   Identifier.value < text.lower() + "\uffff")
            .order_by(Identifier.value)
            .limit(cap)
        ).all()
        ids += emails
    capped = any(len(found) >= cap for found in (exact, named, emails))
    return _alive_ids(session, list(dict.fromkeys(ids))), capped


def _alive_ids(session: Session, ids: list[str]) -> list[str]:
    """``ids`` without the merged and erased customers, in the same order."""
    alive: set[str] = set()
    for start in range(0, len(ids), 500):
        alive.update(session.scalars(select(Customer.id).where(
            Customer.id.in_(ids[start : start + 500]), Customer.merged_into.is_(None), Customer.erased_at.is_(None))))
    return [cid for cid in ids if cid in alive]


def recently_active(session: Session, *, limit: int = 25) -> list[dict[str, Any]]:
    """The customers whose events arrived last, most recent first (what a search page shows before a search)."""
    latest = session.scalars(select(Event.customer_id).order_by(Event.id.desc()).limit(limit * 20)).all()
    return _summaries(session, list(dict.fromkeys(latest))[:limit])


def _summaries(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    """Name, latest email and phone, and creation of the given customers, in the given order (merged and erased
    ones left out)."""
    if not ids:
        return []
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    contact: dict[str, dict[str, str]] = {}
    for cid, kind, value in session.execute(
        select(Identifier.customer_id, Identifier.type, Identifier.value)
        .where(Identifier.customer_id.in_(ids))
        .order_by(Identifier.last_seen)
    ):
        if kind in ("email", "phone"):
            contact.setdefault(cid, {})[kind] = value
    return [
        {"id": c.id, "name": c.name, "email": contact.get(c.id, {}).get("email"),
         "phone": contact.get(c.id, {}).get("phone"), "created_at": c.created_at}
        for cid in ids
        if (c := customers.get(cid)) is not None and c.merged_into is None and c.erased_at is None
    ]


def _cursor(timestamp: datetime, event_id: int) -> str:
    raw = json.dumps([timestamp.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(stamp), int(event_id)
    except (ValueError, TypeError):
        raise InvalidInput("before is not a cursor returned by an earlier page") from None


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
    for event in rows[:limit]:
        payload = event.payload if isinstance(event.payload, dict) else {}
        properties = payload.get("properties") if event.type != "identify" else payload.get("traits")
        kind = "order" if event.type == "track" and (event.event or "").startswith(_ORDER) else event.type
        properties = properties if isinstance(properties, dict) else {}
        items.append({
            "id": event.id, "kind": kind, "event": event.event, "channel": event.channel,
            "timestamp": event.timestamp, "properties": properties,
            "summary": timeline_line(kind, event.event, properties),
        })
    next_cursor = _cursor(rows[limit - 1].timestamp, rows[limit - 1].id) if len(rows) > limit else None
    return {"items": items, "next": next_cursor}


def set_consent(session: Session, customer_id: str, changes: list[dict[str, Any]], *, source: str) -> None:
    """Record consent per purpose and channel, now, from ``source``."""
    rows = []
    now = utcnow()
    for change in changes:
        purpose, channel, status = change.get("purpose"), change.get("channel") or "any", change.get("status")
        if purpose not in PURPOSES:
            raise InvalidInput(f"unknown purpose {purpose!r}; choose one of {', '.join(PURPOSES)}")
        if channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}")
        if status not in ("granted", "denied"):
            raise InvalidInput("status must be 'granted' or 'denied'")
        rows.append({"customer_id": customer_id, "purpose": purpose, "channel": channel, "status": status,
                     "at": now, "source": (change.get("source") or source)[:80]})
    upsert(session, Consent, rows, index=("customer_id", "purpose", "channel"), update=("status", "source", "at"))


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


def add_note(session: Session, customer_id: str, *, author: str, body: str) -> Note:
    body = body.strip()
    if not body:
        raise InvalidInput("a note needs some text")
    note = Note(customer_id=customer_id, author=author, body=body[:10000], created_at=utcnow())
    session.add(note)
    session.flush()
    return note


def fold_into(session: Session, survivor: str, loser: str) -> None:
    """The customer record's part of a merge: ``loser`` (and whoever was merged into it) now points at
    ``survivor``, whose name follows the name traits it holds once they are combined (what the profile's heading
    shows, and what search finds), or else is the first of the two names there is."""
    session.execute(update(Customer).where(or_(Customer.id == loser, Customer.merged_into == loser))
                    .values(merged_into=survivor))
    names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_([survivor, loser]))).all())
    traits = dict(session.execute(select(Trait.name, Trait.value).where(Trait.customer_id == survivor,
                                                                        Trait.name.in_(NAME_TRAITS))).all())
    name = display_name(traits) or names.get(survivor) or names.get(loser)
    if name != names.get(survivor):
        session.execute(update(Customer).where(Customer.id == survivor).values(name=name))


def notes_of(session: Session, customer_id: str) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.customer_id == customer_id).order_by(Note.created_at.desc())))
