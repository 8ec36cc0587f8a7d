"""Scheduled jobs: stored as data, listed, run now from the command line, run by the worker when due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from cherish.db.base import utcnow
from cherish.worker.jobs import next_run
from cherish.worker.models import Job


def test_schedules_are_read_in_the_business_time_zone(settings):
    zoned = settings.model_copy(update={"timezone": "America/New_York"})
    assert next_run("0 2 * * *", zoned, datetime(2026, 6, 1, 12, tzinfo=UTC)) == datetime(2026, 6, 2, 6, tzinfo=UTC)
    assert next_run("30 2 * * *", settings, datetime(2026, 6, 1, 2, 30, tzinfo=UTC)) == datetime(
        2026, 6, 2, 2, 30, tzinfo=UTC)



def test_a_job_in_the_repeated_hour_runs_once_when_clocks_go_back(settings):
    """Berlin goes from 03:00 summer time back to 02:00 on 2026-10-25: 02:30 happens at 00:30 and 01:30 UTC."""
    berlin = settings.model_copy(update={"timezone": "Europe/Berlin"})
    first = next_run("30 2 * * *", berlin, datetime(2026, 10, 24, 23, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_run("30 2 * * *", berlin, first) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # not 01:30 the 25th
    # a job every half hour keeps its rhythm in real time through the repeated hour
    assert next_run("*/30 * * * *", berlin, datetime(2026, 10, 25, 0, 45, tzinfo=UTC)) == datetime(
        2026, 10, 25, 1, tzinfo=UTC)
    # and a time the clock skips in spring runs when it jumps
    assert next_run("30 2 * * *", berlin, datetime(2026, 3, 28, 23, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, tzinfo=UTC)


def test_jobs_are_listed_run_now_and_run_when_due(cli, monkeypatch, loaded):
    run, store = cli
    monkeypatch.setenv("CHERISH_MATCH_SCHEDULE", "15 3 * * *")
    listed = run("jobs", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "identity-match" in listed.stdout and "15 3 * * *" in listed.stdout and "30 2 * * *" in listed.stdout

    ran = run("jobs", "run", "identity-match")
    assert ran.exit_code == 0, ran.stderr
    assert "customers compared" in ran.stderr
    with store.read() as session:
        job = session.get(Job, "identity-match")
        assert job.last_status == "ok" and job.last_finished_at is not None and job.running_until is None

    with store.write() as session:  # analyze falls due
        session.execute(update(Job).where(Job.name == "analyze").values(next_run_at=utcnow() - timedelta(minutes=1)))
    worked = run("worker", "--once")
    assert worked.exit_code == 0, worked.stderr
    with store.read() as session:
        job = session.get(Job, "analyze")
        assert job.last_status == "ok", job.last_note
        assert job.next_run_at > utcnow() and "written" in (job.last_note or "")

    with store.write() as session:  # the worker runs it now
        session.execute(update(Job).where(Job.name == "analyze").values(running_until=utcnow() + timedelta(hours=1)))
    busy = run("jobs", "run", "analyze")
    assert busy.exit_code == 1 and "analyze is running now" in busy.stderr

    unknown = run("jobs", "run", "defrost")
    assert unknown.exit_code == 1 and "no job 'defrost'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_a_schedule_that_is_not_cron_is_one_line(cli, monkeypatch):
    run, _ = cli
    monkeypatch.setenv("CHERISH_ANALYZE_SCHEDULE", "every night")
    result = run("jobs", "list")
    assert result.exit_code == 1 and "CHERISH_ANALYZE_SCHEDULE" in result.stderr and "not a cron" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
