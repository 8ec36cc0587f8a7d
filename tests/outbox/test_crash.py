"""Nothing is lost when the worker is killed: `cherish worker` killed -9 at random points of a long delivery run,
then started again. Every message arrives; a message arrives again only when a kill came between the receiver's
answer and the record of it, so no message arrives more often than once plus the number of kills."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from cherish.outbox import service as outbox
from cherish.outbox.models import OutboxMessage
from tests.helpers import Receiver

MESSAGES = 240


def _worker(db_url: str) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "CHERISH_DATABASE_URL": db_url, "CHERISH_OUTBOX_TIMEOUT": "1",
           "CHERISH_WORKER_POLL_SECONDS": "0.05", "CHERISH_MATCH_SCHEDULE": "0 0 1 1 *",
           "CHERISH_ANALYZE_SCHEDULE": "0 0 1 1 *"}
    return subprocess.Popen([sys.executable, "-m", "cherish", "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _pending(store) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "pending")) or 0


def _pending_at_kills_ok(arrived: list[int]) -> bool:
    """At least one kill came before every message had arrived once (the kills fell inside the run)."""
    return min(arrived) < MESSAGES


def test_kill_9_loses_nothing_and_repeats_are_bounded_by_the_kills(store, db_url):
    receiver = Receiver(delay=0.04)
    rng = random.Random(7)
    kills = 0
    mid_run = []  # arrivals so far at each kill
    try:
        with store.write() as session:
            endpoint = outbox.add_endpoint(session, receiver.url, ["*"])
            receiver.secret = endpoint.secret
            keys = []
            for n in range(MESSAGES):
                message = outbox.enqueue(session, kind="webhook", type="ping", endpoint_id=endpoint.id,
                                         body={"type": "ping", "timestamp": "2026-12-01T00:00:00Z", "data": {"n": n}})
                keys.append(message.key)
        for _ in range(3):
            worker = _worker(db_url)
            before = len(receiver.received)
            deadline = time.monotonic() + 60
            while len(receiver.received) <= before and time.monotonic() < deadline:  # it is delivering now
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            mid_run.append(len(receiver.received))
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            kills += 1
        worker = _worker(db_url)
        deadline = time.monotonic() + 120
        while _pending(store) and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.terminate()
        assert worker.wait(30) == 0  # SIGTERM: the round ends, then the worker
    finally:
        receiver.close()
    assert all(arrived > 0 for arrived in mid_run) and _pending_at_kills_ok(mid_run), mid_run
    arrivals = Counter(r["id"] for r in receiver.received)
    assert set(arrivals) == set(keys), f"{len(set(keys) - set(arrivals))} messages never arrived"
    assert all(r["verified"] for r in receiver.received)
    assert max(arrivals.values()) <= 1 + kills
    assert _pending(store) == 0
