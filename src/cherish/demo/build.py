"""Building the demo company into a store, in bulk through the intake service (not over HTTP).

People are simulated and ingested a chunk at a time. With more than one worker, each chunk goes through intake
in a worker process of its own, into a scratch SQLite store, and the main process moves the finished rows into
the store in one transaction per chunk: the demo's people share no identifier across chunks, so a chunk resolves
the same alone as after the others, and the Python of intake runs on every core.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cherish.config import Settings
from cherish.db.engine import Store, open_store, paused_gc
from cherish.demo.people import make_person, simulate
from cherish.events.flows import ingest
from cherish.spreadsheets import csv_writer

PEOPLE_PER_CHUNK = 1000
MESSAGES_PER_TRANSACTION = 5000


@dataclass
class DemoSummary:
    people: int
    messages: int
    customers: int
    truth_path: Path | None


@dataclass
class _Chunk:
    """One chunk of people for a worker: simulated, then ingested into the scratch store at ``path``."""

    people: range
    seed: int
    start: datetime
    end: datetime
    settings: Settings
    template: Path
    path: Path


@dataclass
class _Built:
    path: Path
    messages: int
    customers: int
    truth: list[tuple[str, str, str]]


def build_demo(
    store: Store, settings: Settings, *, people: int = 20_000, seed: int = 7, end: datetime | None = None,
    years: float = 2.0, truth_path: Path | None = None, progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> DemoSummary:
    """Simulate ``people`` customers over ``years`` ending at ``end`` (today) and ingest everything they did.

    ``workers`` processes ingest chunks side by side (default: one per core; 1 ingests in this process). The
    store must not hold this seed's demo already: moved rows that collide with it are refused (``Conflict``)."""
    if people < 1:
        raise ValueError("the demo needs at least one customer")
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    end = end or datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    start = end - timedelta(days=round(365 * years))
    chunks = [range(first, min(first + PEOPLE_PER_CHUNK, people)) for first in range(0, people, PEOPLE_PER_CHUNK)]
    truth_file = None
    writer = None
    if truth_path is not None:
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_file = truth_path.open("w", newline="")
        writer = csv_writer(truth_file)
        writer.writerow(["type", "value", "person"])
    messages = customers = 0
    try:
        built = (_in_workers(store, settings, chunks, workers, seed=seed, start=start, end=end) if workers > 1
                 and len(chunks) > 1 else _in_process(store, settings, chunks, seed=seed, start=start, end=end))
        for chunk, (count, resolved, truth) in zip(chunks, built, strict=True):
            messages += count
            customers += resolved
            if writer is not None:
                writer.writerows(truth)
            if progress:
                progress(len(chunk))
    finally:
        if truth_file is not None:
            truth_file.close()
    return DemoSummary(people=people, messages=messages, customers=customers, truth_path=truth_path)


def _in_process(store: Store, settings: Settings, chunks: list[range], *, seed: int, start: datetime,
                end: datetime) -> Any:
    """Each chunk ingested straight into the store: (messages, customers, ground truth) per chunk."""
    for people in chunks:
        yield _simulate_and_ingest(store, settings, people, seed=seed, start=start, end=end)


def _in_workers(store: Store, settings: Settings, chunks: list[range], workers: int, *, seed: int, start: datetime,
                end: datetime) -> Any:
    """Chunks ingested by worker processes into scratch stores, moved into the store in order, one
    transaction each; at most two chunks per worker wait at any time (they take disk space)."""
    from cherish.db.migrate import upgrade
    from cherish.db.transfer import copy_store

    folder = Path(tempfile.mkdtemp(prefix="cherish-demo-"))
    try:
        template = folder / "template.db"
        scratch = open_store(f"sqlite:///{template}", scratch=True)
        upgrade(scratch)
        scratch.dispose()
        jobs = deque(_Chunk(people, seed, start, end, settings, template, folder / f"chunk-{people.start}.db")
                     for people in chunks)
        # spawn, not fork: the parent may hold open connections and threads (the progress bar's)
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            waiting: deque[Any] = deque()
            while jobs or waiting:
                while jobs and len(waiting) < 2 * workers:
                    waiting.append(pool.apply_async(_build_chunk, (jobs.popleft(),)))
                built: _Built = waiting.popleft().get()
                copy_store(store, built.path)
                built.path.unlink()
                yield built.messages, built.customers, built.truth
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _build_chunk(job: _Chunk) -> _Built:
    """In a worker: simulate a chunk of people and ingest them into a scratch store of their own."""
    shutil.copyfile(job.template, job.path)
    scratch = open_store(f"sqlite:///{job.path}", scratch=True)
    try:
        messages, customers, truth = _simulate_and_ingest(scratch, job.settings, job.people, seed=job.seed,
                                                          start=job.start, end=job.end)
    finally:
        scratch.dispose()
    return _Built(job.path, messages, customers, truth)


def _simulate_and_ingest(store: Store, settings: Settings, people: range, *, seed: int, start: datetime,
                         end: datetime) -> tuple[int, int, list[tuple[str, str, str]]]:
    """One chunk of people simulated and ingested into ``store``: (messages, customers, ground truth)."""
    with paused_gc():  # a chunk's simulated messages are many small objects, none in cycles
        pending, truth = _simulate(people, seed=seed, start=start, end=end)
        return len(pending), _ingest(store, settings, pending, end), truth


def _simulate(people: range, *, seed: int, start: datetime,
              end: datetime) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """What a chunk of people did, in time order, and the ground truth of who is who."""
    pending: list[dict[str, Any]] = []
    truth: list[tuple[str, str, str]] = []
    for index in people:
        rng = random.Random(f"{seed}:{index}")
        person = make_person(rng, index, seed)
        pending.extend(simulate(person, rng, seed=seed, start=start, end=end).messages)
        truth.extend((kind, value, f"person-{index}") for kind, value in sorted(person.keys))
    pending.sort(key=lambda m: m["timestamp"])
    return pending, truth


def _ingest(store: Store, settings: Settings, pending: list[dict[str, Any]], received_at: datetime) -> int:
    """Ingest messages a few thousand per transaction; how many customers they ended up with."""
    customers: set[str] = set()
    for at in range(0, len(pending), MESSAGES_PER_TRANSACTION):
        with store.write() as session:
            result = ingest(session, pending[at : at + MESSAGES_PER_TRANSACTION], settings=settings,
                            received_at=received_at)
        customers.update(result.customers)
    return len(customers)
