"""Ingestion through /v1/batch: batches of 100, several concurrent clients, identity resolved in the same transaction.

Usage: python benchmarks/ingest_http.py --events 1000000 [--clients 4] [--db URL]
Starts `cherish serve` on a fresh database (SQLite by default) in its own process, creates a write key, and
sends pre-built batches from client processes. Prints events/s. The events mimic a shop: identify calls with
email and phone, page views, product views and orders, over many people who come back under several identifiers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from serving import CLI, create_key, fresh_database, serving

RUN = os.environ.get("CHERISH_BENCH_RUN", "r")


def make_batch(seed: int, n: int = 100, feedback: float = 0.0) -> bytes:
    """A batch of ``n`` messages: identify, orders, pages and product views, and with ``feedback`` that share of
    survey answers and consent changes (what domain events follow)."""
    rng = random.Random(seed)
    batch = []
    for i in range(n):
        person = rng.randrange(2_000_000)
        base = {"messageId": f"{RUN}-{seed}-{i}", "timestamp": f"2026-0{1 + person % 9}-1{person % 10}T10:00:00Z"}
        if feedback and rng.random() < feedback:
            if rng.random() < 0.8:
                batch.append({**base, "type": "track", "anonymousId": f"a{person}", "event": "Feedback Submitted",
                              "properties": {"score_type": "nps", "score": person % 11, "comment": "fine",
                                             "channel": "web"}})
            else:
                batch.append({**base, "type": "identify", "userId": f"u{person}",
                              "traits": {"consent": {"marketing": {"email": person % 2 == 0}}}})
            continue
        roll = rng.random()
        if roll < 0.15:
            batch.append({**base, "type": "identify", "userId": f"u{person}", "anonymousId": f"a{person}",
                          "traits": {"email": f"p{person}@example.com", "phone": f"+1415{person:07d}",
                                     "name": f"Person {person}"}})
        elif roll < 0.25:
            batch.append({**base, "type": "track", "anonymousId": f"a{person}", "event": "Order Completed",
                          "context": {"traits": {"email": f"p{person}@example.com"}},
                          "properties": {"order_id": f"o{seed}-{i}", "total": 20 + person % 50,
                                         "products": [{"product_id": "p1", "price": 10, "quantity": 2}]}})
        elif roll < 0.6:
            batch.append({**base, "type": "page", "anonymousId": f"a{person}", "name": "Home",
                          "properties": {"path": "/", "channel": "web"}})
        else:
            batch.append({**base, "type": "track", "anonymousId": f"a{person}", "event": "Product Viewed",
                          "properties": {"product_id": f"p{person % 300}", "price": 9.5}})
    return json.dumps({"batch": batch}).encode()


def client(url: str, key: str, seeds: list[int], out: mp.Queue, ready: Any) -> None:
    payloads = [make_batch(s) for s in seeds]
    sent = failures = 0
    ready.wait()  # every client has built its batches: they start sending together
    with httpx.Client(auth=(key, ""), timeout=60, headers={"Content-Type": "application/json"}) as http:
        for body in payloads:
            response = http.post(f"{url}/v1/batch", content=body)
            if response.status_code == 200:
                sent += 100
            else:
                failures += 1
        out.put((sent, failures, time.time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--no-intake-writer", action="store_true",
                        help="store in each server process (the writer threads take turns) instead of the "
                             "writer process")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-bench-"))
    os.environ["CHERISH_BENCH_RUN"] = folder.name
    try:
        print(json.dumps(measure_ingest(folder, events=args.events, clients=args.clients, db=args.db,
                                        workers=args.workers, port=args.port,
                                        intake_writer=not args.no_intake_writer)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_ingest(folder: Path, *, events: int, clients: int, db: str | None = None, workers: int = 1,
                   port: int | None = None, intake_writer: bool = True) -> dict[str, Any]:
    """Send ``events`` to `cherish serve` on a fresh database and say how fast they were stored; a SQLite store is
    left in ``folder`` (``bench.db``) for whoever wants to look at what the run stored."""
    with fresh_database(db, folder) as url:
        env = {**os.environ, "CHERISH_DATABASE_URL": url}
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        key = create_key(env, "write")
        options = () if intake_writer else ("--no-intake-writer",)
        with serving(env, port, workers, options) as served:
            result = _run(served, key, events, clients)
    return {**result, "database": url.split("://")[0], "intake_writer": url.startswith("sqlite") and intake_writer}


def _run(url: str, key: str, events: int, clients: int) -> dict[str, Any]:
    """Send the batches from client processes; events per second."""
    batches = events // 100
    seeds = list(range(batches))
    queue: mp.Queue = mp.Queue()
    ready = mp.Event()
    procs = [mp.Process(target=client, args=(url, key, seeds[i :: clients], queue, ready))
             for i in range(clients)]
    for proc in procs:
        proc.start()
    time.sleep(1 + batches / 2000)  # let the clients build their batches (about 0.3 ms each)
    start = time.time()
    ready.set()
    results = [queue.get() for _ in procs]
    elapsed = max(r[2] for r in results) - start
    for proc in procs:
        proc.join()
    sent = sum(r[0] for r in results)
    failures = sum(r[1] for r in results)
    return {"events": sent, "failed_batches": failures, "seconds": round(elapsed, 1),
            "events_per_second": round(sent / elapsed), "clients": clients}

if __name__ == "__main__":
    main()
