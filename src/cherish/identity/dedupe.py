"""Deduplicating a file of people: which rows are the same person, by the matcher that `identity match` uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cherish.errors import InvalidInput


@dataclass
class Deduplicated:
    rows: int
    people: int
    roles: dict[str, str]  # role -> column the matcher compared
    note: str | None


def dedupe_file(path: Path, output: Path, *, id_column: str, columns: dict[str, str] | None = None,
                threshold: float = 0.99, say: Callable[[str], None] = lambda text: None) -> Deduplicated:
    """Write ``id,cluster_id`` for every row of the CSV file ``path`` to ``output``: rows of one person share a
    cluster. ``columns`` names the column of a role (``email``, ``first_name``, …) a header does not show."""
    from pyarrow import csv as pacsv

    from cherish.identity.matching import infer_roles, match_records
    from cherish.spreadsheets import csv_writer

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows_after_names=0, block_size=1 << 20),
                                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                                convert_options=pacsv.ConvertOptions(include_columns=[])).column_names
    except Exception as exc:  # noqa: BLE001  (Arrow says what it could not read in its own words)
        raise InvalidInput(f"cannot read {path} as CSV: {exc}") from None
    if id_column not in header:
        raise InvalidInput(f"the file has no column {id_column!r}; its columns: {', '.join(header)}")
    id_column = id_column.strip()
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={name: "string" for name in header}, strings_can_be_null=True))
    table = table.rename_columns([name.strip() for name in table.column_names])
    roles = infer_roles(table.column_names, id_column, columns or {})
    say("matching on " + ", ".join(f"{role}={col}" for role, col in roles.items()))
    result = match_records(table, id_column=id_column, roles=roles, threshold=threshold, explain=False)
    ids = [str(v) for v in table.column(id_column).to_pylist()]
    with output.open("w", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(["id", "cluster_id"])
        for record_id in ids:
            writer.writerow([record_id, result.clusters.get(record_id, record_id)])
    people = len({result.clusters.get(i, i) for i in ids})
    return Deduplicated(rows=len(ids), people=people, roles=roles, note=result.note)
