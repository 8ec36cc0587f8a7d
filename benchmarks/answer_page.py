"""The survey answer page under load: p50 and p99 of GET /s/{token} and of the answer's POST, with 50 respondents
at once on loopback, against `cherish serve`; beside it, in the same run, GET /health (the server's floor).

Usage: python benchmarks/answer_page.py [--respondents 2000] [--concurrency 50] [--think 2] [--workers 1] [--db URL]
Makes a survey and one invitation per respondent in a fresh store (SQLite by default; --db postgresql://… uses a
schema of its own on that server), then each respondent opens their page, takes ``--think`` seconds (on average;
0.5 to 1.5 times it) to answer, and sends it (NPS and a comment), which stores a Feedback Submitted through
intake; then the next respondent takes their place. ``--think 0`` sends without a pause: the server's most
answers per second, every respondent queued behind the others. Target: p99 under 100 ms for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

import httpx
from serving import fresh_database, serving


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _prepare(url: str, respondents: int) -> list[str]:
    """A store with ``respondents`` customers, a survey, and an invitation each; their tokens."""
    from cherish.config import Settings
    from cherish.db.engine import open_store
    from cherish.db.migrate import upgrade
    from cherish.events.flows import ingest
    from cherish.surveys import invitations
    from cherish.surveys import service as surveys

    settings = Settings(database_url=url, quiet_hours="", contact_caps=[], survey_fatigue_days=0)
    store = open_store(url)
    upgrade(store)
    with store.write() as session:
        made = ingest(session, [{"type": "identify", "userId": f"r{i}", "messageId": f"r{i}",
                                 "traits": {"email": f"r{i}@example.com"}} for i in range(respondents)],
                      settings=settings)
        survey = surveys.create(session, {"name": "load", "questions": [{"type": "nps"}, {"type": "text"}]})
        asked = []
        for first in range(0, respondents, 1000):
            asked += invitations.invite(session, settings, survey.id, made.customers[first:first + 1000])
        tokens = [invitations.token_for(session, i.id) for i in asked]
    store.dispose()
    return tokens


async def _respond(base: str, tokens: list[str], concurrency: int, think: float) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"get": [], "post": [], "health": []}
    rng = random.Random(7)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)

    async def respondent(client: httpx.AsyncClient) -> None:
        await asyncio.sleep(rng.uniform(0, think))  # respondents arrive over time, not in one burst
        while not queue.empty():
            token = queue.get_nowait()
            start = time.perf_counter()
            page = await client.get(f"{base}/s/{token}")
            timings["get"].append((time.perf_counter() - start) * 1000)
            assert page.status_code == 200, page.status_code
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            start = time.perf_counter()
            sent = await client.post(f"{base}/s/{token}", data={"nps": "9", "q2": "Quick and friendly, thanks",
                                                                  "action": "send"})
            timings["post"].append((time.perf_counter() - start) * 1000)
            assert sent.status_code == 200, sent.status_code
            start = time.perf_counter()
            health = await client.get(f"{base}/health")
            timings["health"].append((time.perf_counter() - start) * 1000)
            assert health.status_code == 200

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(respondent(client) for _ in range(concurrency)))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--think", type=float, default=2.0, help="seconds between opening and sending")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL; default: a SQLite file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-answers-"))
    with fresh_database(args.db, folder) as url:
        tokens = _prepare(url, args.respondents)
        env = {**os.environ, "CHERISH_DATABASE_URL": url}
        with serving(env, workers=args.workers, options=("--no-worker",)) as base:
            asyncio.run(_respond(base, tokens[:50], 10, 0))  # warm up
            started = time.perf_counter()
            timings = asyncio.run(_respond(base, tokens[50:], args.concurrency, args.think))
            seconds = time.perf_counter() - started
    result = {"respondents": len(tokens) - 50, "concurrency": args.concurrency, "think_seconds": args.think,
              "server_workers": args.workers,
              "engine": "postgresql" if url.startswith("postgresql") else "sqlite",
              "answers_per_second": round((len(tokens) - 50) / seconds, 1)}
    for name, values in timings.items():
        result[f"{name}_ms"] = {"p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
