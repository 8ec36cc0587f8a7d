"""Delivering what the outbox holds: a batch claimed in one transaction, sent side by side (at most a few at a time
to one destination), and every attempt recorded in one transaction after.

A message is sent again only when the worker died between the receiver's answer and the record of it: its lease
runs out and another attempt carries the same ``webhook-id``, which the receiver uses to drop the repeat.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import urllib3

from cherish.config import Settings
from cherish.db.engine import Store
from cherish.outbox import service as outbox
from cherish.outbox.models import WebhookEndpoint
from cherish.outbox.signing import headers

ROUNDS = 10  # a batch holds at most this many rounds of the per-destination limit
PIPELINE = 5  # batches a call delivers, each claimed while the one before is sent


def batch_size(settings: Settings) -> int:
    return settings.outbox_concurrency * ROUNDS


def lease_for(settings: Settings) -> timedelta:
    """How long a claimed message stays with its worker: longer than it can wait if every send takes the whole
    timeout (two batches of ROUNDS rounds may queue, and one round more), so that a live worker never loses one; a
    dead worker's come back after it. A worker records only the attempts whose lease is still its own."""
    return timedelta(seconds=max(3.0, (2 * ROUNDS + 1) * settings.outbox_timeout))


@dataclass
class Parcel:
    """What one send needs, read out of the claiming transaction."""

    id: int
    key: str
    kind: str
    endpoint_id: str | None
    url: str
    secret: str
    body: dict[str, Any]
    lease: datetime | None = None  # the lease this worker holds on it


@dataclass
class Answer:
    id: int
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    lease: datetime | None = None


class Courier:
    """Sends parcels over one HTTP connection pool, holding to the per-destination limit."""

    def __init__(self, settings: Settings, *, threads: int = 16) -> None:
        self.settings = settings
        # urllib3 rather than httpx: half the CPU per request, and the worker's CPU is what limits delivery
        self.client = urllib3.PoolManager(num_pools=64, maxsize=threads, block=False, retries=False,
                                          timeout=urllib3.Timeout(total=settings.outbox_timeout))
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cherish-courier")
        self._limits: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(settings.outbox_concurrency))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.clear()

    def send(self, parcel: Parcel) -> Answer:
        """One attempt; whatever goes wrong is its error (never an exception: the batch's other answers must be
        recorded, or they would be sent again)."""
        started = time.perf_counter()
        try:
            answer = self.mail(parcel) if parcel.kind == "email" else self.post(parcel)
        except Exception as exc:  # noqa: BLE001
            answer = Answer(parcel.id, False, None, _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        answer.lease = parcel.lease
        return answer

    def post(self, parcel: Parcel) -> Answer:
        body = orjson.dumps(parcel.body)
        with self._limits[parcel.endpoint_id or parcel.url]:
            started = time.perf_counter()
            response = self.client.request("POST", parcel.url, body=body, redirect=False, preload_content=True,
                                           headers=headers(parcel.secret, parcel.key, int(time.time()), body))
        ok = 200 <= response.status < 300
        error = None if ok else f"HTTP {response.status}"  # (the receiver's words stay with the receiver)
        return Answer(parcel.id, ok, response.status, _ms(started), error)

    def mail(self, parcel: Parcel) -> Answer:
        """An email through the SMTP server the settings name (one connection per message; the server's limit
        is the per-destination one)."""
        from cherish.outbox.email import send_email

        with self._limits["smtp"]:
            started = time.perf_counter()
            send_email(self.settings, parcel.key, parcel.body)
        return Answer(parcel.id, True, 250, _ms(started), None)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _claim(store: Store, courier: Courier, limit: int) -> list[Parcel]:
    with store.write() as session:
        claimed = outbox.claim_due(session, limit=limit, lease=lease_for(courier.settings))
        destinations = {e.id: e for e in session.query(WebhookEndpoint).filter(
            WebhookEndpoint.id.in_({m.endpoint_id for m in claimed if m.endpoint_id}))} if claimed else {}
        return [parcel for message in claimed
                if (parcel := parcel_of(message, destinations.get(message.endpoint_id or ""))) is not None]


def deliver_due(store: Store, courier: Courier, *, limit: int | None = None, batches: int = PIPELINE) -> list[Answer]:
    """Claim what is due, send it, record every attempt, for up to ``batches`` batches; the receivers' answers.

    Batches overlap: the next is claimed, and the one before recorded, while one is being sent, so that the
    database's round trips do not hold up the sends."""
    with store.read() as session:
        if not outbox.anything_due(session):
            return []
    size = limit or batch_size(courier.settings)
    answers: list[Answer] = []
    sending: list[Future[Answer]] = []
    for _ in range(batches):
        parcels = _claim(store, courier, size)
        following = [courier.pool.submit(courier.send, parcel) for parcel in parcels]
        if sending:
            done = [future.result() for future in sending]
            record(store, courier.settings, done)
            answers += done
        sending = following
        if len(parcels) < size:
            break
    if sending:
        done = [future.result() for future in sending]
        record(store, courier.settings, done)
        answers += done
    return answers


def parcel_of(message: Any, destination: WebhookEndpoint | None) -> Parcel | None:
    """What sending a claimed message needs; None when its endpoint was removed meanwhile (its messages go too)."""
    if message.kind == "email":
        return Parcel(message.id, message.key, "email", None, "", "", message.body, message.leased_until)
    if destination is None:
        return None
    return Parcel(message.id, message.key, message.kind, message.endpoint_id, destination.url, destination.secret,
                  message.body, message.leased_until)


def record(store: Store, settings: Settings, answers: list[Answer]) -> None:
    with store.write() as session:
        outbox.record_attempts(session, [outbox.Attempt(a.id, a.ok, a.status_code, a.latency_ms, a.error, a.lease)
                                         for a in answers], max_attempts=settings.outbox_max_attempts)


@contextmanager
def courier_for(settings: Settings) -> Iterator[Courier]:
    courier = Courier(settings)
    try:
        yield courier
    finally:
        courier.close()
