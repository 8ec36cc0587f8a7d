"""Recording domain events in the transaction that causes them, and reading them from a consumer's position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from cherish.db.base import utcnow
from cherish.db.dialects import append_in_commit_order, bulk_insert_columns, insert_ignore, json_text
from cherish.domain_events.models import ConsumerPosition, DomainEvent

TYPES = ("feedback.received", "consent.changed", "survey.rewards_low", "case.opened", "case.updated", "case.escalated",
         "case.resolved", "promise.broken", "incident.apology_sent", "ping")
# Steps inside cherish, not offered to subscribers: an answer stored, waiting for its comment to be read (the
# worker then records feedback.received with what the comment says)
INTERNAL = ("feedback.stored",)


def record(session: Session, type: str, items: Sequence[tuple[str | None, dict[str, Any]]],
           at: datetime | None = None) -> None:
    """Record one ``type`` event per (customer id, data) of ``items`` in the caller's transaction; data must be
    JSON-ready (times as ISO text). They are written as the transaction commits, last: the lock that orders
    positions (``append_in_commit_order``) is then held only for the commit itself."""
    if not items:
        return
    if type not in TYPES + INTERNAL:
        raise ValueError(f"unknown domain event type {type!r}")
    when = at or utcnow()
    session.info.setdefault(_PENDING, []).extend((type, customer, data, when) for customer, data in items)


_PENDING = "cherish_domain_events"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    append_in_commit_order(session)
    bulk_insert_columns(session, DomainEvent.__table__, {
        "type": [row[0] for row in pending], "customer_id": [row[1] for row in pending],
        "data": [json_text(row[2]) for row in pending], "recorded_at": [row[3] for row in pending]})


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def after(session: Session, position: int, *, limit: int = 500) -> list[DomainEvent]:
    """The events after ``position``, oldest first."""
    return list(session.scalars(select(DomainEvent).where(DomainEvent.position > position)
                                .order_by(DomainEvent.position).limit(limit)))


def last_position(session: Session) -> int:
    return session.scalar(select(DomainEvent.position).order_by(DomainEvent.position.desc()).limit(1)) or 0


def claim_position(session: Session, consumer: str, *, from_start: bool = False) -> int | None:
    """The consumer's saved position, locked for this transaction (None when another worker holds it now: it is
    being consumed there). A new consumer starts at the end, to react to what happens from now on, or with
    ``from_start`` at the beginning (one that filters for itself, as webhooks do by each endpoint's age)."""
    found = session.scalar(select(ConsumerPosition).where(ConsumerPosition.consumer == consumer)
                           .with_for_update(skip_locked=True))
    if found is not None:
        return found.position
    start = 0 if from_start else last_position(session)
    insert_ignore(session, ConsumerPosition, [{"consumer": consumer, "position": start, "updated_at": utcnow()}],
                  index=("consumer",))
    found = session.scalar(select(ConsumerPosition).where(ConsumerPosition.consumer == consumer)
                           .with_for_update(skip_locked=True))
    return found.position if found is not None else None


def save_position(session: Session, consumer: str, position: int) -> None:
    session.execute(update(ConsumerPosition).where(ConsumerPosition.consumer == consumer)
                    .values(position=position, updated_at=utcnow()))


def nothing_after(session: Session, consumer: str) -> bool:
    """Whether the consumer has read every event (False for a consumer not seen before)."""
    saved = session.scalar(select(ConsumerPosition.position).where(ConsumerPosition.consumer == consumer))
    return saved is not None and saved >= last_position(session)
