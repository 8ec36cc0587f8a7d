"""Moving the rows of a scratch SQLite store into the store: how work done in another process lands in bulk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Integer, Table
from sqlalchemy.orm import Session

from cherish import models  # noqa: F401  (every table in the metadata)
from cherish.db.base import Base
from cherish.db.dialects import bulk_insert_columns, is_conflict, reserve_ids
from cherish.db.engine import Store
from cherish.errors import Conflict


def copy_store(store: Store, source: Path) -> dict[str, int]:
    """Insert every row of the SQLite store at ``source`` (same schema) into ``store`` in one transaction, and say
    how many rows each table received.

    Integer ids are drawn afresh, as the store draws them, and the columns that point at them follow; every other
    value is kept as it is, so the rows must not collide with the store's (the caller's guarantee: the demo's
    people share no identifier, message id or order id across chunks). SQLite copies inside the engine, from the
    scratch file attached to a writer's connection; PostgreSQL receives the values as SQLite holds them
    (timestamps as naive UTC text, JSON as text) through COPY, which reads them as the columns' types."""
    try:
        if store.dialect == "sqlite":
            return _attached(store, source)
        with store.write() as session:
            return _through_driver(session, source)
    except Exception as exc:
        if not is_conflict(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Conflict(f"the rows of {source.name} collide with rows in the store, nothing of them was moved: "
                       f"{reason}") from exc


def _attached(store: Store, source: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    referenced = _referenced_ids()
    with store.writer_connection() as connection:
        connection.execute("ATTACH DATABASE ? AS scratch", (str(source),))
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                shift: dict[str, int] = {}  # table -> what its scratch ids move by
                for table in _moved():
                    names = [column.name for column in table.columns]
                    picked = {name: f'"{name}"' for name in names}
                    for column in table.columns:
                        for key in column.foreign_keys:
                            if key.column.table.name in shift:
                                picked[column.name] = f'"{column.name}" + {shift[key.column.table.name]}'
                    serial = _serial(table)
                    if serial is not None:
                        if table.name in referenced:
                            shift[table.name] = connection.execute(
                                f'SELECT COALESCE(MAX("{serial}"), 0) FROM main."{table.name}"').fetchone()[0]
                            picked[serial] = f'"{serial}" + {shift[table.name]}'
                        else:
                            del picked[serial]  # drawn by the store as the rows go in
                    counts[table.name] = connection.execute(
                        f'INSERT INTO main."{table.name}" ({", ".join(chr(34) + n + chr(34) for n in picked)}) '
                        f'SELECT {", ".join(picked.values())} FROM scratch."{table.name}" ORDER BY rowid').rowcount
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            connection.execute("DETACH DATABASE scratch")
    return {name: count for name, count in counts.items() if count}


def _through_driver(session: Session, source: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    referenced = _referenced_ids()
    fresh: dict[str, dict[int, int]] = {}  # table -> scratch id -> id in the store
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        for table in _moved():  # parents before the tables that point at them
            names = [column.name for column in table.columns]
            quoted = ", ".join(f'"{name}"' for name in names)
            rows = connection.execute(f'SELECT {quoted} FROM "{table.name}" ORDER BY rowid').fetchall()
            if not rows:
                continue
            columns = {name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}
            for column in table.columns:
                for key in column.foreign_keys:
                    ids = fresh.get(key.column.table.name)
                    if ids is not None:
                        columns[column.name] = [None if v is None else ids[v] for v in columns[column.name]]
            serial = _serial(table)
            if serial is not None:
                if table.name in referenced:
                    new = reserve_ids(session, table, len(rows))
                    fresh[table.name] = dict(zip(columns[serial], new, strict=True))
                    columns[serial] = new
                else:
                    del columns[serial]  # drawn by the store as the rows go in
            bulk_insert_columns(session, table, columns)
            counts[table.name] = len(rows)
    finally:
        connection.close()
    return counts


# the store's own bookkeeping, not data: how far each consumer of domain events has read the store's events
NOT_MOVED = {"domain_event_consumers"}


def _moved() -> list[Table]:
    return [table for table in Base.metadata.sorted_tables if table.name not in NOT_MOVED]


def _serial(table: Table) -> str | None:
    """The table's integer key that the store draws (``id``, a domain event's ``position``), if it has one."""
    key = list(table.primary_key.columns)
    return key[0].name if len(key) == 1 and isinstance(key[0].type, Integer) and key[0].autoincrement in (
        True, "auto") else None



def _referenced_ids() -> set[str]:
    """Tables whose integer ids other tables point at (an order's lines point at the order)."""
    return {key.column.table.name for table in Base.metadata.sorted_tables for key in table.foreign_keys
            if _serial(key.column.table) is not None}
