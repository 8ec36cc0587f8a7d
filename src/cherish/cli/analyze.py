"""`cherish analyze`: the relationship metrics on DuckDB, Spark or the operational PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from cherish.cli.common import DbOption, err, friendly, parse_date, settings_for, store_for
from cherish.cli.text import plural, rate_text, score_text
from cherish.errors import InvalidInput


@friendly
def analyze(
    engine: str = typer.Option("duckdb", "--engine", metavar="ENGINE",
                               help="duckdb (in-process), spark, or database (PostgreSQL)."),
    as_of: str | None = typer.Option(None, "--as-of", metavar="DATE",
                                     help="Measure as of this day (default: today, business time)."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                       help="Write the metrics there as JSON instead of to standard output."),
    json_out: Path | None = typer.Option(None, "--json", metavar="FILE", help="Older spelling of --output."),
    orders: Path | None = typer.Option(None, "--orders", metavar="FILE",
                                       help="Analyse an orders file instead of the store."),
    customer_column: str = typer.Option("customer_id", "--customer-column", metavar="COLUMN",
                                        help="With --orders: the column that names the customer."),
    date_column: str = typer.Option("date", "--date-column", metavar="COLUMN",
                                    help="With --orders: the column with the order's day or time."),
    amount_column: str | None = typer.Option(None, "--amount-column", metavar="COLUMN",
                                             help="With --orders: the column with the order's amount."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT",
                                           help="strftime format, e.g. %Y%m%d."),
    channel_column: str | None = typer.Option(None, "--channel-column", metavar="COLUMN",
                                              help="With --orders: the column with the channel (web, store…)."),
    branch_column: str | None = typer.Option(None, "--branch-column", metavar="COLUMN",
                                             help="With --orders: the column with the branch or store."),
    window_start: str | None = typer.Option(None, "--window-start", metavar="DATE",
                                            help="Windowed repeat rate: first day."),
    window_end: str | None = typer.Option(None, "--window-end", metavar="DATE", help="Windowed repeat rate: last day."),
    db: str | None = DbOption,
) -> None:
    """Repeat-customer rate, cohort retention and experience scores; saved as a dated snapshot in the store."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cherish.analytics import service

    if output and json_out and output != json_out:
        raise InvalidInput("give --output or its older spelling --json, not both")
    json_out = output or json_out
    settings = settings_for(db)
    day = parse_date(as_of, "--as-of") or datetime.now(UTC).astimezone(settings.zone).date()
    window = _window(window_start, window_end)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("reading", total=None)

        def say(text: str) -> None:
            bar.update(task, description=text)

        if orders is None:
            result = service.analyze_store(store_for(settings), settings, day, engine=engine, progress=say,
                                           window=window)
        else:
            columns = {"customer": customer_column, "when": date_column, "amount": amount_column,
                       "channel": channel_column, "branch": branch_column}
            result = service.analyze_file(orders, settings, day, columns=columns, date_format=date_format,
                                          engine=engine, progress=say, window=window)
    text = json.dumps(result, indent=2, default=str)
    if json_out:
        json_out.write_text(text + "\n")
    err.print(f"{plural(result['customers'], 'customer')} with a purchase; repeat-customer rate "
              f"{rate_text(result['repeat_customer_rate'])} as of {day} ({engine})")
    for kind, score in result["scores"].items():
        if score["value"] is not None:  # as the overview page shows them: CSAT in percent
            err.print("  " + score_text(kind, score["value"], n=score["n"], low=score.get("low"),
                                        high=score.get("high")))
    if not json_out:
        print(text)
    if result["customers"] == 0 and orders is not None:
        raise InvalidInput(f"no purchases on or before {day} in {orders}")


def _window(first: str | None, last: str | None) -> tuple[date, date] | None:
    """The window of the windowed repeat rate, from --window-start and --window-end (both or neither)."""
    if not (first or last):
        return None
    if not (first and last):
        raise InvalidInput("give both --window-start and --window-end")
    start, end = parse_date(first, "--window-start"), parse_date(last, "--window-end")
    if start > end:
        raise InvalidInput("the window starts after it ends")
    return start, end
