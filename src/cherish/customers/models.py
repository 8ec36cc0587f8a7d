"""The customer: one row per person, with the traits and consent cherish remembers about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A merged customer keeps its id, which then answers with a redirect to the survivor.
    merged_into: Mapped[str | None] = mapped_column(String(40), index=True)
    # Denormalised for search and display; rebuilt from traits.
    name: Mapped[str | None] = mapped_column(String(300), index=True)
    erased_at: Mapped[datetime | None]


class Trait(Base):
    __tablename__ = "traits"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class Consent(Base):
    __tablename__ = "consent"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(80))


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
