"""Opening the store: one engine per URL, SQLite tuned for WAL with write transactions taken up front."""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cherish.errors import EngineError, InvalidInput

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone
    fcntl = None  # type: ignore[assignment]  # the module or nothing, checked where it is used

log = logging.getLogger("cherish.store")


def _dumps(value: object) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _loads(value: str | bytes | int | float) -> Any:
    # SQLite gives a JSON column NUMERIC affinity: a document that is a bare number ("5", as a rejected message may
    # be) is stored, and read back, as that number
    return value if isinstance(value, int | float) else orjson.loads(value)


class WriterLock:
    """One SQLite writer at a time: a thread lock within the process, an advisory file lock across processes."""

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = f"{database}.writer-lock" if database and database != ":memory:" else None
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        self._thread_lock.acquire()
        if self._path is not None and fcntl is not None:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError:  # a read-only folder: SQLite's own locking still serialises writers
                self._path = None
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._path is not None and self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        """Let go of the lock file (the store is being disposed of)."""
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


@dataclass
class Store:
    """The operational database of one instance: read sessions and write sessions."""

    engine: Engine
    _reader: sessionmaker[Session]
    _writer: sessionmaker[Session]
    # SQLite has one writer: threads and processes queue here, woken at once, instead of in SQLite's sleeping
    # busy handler (which lets one process keep the database while the others sleep).
    _write_lock: WriterLock | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def one_writer(self) -> bool:
        """Whether the database takes one writing transaction at a time (SQLite), so that writes are best made
        by one writer for everyone; PostgreSQL takes several side by side."""
        return self.dialect == "sqlite"

    @property
    def has_quantiles(self) -> bool:
        """Whether the database computes medians and quantiles in SQL, as the metrics need when they run in it."""
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it changes is committed."""
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error (SQLite: BEGIN IMMEDIATE)."""
        if self._write_lock is None:
            with self._writer() as session, session.begin():
                yield session
            return
        with self._write_lock, self._writer() as session, session.begin():
            yield session

    @contextmanager
    def writer_connection(self) -> Iterator[Any]:
        """SQLite only: a driver connection outside any transaction, with the writer's place held, for work that
        must happen between transactions (attaching a database); the caller begins and ends its own."""
        if self._write_lock is None:
            raise EngineError("a driver connection for writing is only lent on SQLite")
        with self._write_lock:
            connection = self.engine.raw_connection()
            try:
                yield connection.driver_connection
            finally:
                connection.close()  # back to the pool

    def forget_old_copies(self) -> None:
        """After an erasure: SQLite's write-ahead log still holds the pages as they were before it; copy the log
        into the database and empty it. (PostgreSQL keeps old row versions until VACUUM: docs/privacy.md.)"""
        if self.dialect != "sqlite":
            return
        connection = self.engine.raw_connection()  # outside any transaction, which a checkpoint needs
        try:
            driver: Any = connection.driver_connection  # sqlite3's connection
            busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()
        if busy:
            log.warning("erasure: a reader kept the write-ahead log from being emptied; it empties at the next "
                        "checkpoint")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector paused while a bulk write builds and stores a chunk: its hundreds of thousands of new
    objects (none of them in cycles) would otherwise set off full collections that scan them again and again
    (about a sixth of an import's or the demo's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sqlite_setup(engine: Engine, scratch: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own is broken)
        cur = dbapi_conn.cursor()
        if scratch:  # pages written once, never synced: a crash loses the file, which is only scratch
            cur.execute("PRAGMA journal_mode=MEMORY")
            cur.execute("PRAGMA synchronous=OFF")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten rows are zeroed, not left in free space: an erasure leaves no copy in
            # the file (the log keeps one until a checkpoint: see Store.forget_old_copies).
            cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Read pages through memory maps and a larger cache: lookups on a big store stay off the syscall path.
        cur.execute("PRAGMA mmap_size=8589934592")
        cur.execute("PRAGMA cache_size=-65536")
        # Checkpoint the write-ahead log every ~40 MB rather than every 4 MB: a page changed by many commits is
        # copied back to the database once per checkpoint, and each checkpoint syncs the disk.
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the lock at BEGIN, so a read-then-write transaction never fails half-way on upgrade.
        immediate = conn.get_execution_options().get("cherish_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgres_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Never prepare statements. psycopg prepares a query it has run five times, and PostgreSQL may then plan
        # it once for all parameters; a plan made while a table was small or not analysed yet (a fresh store filling
        # up) is kept for the connection's life: an IN list searched value by value over a sequential scan took a
        # bulk import minutes per query. Planned with its values each time, a query follows the table as it grows.
        dbapi_conn.prepare_threshold = None


def open_store(url: str, *, echo: bool = False, scratch: bool = False, pool_size: int | None = None) -> Store:
    """Open (without migrating) the store at ``url``; SQLite folders are created as needed. A ``scratch`` SQLite
    store (work in progress that another process moves into the store) keeps no write-ahead log and never syncs.
    ``pool_size``: PostgreSQL connections kept open (default: the `pool_size` setting)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(f"not a database URL: {url!r}") from exc
    kwargs: dict = {"echo": echo, "future": True, "json_serializer": _dumps, "json_deserializer": _loads}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        if pool_size is None:
            from cherish.config import get_settings

            pool_size = get_settings().pool_size
        kwargs.update(pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
    else:
        raise InvalidInput(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg")
    kwargs["hide_parameters"] = True  # an error's message never carries the values (an email, a comment) to a log
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # a missing driver, a bad option
        raise EngineError(f"cannot open the database: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine, scratch)
    else:
        _postgres_setup(engine)
    writer_engine = engine.execution_options(cherish_write=True)
    return Store(
        engine=engine,
        _reader=sessionmaker(engine, expire_on_commit=False),
        _writer=sessionmaker(writer_engine, expire_on_commit=False),
        _write_lock=WriterLock(parsed.database) if engine.dialect.name == "sqlite" else None,
    )


def check_connection(store: Store) -> None:
    """Fail with a clear message when the database cannot be reached."""
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise EngineError(f"cannot reach the database: {str(exc.orig).splitlines()[0]}") from exc
