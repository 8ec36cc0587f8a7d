"""The customer: one row per person, with the traits and consent cherish remembers about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType, utcnow

PURPOSES = ("service", "feedback", "marketing")
CHANNELS = ("web", "app", "store", "phone", "email", "chat", "social", "sms", "any")


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


class IdentifierRead(BaseModel):
    type: str
    value: str
    first_seen: datetime
    last_seen: datetime


class ConsentRead(BaseModel):
    purpose: str
    channel: str
    status: str
    at: datetime
    source: str


class ConsentUpdate(BaseModel):
    purpose: str
    channel: str = "any"
    status: str
    source: str = "api"


class CustomerStats(BaseModel):
    orders: int
    revenue: float = Field(description="Completed orders' value less refunds, summed as sent: in more than one "
                                       "currency, read revenue_by_currency.")
    revenue_by_currency: dict[str, float] = Field(default_factory=dict,
                                                  description="The same revenue per ISO currency code.")
    first_order_at: datetime | None
    last_order_at: datetime | None
    last_seen_at: datetime | None


class CustomerRead(BaseModel):
    id: str
    created_at: datetime
    scores: dict[str, Any] | None = None
    identifiers: list[IdentifierRead]
    traits: dict[str, Any]
    consent: list[ConsentRead]
    stats: CustomerStats


class CustomerSummary(BaseModel):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    created_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int | None = Field(None, description="How many customers the search matches in all (none without q: "
                                                 "the customers active last are a feed, not a count).")
    capped: bool = Field(False, description="True when the search stopped counting: at least `total` match.")
    offset: int = Field(0, description="How many matches come before this page.")
    limit: int = Field(25, description="The most items a page holds.")


class TimelineItem(BaseModel):
    id: int
    kind: str
    event: str | None
    channel: str | None
    timestamp: datetime
    properties: dict[str, Any]
    summary: str = ""  # the gist in one line: a survey's score and comment, an order's number and value, …


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next: str | None
