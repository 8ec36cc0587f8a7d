"""Domain events: what committed changes others react to, in the order they were committed, and how far each
consumer has read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType

# BIGINT on PostgreSQL, SQLite's INTEGER PRIMARY KEY (its row id) there
Position = BigInteger().with_variant(Integer(), "sqlite")


class DomainEvent(Base):
    """A change others react to (``feedback.received``, ``consent.changed``, later ``case.opened``), recorded in
    the transaction that made it. ``position`` only grows, in commit order (``service.record`` says how)."""

    __tablename__ = "domain_events"
    # AUTOINCREMENT on SQLite: a position is never given twice, even after the newest events were erased
    __table_args__ = (Index("ix_domain_events_customer", "customer_id"), {"sqlite_autoincrement": True})

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(60))
    customer_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    recorded_at: Mapped[datetime]


class ConsumerPosition(Base):
    """The position of the last domain event a consumer (webhooks, a rule, a survey trigger) has handled."""

    __tablename__ = "domain_event_consumers"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
