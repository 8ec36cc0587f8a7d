"""Domain-event consumers: each reads from its own saved position, in the worker, never on intake's hot path.

``comments`` reads the comment of each stored answer (text analytics) and records ``feedback.received`` with what
it says. ``cases``: answers and broken promises to the case rules (from where the
store stood when it came: revision 0015 saved its position). ``webhooks``: every event goes to the endpoints
subscribed to its type, as an outbox message written in the transaction that also saves the consumer's position,
so that an event is turned into messages exactly once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cherish.cases import flows as case_flows
from cherish.config import Settings, get_settings
from cherish.db.engine import Store
from cherish.domain_events import service as domain_events
from cherish.feedback import service as feedback
from cherish.outbox import service as outbox
from cherish.outbox import slack

BATCH = 500


def webhook_body(event: Any) -> dict[str, object]:
    """A Standard Webhooks body: ``type``, ``timestamp`` (when it was recorded) and ``data``."""
    data = {"customer_id": event.customer_id, **event.data, "position": event.position}
    return outbox.envelope(event.type, data, event.recorded_at)


def _to_webhooks(session: Session, events: list[Any], settings: Settings) -> None:
    endpoints = outbox.endpoints(session)
    for event in events:
        if event.type in domain_events.INTERNAL:
            continue
        for endpoint in endpoints:
            if (endpoint.enabled and ("*" in endpoint.events or event.type in endpoint.events)
                    and event.recorded_at >= endpoint.created_at):  # an endpoint gets what happens once it exists
                body = webhook_body(event)
                if endpoint.kind == "slack":
                    body = slack.message(event.type, {"customer_id": event.customer_id, **event.data})
                outbox.enqueue(session, kind=endpoint.kind, type=event.type, body=body,
                               endpoint_id=endpoint.id, customer_id=event.customer_id,
                               key=f"msg_{event.position}_{endpoint.id}")


def _read_comments(session: Session, events: list[Any], settings: Settings) -> None:
    feedback.receive(session, events)


def _to_cases(session: Session, events: list[Any], settings: Settings) -> None:
    case_flows.read_domain_events(session, settings, events)


# name: (handler, start from the first event rather than the last), in the order a round runs them: comments are
# read before the cases consumer looks, and cases are opened before the webhooks consumer looks, so that an
# answer's case and its webhook leave in the round the answer was read
CONSUMERS = {"comments": (_read_comments, True), "cases": (_to_cases, True), "webhooks": (_to_webhooks, True)}


def consume(store: Store, name: str, *, settings: Settings | None = None, limit: int = BATCH) -> int:
    """Hand the events after the consumer's position to it, and move the position, in one transaction; how many.
    Another worker consuming the same now makes this one skip (PostgreSQL's row lock)."""
    handle, from_start = CONSUMERS[name]
    with store.read() as session:  # nothing new: no write transaction (on SQLite it would wait for intake's)
        if domain_events.nothing_after(session, name):
            return 0
    with store.write() as session:
        position = domain_events.claim_position(session, name, from_start=from_start)
        if position is None:
            return 0
        events = domain_events.after(session, position, limit=limit)
        if events:
            handle(session, events, settings or get_settings())
            domain_events.save_position(session, name, events[-1].position)
        return len(events)


def consume_all(store: Store, settings: Settings | None = None) -> int:
    return sum(consume(store, name, settings=settings) for name in CONSUMERS)
