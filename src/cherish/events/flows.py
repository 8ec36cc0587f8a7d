"""Intake, the flow every message takes: a parsed batch is deduplicated, resolved to customers by identity, and its
rows handed to each domain (events, customer traits and consent, orders, feedback answers) in one transaction.

The events service parses and stores events; this flow is where the domains meet, as in Netflix Dispatch's
``case/flows.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.traits import ProfileRows
from cherish.db.dialects import json_text
from cherish.events.messages import Message
from cherish.events.orders import OrderEvent, apply_order_events
from cherish.events.service import Parsed, parse_batch, seen_messages, store_events, store_rejected
from cherish.feedback.service import store_answers
from cherish.identity.normalize import Key
from cherish.identity.resolve import IdentityResolver


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)  # messageIds stored before: what an import reports
    rejected: list[dict[str, Any]] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)


class _Batch:
    """Rows decided for one batch, written in bulk before any merge and at the end."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session, self.settings = session, settings
        self.events: list[dict[str, Any]] = []
        self._events_of: dict[str, list[dict[str, Any]]] = {}  # the rows above by customer, for remapping
        self.profiles = ProfileRows()
        self.orders: list[OrderEvent] = []
        self.answers: list[dict[str, Any]] = []

    def add(self, message: Message, customer_id: str, keys: list[Key], received_at: datetime) -> None:
        row = {
            "message_id": message.message_id, "customer_id": customer_id, "type": message.type,
            "event": message.event, "channel": message.channel, "timestamp": message.timestamp,
            "received_at": received_at, "identifiers": [f"{k}:{v}" for k, v in keys],
            "payload": message.payload_text or json_text(message.payload),
        }
        self.events.append(row)
        self._events_of.setdefault(customer_id, []).append(row)
        self.profiles.add(customer_id, message.traits, at=message.timestamp, source=message.trait_source)
        if message.order is not None:
            self.orders.append(OrderEvent(message.order, customer_id, message.timestamp, message.channel))
        if message.answer is not None:
            self.answers.append({**message.answer, "source": message.message_id, "customer_id": customer_id,
                                 "answered_at": message.timestamp})

    def remap(self, loser: str, survivor: str) -> None:
        """Point rows not yet written from a customer folded into another, before either was written."""
        moved = self._events_of.pop(loser, [])
        for row in moved:
            row["customer_id"] = survivor
        self._events_of.setdefault(survivor, []).extend(moved)
        self.profiles.remap(loser, survivor)
        for order in self.orders:
            if order.customer_id == loser:
                order.customer_id = survivor
        for answer in self.answers:
            if answer["customer_id"] == loser:
                answer["customer_id"] = survivor

    def flush(self) -> None:
        session = self.session
        store_events(session, self.events)
        self.events = []
        self._events_of = {}
        self.profiles.store(session)
        apply_order_events(session, self.orders, currency=self.settings.currency)
        self.orders = []
        store_answers(session, self.answers)
        self.answers = []


def _alias_keys(message: Message, resolver: IdentityResolver) -> list[Key]:
    """An alias names the previous id without its kind: it is the user id or anonymous id already known."""
    keys = []
    for key in message.keys:
        if key[0] != "previous_id":
            keys.append(key)
            continue
        as_user, as_anonymous = ("user_id", key[1]), ("anonymous_id", key[1])
        resolver.prefetch([as_user, as_anonymous])
        keys.append(as_user if resolver.owner.get(as_user) is not None else as_anonymous)
    return keys


def ingest(
    session: Session,
    raws: list[Any],
    *,
    settings: Settings,
    received_at: datetime | None = None,
    batch_sent_at: Any = None,
    forced_type: str | None = None,
    keep_rejected: bool = True,
) -> IngestResult:
    """Store every valid message of ``raws`` and set the invalid ones aside, in the caller's transaction."""
    parsed = parse_batch(raws, settings=settings, received_at=received_at, batch_sent_at=batch_sent_at,
                         forced_type=forced_type)
    return store_batch(session, parsed, settings=settings, keep_rejected=keep_rejected)


def store_batch(session: Session, parsed: Parsed, *, settings: Settings, keep_rejected: bool = True) -> IngestResult:
    """Deduplicate, resolve and store a parsed batch in the caller's transaction."""
    return store_batches(session, [parsed], settings=settings, keep_rejected=keep_rejected)[0]


def store_batches(session: Session, batches: list[Parsed], *, settings: Settings,
                  keep_rejected: bool = True) -> list[IngestResult]:
    """Store several parsed batches in the caller's transaction as one: one deduplication query, one identity
    pass and one write per table for all of them (what group commit shares); a result for each batch."""
    results = [IngestResult(rejected=list(parsed.rejected)) for parsed in batches]
    tagged = [(result, parsed.received_at, message)
              for parsed, result in zip(batches, results, strict=True) for message in parsed.messages]
    seen = seen_messages(session, [message.message_id for _, _, message in tagged])
    batch = _Batch(session, settings)
    resolver = IdentityResolver(session, settings, flush_pending=batch.flush, remap_pending=batch.remap)
    resolver.prefetch(k for _, _, m in tagged for k in m.keys if k[0] != "previous_id")
    for result, received_at, message in tagged:
        if message.message_id in seen:
            result.duplicates += 1
            result.duplicate_ids.append(message.message_id)
            continue
        seen.add(message.message_id)
        keys = _alias_keys(message, resolver) if message.alias else message.keys
        customer_id = resolver.resolve(keys, when=message.timestamp, message_id=message.message_id,
                                       alias=message.alias)
        batch.add(message, customer_id, keys, received_at)
        result.customers.append(customer_id)
        result.stored += 1
    resolver.name_unwritten(batch.profiles.names)
    resolver.flush()
    for result in results:
        result.customers = [resolver.current(c) for c in result.customers]
    rejected_rows = [row for parsed in batches for row in parsed.rejected_rows]
    if keep_rejected:
        store_rejected(session, rejected_rows)
    return results
