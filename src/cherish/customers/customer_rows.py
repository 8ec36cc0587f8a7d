"""The customers domain's part of the customer-row contract (`cherish.db.customer_rows`): traits, consent, notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.customers.traits import NOT_TRAITS, consent_from_traits, display_name
from cherish.db.customer_rows import CustomerRows, Export, Latest, declare


def _replay(session: Session, customer_id: str) -> tuple[dict[str, dict[str, Any]],
                                                         dict[tuple[str, str], dict[str, Any]], str | None]:
    """The traits, consent and display name a customer's events give, replayed in order (latest wins)."""
    from cherish.events.models import Event

    traits: dict[str, dict[str, Any]] = {}
    consent: dict[tuple[str, str], dict[str, Any]] = {}
    name = None
    events = session.scalars(select(Event).where(Event.customer_id == customer_id).order_by(Event.timestamp, Event.id))
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        context = payload.get("context")
        given = dict(context.get("traits") or {}) if isinstance(context, dict) else {}
        if event.type == "identify" and isinstance(payload.get("traits"), dict):
            given.update(payload["traits"])
        for key, value in given.items():
            if key not in NOT_TRAITS:
                traits[key] = {"customer_id": customer_id, "name": key[:200], "value": value, "source": event.type,
                               "updated_at": event.timestamp}
        for purpose, channel, status in consent_from_traits(given):
            consent[(purpose, channel)] = {"customer_id": customer_id, "purpose": purpose, "channel": channel,
                                           "status": status, "at": event.timestamp, "source": event.type}
        name = display_name(given) or name
    return traits, consent, name


def rebuild_traits(session: Session, customer_id: str) -> None:
    """A customer's traits and name, replayed from the events it holds now."""
    traits, _, name = _replay(session, customer_id)
    session.execute(delete(Trait).where(Trait.customer_id == customer_id))
    for row in traits.values():
        session.add(Trait(**row))
    session.execute(update(Customer).where(Customer.id == customer_id).values(name=name))
    session.flush()


def rebuild_consent(session: Session, customer_id: str) -> None:
    """A customer's consent replayed from the events it holds now; what was recorded through the API stays."""
    _, consent, _ = _replay(session, customer_id)
    session.execute(delete(Consent).where(Consent.customer_id == customer_id, Consent.source != "api"))
    kept = {(c.purpose, c.channel) for c in session.scalars(select(Consent).where(Consent.customer_id == customer_id))}
    for key, row in consent.items():
        if key not in kept:
            session.add(Consent(**row))
    session.flush()


def _notes(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"author": n.author, "body": n.body, "created_at": n.created_at} for n in session.scalars(
        select(Note).where(Note.customer_id.in_(customer_ids)).order_by(Note.created_at.desc(), Note.id.desc()))]


declare(
    CustomerRows("traits", merge=Latest(key=("name",), when="updated_at", values=("value", "source")),
                 rebuild=rebuild_traits, erase="delete",
                 why="what the person's events said, latest first; after a split, replayed from each side's events "
                     "(the name with them)"),
    CustomerRows("consent", merge=Latest(key=("purpose", "channel"), when="at", values=("status", "source")),
                 rebuild=rebuild_consent, erase="delete",
                 why="the latest word per purpose and channel; after a split, replayed from each side's events"),
    CustomerRows("notes", erase="delete", export=Export("notes", _notes),
                 why="an agent's words about the person: they stay with the customer they were written about"),
)
