"""`cherish report`: the latest overview as one HTML file to share."""

from __future__ import annotations

from pathlib import Path

import typer

from cherish.cli.common import DbOption, err, friendly, settings_for, store_for
from cherish.errors import InvalidInput


@friendly
def report(output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                             help="Where to write the report (HTML)."),
           html: Path | None = typer.Option(None, "--html", metavar="FILE", help="Older spelling of --output."),
           db: str | None = DbOption) -> None:
    """Write the overview of the latest `cherish analyze` as one self-contained HTML file to share."""
    if output and html and output != html:
        raise InvalidInput("give --output or its older spelling --html, not both")
    target = output or html
    if target is None:
        raise InvalidInput("say where to write the report: --output FILE.html")
    from cherish.analytics.pages import report_html
    from cherish.analytics.service import latest_snapshot, shown

    store = store_for(settings_for(db))
    with store.read() as session:
        snapshot = latest_snapshot(session)
        if snapshot is None:
            raise InvalidInput("no metrics yet: run `cherish analyze` first")
        metrics = shown(session, snapshot.metrics)
    target.write_text(report_html(metrics))
    err.print(f"report as of {metrics['as_of']} written to {target}")
