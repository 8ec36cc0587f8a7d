"""`cherish worker`: one loop that runs due jobs, hands domain events to their consumers, decides again the contacts
that waited (quiet hours, caps) and delivers the outbox.

On SQLite one worker serves a store (a lock file beside it says which); on PostgreSQL any number cooperate: jobs,
consumer positions and outgoing messages are claimed with row locks that others skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from cherish.config import Settings
from cherish.contact.flows import release_due
from cherish.db.engine import Store
from cherish.errors import Conflict
from cherish.outbox.delivery import Courier, courier_for, deliver_due
from cherish.worker.consumers import CONSUMERS, consume
from cherish.worker.jobs import ensure_jobs, run_due_jobs

log = logging.getLogger("cherish.worker")


@contextlib.contextmanager
def only_worker(store: Store) -> Iterator[None]:
    """On SQLite: hold the store's worker lock, or say which store already has its worker."""
    path = store.engine.url.database
    if not store.one_writer or not path or path == ":memory:":
        yield
        return
    lock_path = Path(path).with_name(Path(path).name + ".worker.lock")
    handle: IO[str] = lock_path.open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"another worker already serves {path} (one per SQLite store)") from None
        yield
    finally:
        handle.close()  # (the lock goes with the file handle)


STEPS = ("consumers", "contacts", "deliveries")


def _step(name: str, work: Callable[[], int]) -> int:
    """One step of a round; a step that fails is logged (its kind of error only: no customer data in logs) and the
    others go on, so that one bad event or contact never stops deliveries."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001
        log.error("worker: %s failed (%s); the next round tries again", name, type(exc).__name__)
        return 0


def run_once(store: Store, settings: Settings, courier: Courier, *, jobs: bool = True) -> int:
    """One round: due jobs (unless they run beside), consumers, contacts that waited, deliveries; how much was
    done."""
    done = _step("jobs", lambda: run_due_jobs(store, settings)) if jobs else 0
    for name in CONSUMERS:  # each on its own: comments that cannot be read hold up no consent webhook
        done += _step(f"the {name} consumer", lambda name=name: consume(store, name, settings=settings))  # type: ignore[misc]
    done += _step("contacts", lambda: release_due(store, settings))
    return done + _step("deliveries", lambda: len(deliver_due(store, courier)))


def _jobs_beside(store: Store, settings: Settings, stop: threading.Event) -> threading.Thread:
    """Scheduled jobs in a thread of their own: a nightly analyze of an hour holds up no delivery."""
    def loop() -> None:
        while not stop.is_set():
            _step("jobs", lambda: run_due_jobs(store, settings))
            stop.wait(JOBS_POLL_SECONDS)

    thread = threading.Thread(target=loop, name="cherish-worker-jobs", daemon=True)
    thread.start()
    return thread


JOBS_POLL_SECONDS = 15.0


def run_worker(store: Store, settings: Settings, stop: threading.Event, *, once: bool = False) -> None:
    """Work until ``stop`` is set (or, with ``once``, until nothing is left to do, jobs included)."""
    with only_worker(store):
        with store.write() as session:
            ensure_jobs(session, settings)
        jobs = None if once else _jobs_beside(store, settings, stop)
        with courier_for(settings) as courier:
            while not stop.is_set():
                done = run_once(store, settings, courier, jobs=once)
                if once and not done:
                    break
                if not done:
                    stop.wait(settings.worker_poll_seconds)
        if jobs is not None:
            jobs.join()  # (a job under way finishes first: SIGTERM waits for it, kill -9 leaves its lease to run out)
