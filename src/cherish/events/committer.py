"""Group commit for intake: the batches that arrive while a transaction commits share the next one.

Each request still gets its own answer (its own rejected list) and is answered only after its messages are
committed; what is shared is the transaction and its work — one deduplication query, one identity pass, one
write per table — so a busy server pays one commit, and writes each hot index page once, for many requests
instead of one each. The group is gathered once the writer holds the write lock, so what queued while another
process wrote joins it. A group that fails (a bug, a conflict) is stored again request by request, so one bad
request never takes the others down with it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.db.dialects import is_conflict
from cherish.db.engine import Store
from cherish.events.flows import IngestResult, store_batch, store_batches
from cherish.events.service import Parsed, parse_batch

log = logging.getLogger("cherish.intake")
MAX_MESSAGES = 5000  # per shared transaction


@dataclass
class _Submission:
    parsed: Parsed
    future: Future[IngestResult] = field(default_factory=Future)


class GroupCommitter:
    """Writer threads that store submitted batches, many per transaction: one on SQLite (it has one writer
    anyway), a few on PostgreSQL, whose concurrent transactions hide each other's round trips."""

    def __init__(self, store: Store, settings: Settings, writers: int | None = None) -> None:
        self.store, self.settings = store, settings
        self.writers = writers or (1 if store.one_writer else 4)
        self._queue: queue.Queue[_Submission] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, messages: list[Any], sent_at: Any, forced_type: str | None) -> Future[IngestResult]:
        """Validate the batch here, in the caller's thread (no lock needed); queue it for the writer."""
        parsed = parse_batch(messages, settings=self.settings, received_at=utcnow(), batch_sent_at=sent_at,
                             forced_type=forced_type)
        submission = _Submission(parsed)
        self._queue.put(submission)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self.writers:
                thread = threading.Thread(target=self._run, name="cherish-intake-writer", daemon=True)
                thread.start()
                self._threads.append(thread)
        return submission.future

    def _run(self) -> None:
        while True:
            self._store([self._queue.get()])

    def _drain(self, group: list[_Submission]) -> None:
        """Add what is queued now to the group, up to MAX_MESSAGES."""
        size = sum(len(s.parsed.messages) for s in group)
        while size < MAX_MESSAGES:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return
            group.append(more)
            size += len(more.parsed.messages)

    def _store(self, group: list[_Submission]) -> None:
        outcomes = commit_group(self.store, self.settings, [s.parsed for s in group], more=lambda: self._more(group))
        for submission, outcome in zip(group, outcomes, strict=True):
            settle(submission.future, outcome)

    def _more(self, group: list[_Submission]) -> list[Parsed]:
        """What queued while the write lock was taken (taking it can take a while: another process holds it),
        so that it joins this transaction instead of waiting for the next one."""
        known = len(group)
        self._drain(group)
        return [s.parsed for s in group[known:]]


def commit_group(store: Store, settings: Settings, batches: list[Parsed],
                 more: Callable[[], list[Parsed]] | None = None) -> list[IngestResult | BaseException]:
    """Store ``batches`` in one transaction, with the batches ``more`` returns once the write lock is held
    appended to them; an outcome for each, in order (its result, or the error it answers with). A group that
    fails (a bug, a conflict) is stored again batch by batch, so one bad batch never takes the others down."""
    batches = list(batches)
    try:
        with store.write() as session:
            if more is not None:
                batches.extend(more())
            return list(store_batches(session, batches, settings=settings))
    except Exception:  # noqa: BLE001 — one of them failed: store each on its own, below
        log.debug("intake: a shared transaction failed; storing its %d batches one by one", len(batches))
    outcomes: list[IngestResult | BaseException] = []
    for parsed in batches:
        try:
            outcomes.append(_alone(store, settings, parsed))
        except Exception as exc:  # noqa: BLE001 — the request answers with it
            outcomes.append(exc)
    return outcomes


def _alone(store: Store, settings: Settings, parsed: Parsed) -> IngestResult:
    for attempt in range(5):
        try:
            with store.write() as session:
                return store_batch(session, parsed, settings=settings)
        except Exception as exc:
            # Another process stored the same message or identifier first: retry, now deduplicated.
            if attempt == 4 or not is_conflict(exc):
                raise
    raise AssertionError("unreachable")


def settle(future: Future[IngestResult], outcome: IngestResult | BaseException) -> None:
    """Answer a waiting request with its result or its error. One whose client went away was cancelled: its
    batch is stored all the same (a retry is deduplicated), and the writer carries on with the others."""
    if future.cancelled():
        return
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:  # cancelled in between
        pass
