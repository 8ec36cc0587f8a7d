"""Scheduled jobs, stored as data: what runs when, and how its last run went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base


class Job(Base):
    """A job the worker runs on its cron ``schedule`` (in the business time zone). ``running_until`` is the lease
    of the worker running it now: another worker leaves it alone until then."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime]
    running_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok, failed
    last_note: Mapped[str | None] = mapped_column(Text)
