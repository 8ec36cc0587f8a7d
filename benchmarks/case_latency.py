"""From a detractor answer at /v1/batch to its recovery case: how long until the case is in the API, and until its
signed `case.opened` webhook reaches a local receiver; p50 and p99. Target: p99 under 1 s.

Usage: python benchmarks/case_latency.py [--answers 200] [--db URL]
`cherish serve` runs with its worker beside it (as `make demo` does) on a fresh store (SQLite by default;
--db postgresql://… uses a schema of its own). Each answer comes from a new customer (an NPS of 2 with "I will
cancel"), one at a time: the next is sent once the last one's webhook arrived. The case is seen in the API by
polling GET /api/cases every 10 ms; the receiver checks each signature with the `standardwebhooks` package.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from serving import create_key, fresh_database, serving


class Receiver:
    """Takes webhooks, checks them, notes when each case's arrived."""

    def __init__(self) -> None:
        self.secret = ""
        self.arrived: dict[str, float] = {}  # customer id → when
        self.bad = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                at = time.perf_counter()
                from standardwebhooks import Webhook

                try:
                    payload = Webhook(receiver.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
                    receiver.arrived[payload["data"]["customer_id"]] = at
                except Exception:  # noqa: BLE001 — counted, and the run says so
                    receiver.bad += 1
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _endpoint(url: str, hook: str) -> str:
    from cherish.db.engine import open_store
    from cherish.db.migrate import upgrade
    from cherish.outbox import service as outbox

    store = open_store(url)
    upgrade(store)
    with store.write() as session:
        secret = outbox.add_endpoint(session, hook, ["case.opened"]).secret
    store.dispose()
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL; default: a SQLite file")
    args = parser.parse_args()
    receiver = Receiver()
    folder = Path(tempfile.mkdtemp(prefix="cherish-cases-"))
    visible: list[float] = []
    hooked: list[float] = []
    with fresh_database(args.db, folder) as url:
        receiver.secret = _endpoint(url, receiver.url)
        env = {**os.environ, "CHERISH_DATABASE_URL": url}
        write, viewer = create_key(env, "write"), create_key(env, "viewer")
        with serving(env) as base, httpx.Client(timeout=30) as client:
            for n in range(args.answers + 5):  # (the first five warm the text model and the connections up)
                started = time.perf_counter()
                sent = client.post(f"{base}/v1/batch", auth=(write, ""), json={"batch": [{
                    "type": "track", "event": "Feedback Submitted", "userId": f"unhappy-{n}",
                    "messageId": f"bench-{n}", "properties": {
                        "score_type": "nps", "score": 2, "comment": "Third late parcel. I will cancel."}}]})
                assert sent.status_code == 200, sent.text
                seen = None
                while time.perf_counter() - started < 30:
                    total = client.get(f"{base}/api/cases?limit=1", headers={
                        "Authorization": f"Bearer {viewer}"}).json()["total"]
                    if seen is None and total > n:
                        seen = time.perf_counter()
                    if seen is not None and len(receiver.arrived) > n:
                        break
                    time.sleep(0.01)
                else:
                    raise SystemExit(f"answer {n}: no case or webhook within 30 s")
                if n >= 5:
                    visible.append((seen - started) * 1000)
                    hooked.append((max(receiver.arrived.values()) - started) * 1000)
    result = {"answers": args.answers, "engine": "postgresql" if url.startswith("postgresql") else "sqlite",
              "bad_signatures": receiver.bad,
              "case_in_api_ms": {"p50": round(percentile(visible, 50)), "p99": round(percentile(visible, 99))},
              "webhook_received_ms": {"p50": round(percentile(hooked, 50)), "p99": round(percentile(hooked, 99))}}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
