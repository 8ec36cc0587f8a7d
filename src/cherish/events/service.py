"""Intake: a batch of messages is validated, deduplicated, resolved to customers and stored in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.traits import ProfileRows
from cherish.db.base import utcnow
from cherish.db.dialects import bulk_insert_columns, existing_values, json_text
from cherish.events.messages import (
    MAX_DEPTH,
    InvalidMessage,
    Message,
    cut_at_depth,
    nested_deeper,
    parse_message,
)
from cherish.events.models import Event, RejectedEvent
from cherish.events.orders import OrderEvent, apply_order_events
from cherish.feedback.service import store_answers
from cherish.identity.normalize import Key, identifiers_from_traits, normalize_plain
from cherish.identity.resolve import IdentityResolver

MAX_REASON = 1000  # the rejected events table's reason column


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)  # messageIds stored before: what an import reports
    rejected: list[dict[str, Any]] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)


def identifier_keys_of(raw: Any, settings: Settings) -> list[str]:
    """Best-effort identifier keys of a raw (possibly invalid) message, so an erasure can find it."""
    if not isinstance(raw, dict):
        return []
    keys: list[Key] = []
    for name, kind in (("userId", "user_id"), ("anonymousId", "anonymous_id"), ("previousId", "user_id")):
        value = normalize_plain(raw.get(name))
        if value:
            keys.append((kind, value))
    context = raw.get("context")
    for holder in (raw.get("traits"), context.get("traits") if isinstance(context, dict) else None):
        if isinstance(holder, dict):
            keys.extend(identifiers_from_traits(holder, settings))
    return sorted({f"{k}:{v}" for k, v in keys})


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
        if self.events:
            rows = self.events
            bulk_insert_columns(session, Event.__table__, {
                **{name: [r[name] for r in rows] for name in ("message_id", "customer_id", "type", "event", "channel",
                                                             "timestamp", "received_at")},
                "identifiers": [json_text(r["identifiers"]) for r in rows],
                "payload": [r["payload"] for r in rows],  # JSON text already
            })
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


@dataclass
class Parsed:
    """A batch read and validated, before anything is stored: the part of intake that needs no database."""

    received_at: datetime
    messages: list[Message]
    rejected: list[dict[str, Any]]
    rejected_rows: list[dict[str, Any]]


def parse_batch(raws: list[Any], *, settings: Settings, received_at: datetime | None = None,
                batch_sent_at: Any = None, forced_type: str | None = None) -> Parsed:
    """Validate every message of ``raws``; the invalid ones are set aside with their reason and index."""
    received_at = received_at or utcnow()
    if forced_type:
        raws = [{**raw, "type": forced_type} if isinstance(raw, dict) else raw for raw in raws]
    parsed = Parsed(received_at, [], [], [])
    for index, raw in enumerate(raws):
        try:
            text = _text_within_depth(raw)  # what the event row stores; also where a NUL character would show
            if text is None:
                # kept readable (and storable) in the rejected list, one level past the limit: still too deep,
                # a replay rejects it again for the same reason until a corrected message is given
                raw = cut_at_depth(raw, MAX_DEPTH + 1)
                raise InvalidMessage(f"the message nests objects and lists more than {MAX_DEPTH} levels deep")
            if "\\u0000" in text and _nul_inside(raw):  # a hit may be a literal backslash-u: checked exactly
                raw = _without_nul(raw)  # kept readable (and storable) in the rejected list
                raise InvalidMessage("text must not contain NUL characters (\\u0000)")
            message = parse_message(raw, settings=settings, received_at=received_at, batch_sent_at=batch_sent_at,
                                    forced_type=forced_type)
            message.payload_text = text
            parsed.messages.append(message)
        except InvalidMessage as exc:
            reason = str(exc)
            if len(reason) > MAX_REASON:  # one that quotes what was sent at length: the reason column holds 1000
                reason = reason[: MAX_REASON - 1] + "…"
            parsed.rejected.append({"index": index, "message": reason})
            parsed.rejected_rows.append({
                "received_at": received_at, "batch_index": index, "reason": reason, "payload": raw,
                "identifier_keys": identifier_keys_of(raw, settings), "status": "rejected",
            })
    return parsed


def _text_within_depth(raw: Any) -> str | None:
    """The JSON text of a message, or None when it nests deeper than MAX_DEPTH (cheap for the usual message: a
    text with fewer brackets than the limit cannot nest deeper, so only the rare bracket-heavy one is walked)."""
    try:
        text = json_text(raw)
    except RecursionError:  # deeper than any JSON encoder goes (orjson stops at 255 levels, json near 1000)
        return None
    if text.count("{") + text.count("[") > MAX_DEPTH and nested_deeper(raw, MAX_DEPTH):
        return None
    return text


def _nul_inside(value: Any) -> bool:
    """Whether any text of a message holds a NUL character, which PostgreSQL cannot store in text or JSON."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_inside(k) or _nul_inside(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_inside(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


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
    seen = existing_values(session, Event.__table__.c.message_id, [message.message_id for _, _, message in tagged])
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
    if rejected_rows and keep_rejected:
        session.execute(insert(RejectedEvent), rejected_rows)
    return results


def message_size(raw: Any) -> int:
    return len(orjson.dumps(raw, default=str))
