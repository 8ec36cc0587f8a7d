"""Surveys cherish asks itself: each survey's versions (every answer stays tied to the wording it answered), its
invitations (one per person asked, each with its single-use token and what was saved of a half-given answer) and
the pool of reward codes given for an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType

_Id = BigInteger().with_variant(Integer(), "sqlite")


class Survey(Base):
    """A survey and how it is sent: a trigger ("``trigger_delay_minutes`` after ``trigger_event``, when the event's
    properties match ``trigger_condition``"), the share of those events that get one (``sampling``), the channel
    invitations go out on, how long an invitation stays open, one reminder after ``reminder_days``, the thank-you
    message and when the reward pool counts as running low."""

    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active, paused, archived
    version: Mapped[int] = mapped_column(default=1)  # the version new invitations ask
    trigger_event: Mapped[str | None] = mapped_column(String(200))
    trigger_delay_minutes: Mapped[int | None]
    trigger_condition: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    sampling: Mapped[float] = mapped_column(Float, default=1.0)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    expires_days: Mapped[int] = mapped_column(default=14)
    reminder_days: Mapped[int | None]
    thank_you: Mapped[str] = mapped_column(Text)
    rewards_low_at: Mapped[int] = mapped_column(default=10)
    seen_event_id: Mapped[int] = mapped_column(_Id, default=0)  # the trigger has looked at the events up to here
    trigger_start_id: Mapped[int] = mapped_column(_Id, default=0)  # events up to here came before the trigger
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SurveyVersion(Base):
    """The wording of one version: title, introduction and questions (``[{"id", "type", "text", …}]``)."""

    __tablename__ = "survey_versions"

    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    intro: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime]


class Invitation(Base):
    """One person asked one survey: by a trigger (``cause``: the event's message id), by hand, or through a share
    link (``customer_id`` is known once they answer). ``partial`` keeps a half-given answer; ``answered_at`` closes
    the invitation for good (the token is single-use). The experience's channel, branch and employee stay apart
    from the channel the survey was delivered on (``delivered_via``)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("survey_id", "cause"),
                      Index("ix_survey_invitations_customer", "customer_id", "created_at"),
                      Index("ix_survey_invitations_due", "contact_key", "due_at"),
                      Index("ix_survey_invitations_opened", "survey_id", "opened_by", "created_at"),
                      {"sqlite_autoincrement": True})  # an erased person's old link never opens another's

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    version: Mapped[int]
    customer_id: Mapped[str | None] = mapped_column(String(40))
    cause: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(40))
    branch: Mapped[str | None] = mapped_column(String(200))
    employee: Mapped[str | None] = mapped_column(String(200))
    delivered_via: Mapped[str] = mapped_column(String(20))  # email, sms, app, link, qr, embed
    # the invitation's message in the contact log; "-" when none goes (a share link; expired before its time)
    contact_key: Mapped[str | None] = mapped_column(String(200))
    partial: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]  # when it is to be sent: the triggering event's time and the trigger's delay
    expires_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer_source: Mapped[str | None] = mapped_column(String(200))  # the Feedback Submitted's message id
    opened_by: Mapped[str | None] = mapped_column(String(64))  # a share link's visitor: a keyed hash of the address
    reward_code: Mapped[str | None] = mapped_column(String(100))


class RewardCode(Base):
    """A code from a survey's reward pool, given once, to the invitation that answered."""

    __tablename__ = "survey_reward_codes"
    __table_args__ = (UniqueConstraint("survey_id", "code"),
                      Index("ix_survey_reward_codes_free", "survey_id", "invitation_id"))

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(100))
    invitation_id: Mapped[int | None] = mapped_column(_Id)
    given_at: Mapped[datetime | None]
