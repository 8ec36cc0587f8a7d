"""The customer 360, put together from what each domain holds: the record, traits and consent (customers), the
identifiers (identity), orders and events (events), the latest scores (analytics) and trust (cases: the promises
kept and broken)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from cherish.analytics.service import scores_of
from cherish.cases import promises
from cherish.config import Settings
from cherish.contact import service as contact
from cherish.customers import service as customers
from cherish.customers.traits import display_name
from cherish.events import timeline as history
from cherish.identity import lookup as identities

if TYPE_CHECKING:
    from cherish.customers.models import Customer

LOOKUP_FIELDS = ("email", "phone", "user_id", "anonymous_id", "loyalty_id", "order_id")
SEARCH_CAP = 1000  # matches counted per kind of match; a search that finds more says "1,000+"


def profile(session: Session, customer: Customer) -> dict[str, Any]:
    """The customer-360 JSON of one (surviving) customer."""
    return _profile(session, customer.id, customer.created_at, customer.name)


def profile_by_id(session: Session, customer_id: str) -> dict[str, Any] | None:
    """The customer-360 JSON of a surviving customer found by id (None if there is none), for the hot path of
    lookups: every query here goes straight to the driver (the ORM's work per statement was most of a lookup)."""
    found = customers.record(session, customer_id)
    return _profile(session, customer_id, *found) if found else None


def _profile(session: Session, customer_id: str, created_at: datetime | None, name: str | None) -> dict[str, Any]:
    traits = customers.traits_of(session, customer_id)
    by_currency = history.purchases_by_currency(session, customer_id)
    placed = [row[at] for row in by_currency for at in ("first", "last") if row[at] is not None]
    return {
        "id": customer_id,
        "created_at": created_at,
        "scores": scores_of(session, customer_id),
        # the heading follows the name traits shown below it (a merge keeps each trait's latest value)
        "name": display_name(traits) or name,
        "identifiers": identities.identifiers_of(session, customer_id),
        "traits": traits,
        "consent": customers.consent_of(session, customer_id),
        "trust": promises.trust(session, [customer_id]),
        "stats": {
            "orders": sum(row["orders"] for row in by_currency),
            "revenue": round(sum(float(row["revenue"]) for row in by_currency), 2),
            "revenue_by_currency": {row["currency"]: round(float(row["revenue"]), 2) for row in by_currency},
            "first_order_at": min(placed, default=None), "last_order_at": max(placed, default=None),
            "last_seen_at": history.last_seen(session, customer_id),
        },
    }


def timeline(session: Session, customer_id: str, *, channel: str | None = None, before: str | None = None,
             limit: int = 50, kind: str | None = None, event: str | None = None) -> dict[str, Any]:
    """The customer's timeline: what they did (their events, a page at a time) and, among them, what we sent
    them (kind ``message``: replies from a case, apologies, invitations), each page holding the messages sent in
    its stretch of time. A message is not the customer's doing: it does not move their last-seen date."""
    page = history.timeline(session, customer_id, channel=channel, before=before, limit=limit, kind=kind,
                            event=event)
    if kind or event:
        return page
    until = history.cursor_time(before) if before else None
    since = page["items"][-1]["timestamp"] if page["next"] and page["items"] else None
    sent = contact.sent_between(session, [customer_id], since, until, channel=channel)
    if not sent:
        return page
    messages = [{"id": c.id, "kind": "message", "event": c.topic, "channel": c.channel,
                 "timestamp": c.send_at, "properties": {"purpose": c.purpose, "to": "the customer"},
                 "summary": f"{c.purpose} message sent: {c.topic}"} for c in sent]
    items = sorted(page["items"] + messages, key=lambda item: item["timestamp"], reverse=True)
    return {**page, "items": items}


def lookup(session: Session, settings: Settings, *, kind: str, value: str) -> str | None:
    """The surviving customer id that an identifier (normalised as intake does) or order number points to."""
    if kind == "order_id":
        return history.holder_of_order(session, value)
    return identities.holder_of(session, settings, kind=kind, value=value)


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
    held, emails, capped = identities.matching(session, settings, text, limit=SEARCH_CAP)
    named = customers.named_like(session, text, limit=SEARCH_CAP)
    ids = [*held, *history.owner_of_order(session, text), *named, *emails]
    return customers.alive_ids(session, list(dict.fromkeys(ids))), capped or len(named) >= SEARCH_CAP


def recently_active(session: Session, *, limit: int = 25) -> list[dict[str, Any]]:
    """The customers whose events arrived last, most recent first (what a search page shows before a search)."""
    return _summaries(session, history.recent_customers(session, limit=limit))


def _summaries(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    """Name, latest email and phone, and creation of the given customers, in the given order (merged and erased
    ones left out)."""
    if not ids:
        return []
    found = customers.records(session, ids)
    contact = identities.contacts(session, ids)
    return [
        {"id": c.id, "name": c.name, "email": contact.get(c.id, {}).get("email"),
         "phone": contact.get(c.id, {}).get("phone"), "created_at": c.created_at}
        for cid in ids if (c := found.get(cid)) is not None
    ]
