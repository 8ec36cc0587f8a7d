"""Webhook endpoints and the outbox: messages written in the caller's transaction, claimed by a worker, their
attempts recorded, retried with backoff and, after the last attempt, kept as dead letters to retry or discard."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from cherish.db.base import new_id, utcnow
from cherish.domain_events.service import TYPES
from cherish.errors import Conflict, InvalidInput, NotFound
from cherish.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from cherish.outbox.signing import new_secret

KINDS = ("webhook", "slack", "sender")
STATUSES = ("pending", "delivered", "dead", "discarded")
# What a sender endpoint (the company's own SMS or app-push sender) receives: the messages to customers on its channel
MESSAGE_TYPES = ("message.sms", "message.app")
# Seconds before the second, third, … attempt; each with up to a quarter more at random, so that many messages
# failed at once do not all come back at once. The last is repeated up to the last attempt.
BACKOFF = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)


def add_endpoint(session: Session, url: str, events: Sequence[str], *, kind: str = "webhook",
                 description: str | None = None) -> WebhookEndpoint:
    """A new endpoint with its signing secret (shown once to whoever added it)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # (a port that is not a number raises here)
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or (port is not None and not 0 < port < 65536):
        raise InvalidInput(f"{url!r} is not an http(s) URL (with a host, a port number if any, and no user name)")
    if kind not in KINDS:
        raise InvalidInput(f"unknown endpoint kind {kind!r}; choose one of {', '.join(KINDS)}")
    wanted = sorted({e.strip() for e in events if e.strip()})
    if not wanted:
        raise InvalidInput("name the event types to send (--events feedback.received,consent.changed, or *)")
    unknown = [e for e in wanted if e != "*" and e not in TYPES + MESSAGE_TYPES]
    if unknown:
        raise InvalidInput(f"unknown event type {unknown[0]!r}; choose from *, {', '.join(TYPES + MESSAGE_TYPES)}")
    if kind != "sender" and any(e in MESSAGE_TYPES for e in wanted):
        raise InvalidInput("messages to customers (message.sms, message.app) go to a sender endpoint: --kind sender")
    endpoint = WebhookEndpoint(id=new_id("whe"), kind=kind, url=url.strip(), secret=new_secret(), events=wanted,
                               description=(description or None) and description[:300], enabled=True,
                               created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint


def shown_url(endpoint: WebhookEndpoint) -> str:
    """An endpoint's URL as listings show it: a Slack webhook's path is its credential, and a query string often
    carries a token, so neither is shown."""
    parts = urlsplit(endpoint.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if endpoint.kind == "slack":
        return f"{parts.scheme}://{host}/…"
    return f"{parts.scheme}://{host}{parts.path}" + ("?…" if parts.query else "")


def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return found


def remove_endpoint(session: Session, endpoint_id: str) -> None:
    """Remove an endpoint and the messages still waiting for it (delivered ones go with it: their log)."""
    session.delete(endpoint(session, endpoint_id))


def subscribers(session: Session, event_type: str) -> list[WebhookEndpoint]:
    """Endpoints that take ``event_type``; a message to customers goes only to senders that name it."""
    if event_type in MESSAGE_TYPES:
        return [e for e in endpoints(session) if e.enabled and e.kind == "sender" and event_type in e.events]
    return [e for e in endpoints(session) if e.enabled and ("*" in e.events or event_type in e.events)]


def envelope(type: str, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """A Standard Webhooks body: ``type``, ``timestamp`` (ISO, UTC, ``Z``) and ``data``."""
    return {"type": type, "timestamp": (at or utcnow()).isoformat().replace("+00:00", "Z"), "data": data}


def enqueue(session: Session, *, kind: str, type: str, body: dict[str, Any], endpoint_id: str | None = None,
            customer_id: str | None = None, key: str | None = None, at: datetime | None = None) -> OutboxMessage:
    """Write an outgoing message in the caller's transaction: it leaves only if that commits."""
    now = utcnow()
    message = OutboxMessage(key=key or new_id("msg"), kind=kind, endpoint_id=endpoint_id, customer_id=customer_id,
                            type=type, body=body, status="pending", attempts=0, next_attempt_at=at or now,
                            created_at=now)
    session.add(message)
    return message


def claim_due(session: Session, *, limit: int, lease: timedelta, now: datetime | None = None) -> list[Any]:
    """Messages due now that no worker is sending, leased to this one in one statement (rows another worker has
    locked are skipped, on PostgreSQL): each with ``id``, ``key``, ``kind``, ``endpoint_id``, ``body`` and
    ``leased_until``. A lease that ran out belongs to a worker that died: the message is due again."""
    now = now or utcnow()
    # a CTE kept whole (MATERIALIZED): inside ``IN (…)`` PostgreSQL may run the locking subquery once per row of
    # a nested loop, and the LIMIT then no longer bounds the batch, nor the lease its sending time
    due = (select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
        (OutboxMessage.leased_until.is_(None)) | (OutboxMessage.leased_until < now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
        .cte("due").prefix_with("MATERIALIZED", dialect="postgresql"))
    claimed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(select(due.c.id))).values(leased_until=now + lease)
        .returning(OutboxMessage.id, OutboxMessage.key, OutboxMessage.kind, OutboxMessage.endpoint_id,
                   OutboxMessage.body, OutboxMessage.leased_until)
        .execution_options(synchronize_session=False)).all()
    return sorted(claimed, key=lambda row: row.id)


def anything_due(session: Session, now: datetime | None = None) -> bool:
    """Whether a message is due now (read first, so that an idle worker takes no write transaction)."""
    now = now or utcnow()
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
        (OutboxMessage.leased_until.is_(None)) | (OutboxMessage.leased_until < now)).limit(1)) is not None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after ``attempts`` failed attempts."""
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return timedelta(seconds=base * (1 + 0.25 * (rng or random).random()))


@dataclass
class Attempt:
    """How one attempt went, as the courier saw it."""

    message_id: int
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    lease: datetime | None = None  # the lease the sender held: another worker's since means it is no longer ours


def record_attempts(session: Session, attempts: Sequence[Attempt], *, max_attempts: int,
                    now: datetime | None = None) -> list[str]:
    """Log each attempt and decide what comes next for its message: delivered, another attempt later, or the dead
    letters; the outcome of each ("gone" for a message removed with its endpoint, settled meanwhile, or taken over
    by another worker after this one's lease ran out)."""
    now = now or utcnow()
    outcomes: dict[int, str] = {}
    rows: list[dict[str, Any]] = []
    leased: dict[datetime, list[Attempt]] = {}
    for attempt in attempts:  # the usual case, settled by one statement per lease: delivered under this lease
        if attempt.ok and attempt.lease is not None:
            leased.setdefault(attempt.lease, []).append(attempt)
    for lease, delivered in leased.items():
        settled = set(session.scalars(
            update(OutboxMessage).where(OutboxMessage.id.in_([a.message_id for a in delivered]),
                                        OutboxMessage.status == "pending", OutboxMessage.leased_until == lease)
            .values(attempts=OutboxMessage.attempts + 1, leased_until=None, status="delivered", delivered_at=now,
                    last_error=None)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False)))
        for attempt in delivered:
            outcomes[id(attempt)] = "delivered" if attempt.message_id in settled else "gone"
            if attempt.message_id in settled:
                rows.append(_attempt_row(attempt, now, "delivered"))
    rest = [a for a in attempts if id(a) not in outcomes]
    found = {m.id: m for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.id.in_([a.message_id for a in rest])))} if rest else {}
    for attempt in rest:
        message = found.get(attempt.message_id)
        if message is None or message.status != "pending" or (
                attempt.lease is not None and message.leased_until != attempt.lease):
            outcomes[id(attempt)] = "gone"  # removed, settled meanwhile, or taken over after this lease ran out
            continue
        message.attempts += 1
        message.leased_until = None
        if attempt.ok:
            message.status, message.delivered_at, message.last_error, outcome = "delivered", now, None, "delivered"
        elif message.attempts >= max_attempts:
            message.status, message.last_error, outcome = "dead", attempt.error, "dead"
        else:
            message.next_attempt_at, message.last_error = now + backoff(message.attempts), attempt.error
            outcome = "retry"
        outcomes[id(attempt)] = outcome
        rows.append(_attempt_row(attempt, now, outcome))
    if rows:
        session.execute(insert(DeliveryAttempt), rows)
    return [outcomes[id(a)] for a in attempts]


def _attempt_row(attempt: Attempt, now: datetime, outcome: str) -> dict[str, Any]:
    return {"message_id": attempt.message_id, "at": now, "status_code": attempt.status_code,
            "latency_ms": round(attempt.latency_ms, 2), "error": attempt.error and attempt.error[:2000],
            "outcome": outcome}


def messages(session: Session, *, status: str | None = None, endpoint_id: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[OutboxMessage], int]:
    """The delivery log, newest first, with its total."""
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    if endpoint_id:
        query = query.where(OutboxMessage.endpoint_id == endpoint_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def attempts_of(session: Session, message_id: int) -> list[DeliveryAttempt]:
    return list(session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id)
                                .order_by(DeliveryAttempt.id)))


def message(session: Session, message_id: int) -> OutboxMessage:
    found = session.get(OutboxMessage, message_id) if 0 < message_id < 2**63 else None
    if found is None:
        raise NotFound(f"no outgoing message {message_id}")
    return found


def _dead(session: Session, message_id: int) -> OutboxMessage:
    found = message(session, message_id)
    if found.status != "dead":
        raise Conflict(f"message {message_id} is {found.status}, not a dead letter")
    return found


def retry(session: Session, message_id: int) -> OutboxMessage:
    """A dead letter goes out again now, with a fresh round of attempts and the same key."""
    message = _dead(session, message_id)
    message.status, message.attempts, message.next_attempt_at, message.leased_until = "pending", 0, utcnow(), None
    return message


def discard(session: Session, message_id: int) -> OutboxMessage:
    message = _dead(session, message_id)
    message.status = "discarded"
    return message


def forget_delivered(session: Session, before: datetime) -> int:
    """Remove delivered and discarded messages older than ``before`` (their attempts go with them)."""
    result = session.execute(delete(OutboxMessage).where(OutboxMessage.status.in_(("delivered", "discarded")),
                                                         OutboxMessage.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.status == "pending")) or 0


def release_leases(session: Session, ids: Sequence[int]) -> None:
    """Give back messages this worker claimed but did not send (it is stopping)."""
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)),
                                                    OutboxMessage.status == "pending").values(leased_until=None))
