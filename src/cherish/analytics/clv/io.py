"""Reading transaction files for the CLV commands: CSV, whitespace-separated text, Parquet."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from cherish.errors import InvalidInput


def _whitespace_table(path: Path) -> pa.Table:
    """A whitespace-separated text file; without a header line the columns are named 1, 2, 3, …"""
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
    width = max(len(row) for row in lines)
    names = header or [str(i + 1) for i in range(width)]
    if len(names) < width:
        raise InvalidInput(f"{path.name}: some rows have more fields than the header")
    columns = {name: [row[i] if i < len(row) else None for row in lines] for i, name in enumerate(names)}
    return pa.table(columns)


def read_transactions(path: Path, *, customer: str, when: str, amount: str | None = None,
                      date_format: str | None = None) -> pa.Table:
    """Columns customer (text), day (date) and amount (number, when given), from any supported file."""
    import duckdb

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    con = duckdb.connect()
    suffix = path.suffix.lower()
    quoted = str(path).replace("'", "''")
    if suffix == ".parquet":
        source = f"read_parquet('{quoted}')"
    elif suffix in (".csv", ".tsv"):
        source = f"read_csv('{quoted}', all_varchar = true, header = true)"
    elif suffix in (".txt", ".dat", ""):
        con.register("whitespace_file", _whitespace_table(path))
        source = "whitespace_file"
    else:
        raise InvalidInput(f"cannot read {path.name}: use .csv, .tsv, .txt (whitespace-separated) or .parquet")
    try:
        columns = [row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None
    for label, name in (("--customer-column", customer), ("--date-column", when), ("--amount-column", amount)):
        if name is not None and name not in columns:
            raise InvalidInput(f"{label} {name}: {path.name} has no such column; its columns: {', '.join(columns)}")
    date_expr = (f"CAST(strptime(CAST(\"{when}\" AS VARCHAR), '{date_format.replace(chr(39), '')}') AS DATE)"
                 if date_format else f"CAST(\"{when}\" AS DATE)")
    amount_expr = f'CAST("{amount}" AS DOUBLE)' if amount else "CAST(NULL AS DOUBLE)"
    try:
        return con.sql(f'SELECT CAST("{customer}" AS VARCHAR) AS customer, {date_expr} AS day, {amount_expr} AS amount '
                       f"FROM {source}").to_arrow_table()
    except duckdb.Error as exc:
        hint = "" if date_format else " (give --date-format, e.g. %Y%m%d)"
        raise InvalidInput(f"cannot read the transactions: {str(exc).splitlines()[0]}{hint}") from None
    finally:
        con.close()
