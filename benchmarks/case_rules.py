"""Case rules over a backlog: how many answers a second the rules get through.

Usage: python benchmarks/case_rules.py [--answers 1000000] [--stored 200000] [--db URL]
1. In memory: ``--answers`` answers as their ``feedback.received`` events carry them (NPS 0-10 spread as the
   demo's are, one in five with a comment, some of those urgent), each read into its signals and tried against
   the built-in rules in order, first match wins: the rules' own cost.
2. In the store: ``--stored`` ``feedback.received`` domain events waiting for the worker's ``cases`` consumer,
   from 20,000 customers; the consumer reads them in its batches of 500, opens a case for the first unhappy
   answer of a customer and its reason and adds the rest to it (one transaction a batch, as in the worker).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from serving import fresh_database

URGENT = [[], [], [], ["churn"], ["public"], ["repeated contact"]]


def _event(rng: random.Random, n: int, customer: str, at: datetime) -> SimpleNamespace:
    score = rng.choice((0, 2, 4, 5, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 10))
    commented = rng.random() < 0.2
    return SimpleNamespace(type="feedback.received", customer_id=customer, recorded_at=at, position=n, data={
        "source": f"ans-{n}", "score_type": "nps", "score": score, "comment": "words" if commented else None,
        "label": rng.choice(("negative", "neutral", "positive")) if commented else None,
        "urgency": rng.choice(URGENT) if commented else [], "channel": "web", "branch": None,
        "answered_at": at.isoformat()})


def in_memory(answers: int) -> dict[str, float]:
    from cherish.cases.flows import signals_of
    from cherish.cases.rules import BUILTIN, matches

    rng = random.Random(7)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    backlog = [_event(rng, n, f"cus_{n % 20000}", at) for n in range(answers)]
    rules = sorted(BUILTIN, key=lambda r: r["position"])
    started = time.perf_counter()
    caught = 0
    for group in signals_of(backlog):
        if next((r for r in rules for s in group if matches(r["condition"], s)), None) is not None:
            caught += 1
    seconds = time.perf_counter() - started
    return {"answers": answers, "caught": caught, "seconds": round(seconds, 2),
            "answers_per_second": round(answers / seconds)}


def in_store(url: str, stored: int) -> dict[str, float]:
    from cherish.config import Settings
    from cherish.customers import service as customers
    from cherish.db.dialects import bulk_insert_columns, json_text
    from cherish.db.engine import open_store
    from cherish.db.migrate import upgrade
    from cherish.domain_events.models import DomainEvent
    from cherish.worker.consumers import consume

    settings = Settings(database_url=url)
    store = open_store(url)
    upgrade(store)
    rng = random.Random(11)
    at = datetime.now(UTC) - timedelta(hours=1)
    people = [f"cus_bench{n:06d}" for n in range(20000)]
    with store.write() as session:
        customers.insert_new(session, [{"id": p, "created_at": at} for p in people])
    for first in range(0, stored, 50_000):
        rows = [_event(rng, n, rng.choice(people), at) for n in range(first, min(stored, first + 50_000))]
        with store.write() as session:
            bulk_insert_columns(session, DomainEvent.__table__, {
                "type": [r.type for r in rows], "customer_id": [r.customer_id for r in rows],
                "data": [json_text(r.data) for r in rows], "recorded_at": [at] * len(rows)})
    started = time.perf_counter()
    read = 0
    while done := consume(store, "cases", settings=settings):
        read += done
    seconds = time.perf_counter() - started
    with store.read() as session:
        from sqlalchemy import text

        opened = session.execute(text("SELECT count(*), sum(signals) FROM recovery_cases")).one()
    store.dispose()
    return {"answers": stored, "domain_events_read": read, "cases": opened[0],
            "signals_on_cases": int(opened[1] or 0), "seconds": round(seconds, 1),
            "answers_per_second": round(stored / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL; default: a SQLite file")
    args = parser.parse_args()
    result: dict[str, object] = {"in_memory": in_memory(args.answers)}
    with fresh_database(args.db, Path(tempfile.mkdtemp(prefix="cherish-rules-"))) as url:
        result["in_store"] = {"engine": "postgresql" if url.startswith("postgresql") else "sqlite",
                              **in_store(url, args.stored)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
