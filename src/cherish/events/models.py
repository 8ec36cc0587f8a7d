"""The event log, the orders built from it, and the messages set aside as rejected."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_customer_time", "customer_id", "timestamp", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    event: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(40))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime]
    # Normalised TYPE:VALUE keys the message carried: what an unmerge rebuilds a customer from.
    identifiers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_time", "customer_id", "placed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))  # completed, refunded, partially_refunded, cancelled
    value: Mapped[float] = mapped_column(Float, default=0.0)
    refunded: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str] = mapped_column(String(3))
    discount: Mapped[float | None] = mapped_column(Float)
    coupon: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(40))
    branch: Mapped[str | None] = mapped_column(String(200))
    employee: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    promised_delivery_date: Mapped[date | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[float] = mapped_column(Float, default=1)


class RejectedEvent(Base):
    __tablename__ = "rejected_events"
    __table_args__ = (Index("ix_rejected_events_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    received_at: Mapped[datetime]
    batch_index: Mapped[int]
    reason: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[Any] = mapped_column(JSONType)
    # Identifier keys found in the payload, so an erasure can find it again.
    identifier_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20), default="rejected")  # rejected, replayed, discarded
    replayed_at: Mapped[datetime | None]


class RejectedRead(BaseModel):
    id: int
    received_at: datetime
    index: int
    reason: str
    payload: Any
    status: str
    replayed_at: datetime | None


class RejectedPage(BaseModel):
    items: list[RejectedRead]


class ReplayResult(BaseModel):
    replayed: list[int]
    still_rejected: list[dict[str, Any]]
