"""`cherish text`: text analytics on a file of comments."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import typer

from cherish.cli.common import err, friendly, progress_bar
from cherish.errors import InvalidInput

app = typer.Typer(help="Text analytics on comments: sentiment, aspects, urgency, language.", no_args_is_help=True)
ADDED = ("sentiment", "label", "aspects", "aspect_sentiment", "urgency", "language")
BATCH = 2000


@app.command("analyze")
@friendly
def analyze(
    path: Path = typer.Argument(..., metavar="INPUT", help="CSV or TSV with a header, JSON Lines or Parquet."),
    text_column: str = typer.Option(..., "--text-column", metavar="COLUMN", help="The column with the comments."),
    output: Path = typer.Option(..., "--output", "-o", metavar="OUT.csv",
                                help="Where to write every input column and the analysis (CSV)."),
    model: str = typer.Option("default", "--model", metavar="MODEL",
                              help="default (the trained model), or lexicon (VADER alone: faster)."),
) -> None:
    """Analyse every comment of a file: sentiment (-1 to 1) and its label, aspects with their sentiment, urgency
    signals and language, added to the file's own columns."""
    from cherish.feedback.text.sentiment import scorer_named

    if output.suffix.lower() != ".csv":
        raise InvalidInput(f"--output {output}: end the name in .csv")
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    if output.resolve() == path.resolve():
        raise InvalidInput("--output names the input file: write the analysis to another file")
    scorer = scorer_named(model)
    batches = _rebatched(_batches(path))
    first = next(batches, None)
    if first is None:
        raise InvalidInput(f"{path.name} holds no rows")
    names = first.schema.names
    if text_column not in names:
        raise InvalidInput(f"no column {text_column!r} in {path.name}; it has {', '.join(names[:20])}")
    clash = [name for name in ADDED if name in names]
    if clash:
        raise InvalidInput(f"{path.name} already has a column {clash[0]!r}: rename it first")
    temporary = output.with_name(f".{output.name}.partial")
    try:
        with progress_bar() as progress:
            task = progress.add_task("comments analysed", total=None)
            rows = _write(itertools.chain([first], batches), path, text_column, temporary, scorer,
                          lambda done: progress.update(task, completed=done))
        temporary.replace(output)
    finally:
        temporary.unlink(missing_ok=True)
    err.print(f"analysed {rows:,} comments ({scorer.version}); wrote {output}", highlight=False)


def _batches(path: Path) -> Any:
    from cherish.events.files import read_batches, read_table

    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return iter(read_table(path).to_batches(max_chunksize=BATCH))
    return read_batches(path, multiline=True)


def _write(batches: Any, path: Path, text_column: str, output: Path, scorer: Any, done: Any) -> int:
    """Every row of ``batches`` (of ``path``) with its analysis, written to ``output`` as CSV; how many rows."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    from cherish.feedback.text.analysis import analyze as analyze_texts

    writer, rows = None, 0
    try:
        for batch in batches:
            texts = [None if v is None else str(v) for v in batch.column(text_column).to_pylist()]
            table = pa.Table.from_batches([batch])
            for name, values in _columns(analyze_texts([t or "" for t in texts], model=scorer), texts).items():
                table = table.append_column(name, values)
            writer = writer or pacsv.CSVWriter(output, table.schema)
            writer.write_table(table)
            rows += batch.num_rows
            done(rows)
    except pa.ArrowException as exc:
        raise InvalidInput(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None
    finally:
        if writer is not None:
            writer.close()
    return rows


def _rebatched(batches: Any) -> Any:
    """Batches of at most BATCH rows (a CSV block may hold many more)."""
    for batch in batches:
        for start in range(0, batch.num_rows, BATCH):
            yield batch.slice(start, BATCH)


def _columns(found: list[Any], texts: list[str | None]) -> dict[str, Any]:
    import pyarrow as pa

    empty = [t is None or not t.strip() for t in texts]
    return {
        "sentiment": pa.array([None if e or r.sentiment is None else round(r.sentiment, 4)
                               for r, e in zip(found, empty, strict=True)], pa.float64()),
        "label": pa.array([None if e else r.label for r, e in zip(found, empty, strict=True)], pa.string()),
        "aspects": pa.array(["; ".join(a.name for a in r.aspects) for r in found], pa.string()),
        "aspect_sentiment": pa.array(["; ".join(f"{a.name}={a.sentiment:.2f}" for a in r.aspects) for r in found],
                                     pa.string()),
        "urgency": pa.array(["; ".join(r.urgency) for r in found], pa.string()),
        "language": pa.array([None if e else r.language for r, e in zip(found, empty, strict=True)], pa.string()),
    }
