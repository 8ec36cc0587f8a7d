"""The customers domain's part of the customer-row contract (`cherish.db.customer_rows`): traits, consent, notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.customers.traits import ProfileRows
from cherish.db.customer_rows import CustomerRows, Export, Latest, declare, history


def _replay(session: Session, customer_id: str) -> ProfileRows:
    """The traits, consent and display name a customer's events give, replayed in order (latest wins)."""
    profiles = ProfileRows(announce=False)
    for event in history(session, customer_id):
        payload = event.payload if isinstance(event.payload, dict) else {}
        context = payload.get("context")
        given = dict(context.get("traits") or {}) if isinstance(context, dict) else {}
        if event.type == "identify" and isinstance(payload.get("traits"), dict):
            given.update(payload["traits"])
        profiles.add(customer_id, given, at=event.timestamp, source=event.type)
    return profiles


def rebuild_profile(session: Session, customer_id: str) -> None:
    """A customer's traits, name and consent, replayed once from the events it holds now; consent recorded
    through the API stays."""
    profiles = _replay(session, customer_id)
    session.execute(delete(Trait).where(Trait.customer_id == customer_id))
    for row in profiles.traits.values():
        session.add(Trait(**row))
    session.execute(update(Customer).where(Customer.id == customer_id).values(name=profiles.names.get(customer_id)))
    session.execute(delete(Consent).where(Consent.customer_id == customer_id, Consent.source != "api"))
    kept = {(c.purpose, c.channel) for c in session.scalars(select(Consent).where(Consent.customer_id == customer_id))}
    for (_, purpose, channel), row in profiles.consent.items():
        if (purpose, channel) not in kept:
            session.add(Consent(**row))
    session.flush()


def _notes(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"author": n.author, "body": n.body, "created_at": n.created_at} for n in session.scalars(
        select(Note).where(Note.customer_id.in_(customer_ids)).order_by(Note.created_at.desc(), Note.id.desc()))]


declare(
    CustomerRows("traits", merge=Latest(key=("name",), when="updated_at", values=("value", "source")),
                 rebuild=rebuild_profile, erase="delete",
                 why="what the person's events said, latest first; after a split, replayed from each side's events "
                     "(the name with them)"),
    CustomerRows("consent", merge=Latest(key=("purpose", "channel"), when="at", values=("status", "source")),
                 rebuild=rebuild_profile, erase="delete",  # (one replay rebuilds traits and consent)
                 why="the latest word per purpose and channel; after a split, replayed from each side's events"),
    CustomerRows("notes", erase="delete", export=Export("notes", _notes),
                 why="an agent's words about the person: they stay with the customer they were written about"),
)
