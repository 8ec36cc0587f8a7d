"""`cherish analyze`: the relationship metrics on DuckDB, Spark or the operational PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from cherish.analytics.clv_cli import _date
from cherish.cli import DbOption, app, err, friendly, settings_for, store_for
from cherish.errors import InvalidInput


@app.command()
@friendly
def analyze(
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (in-process), spark, or database (PostgreSQL)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Measure as of this day (default: today, business time)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the metrics as JSON."),
    orders: Path | None = typer.Option(None, "--orders", help="Analyse an orders file instead of the store."),
    customer_column: str = typer.Option("customer_id", "--customer-column"),
    date_column: str = typer.Option("date", "--date-column"),
    amount_column: str | None = typer.Option(None, "--amount-column"),
    date_format: str | None = typer.Option(None, "--date-format", help="strftime format, e.g. %Y%m%d."),
    channel_column: str | None = typer.Option(None, "--channel-column"),
    branch_column: str | None = typer.Option(None, "--branch-column"),
    window_start: str | None = typer.Option(None, "--window-start", help="Windowed repeat rate: first day."),
    window_end: str | None = typer.Option(None, "--window-end", help="Windowed repeat rate: last day."),
    db: str | None = DbOption,
) -> None:
    """Repeat-customer rate, cohort retention and experience scores; saved as a dated snapshot in the store."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cherish.analytics.engines import engine_for_files
    from cherish.analytics.service import analyze as run
    from cherish.analytics.service import analyze_store

    settings = settings_for(db)
    day = _date(as_of, "--as-of") or datetime.now(UTC).astimezone(settings.zone).date()
    window = None
    if window_start or window_end:
        if not (window_start and window_end):
            raise InvalidInput("give both --window-start and --window-end")
        window = (_date(window_start, "--window-start"), _date(window_end, "--window-end"))
        if window[0] > window[1]:
            raise InvalidInput("the window starts after it ends")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("reading", total=None)

        def say(text: str) -> None:
            bar.update(task, description=text)

        if orders is None:
            result = analyze_store(store_for(settings), settings, day, engine=engine, progress=say, window=window)
        else:
            from cherish.analytics.files import purchases_from_file

            table = purchases_from_file(orders, customer=customer_column, when=date_column, amount=amount_column,
                                        date_format=date_format, channel=channel_column, branch=branch_column)
            chosen = engine_for_files(engine, table, settings)
            try:
                result = run(chosen, day, progress=say, window=window)
            finally:
                chosen.close()
    text = json.dumps(result, indent=2, default=str)
    if json_out:
        json_out.write_text(text + "\n")
    rate = result["repeat_customer_rate"]
    err.print(f"{result['customers']} customers with a purchase; repeat-customer rate "
              f"{'—' if rate is None else f'{100 * rate:.1f}%'} as of {day} ({engine})")
    for kind, score in result["scores"].items():
        if score["value"] is not None:
            err.print(f"  {kind}: {score['value']:.2f} (n={score['n']})")
    if not json_out:
        print(text)
    if result["customers"] == 0 and orders is not None:
        raise InvalidInput(f"no purchases on or before {day} in {orders}")


@app.command()
@friendly
def report(html: Path = typer.Option(..., "--html", help="Where to write the report."),
           db: str | None = DbOption) -> None:
    """Write the overview of the latest `cherish analyze` as one self-contained HTML file to share."""
    from cherish.analytics.pages import report_html
    from cherish.analytics.service import latest_snapshot

    store = store_for(settings_for(db))
    with store.read() as session:
        snapshot = latest_snapshot(session)
        if snapshot is None:
            raise InvalidInput("no metrics yet: run `cherish analyze` first")
        metrics = snapshot.metrics
    html.write_text(report_html(metrics))
    err.print(f"report as of {metrics['as_of']} written to {html}")
