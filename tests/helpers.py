"""Small factories for test messages."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

_ids = itertools.count(1)


def track(event: str = "Clicked", *, user_id: str | None = None, anonymous_id: str | None = None,
          properties: dict[str, Any] | None = None, traits: dict[str, Any] | None = None, **extra: Any) -> dict:
    message: dict[str, Any] = {"type": "track", "event": event, "messageId": f"msg-{next(_ids)}",
                               "properties": properties or {}}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    if traits:
        message["context"] = {"traits": traits}
    message.update(extra)
    return message


def identify(*, user_id: str | None = None, anonymous_id: str | None = None, traits: dict[str, Any] | None = None,
             **extra: Any) -> dict:
    message: dict[str, Any] = {"type": "identify", "messageId": f"msg-{next(_ids)}", "traits": traits or {}}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    message.update(extra)
    return message


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, seconds: float = 30.0) -> None:
    """Return once ``url``/health answers 200; fail the test if it does not within ``seconds``."""
    import time

    import httpx
    import pytest

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server at {url} did not start")


def person(store, role: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A dashboard user with ``role`` (named after it); their user name and password."""
    from cherish.access.service import create_user

    with store.write() as session:
        create_user(session, username=f"{role}-user", password=f"{role} password long enough", role=role)
    return f"{role}-user", f"{role} password long enough"


def login(client, username: str, password: str) -> str:  # type: ignore[no-untyped-def]
    """Log the test client into the dashboard; the session's CSRF token, as its forms carry it."""
    token = client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/customers")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# A small store's worth of orders and answers whose metrics are worked out by hand (tests/analytics/test_metrics.py)
def order(customer: str, order_id: str, when: str, total: float, **extra):  # type: ignore[no-untyped-def]
    return {"type": "track", "userId": customer, "event": "Order Completed", "messageId": f"o-{order_id}",
            "timestamp": when, "properties": {"order_id": order_id, "total": total, **extra}}


def answer(customer: str, n: int, kind: str, score: int, when: str = "2026-03-10T12:00:00Z", **extra):  # type: ignore[no-untyped-def]
    return {"type": "track", "userId": customer, "event": "Feedback Submitted", "messageId": f"f-{n}",
            "timestamp": when, "properties": {"score_type": kind, "score": score, **extra}}


MESSAGES = [
    order("A", "a1", "2026-01-05T10:00:00Z", 20), order("A", "a2", "2026-01-05T18:00:00Z", 5),
    order("A", "a3", "2026-02-10T10:00:00Z", 30), order("A", "a4", "2026-04-01T10:00:00Z", 15),
    order("B", "b1", "2026-01-20T10:00:00Z", 40),
    order("C", "c1", "2026-02-03T10:00:00Z", 10), order("C", "c2", "2026-02-20T10:00:00Z", 10),
    order("D", "d1", "2026-03-15T10:00:00Z", 99),
    {"type": "track", "userId": "D", "event": "Order Cancelled", "messageId": "x-d1", "properties": {"order_id": "d1"}},
    order("E", "e1", "2026-03-01T02:00:00Z", 10),  # still 28 February in New York
    order("F", "f1", "2026-02-01T10:00:00Z", 50),
    {"type": "track", "userId": "F", "event": "Order Refunded", "messageId": "x-f1", "properties": {"order_id": "f1"}},
    answer("A", 1, "nps", 10, branch="X"), answer("B", 2, "nps", 9, branch="Y"), answer("C", 3, "nps", 8, branch="Y"),
    answer("E", 4, "nps", 3, branch="X"), answer("F", 5, "nps", 0, branch="Y"),
    answer("A", 6, "csat", 5), answer("B", 7, "csat", 4), answer("C", 8, "csat", 2),
    answer("A", 9, "ces", 7), answer("B", 10, "ces", 6), answer("C", 11, "ces", 2), answer("E", 12, "ces", 5),
    answer("A", 13, "nps", 0, when="2026-05-10T12:00:00Z"),  # after the as-of date: not counted
]
AS_OF = date(2026, 4, 30)


def run(store, settings, engine):  # type: ignore[no-untyped-def]
    """``cherish analyze``'s metrics of ``store`` on ``engine``, as of ``AS_OF``."""
    from cherish.analytics.engines import open_engine
    from cherish.analytics.service import analyze

    chosen = open_engine(engine, store, settings)
    try:
        return analyze(chosen, AS_OF)
    finally:
        chosen.close()


def same_results(results: dict) -> None:
    """Counts and shares agree across engines to 1e-9."""
    if len(results) < 2:
        return
    first, *others = results.values()

    def walk(a, b, path=""):  # type: ignore[no-untyped-def]
        if isinstance(a, dict):
            assert set(a) == set(b), path
            for key in a:
                if key != "engine":
                    walk(a[key], b[key], f"{path}.{key}")
        elif isinstance(a, list):
            assert len(a) == len(b), path
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        elif isinstance(a, float):
            assert b == pytest.approx(a, abs=1e-9), path
        else:
            assert a == b, path

    for other in others:
        walk(first, other)


def lifetime_history() -> list[dict]:  # type: ignore[type-arg]
    """Sixty customers over three years: regular buyers, buyers who stopped, and one-time buyers."""
    rng = np.random.default_rng(7)
    messages, n = [], 0
    for c in range(60):
        start = AS_OF - timedelta(days=int(rng.integers(60, 1000)))
        gap, spend = int(rng.integers(15, 90)), float(rng.gamma(2.0, 20.0))
        stop = AS_OF if c % 3 else start + timedelta(days=int(rng.integers(0, 400)))  # a third stop buying
        day = start
        while day <= min(stop, AS_OF):
            n += 1
            amount = round(spend * rng.gamma(8.0, 1 / 8), 2)
            messages.append(order(f"c{c}", f"o{n}", f"{day.isoformat()}T12:00:00Z", amount))
            day += timedelta(days=gap + int(rng.integers(-5, 6)))
    messages.append(order("once-long-ago", "old", f"{(AS_OF - timedelta(days=728)).isoformat()}T12:00:00Z", 20))
    messages.append(order("steady", "s1", f"{(AS_OF - timedelta(days=60)).isoformat()}T12:00:00Z", 20))
    messages.append(order("steady", "s2", f"{(AS_OF - timedelta(days=30)).isoformat()}T12:00:00Z", 20))
    messages.append(order("steady", "s3", f"{(AS_OF - timedelta(days=2)).isoformat()}T12:00:00Z", 20))
    return messages


class Receiver:
    """A real HTTP server on a free local port that takes webhooks: it checks each signature with the
    ``standardwebhooks`` package (an implementation independent of cherish's), answers ``fail`` times with a 500
    before it accepts, waits ``delay`` seconds per request, and counts how many requests it handles at once."""

    def __init__(self, secret: str | None = None, *, fail: int = 0, delay: float = 0.0) -> None:
        import http.server
        import threading

        self.secret, self.fail, self.delay = secret, fail, delay
        self.received: list[dict[str, Any]] = []  # {"id", "body", "verified"}
        self.statuses: list[int] = []
        self.in_flight = self.most_at_once = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.take(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        import time

        from standardwebhooks import Webhook

        with self._lock:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            verified = None
            if self.secret:
                try:
                    verified = Webhook(self.secret).verify(body, headers)
                except Exception:  # noqa: BLE001 — a bad signature is recorded, and refused
                    verified = None
            with self._lock:
                if self.fail > 0:
                    self.fail -= 1
                    self.statuses.append(500)
                    return 500
                status = 200 if verified is not None or not self.secret else 401
                self.statuses.append(status)
                if status == 200:
                    import json

                    self.received.append({"id": headers.get("webhook-id"), "body": json.loads(body),
                                          "verified": verified})
                return status
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
