"""The intake writer: on SQLite, one process stores what every server process has validated.

SQLite has one writer at a time. With a writer thread in each server process, the processes take turns at the
database's lock, and the one writing shares its interpreter with its own request threads, which slows the turn
that everyone waits for. `cherish serve` on SQLite therefore starts this process beside the server processes:
they read and validate requests and send the parsed batches over a Unix socket; the writer stores what is waiting
in one transaction (group commit, as :class:`~cherish.events.committer.GroupCommitter` does in a process) and
answers each request once its messages are committed. A request is still acknowledged only after commit.

If the writer stops, the requests waiting for it answer 503 (the SDKs send them again; a message that was in
fact stored is deduplicated by its ``messageId``), `cherish serve` starts a new writer, and the server processes
connect to it on their next request.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import secrets
import signal
import tempfile
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Client, Connection, Listener, wait
from pathlib import Path
from typing import Any

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.db.engine import open_store, paused_gc
from cherish.errors import EngineError, Unavailable
from cherish.events.committer import MAX_MESSAGES, commit_group, settle
from cherish.events.flows import IngestResult
from cherish.events.service import Parsed, parse_batch
from cherish.processes import exit_with_parent

log = logging.getLogger("cherish.intake")
ADDRESS_VARIABLE = "CHERISH_INTAKE_WRITER"  # set by `cherish serve` for its server processes: ADDRESS KEY
CONNECT_SECONDS = 10.0  # how long a server process waits for a (re)starting writer


# --- the writer process ---------------------------------------------------------------------------------------


def run_writer(settings: Settings, address: str, authkey: bytes, ready: Any, server: int | None = None) -> None:
    """The writer process's main loop: accept server processes, store what they send in groups, answer each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; `cherish serve` then stops this
    if server is not None:
        exit_with_parent(server)  # and if the server is killed outright, this ends by itself
    store = open_store(settings.database_url, pool_size=settings.pool_size)
    gc.freeze()  # what exists now lives as long as the process: no collection needs to walk it again
    if os.path.exists(address):
        os.unlink(address)  # left by a writer that stopped
    listener = Listener(address, family="AF_UNIX", authkey=authkey)
    wake_reader, wake_writer = multiprocessing.Pipe(duplex=False)
    connections: list[Connection] = []
    arrived: list[Connection] = []
    lock = threading.Lock()

    def accept() -> None:
        while True:
            try:
                connection = listener.accept()
            except (OSError, EOFError, multiprocessing.AuthenticationError):
                continue  # a peer that gave up or had the wrong key
            with lock:
                arrived.append(connection)
            wake_writer.send(None)

    threading.Thread(target=accept, name="cherish-intake-accept", daemon=True).start()
    ready.set()
    while True:
        for ready_one in wait([wake_reader, *connections]):
            if ready_one is wake_reader:
                wake_reader.recv()
        with lock:
            connections.extend(arrived)
            arrived.clear()
        group: list[tuple[Connection, int, Parsed]] = []
        _gather(connections, group)
        if group:
            _commit(store, settings, connections, group)


def _gather(connections: list[Connection], group: list[tuple[Connection, int, Parsed]]) -> None:
    """Add every request waiting on any connection to the group, up to MAX_MESSAGES; drop closed connections."""
    size = sum(len(parsed.messages) for _, _, parsed in group)
    progress = True
    while progress and size < MAX_MESSAGES:
        progress = False
        for connection in list(connections):
            try:
                if not connection.poll():
                    continue
                ticket, parsed = connection.recv()
            except (EOFError, OSError):  # that server process stopped
                connections.remove(connection)
                connection.close()
                continue
            group.append((connection, ticket, parsed))
            size += len(parsed.messages)
            progress = True


def _commit(store: Any, settings: Settings, connections: list[Connection],
            group: list[tuple[Connection, int, Parsed]]) -> None:
    def more() -> list[Parsed]:
        known = len(group)
        _gather(connections, group)
        return [parsed for _, _, parsed in group[known:]]

    with paused_gc():  # a group's many short-lived objects would set off collections that find nothing to free
        outcomes = commit_group(store, settings, [parsed for _, _, parsed in group], more=more)
    for (connection, ticket, _), outcome in zip(group, outcomes, strict=True):
        # the server process may have gone away; its connection is dropped on the next read
        with contextlib.suppress(OSError, EOFError):
            connection.send((ticket, _portable(outcome)))


def _portable(outcome: IngestResult | BaseException) -> IngestResult | BaseException:
    """An error as it can cross to the server process (a driver's exception may not survive pickling)."""
    if not isinstance(outcome, BaseException):
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome))
    except Exception:  # noqa: BLE001 — any failure to cross: send its text instead
        return EngineError(f"intake could not store the batch: {type(outcome).__name__}: {outcome}")
    return outcome


# --- in `cherish serve`: starting, watching and stopping the writer --------------------------------------------


class WriterProcess:
    """The writer process of one `cherish serve`, started again whenever it stops until the server stops.

    Used as a context manager around the server: it sets ``CHERISH_INTAKE_WRITER`` for the server processes
    (they inherit it) and removes it afterwards."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._folder = tempfile.mkdtemp(prefix="cherish-intake-")  # private (0700): only this user reaches it
        if len(self._folder) > 80:  # a Unix socket's path holds at most 107 bytes
            os.rmdir(self._folder)
            self._folder = tempfile.mkdtemp(prefix="cherish-intake-", dir="/tmp")
        self.address = str(Path(self._folder) / "writer.sock")
        self.authkey = secrets.token_bytes(32)
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> WriterProcess:
        try:
            self._start()
        except BaseException:
            self._remove_folder()
            raise
        os.environ[ADDRESS_VARIABLE] = f"{self.address} {self.authkey.hex()}"
        self._watcher = threading.Thread(target=self._watch, name="cherish-intake-watch", daemon=True)
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        os.environ.pop(ADDRESS_VARIABLE, None)
        if self._watcher is not None:
            self._watcher.join()
        self._stop()
        self._remove_folder()

    def _remove_folder(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.address)
        os.rmdir(self._folder)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        ready = self._context.Event()
        process = self._context.Process(target=run_writer,
                                        args=(self.settings, self.address, self.authkey, ready, os.getpid()),
                                        name="cherish-intake-writer", daemon=True)
        process.start()
        if not ready.wait(60):
            process.kill()
            raise EngineError("the intake writer process did not start")
        self._process = process

    def _stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.terminate()  # a transaction cut short is rolled back whole; its requests answer 503
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            if self._process.is_alive():
                continue
            log.warning("intake: the writer process stopped (exit code %s); starting a new one",
                        self._process.exitcode)
            try:
                self._start()
            except Exception as exc:  # noqa: BLE001 — keep watching: the next round tries again
                log.error("intake: the writer process could not be started again (%s); retrying", exc)


# --- in each server process: the committer that sends to the writer ------------------------------------------


class WriterClient:
    """A committer (the same ``submit`` as :class:`~cherish.events.committer.GroupCommitter`) that validates
    in the caller's thread and has the writer process store the batch."""

    def __init__(self, settings: Settings, address: str, authkey: bytes) -> None:
        self.settings, self.address, self.authkey = settings, address, authkey
        self._connection: Connection | None = None
        self._pending: dict[int, tuple[Connection, Future[IngestResult]]] = {}
        self._tickets = itertools.count()
        # Two locks, so that answers are read while a request is being sent: a sender waiting for the writer to
        # read, while the writer waits for its answers to be read, would otherwise wait for ever.
        self._sending = threading.Lock()  # the connection: opening, sending, closing (taken first)
        self._waiting = threading.Lock()  # the requests waiting for their answers

    @classmethod
    def from_environment(cls, settings: Settings) -> WriterClient | None:
        """The client for the writer `cherish serve` started, when this process is one of its servers."""
        value = os.environ.get(ADDRESS_VARIABLE)
        if not value:
            return None
        address, _, key = value.rpartition(" ")
        try:
            return cls(settings, address, bytes.fromhex(key))
        except ValueError:
            raise EngineError(f"{ADDRESS_VARIABLE} is set by `cherish serve` for its server processes; it is not "
                              "a setting (unset it)") from None

    def submit(self, messages: list[Any], sent_at: Any, forced_type: str | None) -> Future[IngestResult]:
        parsed = parse_batch(messages, settings=self.settings, received_at=utcnow(), batch_sent_at=sent_at,
                             forced_type=forced_type)
        for message in parsed.messages:  # the writer stores the payload's text: the objects need not cross
            message.payload = message.properties = {}
        future: Future[IngestResult] = Future()
        with self._sending:
            connection = self._connect()
            ticket = next(self._tickets)
            with self._waiting:
                self._pending[ticket] = (connection, future)
            try:
                connection.send((ticket, parsed))
            except (OSError, EOFError):
                self._lost(connection)
        return future

    def _connect(self) -> Connection:
        """The connection to the writer, opened (again) when needed; waits for a writer that is starting."""
        if self._connection is not None:
            return self._connection
        deadline = time.monotonic() + CONNECT_SECONDS
        while True:
            try:
                connection = Client(self.address, family="AF_UNIX", authkey=self.authkey)
                break
            except (OSError, EOFError):
                if time.monotonic() > deadline:
                    raise Unavailable("intake is not available: its writer process is not running; "
                                      "send again later") from None
                time.sleep(0.05)
        self._connection = connection
        threading.Thread(target=self._receive, args=(connection,), name="cherish-intake-answers",
                         daemon=True).start()
        return connection

    def _receive(self, connection: Connection) -> None:
        while True:
            try:
                ticket, outcome = connection.recv()
            except (OSError, EOFError):
                with self._sending:
                    self._lost(connection)
                return
            with self._waiting:
                _, future = self._pending.pop(ticket, (None, None))
            if future is not None:
                settle(future, outcome)

    def _lost(self, connection: Connection) -> None:
        """The writer went away (called with the sending lock held): every request still waiting on this
        connection answers 503, and the next request connects again."""
        if self._connection is connection:
            self._connection = None
        connection.close()
        with self._waiting:
            lost = [self._pending.pop(t)[1] for t, (sent_on, _) in list(self._pending.items()) if sent_on is connection]
        for future in lost:
            settle(future, Unavailable("intake's writer process stopped before answering; send the batch again "
                                       "(messages already stored are recognised by messageId)"))
