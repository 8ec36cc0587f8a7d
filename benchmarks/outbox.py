"""Outbox delivery to a local receiver, and the time from an answer's commit to its webhook's arrival.

Usage: python benchmarks/outbox.py [--db URL] [--messages 5000] [--answers 300] [--rate 30] [--skip-latency]

The receiver is a uvicorn server (h11, one process) with an ASGI app that answers 200 and notes when each
webhook-id arrived. Part one enqueues --messages messages for one endpoint and times the worker's delivery rounds
(claim, send side by side under the per-destination limit, record) until none is left: deliveries per second.
Part two runs `cherish worker` in a process of its own (as `cherish serve` does) while --answers feedback answers
are committed at --rate per second, one per transaction, and reports p50/p99 from each commit to its webhook's
arrival. Targets (issue 14): at least 1,000 deliveries/s; p99 under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECEIVER = '''
import json, os, time
arrivals = open(os.environ["ARRIVALS"], "a", buffering=1)
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    key = dict(scope["headers"]).get(b"webhook-id", b"").decode()
    arrivals.write(json.dumps({"id": key, "at": time.time()}) + "\\n")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (its share of the machine during a run on PostgreSQL)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--skip-latency", action="store_true", help="measure delivery only (part one)")
    args = parser.parse_args()

    from cherish.config import Settings
    from cherish.db.engine import open_store
    from cherish.db.migrate import upgrade
    from cherish.events.flows import ingest
    from cherish.outbox import service as outbox
    from cherish.outbox.delivery import courier_for, deliver_due

    folder = Path(tempfile.mkdtemp(prefix="cherish-outbox-bench-"))
    url = args.db or f"sqlite:///{folder / 'outbox.db'}"
    store = open_store(url)
    upgrade(store)
    settings = Settings(database_url=url)
    arrivals_path = folder / "arrivals.jsonl"
    (folder / "receiver.py").write_text(RECEIVER)
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "uvicorn", "receiver:app", "--port", str(port), "--log-level",
                                 "warning", "--no-access-log", "--http", "h11"], cwd=folder,
                                env={**os.environ, "PYTHONPATH": str(folder), "ARRIVALS": str(arrivals_path)},
                                stdin=subprocess.DEVNULL)
    time.sleep(1.5)
    try:
        with store.write() as session:
            endpoint = outbox.add_endpoint(session, f"http://127.0.0.1:{port}/hook", ["*"])
            for n in range(args.messages):
                outbox.enqueue(session, kind="webhook", type="ping", endpoint_id=endpoint.id,
                               body={"type": "ping", "timestamp": "2026-12-01T00:00:00Z", "data": {"n": n}})
        servers = postgres_pids() if store.dialect == "postgresql" else []
        cpu_before = (cpu_seconds([os.getpid()]), cpu_seconds([receiver.pid]), cpu_seconds(servers))
        started = time.perf_counter()
        sent = 0
        with courier_for(settings) as courier:
            while answers := deliver_due(store, courier):
                sent += len(answers)
        elapsed = time.perf_counter() - started
        cpu = [after - before for after, before in zip(
            (cpu_seconds([os.getpid()]), cpu_seconds([receiver.pid]), cpu_seconds(servers)), cpu_before, strict=True)]
        result: dict[str, object] = {
            "engine": store.dialect, "messages": args.messages, "delivered": sent, "seconds": round(elapsed, 2),
            "deliveries_per_s": round(sent / elapsed, 1),
            # CPU seconds of each side during delivery, and of all together per second of the run (2 cores: 2.0)
            "cpu_s": {"worker": round(cpu[0], 2), "receiver": round(cpu[1], 2), "database": round(cpu[2], 2)},
            "cores_busy": round(sum(cpu) / elapsed, 2), "load_before": os.getloadavg()[0]}
        if args.skip_latency:
            print(json.dumps(result))
            return

        env = {**os.environ, "CHERISH_DATABASE_URL": url, "CHERISH_WORKER_POLL_SECONDS": "0.05"}
        worker = subprocess.Popen([sys.executable, "-m", "cherish", "worker"], env=env, stderr=subprocess.DEVNULL)
        time.sleep(3)
        committed: dict[str, float] = {}
        for n in range(args.answers):
            message = {"type": "track", "event": "Feedback Submitted", "userId": f"u-{n % 50}",
                       "messageId": f"bench-{n}", "properties": {"score_type": "nps", "score": n % 11}}
            with store.write() as session:
                ingest(session, [message], settings=settings)
            committed[f"bench-{n}"] = time.time()
            time.sleep(1 / args.rate)
        time.sleep(3)
        worker.terminate()
        worker.wait(30)
        latencies = []
        for line in arrivals_path.read_text().splitlines():
            row = json.loads(line)
            position_key = row["id"]
            if position_key.startswith("msg_") and "_whe_" in position_key:
                latencies.append(row)
        # webhook-ids of domain events are msg_{position}_{endpoint}: positions follow commit order
        with store.read() as session:
            from sqlalchemy import select

            from cherish.domain_events.models import DomainEvent

            sources = {f"msg_{p}_{endpoint.id}": d["source"] for p, d in session.execute(
                select(DomainEvent.position, DomainEvent.data).where(DomainEvent.type == "feedback.received"))}
        waits = [(row["at"] - committed[sources[row["id"]]]) * 1000 for row in latencies
                 if sources.get(row["id"]) in committed]
        result.update({"answers": args.answers, "webhooks_received": len(waits),
                       "commit_to_webhook_ms_p50": round(pct(waits, 50), 1) if waits else None,
                       "commit_to_webhook_ms_p99": round(pct(waits, 99), 1) if waits else None})
        print(json.dumps(result))
    finally:
        receiver.terminate()
        receiver.wait(10)
        store.dispose()


if __name__ == "__main__":
    main()
