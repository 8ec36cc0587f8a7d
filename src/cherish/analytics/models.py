"""Dated snapshots of the relationship metrics, written by `cherish analyze`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType, utcnow


class MetricsSnapshot(Base):
    __tablename__ = "metrics_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    as_of: Mapped[date]
    engine: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)


class CustomerScore(Base):
    """A customer's latest scores from `cherish analyze`, shown on the customer 360."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[date]
    recency_days: Mapped[int]
    frequency: Mapped[int]
    monetary: Mapped[float] = mapped_column(Float)
    r: Mapped[int]
    f: Mapped[int]
    m: Mapped[int]
    p_alive: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(20))
    stage_since: Mapped[date | None]
    health: Mapped[int | None]
    health_reasons: Mapped[list[Any] | None] = mapped_column(JSONType)
    clv: Mapped[float | None] = mapped_column(Float)  # discounted value of the next 12 months


class StageChange(Base):
    """A customer moved from one relationship stage to another: what flows between stages are counted from."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[date]
    at: Mapped[datetime] = mapped_column(default=utcnow)
