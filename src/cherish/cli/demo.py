"""`cherish demo`: build the demo company, say how to log in, serve it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, TaskID
from rich.status import Status

from cherish.cli.common import DbOption, StdoutConsole, err, friendly, progress_bar, settings_for, store_for
from cherish.cli.serve import run_server
from cherish.cli.text import plural, rate_text
from cherish.config import DEFAULT_DATABASE_URL

out = StdoutConsole(soft_wrap=True)  # the login and the curl line must stay copyable


@friendly
def demo(
    customers: int = typer.Option(20_000, "--customers", metavar="N", help="How many people the demo company has."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same company (relative to today)."),
    db: str | None = DbOption,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard and API afterwards."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Throw the existing demo away and build it again."),
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS", help="Interface to serve on."),
    port: int = typer.Option(8000, help="Port to serve on."),
    truth: Path | None = typer.Option(None, help="Where to keep who-is-who (ground truth); default: demo-truth.csv "
                                                 "beside a SQLite store, else in cherish-data/."),
    match: bool = typer.Option(True, "--match/--no-match", help="Run `cherish identity match` after building."),
    analyze: bool = typer.Option(True, "--analyze/--no-analyze",
                                 help="Run `cherish analyze` after building, so the overview and scores are there."),
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="Processes that simulate and ingest people side by side (default: one "
                                            "per core; 1 builds in this process)."),
) -> None:
    """Build the demo company (once; --rebuild to start over), print how to log in, and serve it."""
    from cherish.demo.flows import beside_store, set_up

    settings = settings_for(db or None)
    if db is None and settings.database_url == DEFAULT_DATABASE_URL:
        Path("cherish-data").mkdir(exist_ok=True)
    truth = truth or beside_store(settings.database_url, "demo-truth.csv")
    store = store_for(settings, migrate=True)
    watch = _Watch(customers, truth)
    try:
        company = set_up(store, settings, people=customers, seed=seed, truth=truth, rebuild=rebuild, match=match,
                         analyze=analyze, workers=workers, watch=watch)
    finally:
        watch.stop()
    if company.existing:
        err.print(f"the demo company is already built ({plural(company.existing, 'customer record')}); "
                  "--rebuild to start over")
    url = f"http://{host}:{port}"
    if serve:
        out.print(f"\n[bold]cherish demo[/bold] at [link={url}]{url}[/link]")
    else:
        from sqlalchemy.engine import make_url

        where = f" --db {make_url(db).render_as_string(hide_password=True)}" if db else ""  # no password on screen
        out.print(f"\n[bold]cherish demo[/bold] is built; `cherish serve{where} --port {port}` serves it at {url}")
    if company.password:
        out.print(f"  login:     admin / {company.password}   "
                  "(shown once; reset with `cherish users set-password admin`)")
    else:
        out.print("  login:     admin / the password shown on the first run "
                  "(`cherish users set-password admin` resets it)")
    out.print(f"  write key: {company.write_key}")
    out.print(f"  try:       curl -u {company.write_key}: {url}/v1/track -H 'Content-Type: application/json' "
              "-d '{\"userId\": \"u1\", \"event\": \"Hello\"}'\n")
    one_writer = store.one_writer
    store.dispose()
    if serve:
        run_server(settings, one_writer, host=host, port=port)


class _Watch:
    """The demo's steps on standard error: a bar while people are built, a spinner for each later step, and a
    line as each step ends (the ground truth's place and the matching run's number as soon as they exist)."""

    def __init__(self, people: int, truth: Path) -> None:
        self.people, self.truth = people, truth
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.status: Status | None = None

    def building(self, people: int) -> None:
        if self.bar is None:
            self.bar = progress_bar()
            self.bar.start()
            self.task = self.bar.add_task("building the demo company", total=self.people)
        if self.task is not None:
            self.bar.advance(self.task, people)

    def step(self, text: str) -> None:
        self._stop_bar()
        if self.status is None:
            self.status = err.status(text + "…")
            self.status.start()
        else:
            self.status.update(text + "…")

    def done(self, step: str, result: Any) -> None:
        self.stop()
        if step == "built":
            err.print(f"built {plural(result.people, 'person', 'people')}, {plural(result.messages, 'event')}; "
                      f"ground truth in {self.truth}")
        elif step == "matched":
            err.print(f"identity match (run {result.run_id}): {result.merged} merged, {result.reviews} waiting "
                      "for review")
        elif step == "analyzed":
            err.print(f"analyzed: {plural(result['customers'], 'customer')} with a purchase, repeat-customer "
                      f"rate {rate_text(result['repeat_customer_rate'])}")

    def stop(self) -> None:
        self._stop_bar()
        if self.status is not None:
            self.status.stop()
            self.status = None

    def _stop_bar(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
