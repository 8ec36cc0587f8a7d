"""The few statements SQLite and PostgreSQL spell differently, in one place."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, overload

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


def insert_for(session: Session) -> Callable[..., Any]:
    """The insert construct of the session's engine (with ON CONFLICT on both)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def upsert(
    session: Session,
    model: Any,
    rows: Sequence[dict[str, Any]],
    *,
    index: Sequence[str],
    update: Sequence[str],
    newer_than: str | None = None,
) -> None:
    """Insert ``rows``; where ``index`` already exists update ``update`` (only when newer by ``newer_than``).

    Written as one ``INSERT … ON CONFLICT`` statement run through the driver for all rows (SQLite and PostgreSQL
    spell it the same): it sits on intake's hot path, where SQLAlchemy's per-row processing would cost more."""
    if not rows:
        return
    table = getattr(model, "__table__", model)  # a mapped class or its Table
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if "JSON" in type(c.type).__name__.upper()
                    or "JSON" in repr(c.type).upper()}
    postgres = session.get_bind().dialect.name == "postgresql"
    marks = ", ".join("?::jsonb" if postgres and c in json_columns else "?" for c in columns)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in update)
    names, keys = ", ".join(f'"{c}"' for c in columns), ", ".join(f'"{c}"' for c in index)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT ({keys}) DO UPDATE SET {sets}'
    if newer_than:
        sql += f' WHERE "{table.name}"."{newer_than}" <= excluded."{newer_than}"'
    raw_executemany(session, sql, [
        tuple(json_text(row[c]) if c in json_columns else row[c] for c in columns) for row in rows])


def insert_ignore(session: Session, model: Any, rows: Sequence[dict[str, Any]], *, index: Sequence[str]) -> None:
    """Insert ``rows``, skipping those whose ``index`` already exists."""
    if not rows:
        return
    stmt = insert_for(session)(model).on_conflict_do_nothing(index_elements=list(index))
    session.execute(stmt, list(rows))


def fetch_columns(session: Session, sql: str, dates: Sequence[int] = ()) -> list[tuple[Any, ...]]:
    """The rows of a plain SQL query (no parameters) as columns, one tuple per selected column, straight from
    the driver: for reading a million rows without a million row objects. SQLite's ISO dates in the columns
    numbered in ``dates`` become ``date`` values."""
    rows, width = _fetch(session, sql, ())
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    if session.connection().dialect.name == "sqlite":
        for i in dates:
            columns[i] = tuple(None if v is None else date.fromisoformat(v) for v in columns[i])
    return columns


def bulk_insert_columns(session: Session, table: Any, columns: dict[str, Any]) -> None:
    """Insert rows given as columns (arrays or sequences of equal length) through the driver's fastest path:
    COPY on PostgreSQL, executemany on SQLite. Values must already be plain: text, numbers, ``None``, ``date``
    or ``datetime`` (aware ones are stored as naive UTC, like every timestamp of the store); JSON columns hold
    JSON text."""
    names = list(columns)
    if not names:
        return
    values = []
    connection = session.connection()
    sqlite_dialect = connection.dialect.name == "sqlite"
    for name in names:
        column = columns[name]
        plain = column.tolist() if hasattr(column, "tolist") else list(column)
        sample = next((v for v in plain if v is not None), None)
        if isinstance(sample, datetime):
            plain = _stored_times(plain, sqlite_dialect, session.info.setdefault("cherish_stored_times", {}))
        elif isinstance(sample, date):  # converted once per distinct value: many rows share a day
            cache: dict[Any, Any] = {None: None}
            plain = [cache[v] if v in cache else cache.setdefault(v, _stored(v, sqlite_dialect))
                     for v in plain]
        values.append(plain)
    if not values[0]:
        return
    rows = zip(*values, strict=True)
    quoted = ", ".join(f'"{n}"' for n in names)
    driver = driver_of(connection)
    if not sqlite_dialect:
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in names)})', rows)
    finally:
        cursor.close()


# The one advisory lock that orders appends to logs read by position (domain events): any 64-bit number
_APPEND_LOCK = 0x636865726973680A


def append_in_commit_order(session: Session) -> None:
    """Before appending to a log that readers follow by an increasing position: make positions visible in the order
    they were given. On PostgreSQL two transactions may take positions 7 and 8 and commit 8 first; a reader that saw
    8 would never look back for 7. An advisory lock held until commit lets one appender at a time take positions
    (only transactions that append wait, and only for each other's commit). SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})


_NAMED_LOCKS = 0x63686572  # the first key of the advisory locks taken by name


def lock_names(session: Session, names: Sequence[str]) -> None:
    """Hold a lock per name until the transaction ends (PostgreSQL's advisory locks, taken in one order so that two
    transactions never wait for each other crosswise); SQLite has one writer anyway. For decisions that read what
    was decided before (a customer's contacts) and must not be made twice at once by two workers."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(names)):
        session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                        {"space": _NAMED_LOCKS, "name": name})


def existing_values(session: Session, column: Any, values: Sequence[Any], chunk: int = 5000) -> set[Any]:
    """Which of ``values`` the (indexed) ``column`` already holds, asked through the driver (intake's hot path
    asks this of every batch's message ids)."""
    found: set[Any] = set()
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        found.update(row[0] for row in raw_rows(
            session, f'SELECT "{column.name}" FROM "{column.table.name}" WHERE "{column.name}" IN '
                     f'({", ".join("?" * len(part))})', part))
    return found


def reserve_ids(session: Session, table: Any, count: int) -> list[int]:
    """``count`` fresh values of ``table``'s integer primary key ``id``, for rows written in bulk that others
    must point to. PostgreSQL draws them from the table's sequence; SQLite, where the caller holds the only
    write transaction, counts on from the largest id."""
    from sqlalchemy import text

    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        return list(session.scalars(text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                    {"s": sequence, "n": count}))
    start = session.scalar(text(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')) + 1
    return list(range(start, start + count))


def json_text(value: Any) -> str:
    """JSON text of a value for a JSON column written in bulk (what the column type would store)."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # integers beyond 64 bits, which orjson refuses
        return json.dumps(value, default=str)


def raw_rows(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a query with ``?`` placeholders, straight from the driver in the session's transaction: for hot
    lookups where building SQLAlchemy statements costs more than the query. Times in ``params`` are compared as
    the columns store them (naive UTC); values come as the driver gives them (SQLite timestamps as text)."""
    return _fetch(session, sql, params)[0]


def raw_executemany(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run a statement with ``?`` placeholders once per row, straight through the driver in the session's
    transaction. Dates and times are stored as the column types store them (naive UTC; ISO text on SQLite)."""
    connection = session.connection()
    sqlite_dialect = connection.dialect.name == "sqlite"
    cursor = driver_of(connection).cursor()
    try:
        cursor.executemany(_placeholders(sql, sqlite_dialect),
                           [tuple(_stored(v, sqlite_dialect) for v in row) for row in rows])
    finally:
        cursor.close()


def _fetch(session: Session, sql: str, params: Sequence[Any]) -> tuple[list[tuple[Any, ...]], int]:
    """All rows of a query run through the driver, and how many columns it selects."""
    connection = session.connection()
    cursor = driver_of(connection).cursor()
    try:
        # (never prepared on PostgreSQL: the store's connections prepare nothing, see db.engine)
        sqlite_dialect = connection.dialect.name == "sqlite"
        cursor.execute(_placeholders(sql, sqlite_dialect), [_stored(v, sqlite_dialect) for v in params])
        return cursor.fetchall(), len(cursor.description)
    finally:
        cursor.close()


def _placeholders(sql: str, sqlite_dialect: bool) -> str:
    """SQLite takes ``?``; psycopg takes ``%s`` (and a literal ``%`` doubled)."""
    return sql if sqlite_dialect else sql.replace("%", "%%").replace("?", "%s")


def _stored(value: Any, sqlite_dialect: bool) -> Any:
    """A value as the column types store it: times as naive UTC, and dates and times as ISO text on SQLite."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds") if sqlite_dialect else value
    if isinstance(value, date) and sqlite_dialect:
        return value.isoformat()
    return value


def driver_of(connection: Connection) -> Any:
    """The DB-API connection (sqlite3's or psycopg's) under a SQLAlchemy connection, for the driver-level paths."""
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection was closed")
    return driver


@overload
def read_time(value: None) -> None: ...
@overload
def read_time(value: str | datetime) -> datetime: ...
@overload
def read_time(value: Any) -> datetime | None: ...


def read_time(value: Any) -> datetime | None:
    """A timestamp read through the driver (ISO text on SQLite, naive UTC on PostgreSQL) as an aware UTC datetime,
    what the ORM's column type would give."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_json(value: Any, sqlite_dialect: bool) -> Any:
    """A JSON column read through the driver: SQLite gives its text, psycopg the parsed value."""
    return orjson.loads(value) if sqlite_dialect and isinstance(value, str | bytes) else value


def json_reader(session: Session) -> Callable[[Any], Any]:
    """``read_json`` for the session's database: JSON columns read through the driver, as Python values."""
    sqlite_dialect = session.get_bind().dialect.name == "sqlite"
    return lambda value: read_json(value, sqlite_dialect)


def distinct_from(session: Session) -> str:
    """The null-safe "differs" operator of raw SQL for the session's database (SQLite before 3.39 lacks
    ``IS DISTINCT FROM``; its ``IS NOT`` means the same)."""
    return "IS NOT" if session.get_bind().dialect.name == "sqlite" else "IS DISTINCT FROM"


def _stored_times(values: list[Any], sqlite_dialect: bool, texts: dict[int, tuple[Any, Any]]) -> list[Any]:
    """A column of datetimes as :func:`_stored` stores them, with a short way for the usual UTC and naive ones
    (a bulk write converts hundreds of thousands).

    Rows written together often share one time object (received_at, a message's time as the event's time, its
    identifiers' first and last sight and a new customer's birth; an imported file's days): each object is
    converted once per transaction. ``texts`` (kept in the session) is keyed by identity and holds the object
    itself, so no other object can take its identity while the text is remembered."""
    if not sqlite_dialect:
        return [v if v is None or v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None) for v in values]
    out = []
    last: Any = object()
    text: Any = None
    for v in values:
        if v is last:  # the same as the row before
            out.append(text)
            continue
        last = v
        known = texts.get(id(v))
        if known is None:
            # ISO text with microseconds is 26 characters; what follows is the offset, zero for these
            text = (v.isoformat(" ", "microseconds")[:26] if v is not None and (v.tzinfo is UTC or v.tzinfo is None)
                    else _stored(v, True))
            texts[id(v)] = (v, text)
        else:
            text = known[1]
        out.append(text)
    return out


def is_conflict(exc: BaseException) -> bool:
    """A unique or foreign-key conflict with a concurrent writer, from SQLAlchemy or straight from a driver
    (the bulk paths talk to the driver): the transaction can be retried."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    if isinstance(exc, IntegrityError | sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.IntegrityError)
