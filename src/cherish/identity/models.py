"""Identifiers, the merges they cause, the pairs that must never merge, and proposed merges awaiting review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType, utcnow

# Strongest first: when a guardrail stops a merge, the event goes to the customer of the strongest identifier.
STRENGTH = ("user_id", "loyalty_id", "email", "phone", "anonymous_id")


class Identifier(Base):
    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("type", "value"), Index("ix_identifiers_customer", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(300))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class Merge(Base):
    """One merge: which customer survived, which was folded in, and what joined them."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    survivor_id: Mapped[str] = mapped_column(String(40), index=True, info={"customer": True})
    merged_id: Mapped[str] = mapped_column(String(40), index=True, info={"customer": True})
    identifier_type: Mapped[str | None] = mapped_column(String(40))
    identifier_value: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(40))  # event, alias, manual, review, match
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class NeverMerge(Base):
    """Two customers that were split apart by hand and must stay apart, whatever events say."""

    __tablename__ = "never_merge"

    customer_a: Mapped[str] = mapped_column(String(40), primary_key=True, info={"customer": True})
    customer_b: Mapped[str] = mapped_column(String(40), primary_key=True, info={"customer": True})
    at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityReview(Base):
    __tablename__ = "identity_reviews"
    __table_args__ = (Index("ix_identity_reviews_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_a: Mapped[str] = mapped_column(String(40), info={"customer": True})
    customer_b: Mapped[str] = mapped_column(String(40), info={"customer": True})
    reason: Mapped[str] = mapped_column(String(40))  # guardrail, never_merge, match
    probability: Mapped[float | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))


class MatchModel(Base):
    """A trained matching model (Splink's settings with their parameters), kept and reused by later runs."""

    __tablename__ = "identity_match_models"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    records: Mapped[int]  # customers it was trained on
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)  # linker.misc.save_model_to_json()
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # on the labelled pairs
    status: Mapped[str] = mapped_column(String(20))  # kept, replaced, refused
    reason: Mapped[str | None] = mapped_column(String(500))


class MatchRun(Base):
    """One `cherish identity match`: when, with which model, what it merged and queued; undone as a whole."""

    __tablename__ = "identity_match_runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("identity_match_models.id"))
    retrained: Mapped[bool] = mapped_column(default=False)
    candidates: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    reviews: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20))  # done, refused, undone
    note: Mapped[str | None] = mapped_column(String(500))
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(200))


class MatchRunMerge(Base):
    """A merge made by a run, with what undoing it needs: the folded customer's identifiers and merged ids."""

    __tablename__ = "identity_match_run_merges"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("identity_match_runs.id", ondelete="CASCADE"), index=True)
    survivor_id: Mapped[str] = mapped_column(String(40), index=True, info={"customer": True})
    merged_id: Mapped[str] = mapped_column(String(40), index=True, info={"customer": True})
    probability: Mapped[float]
    identifiers: Mapped[list[str]] = mapped_column(JSONType, default=list)  # TYPE:VALUE the merged one held
    family: Mapped[list[str]] = mapped_column(JSONType, default=list)  # ids merged into it before
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    undone_at: Mapped[datetime | None]
    undo_note: Mapped[str | None] = mapped_column(String(500))


class ReviewRead(BaseModel):
    id: int
    customer_a: str
    customer_b: str
    reason: str
    probability: float | None
    evidence: dict[str, Any]
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ReviewPage(BaseModel):
    items: list[ReviewRead]


class MergeRequest(BaseModel):
    survivor_id: str
    merged_id: str


class UnmergeRequest(BaseModel):
    identifier: str  # TYPE:VALUE


class MatchRunMergeRead(BaseModel):
    survivor_id: str
    merged_id: str
    probability: float
    undone_at: datetime | None
    undo_note: str | None


class MatchRunRead(BaseModel):
    id: int
    started_at: datetime
    actor: str
    model_id: int | None
    retrained: bool
    candidates: int
    pairs: int
    merged: int
    reviews: int
    status: str
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


class MatchRunPage(BaseModel):
    items: list[MatchRunRead]


class MatchRunUndone(BaseModel):
    run: MatchRunRead
    undone: list[MatchRunMergeRead]
    not_undone: list[MatchRunMergeRead]
