"""`cherish import`: customers, orders or interactions from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cherish.cli.common import DbOption, err, friendly, pairs, progress_bar, settings_for, store_for
from cherish.cli.text import plural
from cherish.errors import InvalidInput

MAPPING_FIELDS = "kind, date_format, delimiter, decimal_comma and columns: {field: COLUMN}"


@friendly
def import_file(
    path: Path = typer.Argument(..., help="A .csv, .tsv, .jsonl or .parquet file."),
    kind: str | None = typer.Option(None, "--kind", metavar="KIND", help="customers, orders (one row per order "
                                    "line) or interactions; inferred from the columns when not given."),
    map_: list[str] = typer.Option([], "--map", metavar="FIELD=COLUMN",
                                   help="field=COLUMN, e.g. --map order_id=OrderNo (repeatable)."),
    mapping: Path | None = typer.Option(None, "--mapping", help=f"YAML file: {MAPPING_FIELDS}."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT",
                                           help="strftime format of the timestamps, e.g. %Y%m%d."),
    strict: bool = typer.Option(False, "--strict", help="Store nothing at all if any row is invalid."),
    delimiter: str | None = typer.Option(None, "--delimiter", metavar="CHAR", help="A CSV's delimiter (default: "
                                         "sniffed from its header: comma, semicolon, tab or bar)."),
    decimal_comma: bool = typer.Option(False, "--decimal-comma", help="Numbers are written 1.234,50 (as where the "
                                                                      "decimal mark is a comma)."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where to write the reject report (row,reason)."),
    match: bool = typer.Option(False, "--match", help="Run `cherish identity match` after the import."),
    db: str | None = DbOption,
) -> None:
    """Load customers, orders or interactions from a file, through the same identity resolution as live events.

    The exit status is 1 when any row was rejected (the reject report says which and why), 0 otherwise."""
    from cherish.events.files import count_rows, write_reject_report
    from cherish.events.importer import run_import

    spec = _mapping(mapping)
    columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    columns.update(pairs(map_, "--map", "field=COLUMN"))
    delimiter = delimiter or spec.get("delimiter")
    settings = settings_for(db)
    store = store_for(settings)
    with progress_bar(remaining=True) as bar:
        task = bar.add_task(f"importing {path.name}", total=count_rows(path) if path.is_file() else None)
        report = run_import(store, settings, path, kind=kind or spec.get("kind"), mapping=columns,
                            date_format=date_format or spec.get("date_format"), strict=strict,
                            progress=lambda n: bar.advance(task, n),
                            delimiter="\t" if delimiter in ("\\t", "tab", "TAB") else delimiter,  # hard to type
                            decimal_comma=decimal_comma or bool(spec.get("decimal_comma")))
        bar.update(task, total=report.rows, completed=report.rows)  # the count was an estimate for text files
    target = rejects or path.with_name(path.name + ".rejects.csv")
    if write_reject_report(report.rejected, target):
        err.print(f"no row rejected: the reject report of an earlier run, {target}, was removed")
    elif report.rejected:
        err.print(f"{plural(len(report.rejected), 'row')} rejected; reasons in {target}")
    if strict and report.rejected:
        raise InvalidInput(f"--strict: nothing was stored: {len(report.rejected)} of {plural(report.rows, 'row')} "
                           f"invalid (first: row {report.rejected[0][0]}: {report.rejected[0][1]})")
    err.print(f"{plural(report.rows, 'row')}: {report.stored} stored, {report.already} already stored (imported "
              f"before), {len(report.rejected)} rejected")
    if match:
        from cherish.identity.match_store import run_match

        with err.status("matching customers (Splink on DuckDB)…"):
            summary = run_match(store, settings, actor="cli")
        err.print(f"identity match (run {summary.run_id}, `cherish identity undo {summary.run_id}` takes it back): "
                  f"{summary.merged} merged, {summary.reviews} sent to review", soft_wrap=True)
    if report.rejected:  # a script or a scheduler learns that some rows need fixing
        raise typer.Exit(1)


def _mapping(path: Path | None) -> dict[str, Any]:
    """The YAML mapping file's settings (empty without one); the flags given beside it win."""
    if path is None:
        return {}
    import yaml

    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read the mapping {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("columns", {}), dict):
        raise InvalidInput(f"the mapping file holds {MAPPING_FIELDS}")
    return spec

