"""Finding customers by what identifies them: one identifier, a search text, the identifiers a profile shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.service import surviving
from cherish.db.dialects import raw_rows, read_time
from cherish.errors import InvalidInput
from cherish.identity.models import Identifier
from cherish.identity.normalize import known_types, normalize


def holder_of(session: Session, settings: Settings, *, kind: str, value: str) -> str | None:
    """The surviving customer that holds an identifier (normalised as intake does): its owner, or the customer
    the owner was merged into; None when nobody holds it or its owner was erased. One query through the driver
    (the lookup's hot path), joined to the customer records below identity."""
    if kind not in known_types(settings):
        raise InvalidInput(f"unknown identifier type {kind!r}; known: {', '.join(known_types(settings))}")
    normalized = normalize(kind, value, settings)
    if normalized is None:
        raise InvalidInput(f"{value!r} is not a valid {kind}")
    rows = raw_rows(session, "SELECT c.id, c.merged_into, c.erased_at FROM identifiers i JOIN customers c "
                             "ON c.id = i.customer_id WHERE i.type = ? AND i.value = ?", [kind, normalized])
    return surviving(*rows[0]) if rows else None


def identifiers_of(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """The customer's identifiers with when each was first and last seen, by type."""
    return [{"type": kind, "value": value, "first_seen": read_time(first), "last_seen": read_time(last)}
            for kind, value, first, last in raw_rows(
                session, "SELECT type, value, first_seen, last_seen FROM identifiers WHERE customer_id = ? "
                         "ORDER BY type, first_seen", [customer_id])]


def keys_of(session: Session, customer_ids: list[str]) -> list[str]:
    """The identifiers (TYPE:VALUE) the customers hold."""
    return [f"{t}:{v}" for t, v in session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.customer_id.in_(customer_ids)))]


def matching(session: Session, settings: Settings, text: str, *,
             limit: int) -> tuple[list[str], list[str], bool]:
    """Customers (as stored) an identifier matches: first those holding the email or phone ``text`` is or any
    identifier written as ``text``, then those with an email that starts with it; and whether a kind of match
    reached ``limit``."""
    ids: list[str] = []
    for kind in ("email", "phone"):
        normalized = normalize(kind, text, settings)
        if normalized:
            ids += session.scalars(
                select(Identifier.customer_id).where(Identifier.type == kind, Identifier.value == normalized)
            ).all()
    exact = session.scalars(select(Identifier.customer_id).where(Identifier.value == text).limit(limit)).all()
    ids += exact
    emails: list[str] = []
    if "@" in text:
        emails = list(session.scalars(
            select(Identifier.customer_id)
            # a range, not LIKE: SQLite's case-insensitive LIKE cannot use the (type, value) index
            .where(Identifier.type == "email", Identifier.value >= text.lower(),
                   Identifier.value < text.lower() + "\uffff")
            .order_by(Identifier.value)
            .limit(limit)
        ))
    return ids, emails, any(len(found) >= limit for found in (exact, emails))


def contacts(session: Session, customer_ids: list[str]) -> dict[str, dict[str, str]]:
    """The latest email and phone of each customer."""
    found: dict[str, dict[str, str]] = {}
    for cid, kind, value in session.execute(
        select(Identifier.customer_id, Identifier.type, Identifier.value)
        .where(Identifier.customer_id.in_(customer_ids), Identifier.type.in_(("email", "phone")))
        .order_by(Identifier.last_seen)
    ):
        found.setdefault(cid, {})[kind] = value
    return found
