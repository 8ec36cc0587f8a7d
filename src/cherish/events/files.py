"""Reading the files `cherish import` takes: CSV, TSV (the delimiter sniffed), JSONL and Parquet, row by row or as
Arrow record batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cherish.errors import InvalidInput

PARQUET_BATCH_ROWS = 5000
DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a text file's header line: the one of ``DELIMITERS`` it holds most often outside quotes
    (Excel writes ``;`` where the decimal mark is a comma); a comma when it holds none, a tab for ``.tsv``."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open("rb") as handle:
        header = handle.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()[:1]
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header[0] if header else "":
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier one: the comma first
    return best if counts[best] else ","


def _csv_options(path: Path, delimiter: str | None = None):
    from pyarrow import csv as pacsv

    parse = pacsv.ParseOptions(delimiter=delimiter or sniff_delimiter(path))
    names = pacsv.open_csv(path, parse_options=parse).schema.names
    return dict(parse_options=parse, read_options=pacsv.ReadOptions(block_size=1 << 22),
                convert_options=pacsv.ConvertOptions(column_types={n: "string" for n in names},
                                                     strings_can_be_null=True))


def read_batches(path: Path, delimiter: str | None = None) -> Iterator[Any]:
    """Arrow record batches of a CSV, TSV or Parquet file (CSV columns as text; the delimiter sniffed unless
    given)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS)
    elif suffix in (".csv", ".txt", ".tsv"):
        from pyarrow import csv as pacsv

        yield from pacsv.open_csv(path, **_csv_options(path, delimiter))
    else:
        raise InvalidInput(f"cannot import {path.name}: use .csv, .tsv, .jsonl or .parquet")


def count_rows(path: Path) -> int | None:
    """About how many rows ``path`` holds, for a progress bar: exact for Parquet (from its footer), the number of
    lines for text files (a quoted field may hold a line break); None when it cannot tell."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        lines, last = 0, b"\n"
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"  # a last line without a line break
        return max(lines - (suffix != ".jsonl" and suffix != ".ndjson"), 0)  # the header of a CSV
    except Exception:  # an unreadable file is reported by the import itself, with its reason
        return None


def read_rows(path: Path, delimiter: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number from 1, row) for every row of a CSV, JSONL or Parquet file."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    number = 0
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open() as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    number += 1
                    try:
                        row = json.loads(line)
                    except ValueError:
                        yield number, {"__error__": "not valid JSON"}
                        continue
                    yield number, row if isinstance(row, dict) else {"__error__": "not a JSON object"}
            return
        for batch in read_batches(path, delimiter):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except InvalidInput:
        raise
    except Exception as exc:  # a malformed file: say where, in one line
        raise InvalidInput(f"cannot read {path.name} after row {number}: {str(exc).splitlines()[0]}") from None


def write_reject_report(rejected: list[tuple[int, str]], target: Path) -> bool:
    """Write ``row,reason`` for each rejected row to ``target``; with none, remove the report an earlier run left
    there (and nothing else). True when an earlier report was removed."""
    from cherish.spreadsheets import csv_writer

    if rejected:  # this run's report replaces an earlier run's
        with target.open("w", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow(["row", "reason"])
            writer.writerows(rejected)
        return False
    if _is_reject_report(target):  # an earlier run's report no longer says anything true
        target.unlink()
        return True
    return False


def _is_reject_report(path: Path) -> bool:
    """Whether ``path`` is a reject report `cherish import` wrote (never remove anything else)."""
    try:
        with path.open(newline="") as handle:
            return handle.readline().strip() == "row,reason"
    except (OSError, UnicodeDecodeError):
        return False
