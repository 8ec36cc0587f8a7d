"""Answers analysed per second when many comments arrive at once (issue 15, point 9).

Usage: python benchmarks/comments.py [--db URL] [--answers 100000]

Stores --answers survey answers with comments (the demo's comment writer, so aspects and sentiment vary) through
intake, in batches of 1,000, then times the worker's ``comments`` consumer (text analytics on each comment, the
analysis kept, ``feedback.received`` recorded) until every answer has been read. Reports answers per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None)
    parser.add_argument("--answers", type=int, default=100_000)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from cherish.config import Settings
    from cherish.db.engine import open_store
    from cherish.db.migrate import upgrade
    from cherish.demo.comments import ASPECTS, written
    from cherish.events.flows import ingest
    from cherish.feedback.models import CommentAnalysis
    from cherish.worker.consumers import consume

    folder = Path(tempfile.mkdtemp(prefix="cherish-comments-bench-"))
    url = args.db or f"sqlite:///{folder / 'comments.db'}"
    store = open_store(url)
    upgrade(store)
    settings = Settings(database_url=url)
    rng = random.Random(15)
    started = time.perf_counter()
    for start in range(0, args.answers, 1000):
        batch = []
        for n in range(start, min(start + 1000, args.answers)):
            score = rng.randint(0, 10)
            text = written(rng, sentiment=(score - 7) / 3, aspects=rng.sample(list(ASPECTS), rng.choice((1, 2)))).text
            batch.append({"type": "track", "event": "Feedback Submitted", "userId": f"u-{n % 20000}",
                          "messageId": f"c-{n}", "timestamp": "2026-11-30T10:00:00Z",
                          "properties": {"score_type": "nps", "score": score, "comment": text}})
        with store.write() as session:
            ingest(session, batch, settings=settings)
    stored = time.perf_counter() - started
    started = time.perf_counter()
    while consume(store, "comments"):  # (it also passes over the feedback.received events it records)
        pass
    elapsed = time.perf_counter() - started
    with store.read() as session:
        kept = session.scalar(select(func.count()).select_from(CommentAnalysis))
    print(json.dumps({"engine": store.dialect, "answers": args.answers, "stored_s": round(stored, 1),
                      "analyses_kept": kept, "seconds": round(elapsed, 1),
                      "answers_per_s": round(args.answers / elapsed, 1), "load_before": os.getloadavg()[0]}))
    store.dispose()


if __name__ == "__main__":
    main()
