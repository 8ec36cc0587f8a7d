"""Survey answers, whatever channel or tool collected them: the one table every experience metric reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType


class Answer(Base):
    __tablename__ = "feedback_answers"
    __table_args__ = (Index("ix_feedback_answers_type_time", "score_type", "answered_at"),
                      Index("ix_feedback_answers_customer", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # the intake message it came from (Feedback Submitted: another tool's answer, or one given to cherish's survey)
    source: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    score_type: Mapped[str] = mapped_column(String(10))  # nps, csat, ces; comment: a comment without a score
    score: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    survey: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(40))
    branch: Mapped[str | None] = mapped_column(String(200))
    employee: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime]
    survey_version: Mapped[int | None]
    order_id: Mapped[str | None] = mapped_column(String(200))
    delivered_via: Mapped[str | None] = mapped_column(String(20))  # where the survey reached them (email, qr, …)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # custom questions: {question id: answer}
    # a comment that came as another event: review, chat, email or social (None: a survey answer)
    origin: Mapped[str | None] = mapped_column(String(20))


class CommentAnalysis(Base):
    """What text analytics found in an answer's comment, by which model (a newer model analyses it again). It
    follows its answer through merges and splits, and goes with the comment when the customer is erased."""

    __tablename__ = "feedback_comment_analyses"

    answer_id: Mapped[int] = mapped_column(ForeignKey("feedback_answers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(12))
    sentiment: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(10))
    aspects: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{"name", "sentiment", "label"}]
    urgency: Mapped[list[str]] = mapped_column(JSONType)
    analyzed_at: Mapped[datetime]
