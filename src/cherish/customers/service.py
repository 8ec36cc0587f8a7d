"""The customer record: who is merged into whom, traits, consent and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from cherish.customers.consent import CHANNELS, PURPOSES
from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.customers.traits import NAME_TRAITS, announce_consent, display_name
from cherish.db.base import utcnow
from cherish.db.dialects import bulk_insert_columns, json_reader, raw_rows, read_time, upsert
from cherish.errors import InvalidInput, NotFound


def find(session: Session, customer_id: str) -> tuple[Customer | None, str | None]:
    """The customer with this id, or (None, survivor id) when it was merged, or (None, None)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        return None, None
    if customer.merged_into:
        return None, customer.merged_into
    return customer, None


def record(session: Session, customer_id: str) -> tuple[datetime | None, str | None] | None:
    """When a surviving customer was first seen and its stored name; None when there is no such customer (or it
    was merged or erased). Straight to the driver: lookups run this on their hot path."""
    rows = raw_rows(session, "SELECT created_at, name FROM customers WHERE id = ? AND merged_into IS NULL "
                             "AND erased_at IS NULL", [customer_id])
    return (read_time(rows[0][0]), rows[0][1]) if rows else None


def survivor_of(session: Session, customer_id: str) -> str | None:
    """The customer that now holds this id's history (itself, or the one it was merged into); None if it was
    erased or never was. Straight to the driver, for lookups."""
    rows = raw_rows(session, "SELECT id, merged_into, erased_at FROM customers WHERE id = ?", [customer_id])
    return surviving(*rows[0]) if rows else None


def surviving(customer_id: str, merged_into: str | None, erased_at: object) -> str | None:
    """Who holds a customer record's history now, from its row: itself, the customer it was merged into, or
    nobody when it was erased. (The query that found the row may join it to the identifier or order it holds.)"""
    return None if erased_at is not None else merged_into or customer_id


def survivor_or_404(session: Session, customer_id: str) -> str:
    """``survivor_of`` for a request that names a customer: there must be one."""
    survivor = survivor_of(session, customer_id)
    if survivor is None:
        raise NotFound(f"no customer {customer_id}")
    return survivor


def family(session: Session, customer_id: str) -> list[str]:
    """The customer and every id merged into it."""
    return [customer_id, *session.scalars(select(Customer.id).where(Customer.merged_into == customer_id))]


def traits_of(session: Session, customer_id: str) -> dict[str, Any]:
    """The customer's traits by name, as Python values."""
    read_json = json_reader(session)
    return {name: read_json(value) for name, value in raw_rows(
        session, "SELECT name, value FROM traits WHERE customer_id = ? ORDER BY name", [customer_id])}


def consent_of(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """The customer's consent per purpose and channel."""
    return [{"purpose": purpose, "channel": channel, "status": status, "at": read_time(at), "source": source}
            for purpose, channel, status, at, source in raw_rows(
                session, "SELECT purpose, channel, status, at, source FROM consent WHERE customer_id = ? "
                         "ORDER BY purpose, channel", [customer_id])]


def named_like(session: Session, text: str, *, limit: int) -> list[str]:
    """Surviving customers whose name holds ``text`` (any case), by name."""
    return list(session.scalars(
        select(Customer.id)
        .where(func.lower(Customer.name).contains(text.lower(), autoescape=True), Customer.merged_into.is_(None),
               Customer.erased_at.is_(None))
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    ))


def alive_ids(session: Session, ids: list[str]) -> list[str]:
    """``ids`` without the merged and erased customers, in the same order."""
    alive: set[str] = set()
    for start in range(0, len(ids), 500):
        alive.update(session.scalars(select(Customer.id).where(
            Customer.id.in_(ids[start : start + 500]), Customer.merged_into.is_(None), Customer.erased_at.is_(None))))
    return [cid for cid in ids if cid in alive]


def records(session: Session, ids: list[str]) -> dict[str, Customer]:
    """The surviving customers among ``ids``, by id."""
    return {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))
            if c.merged_into is None and c.erased_at is None}


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
    announce_consent(session, rows)
    upsert(session, Consent, rows, index=("customer_id", "purpose", "channel"), update=("status", "source", "at"))


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
    traits: dict[str, Any] = dict(session.execute(select(Trait.name, Trait.value).where(Trait.customer_id == survivor,
                                                                        Trait.name.in_(NAME_TRAITS))).all())
    name = display_name(traits) or names.get(survivor) or names.get(loser)
    if name != names.get(survivor):
        session.execute(update(Customer).where(Customer.id == survivor).values(name=name))


def notes_of(session: Session, customer_id: str) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.customer_id == customer_id).order_by(Note.created_at.desc())))


def mark_erased(session: Session, customer_ids: list[str]) -> None:
    """The customers' records stay (ids are referenced elsewhere) without a name, marked erased now."""
    session.execute(update(Customer).where(Customer.id.in_(customer_ids)).values(name=None, erased_at=utcnow()))


def count(session: Session, *, living: bool = False) -> int:
    """How many customer records the store holds; ``living``: neither merged into another nor erased."""
    query = select(func.count()).select_from(Customer)
    if living:
        query = query.where(Customer.merged_into.is_(None), Customer.erased_at.is_(None))
    return session.scalar(query) or 0


def create(session: Session, customer_id: str, *, created_at: datetime) -> None:
    """A new customer record."""
    session.add(Customer(id=customer_id, created_at=created_at))
    session.flush()


def insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """New customer records in bulk (id, created_at, name), as intake makes them."""
    if rows:
        bulk_insert_columns(session, Customer.__table__, {
            "id": [r["id"] for r in rows], "created_at": [r["created_at"] for r in rows],
            "name": [r.get("name") for r in rows]})


def get(session: Session, customer_id: str) -> Customer | None:
    """The customer record with this id, merged or erased as it may be."""
    return session.get(Customer, customer_id)


def survivors(session: Session, customer_ids: set[str] | list[str]) -> dict[str, str]:
    """For each id, the customer that holds it now (itself, or the one it was merged into)."""
    if not customer_ids:
        return {}
    return dict(session.execute(select(Customer.id, func.coalesce(Customer.merged_into, Customer.id))
                                .where(Customer.id.in_(list(customer_ids)))).all())


def unfold(session: Session, customer_id: str, *, owner: str, family: list[str]) -> None:
    """Undo a merge of ``customer_id`` into ``owner``: it lives again, with the ids of ``family`` that were merged
    into it before and now point at ``owner``."""
    session.execute(update(Customer).where(Customer.id == customer_id).values(merged_into=None))
    if family:
        session.execute(update(Customer).where(Customer.id.in_(family), Customer.merged_into == owner)
                        .values(merged_into=customer_id))


def living_traits(session: Session, names: tuple[str, ...] | list[str]) -> list[tuple[str, str, Any]]:
    """(customer id, trait, value) of the living customers' traits of these names, by customer and trait (the same
    store gives the same rows in the same order)."""
    return [(str(cid), str(name), value) for cid, name, value in session.execute(
        select(Trait.customer_id, Trait.name, Trait.value)
        .join(Customer, Customer.id == Trait.customer_id)
        .where(Trait.name.in_(names), Customer.merged_into.is_(None), Customer.erased_at.is_(None))
        .order_by(Trait.customer_id, Trait.name))]


def consent_for(session: Session, customer_ids: list[str]) -> dict[str, list[tuple[str, str, str, datetime, str]]]:
    """Each customer's consent rows (purpose, channel, status, at, source), for many customers at once."""
    found: dict[str, list[tuple[str, str, str, datetime, str]]] = {}
    for start in range(0, len(customer_ids), 500):
        for row in session.execute(select(Consent.customer_id, Consent.purpose, Consent.channel, Consent.status,
                                          Consent.at, Consent.source)
                                   .where(Consent.customer_id.in_(customer_ids[start:start + 500]))):
            found.setdefault(row[0], []).append((row[1], row[2], row[3], row[4], row[5]))
    return found


def trait_for(session: Session, customer_ids: list[str], name: str) -> dict[str, Any]:
    """One trait's value for many customers at once (those that have it)."""
    found: dict[str, Any] = {}
    for start in range(0, len(customer_ids), 500):
        for customer_id, value in session.execute(select(Trait.customer_id, Trait.value).where(
                Trait.customer_id.in_(customer_ids[start:start + 500]), Trait.name == name)):
            found[str(customer_id)] = value
    return found


def erased_among(session: Session, customer_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(customer_ids), 500):
        found.update(session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids[start:start + 500]),
                                                               Customer.erased_at.is_not(None))))
    return found
