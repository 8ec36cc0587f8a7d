"""`cherish worker` and `cherish jobs`: scheduled and due work (jobs, domain-event consumers, outbox delivery)."""

from __future__ import annotations

import typer

from cherish.cli.common import DbOption, StdoutConsole, err, friendly, settings_for, store_for

jobs_app = typer.Typer(help="Scheduled jobs the worker runs (identity match and analyze, nightly).",
                       no_args_is_help=True)


@friendly
def worker(once: bool = typer.Option(False, "--once", help="Do what is due now, then stop (for cron or a test)."),
           db: str | None = DbOption) -> None:
    """Run the worker: due jobs, domain-event consumers (webhooks) and outbox delivery, until stopped.

    `cherish serve` runs one beside the server unless --no-worker; on SQLite one worker serves a store, on
    PostgreSQL any number share the work."""
    import signal
    import threading

    from cherish.worker.loop import run_worker

    settings = settings_for(db)
    store = store_for(settings, migrate=True)
    stop = threading.Event()
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, lambda *_: stop.set())
    if not once:
        err.print("cherish worker is running (Ctrl-C stops it after the current round)")
    try:
        run_worker(store, settings, stop, once=once)
    finally:
        store.dispose()
    if not once:
        err.print("cherish worker stopped")


@jobs_app.command("list")
@friendly
def list_jobs(db: str | None = DbOption) -> None:
    """List the jobs: schedule, next run, and how the last run went."""
    from rich.table import Table

    from cherish.worker.jobs import ensure_jobs, jobs

    settings = settings_for(db)
    store = store_for(settings)
    table = Table("name", "schedule", "next run (UTC)", "last run (UTC)", "status", "note")
    for column in table.columns[:2]:  # names and schedules whole: the note wraps instead
        column.no_wrap = True
    with store.write() as session:
        ensure_jobs(session, settings)
        for job in jobs(session):
            last = job.last_started_at.strftime("%Y-%m-%d %H:%M") if job.last_started_at else ""
            table.add_row(job.name, job.schedule, job.next_run_at.strftime("%Y-%m-%d %H:%M"), last,
                          job.last_status or "", job.last_note or "")
    StdoutConsole().print(table)


@jobs_app.command("run")
@friendly
def run(name: str = typer.Argument(..., metavar="NAME", help="identity-match or analyze."),
        db: str | None = DbOption) -> None:
    """Run a job now, here, and record it as the worker would."""
    from cherish.errors import CherishError, NotFound
    from cherish.worker.jobs import BUILTIN, run_job

    if name not in BUILTIN:
        raise NotFound(f"no job {name!r}; the jobs are {', '.join(sorted(BUILTIN))}")
    settings = settings_for(db)
    store = store_for(settings)
    err.print(f"running {name} …")
    status, note = run_job(store, settings, name)
    if status != "ok":
        raise CherishError(f"{name} failed: {note}")
    err.print(f"{name}: {note}")
