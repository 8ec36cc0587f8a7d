"""The contact log: every message cherish meant to send a customer, with the policy's decision and its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType

_Id = BigInteger().with_variant(Integer(), "sqlite")


class Contact(Base):
    """One message to a customer: its purpose, channel and topic, and what the contact policy decided (``sent``,
    ``deferred`` until ``send_at``, ``suppressed`` or ``dropped``) and why. A deferred message is decided again
    when its time comes; ``decisions`` counts how often. ``content`` is what goes out, kept until it does."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_customer", "customer_id", "decided_at"),
                      Index("ix_contacts_waiting", "outcome", "send_at"))

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the sender's idempotency key
    customer_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime]
    send_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    decisions: Mapped[int] = mapped_column(default=1)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    outbox_message_id: Mapped[int | None] = mapped_column(_Id)


class Hold(Base):
    """A reason another domain gave to hold back messages from one customer while it lasts (``kind``
    ``open_case``: a recovery case is open), read by the suppression rule of that condition. ``key`` names what
    placed it (a case), so that it is lifted with it."""

    __tablename__ = "contact_holds"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime]


class SuppressionRule(Base):
    """A rule that stops messages, as data: ``erased`` (every message to an erased customer) or ``unsubscribed``
    (for ``days`` after an unsubscribe, the purpose unsubscribed from on every channel) or ``open_case`` (while a
    recovery case is open: a hold of that kind)."""

    __tablename__ = "contact_suppression_rules"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    condition: Mapped[str] = mapped_column(String(40))
    days: Mapped[int | None]
    purposes: Mapped[list[str] | None] = mapped_column(JSONType)  # message purposes it stops; None: all
    channels: Mapped[list[str] | None] = mapped_column(JSONType)  # None: all
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(Text)
