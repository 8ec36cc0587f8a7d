"""The few statements SQLite and PostgreSQL spell differently, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session


def _insert_for(session: Session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def upsert(
    session: Session,
    model: Any,
    rows: Sequence[dict[str, Any]],
    *,
    index: Sequence[str],
    update: Sequence[str],
    newer_than: str | None = None,
) -> None:
    """Insert ``rows``; where ``index`` already exists update ``update`` (only when newer by ``newer_than``)."""
    if not rows:
        return
    stmt = _insert_for(session)(model)
    table = model.__table__
    where = table.c[newer_than] <= stmt.excluded[newer_than] if newer_than else None
    stmt = stmt.on_conflict_do_update(
        index_elements=list(index), set_={c: stmt.excluded[c] for c in update}, where=where
    )
    session.execute(stmt, list(rows))


def insert_ignore(session: Session, model: Any, rows: Sequence[dict[str, Any]], *, index: Sequence[str]) -> None:
    """Insert ``rows``, skipping those whose ``index`` already exists."""
    if not rows:
        return
    stmt = _insert_for(session)(model).on_conflict_do_nothing(index_elements=list(index))
    session.execute(stmt, list(rows))


def bulk_insert(session: Session, table: Any, rows: Sequence[dict[str, Any]], *, chunk: int = 50_000) -> None:
    """Insert many rows through the driver's executemany, without SQLAlchemy's per-value processing.

    For large write-backs (a score per customer). Values are converted here as the column types would:
    timestamps and dates to naive UTC (ISO text on SQLite), JSON to text (cast to jsonb on PostgreSQL).
    """
    if not rows:
        return
    from datetime import UTC, date, datetime

    import orjson

    connection = session.connection()
    dialect = connection.dialect.name
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if "JSON" in type(c.type).__name__.upper()
                    or "JSON" in repr(c.type).upper()}
    marker = "?" if dialect == "sqlite" else "%s"
    placeholders = ", ".join(f"{marker}::jsonb" if c in json_columns and dialect == "postgresql" else marker
                             for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'

    def convert(value: Any, name: str) -> Any:
        if value is None:
            return None
        if name in json_columns:
            return orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        if isinstance(value, datetime):
            naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
            return naive.isoformat(sep=" ", timespec="microseconds") if dialect == "sqlite" else naive
        if isinstance(value, date) and dialect == "sqlite":
            return value.isoformat()
        return value

    for start in range(0, len(rows), chunk):
        params = [tuple(convert(row[c], c) for c in columns) for row in rows[start : start + chunk]]
        connection.exec_driver_sql(sql, params)
