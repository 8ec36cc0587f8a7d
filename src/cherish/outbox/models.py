"""The transactional outbox: webhook endpoints, every outgoing message written in the transaction that causes it, and
each delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType, utcnow

_Id = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEndpoint(Base):
    """Where messages go: a Standard Webhooks receiver (``webhook``), a Slack-compatible incoming webhook (``slack``)
    or the company's own sender of SMS or push (``sender``: the body carries the customer's address)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="webhook")
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))  # whsec_…: the receiver checks signatures with it
    events: Mapped[list[str]] = mapped_column(JSONType)  # domain event types, or ["*"]
    description: Mapped[str | None] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One outgoing message. ``key`` is its idempotency key, the same on every attempt (the ``webhook-id``);
    ``leased_until`` marks a message a worker is sending now (another takes it over once the lease ends)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),
                      Index("ix_outbox_messages_customer", "customer_id"),
                      Index("ix_outbox_messages_endpoint", "endpoint_id"))

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(60))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, delivered, dead, discarded
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    """One try at delivering a message: when, the receiver's status, how long it took, what went wrong."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_message", "message_id"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))  # delivered, retry, dead
