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


def _csv_options(path: Path, delimiter: str | None = None, multiline: bool = False):
    from pyarrow import csv as pacsv

    parse = pacsv.ParseOptions(delimiter=delimiter or sniff_delimiter(path), newlines_in_values=multiline)
    names = pacsv.open_csv(path, parse_options=parse).schema.names
    return dict(parse_options=parse, read_options=pacsv.ReadOptions(block_size=1 << 22),
                convert_options=pacsv.ConvertOptions(column_types={n: "string" for n in names},
                                                     strings_can_be_null=True))


_TEXT = (".csv", ".tsv", ".txt", ".dat", "")  # .txt, .dat and no suffix: delimited, or separated by whitespace


def read_batches(path: Path, delimiter: str | None = None, *, multiline: bool = False) -> Iterator[Any]:
    """Arrow record batches of a CSV, TSV, whitespace-separated text or Parquet file (text columns as text; the
    delimiter sniffed unless given). With ``multiline``, a quoted CSV value may hold line breaks (comments do;
    reading is slower)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS)
    elif suffix in _TEXT and delimiter is None and suffix != ".csv" and _whitespace_separated(path):
        yield from whitespace_table(path).to_batches()
    elif suffix in _TEXT:
        from pyarrow import csv as pacsv

        yield from pacsv.open_csv(path, **_csv_options(path, delimiter, multiline))
    else:
        raise InvalidInput(f"cannot read {path.name}: use .csv, .tsv, .txt (delimited or whitespace-separated), "
                           ".jsonl or .parquet")


def read_table(path: Path, delimiter: str | None = None) -> Any:
    """A whole file as one Arrow table: every format `cherish import` takes, for the commands that read orders files
    (`cherish analyze --orders`, the CLV commands). JSON Lines are read with Arrow's types."""
    import pyarrow as pa

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            from pyarrow import json as pajson

            return pajson.read_json(path)
        batches = list(read_batches(path, delimiter))
        if not batches:
            raise InvalidInput(f"{path.name} holds no rows")
        return pa.Table.from_batches(batches)
    except InvalidInput:
        raise
    except Exception as exc:  # a malformed file: one line
        raise InvalidInput(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None


def _whitespace_separated(path: Path) -> bool:
    """Whether a text file's first line holds none of ``DELIMITERS`` but several fields apart by whitespace (as
    CDNOW's ``CDNOW_master.txt``)."""
    with path.open("rb") as handle:
        first = handle.readline(1 << 16).decode("utf-8-sig", errors="replace")
    return not any(d in first for d in DELIMITERS) and len(first.split()) > 1


def whitespace_table(path: Path) -> Any:
    """A whitespace-separated text file, every field as text; without a header line (a first line of numbers only)
    the columns are named 1, 2, 3, …"""
    import pyarrow as pa

    with path.open() as handle:
        lines = [line.split() for line in handle if line.strip()]
    if not lines:
        raise InvalidInput(f"{path.name} is empty")

    def numeric(token: str) -> bool:
        try:
            float(token)
            return True
        except ValueError:
            return False

    header = None if all(numeric(t) for t in lines[0]) else lines.pop(0)
    width = max(len(row) for row in lines) if lines else len(header or [])
    names = header or [str(i + 1) for i in range(width)]
    if len(names) < width:
        raise InvalidInput(f"{path.name}: some rows have more fields than the header")
    columns = {name: [row[i] if i < len(row) else None for row in lines] for i, name in enumerate(names)}
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


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
