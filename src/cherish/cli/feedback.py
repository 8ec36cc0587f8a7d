"""`cherish feedback`: what the feedback says, on a file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cherish.cli.common import StdoutConsole, err, friendly
from cherish.errors import InvalidInput

app = typer.Typer(help="What feedback says: the drivers of a score.", no_args_is_help=True)


@app.command("drivers")
@friendly
def drivers(
    path: Path = typer.Argument(..., metavar="FILE", help="CSV, JSON Lines or Parquet: one row per respondent."),
    score_column: str = typer.Option(..., "--score-column", metavar="COLUMN",
                                     help="The score to explain (an NPS 0-10, a CSAT rating)."),
    driver_columns: str = typer.Option(..., "--driver-columns", metavar="A,B,C",
                                       help="The drivers, comma-separated: ratings, or 0/1 for an aspect mentioned."),
    json_out: Path | None = typer.Option(None, "--json", metavar="FILE", help="Write the analysis as JSON here."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE.json", help="The same as --json."),
    method: str = typer.Option("relative-weights", "--method", metavar="METHOD",
                               help="relative-weights (Johnson's), or shapley (exact, at most 12 drivers)."),
    bootstrap: int = typer.Option(500, "--bootstrap", metavar="N", min=50, max=10_000,
                                  help="Resamples for the confidence intervals."),
    seed: int = typer.Option(7, "--seed", metavar="N", help="Seed of the resampling: the same seed, the same file, "
                                                             "the same intervals."),
) -> None:
    """Which drivers move a score, with bootstrap intervals, crossed with how each performs: improve, continue,
    stop or monitor."""
    from rich.table import Table

    from cherish.events.files import read_table
    from cherish.feedback.drivers import drivers_from_table

    names = [name.strip() for name in driver_columns.split(",") if name.strip()]
    if output is not None and json_out is not None and output != json_out:
        raise InvalidInput(f"--output {output} and --json {json_out} both ask for the JSON: give one")
    json_out = json_out or output
    if json_out is not None and json_out.suffix.lower() != ".json":
        raise InvalidInput(f"--json {json_out}: end the name in .json")
    analysis = drivers_from_table(read_table(path), score_column=score_column, driver_columns=names,
                                  method=method, bootstrap=bootstrap, seed=seed)
    err.print(f"{analysis.respondents:,} respondents; the drivers explain {analysis.r2:.0%} of {score_column}'s "
              f"variance ({analysis.method})", highlight=False)
    table = Table("driver", "importance", "95% interval", "performance", "quadrant")
    for driver in analysis.drivers:
        table.add_row(driver.name, f"{driver.importance:.1%}", f"{driver.ci[0]:.1%} – {driver.ci[1]:.1%}",
                      f"{driver.performance:.2f}", driver.quadrant)
    out = StdoutConsole()
    out.print(table)
    for driver in analysis.drivers:
        out.print(driver.sentence, highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(analysis.as_json(), indent=2, ensure_ascii=False) + "\n")
        err.print(f"wrote {json_out}", highlight=False)
