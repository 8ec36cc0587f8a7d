"""The worker's scheduled jobs: built in, stored as data (their schedules follow the settings), claimed by one
worker at a time, each run recorded.

Built in: ``identity-match`` (`cherish identity match`, with the kept model) and ``analyze`` (`cherish analyze`),
nightly by default (``CHERISH_MATCH_SCHEDULE``, ``CHERISH_ANALYZE_SCHEDULE``), and ``outbox-cleanup`` at 04:00
(delivered and discarded messages, with the addresses and words they carried, kept
``CHERISH_OUTBOX_RETENTION_DAYS``), ``comments-reread`` at 03:00 and ``surveys`` every five minutes (triggers,
invitations due, reminders)
and ``cases`` every minute (promises, repeated support contacts, breached service-level targets).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.db.dialects import insert_ignore
from cherish.db.engine import Store
from cherish.errors import CherishError, Conflict, NotFound
from cherish.worker.models import Job

log = logging.getLogger("cherish.worker")
LEASE = timedelta(hours=2)  # longer than a nightly job takes on a million customers


def _match(store: Store, settings: Settings) -> str:
    from cherish.identity.match_store import run_match

    summary = run_match(store, settings, actor="worker")
    return f"{summary.candidates} customers compared: {summary.merged} merged, {summary.reviews} sent to review"


def _analyze(store: Store, settings: Settings) -> str:
    from cherish.analytics.service import analyze_store

    today = datetime.now(UTC).astimezone(settings.zone).date()
    analyze_store(store, settings, today)
    return f"metrics, scores and stages as of {today} written"


def _forget_sent(store: Store, settings: Settings) -> str:
    from cherish.outbox.service import forget_delivered

    with store.write() as session:
        removed = forget_delivered(session, utcnow() - timedelta(days=settings.outbox_retention_days))
    return f"{removed} delivered or discarded messages older than {settings.outbox_retention_days} days removed"


def _reread(store: Store, settings: Settings) -> str:
    from cherish.feedback.service import reread

    total = 0
    while True:  # in batches, each its own transaction: intake waits for none of them long
        with store.write() as session:
            done = reread(session)
        total += done
        if not done:
            return f"{total} comments read by the current model"


def _surveys(store: Store, settings: Settings) -> str:
    from cherish.surveys.invitations import notice, remind_due, send_due

    with store.write() as session:
        noticed = notice(session)
    sent = 0
    while True:  # in batches, each its own transaction
        with store.write() as session:
            done = send_due(session, settings)
        sent += done
        if not done:
            break
    with store.write() as session:
        reminded = remind_due(session, settings)
    return f"{noticed} invitations kept for later, {sent} handed to the contact policy, {reminded} reminders"


def _cases(store: Store, settings: Settings) -> str:
    from cherish.cases.apologies import send_pending
    from cherish.cases.flows import watch

    note = watch(store, settings)
    return f"{note}, {send_pending(store, settings)} incident apologies decided"


@dataclass(frozen=True)
class Builtin:
    run: Callable[[Store, Settings], str]
    schedule: Callable[[Settings], str]
    description: str


BUILTIN = {
    "identity-match": Builtin(_match, lambda s: s.match_schedule, "identity matching with the kept model"),
    "analyze": Builtin(_analyze, lambda s: s.analyze_schedule, "metrics, lifetime value, stages and health"),
    "comments-reread": Builtin(_reread, lambda s: "0 3 * * *",
                               "comments an older text model read, or none, read by the current one"),
    "surveys": Builtin(_surveys, lambda s: "*/5 * * * *",
                       "survey triggers, invitations due, reminders"),
    "cases": Builtin(_cases, lambda s: "* * * * *",
                     "promises kept or broken, repeated support contacts, breached cases, incident apologies"),
    "outbox-cleanup": Builtin(_forget_sent, lambda s: "0 4 * * *",
                              "delivered and discarded messages removed after CHERISH_OUTBOX_RETENTION_DAYS"),
}


def next_run(schedule: str, settings: Settings, after: datetime) -> datetime:
    """The first time after ``after`` that ``schedule`` names, read in the business time zone (as UTC).

    On the night clocks go back, a time of day inside the repeated hour happens twice: a job set for that time of
    day runs at its first occurrence only, as cron does (a job whose hours are ``*`` keeps its rhythm in real
    time). A time skipped when clocks go forward runs when the clock jumps (02:30 becomes 03:00)."""
    fixed_hours = schedule.split()[1] != "*"
    runs = croniter(schedule, after.astimezone(settings.zone))
    for _ in range(3):
        local = runs.get_next(datetime)
        if not (fixed_hours and _second_of_repeated(local)):
            break
    return local.astimezone(UTC)


def _second_of_repeated(local: datetime) -> bool:
    """Whether ``local`` is the second occurrence of a wall time that the clock showed twice."""
    first = local.replace(fold=0).astimezone(UTC)
    return first != local.replace(fold=1).astimezone(UTC) and local.astimezone(UTC) != first


def ensure_jobs(session: Session, settings: Settings) -> None:
    """Store the built-in jobs, and follow the settings when a schedule was changed."""
    now = utcnow()
    insert_ignore(session, Job, [{"name": name, "schedule": job.schedule(settings), "enabled": True,
                                  "next_run_at": next_run(job.schedule(settings), settings, now)}
                                 for name, job in BUILTIN.items()], index=("name",))
    for job in session.scalars(select(Job).where(Job.name.in_(list(BUILTIN)))):
        wanted = BUILTIN[job.name].schedule(settings)
        if job.schedule != wanted:
            job.schedule, job.next_run_at = wanted, next_run(wanted, settings, now)


def jobs(session: Session) -> list[Job]:
    return list(session.scalars(select(Job).order_by(Job.name)))


def _claim_due(store: Store, settings: Settings, now: datetime) -> str | None:
    with store.read() as session:  # read first: an idle worker takes no write transaction
        if session.scalar(select(Job.name).where(Job.enabled.is_(True), Job.next_run_at <= now).limit(1)) is None:
            return None
    with store.write() as session:
        job = session.scalar(select(Job).where(Job.enabled.is_(True), Job.next_run_at <= now,
                                               (Job.running_until.is_(None)) | (Job.running_until < now))
                             .order_by(Job.next_run_at).limit(1).with_for_update(skip_locked=True))
        if job is None:
            return None
        job.running_until, job.last_started_at = now + LEASE, now
        job.next_run_at = next_run(job.schedule, settings, now)
        return job.name


def run_job(store: Store, settings: Settings, name: str, *, claimed: bool = False) -> tuple[str, str]:
    """Run ``name`` now and record how it went: (status, note). Refused while another run holds it, unless this
    run is the one that ``claimed`` it."""
    if name not in BUILTIN:
        raise NotFound(f"no job {name!r}; the jobs are {', '.join(sorted(BUILTIN))}")
    started = utcnow()
    with store.write() as session:
        ensure_jobs(session, settings)
        job = session.get(Job, name)
        assert job is not None
        if job.running_until is not None and job.running_until > started and not claimed:
            raise Conflict(f"{name} is running now (started {job.last_started_at:%Y-%m-%d %H:%M} UTC)")
        job.last_started_at, job.running_until = started, started + LEASE
    try:
        status, note = "ok", BUILTIN[name].run(store, settings)
    except CherishError as exc:
        status, note = "failed", exc.message
    except Exception as exc:  # noqa: BLE001 — a job that fails is recorded, and the worker goes on
        log.error("job %s failed (%s)", name, type(exc).__name__)  # (its message may quote customer data)
        status, note = "failed", f"{type(exc).__name__}: see the worker's log and run `cherish jobs run {name}`"
    with store.write() as session:
        job = session.get(Job, name)
        if job is not None:
            job.running_until, job.last_finished_at, job.last_status, job.last_note = None, utcnow(), status, note
    return status, note


def run_due_jobs(store: Store, settings: Settings) -> int:
    """Run every job that is due (one worker per job); how many ran."""
    ran = 0
    while (name := _claim_due(store, settings, utcnow())) is not None:
        status, _ = run_job(store, settings, name, claimed=True)
        log.info("job %s: %s", name, status)
        ran += 1
    return ran
