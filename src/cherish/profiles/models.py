"""The customer 360 as the API shows it (JSON shapes, no tables: each domain keeps its own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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
    trust: Trust


class Trust(BaseModel):
    """Of the promises settled in the last two years, the share kept, counted as if one more had been kept
    (100 without any; one broken of one: 50)."""

    score: int = Field(ge=0, le=100)
    kept: int
    broken: int
    open: int


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


class ContactItem(BaseModel):
    at: datetime = Field(description="When the contact policy last decided about the message.")
    purpose: str = Field(examples=["feedback"])
    channel: str = Field(examples=["email"])
    topic: str = Field(examples=["survey after delivery"])
    outcome: Literal["sent", "deferred", "suppressed", "dropped"]
    reason: str = Field(examples=["the contact cap (2 in 7 days) is reached; a place frees up 2026-12-04 09:00 UTC"])
    send_at: datetime | None = Field(None, description="Sent: when; deferred: when it is decided again.")


class ContactPage(BaseModel):
    items: list[ContactItem]
    next: str | None = Field(None, description="Pass as cursor for the older ones.")
