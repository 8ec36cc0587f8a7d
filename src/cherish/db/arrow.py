"""A query's rows read from the store into Arrow, column by column, never as row dicts: the way analytics reads.

PostgreSQL sends the rows as CSV through COPY, parsed by Arrow; SQLite's are read by the ADBC driver, in C, in a child
process (``sqlite_reader`` says why).
"""

from __future__ import annotations

import io

import pyarrow as pa

from cherish.db.dialects import driver_of
from cherish.db.engine import Store
from cherish.errors import EngineError


def read_arrow(store: Store, sql: str, types: dict[str, pa.DataType]) -> pa.Table:
    """The rows of ``sql``: columns named in ``types`` get that type (timestamps naive UTC), the others are text."""
    if not store.one_writer:
        return _by_copy(store, sql, types)
    path = store.engine.url.database
    if path is None or path in ("", ":memory:"):
        raise EngineError("analytics read the store's SQLite file: an in-memory store has none")
    with store.engine.connect() as conn:
        names = [c[0] for c in conn.exec_driver_sql(f"SELECT * FROM ({sql}) AS source LIMIT 0").cursor.description]
    return _by_adbc(path, sql, names, types)


def _by_adbc(path: str, sql: str, names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    """The driver infers each column's type from its first rows, and takes a column that starts with NULLs for
    numbers: text columns are read with NULL as '' (which the store never holds: empty text is stored as NULL)
    and turned back."""
    import pyarrow.compute as pc

    from cherish.db.sqlite_reader import read_sqlite

    text = [name for name in names if name not in types]
    select = ", ".join(f"coalesce({name}, '') AS {name}" if name in text else name for name in names)
    table = read_sqlite(path, f"SELECT {select} FROM ({sql}) AS source")
    if table.num_rows == 0:  # no rows to infer types from
        return pa.table({name: pa.array([], type=types.get(name, pa.string())) for name in names})
    columns = []
    for name in names:
        column = table.column(name)
        if name in text:
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        else:
            column = column.cast(types[name])
        columns.append(column)
    return pa.Table.from_arrays(columns, names=names)


def _by_copy(store: Store, sql: str, types: dict[str, pa.DataType]) -> pa.Table:
    from pyarrow import csv

    buffer = io.BytesIO()
    with store.engine.connect() as conn:
        cursor = driver_of(conn).cursor()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    names = buffer.readline().decode().strip().split(",")  # our own column names: plain identifiers
    buffer.seek(0)
    # every column typed (ids stay text even when they look like numbers); NULL is an unquoted empty field
    options = csv.ConvertOptions(column_types={name: types.get(name, pa.string()) for name in names},
                                 null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False)
    return csv.read_csv(buffer, convert_options=options)
