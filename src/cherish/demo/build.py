"""Building the demo company into a store, in bulk through the intake service (not over HTTP)."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cherish.config import Settings
from cherish.db.engine import Store, paused_gc
from cherish.demo.people import make_person, simulate
from cherish.events.service import ingest

PEOPLE_PER_CHUNK = 500
MESSAGES_PER_TRANSACTION = 5000


@dataclass
class DemoSummary:
    people: int
    messages: int
    customers: int
    truth_path: Path | None


def build_demo(
    store: Store, settings: Settings, *, people: int = 20_000, seed: int = 7, end: datetime | None = None,
    years: float = 2.0, truth_path: Path | None = None, progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Simulate ``people`` customers over ``years`` ending at ``end`` (today) and ingest everything they did."""
    if people < 1:
        raise ValueError("the demo needs at least one customer")
    end = end or datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    start = end - timedelta(days=round(365 * years))
    truth_file = None
    writer = None
    if truth_path is not None:
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_file = truth_path.open("w", newline="")
        writer = csv.writer(truth_file)
        writer.writerow(["type", "value", "person"])
    messages = 0
    customers: set[str] = set()
    try:
        for first in range(0, people, PEOPLE_PER_CHUNK):
            count = min(PEOPLE_PER_CHUNK, people - first)
            with paused_gc():  # a chunk's simulated messages are many small objects, none in cycles
                messages += _simulate_and_store(store, settings, range(first, first + count), seed=seed, start=start,
                                                end=end, writer=writer, customers=customers)
            if progress:
                progress(count)
    finally:
        if truth_file is not None:
            truth_file.close()
    return DemoSummary(people=people, messages=messages, customers=len(customers), truth_path=truth_path)


def _simulate_and_store(store: Store, settings: Settings, people: range, *, seed: int, start: datetime,
                        end: datetime, writer: Any, customers: set[str]) -> int:
    """Simulate a chunk of people and ingest what they did, in time order, a few thousand messages at a time."""
    pending = []
    for index in people:
        rng = random.Random(f"{seed}:{index}")
        person = make_person(rng, index, seed)
        pending.extend(simulate(person, rng, seed=seed, start=start, end=end).messages)
        if writer is not None:
            for kind, value in sorted(person.keys):
                writer.writerow([kind, value, f"person-{index}"])
    pending.sort(key=lambda m: m["timestamp"])
    for at in range(0, len(pending), MESSAGES_PER_TRANSACTION):
        with store.write() as session:
            result = ingest(session, pending[at : at + MESSAGES_PER_TRANSACTION], settings=settings, received_at=end)
        customers.update(result.customers)
    return len(pending)
