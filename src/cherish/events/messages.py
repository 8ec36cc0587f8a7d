"""Reading one Segment-spec message: validation, event time, channel and the identifiers it carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cherish.config import Settings
from cherish.events.orders import InvalidOrder, OrderFacts, read_order
from cherish.feedback.scales import SCALES
from cherish.identity.normalize import Key, identifiers_from_traits, normalize_plain

TYPES = ("track", "identify", "alias", "page", "screen", "group")
KNOWN_CHANNELS = ("web", "app", "store", "phone", "email", "chat", "social")
# Comments that arrive as other events: the event, the kind of feedback item it makes, where its words are (the
# first of these properties that holds text), and what else is kept beside them
COMMENT_EVENTS = {
    "Review Posted": ("review", ("text", "review", "comment", "body"), ("rating", "site")),
    "Chat Transcript": ("chat", ("transcript", "text"), ("topic",)),
    "Email Received": ("email", ("body", "text"), ("subject",)),
    "Social Mention": ("social", ("text", "post"), ("network", "url")),
}
ORDER_EVENTS = ("Order Completed", "Order Refunded", "Order Cancelled", "Order Shipped", "Order Delivered")
# Stored messages are read back by the timeline, the export and the rejected list, whose JSON encoders give up a
# few hundred levels down (orjson at 255, wrapping included); no real event nests anywhere near 64 levels.
MAX_DEPTH = 64
MAX_MESSAGE_ID = 200  # the events table's messageId column: a longer one would be cut, and two ids become one
MAX_IDENTIFIER = 300  # the identifiers table's value column, likewise
MAX_EVENT = 200  # the events table's event column
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # before it, an event time is a sender's bug (an unset field, year 1)
FUTURE_SLACK = timedelta(days=1)  # an event dated later than this after its receipt is wrongly dated
PROMISE_HORIZON = timedelta(days=5 * 366)  # a delivery promised further ahead is a wrong date (year 9999)


class InvalidMessage(ValueError):
    """One message of a batch that cannot be stored; the text says why."""


@dataclass(slots=True)
class Message:
    """A valid message, ready to store."""

    message_id: str
    type: str
    event: str | None
    channel: str | None
    timestamp: datetime
    keys: list[Key]
    traits: dict[str, Any]
    properties: dict[str, Any]
    payload: dict[str, Any]
    alias: bool = False
    trait_source: str = "identify"
    order: OrderFacts | None = None
    answer: dict[str, Any] | None = None
    payload_text: str | None = None  # the payload as JSON text, when the caller has it already

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent to the intake writer process: rebuilt from its fields by position, about twice as quick to load
        # as the default (a state set field by field).
        return (Message, tuple(getattr(self, name) for name in self.__slots__))


def parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise InvalidMessage(f"{what} must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise InvalidMessage(f"{what} {value[:40]!r} is not an ISO 8601 date-time") from None
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 once in UTC
        raise InvalidMessage(f"{what} {value[:40]!r} is outside the dates an event can have") from None


def plausible_time(moment: datetime, received_at: datetime, what: str) -> datetime:
    """``moment`` if an event can have happened then: not before 1970, not more than a day after its receipt."""
    if moment < EARLIEST:
        raise InvalidMessage(f"{what} {moment.isoformat()} is before 1970: not a plausible event time")
    if moment > received_at + FUTURE_SLACK:
        raise InvalidMessage(f"{what} {moment.isoformat()} is more than a day after the event was received: "
                             "the sender's date or clock is wrong")
    return moment


def plausible_promise(day: date, received_at: datetime) -> date:
    """A promised delivery date if it can be one: not before 1970, not more than five years ahead."""
    if not EARLIEST.date() <= day <= (received_at + PROMISE_HORIZON).date():
        raise InvalidMessage(f"properties.promised_delivery_date {day.isoformat()} is not a plausible delivery date "
                             "(from 1970 to five years ahead)")
    return day


def event_time(raw: dict[str, Any], received_at: datetime, batch_sent_at: Any) -> datetime:
    """Segment's rule: an explicit timestamp is used as sent; otherwise the client clock is corrected by sentAt.
    Either way the result must be plausible (see :func:`plausible_time`)."""
    if raw.get("timestamp") is not None:
        return plausible_time(parse_time(raw["timestamp"], "timestamp"), received_at, "timestamp")
    original = raw.get("originalTimestamp")
    if original is None:
        return received_at
    original_at = parse_time(original, "originalTimestamp")
    sent = raw.get("sentAt", batch_sent_at)
    if sent is None:
        return plausible_time(original_at, received_at, "originalTimestamp")
    try:
        corrected = received_at - (parse_time(sent, "sentAt") - original_at)
    except OverflowError:
        raise InvalidMessage("originalTimestamp corrected by sentAt falls outside the dates an event can have "
                             "(the two are centuries apart)") from None
    return plausible_time(corrected, received_at, "originalTimestamp corrected by sentAt")


def exact_identifier(value: Any, what: str) -> str | None:
    """An identifier's text, refused when storing it would change it: a number JSON could not carry exactly
    (read as a float: 2**64+1 arrives as 1.8446744073709552e+19), or text longer than its column."""
    if isinstance(value, float):
        raise InvalidMessage(f"{what} {value!r} is a number that cannot be kept exactly: send identifiers as "
                             "strings")
    if isinstance(value, str) and len(value.strip()) > MAX_IDENTIFIER:
        raise InvalidMessage(f"{what} is longer than {MAX_IDENTIFIER} characters")
    return normalize_plain(value)


def nested_deeper(value: Any, levels: int) -> bool:
    """Whether objects and lists nest more than ``levels`` deep in ``value`` (a walk that stops at the limit)."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    if levels == 0:
        return True
    return any(nested_deeper(child, levels - 1) for child in children if isinstance(child, dict | list))


def cut_at_depth(value: Any, levels: int) -> Any:
    """``value`` with what nests deeper than ``levels`` replaced by a note: a too-deep message, kept readable."""
    if not isinstance(value, dict | list):
        return value
    if levels == 0:
        return "(the levels below were not kept)"
    if isinstance(value, dict):
        return {k: cut_at_depth(v, levels - 1) for k, v in value.items()}
    return [cut_at_depth(v, levels - 1) for v in value]


def _object(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidMessage(f"{name} must be an object")
    return value


def _channel(context: dict[str, Any], properties: dict[str, Any]) -> str | None:
    value = properties.get("channel") if isinstance(properties.get("channel"), str) else None
    if value is None and isinstance(context.get("channel"), str):
        value = context["channel"]
    return channel_name(value)


def channel_name(value: str | None) -> str | None:
    """A channel as stored: trimmed, lower case, at most 40 characters (``Store `` is ``store``)."""
    return value.strip().lower()[:40] or None if value else None


def _plain(properties: dict[str, Any], name: str, size: int = 200) -> str | None:
    """A property as text, trimmed and cut at ``size``; None when it is missing, empty or not text or a number."""
    found = properties.get(name)
    return str(found).strip()[:size] or None if isinstance(found, str | int | float) else None


def read_answer(properties: dict[str, Any]) -> dict[str, Any]:
    """A survey answer from a Feedback Submitted event: score_type nps|csat|ces and a score on its scale."""
    kind = properties.get("score_type")
    if kind not in SCALES:
        raise InvalidMessage(f"Feedback Submitted needs properties.score_type: one of {', '.join(SCALES)}")
    low, high = SCALES[kind]
    score = properties.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float | str):
        raise InvalidMessage(f"properties.score must be a number from {low} to {high}")
    try:
        value = float(score)
    except ValueError:
        raise InvalidMessage(f"properties.score must be a number from {low} to {high}") from None
    if not low <= value <= high or value != round(value):
        raise InvalidMessage(f"a {kind} score is a whole number from {low} to {high}, not {str(score)[:30]!r}")
    plain = {name: _plain(properties, name) for name in ("survey", "branch", "employee", "order_id")}
    return {"score_type": kind, "score": value, "comment": _plain(properties, "comment", 10000), **plain,
            "channel": (_plain(properties, "channel", 40) or "").lower() or None,
            "survey_version": _survey_version(properties.get("survey_version")),
            "delivered_via": (_plain(properties, "delivered_via", 20) or "").lower() or None,
            "answers": _custom_answers(properties.get("answers")), "origin": None}


def read_comment(event: str, properties: dict[str, Any]) -> dict[str, Any] | None:
    """A feedback item from a review, a chat, an email or a social mention (``COMMENT_EVENTS``): its words, with no
    score; None when it holds no text (the event is still stored)."""
    origin, places, kept = COMMENT_EVENTS[event]
    text = next((properties[p].strip() for p in places if isinstance(properties.get(p), str)
                 and properties[p].strip()), None)
    if text is None:
        return None
    extra = {k: (str(properties[k]).strip()[:300] if k != "rating" else properties[k]) for k in kept
             if isinstance(properties.get(k), str | int | float) and not isinstance(properties.get(k), bool)}

    plain = {name: _plain(properties, name) for name in ("branch", "employee", "order_id")}
    return {"score_type": "comment", "score": None, "comment": text[:10000], "survey": None, **plain,
            "channel": (_plain(properties, "channel") or "").lower()[:40] or None, "survey_version": None,
            "delivered_via": None, "answers": extra or None, "origin": origin}


def _survey_version(value: Any) -> int | None:
    """The survey version an answer names, when it is a whole number from 1 (else none is kept: the answer is not
    lost for an optional property another tool spells its own way)."""
    return value if type(value) is int and 0 < value < 2**31 else None


def _custom_answers(value: Any) -> dict[str, Any] | None:
    """The answers to a survey's custom questions: {question id: a number, text, or a list of texts}, at most 50
    (what is not in that shape is left out, and the event kept)."""
    if not isinstance(value, dict):
        return None
    kept: dict[str, Any] = {}
    for key, answer in list(value.items())[:50]:
        plain = isinstance(answer, str | int | float) and not isinstance(answer, bool)
        listed = isinstance(answer, list) and len(answer) <= 50 and all(isinstance(a, str) for a in answer)
        if len(key) <= 40 and (plain or listed):
            kept[key] = answer[:10000] if isinstance(answer, str) else [a[:1000] for a in answer] if listed \
                else answer
    return kept or None


def parse_message(
    raw: Any, *, settings: Settings, received_at: datetime, batch_sent_at: Any = None, forced_type: str | None = None
) -> Message:
    """Validate one raw message; raises InvalidMessage with a reason a sender can act on."""
    if not isinstance(raw, dict):
        raise InvalidMessage("a message must be a JSON object")
    kind = forced_type or raw.get("type")
    if kind not in TYPES:
        shown = repr(kind) if not isinstance(kind, str) or len(kind) <= 40 else repr(kind[:40]) + "…"
        raise InvalidMessage(f"unknown type {shown[:60]}; expected one of {', '.join(TYPES)}")
    context = _object(raw, "context")
    properties = _object(raw, "properties")
    traits = _object(raw, "traits")
    user_id, keys, person_traits = _who(raw, kind, context, traits, settings)
    event, order, answer = None, None, None
    if kind == "track":
        event, order, answer = _track(raw, properties, received_at)
    elif kind in ("page", "screen"):
        title = raw.get("name")
        event = title.strip()[:200] if isinstance(title, str) and title.strip() else None
    elif kind == "alias":
        previous = exact_identifier(raw.get("previousId"), "previousId")
        if previous is None or user_id is None:
            raise InvalidMessage("an alias message needs a userId and a previousId")
        keys.append(("previous_id", previous))
    elif kind == "group":
        event = _group(raw)
    timestamp = event_time(raw, received_at, batch_sent_at)
    if answer is not None and answer["origin"] and not answer["channel"]:
        answer["channel"] = _channel(context, properties)  # a review's channel: where the event says it happened
    return Message(
        message_id=_message_id(raw),
        type=kind,
        event=event,
        channel=_channel(context, properties),
        timestamp=timestamp,
        keys=keys,
        traits=person_traits,
        properties=properties,
        payload=raw,
        alias=kind == "alias",
        trait_source="identify" if kind == "identify" else kind,
        order=order,
        answer=answer,
    )


def _who(raw: dict[str, Any], kind: str, context: dict[str, Any], traits: dict[str, Any],
         settings: Settings) -> tuple[str | None, list[Key], dict[str, Any]]:
    """The userId, the identifiers (userId, anonymousId and those among the person's traits) and the person's
    traits (the context's, and an identify's own)."""
    user_id = exact_identifier(raw.get("userId"), "userId")
    anonymous_id = exact_identifier(raw.get("anonymousId"), "anonymousId")
    if user_id is None and anonymous_id is None:
        raise InvalidMessage("a message needs a userId or an anonymousId")
    keys: list[Key] = []
    if user_id is not None:
        keys.append(("user_id", user_id))
    if anonymous_id is not None:
        keys.append(("anonymous_id", anonymous_id))
    person_traits = dict(_object(context, "traits"))
    if kind == "identify":
        person_traits.update(traits)
    for name in ("loyalty_id", "loyaltyId", *settings.custom_identifiers):
        if name in person_traits:  # identifiers kept as sent, like userId: checked the same way
            exact_identifier(person_traits[name], f"traits.{name}")
    keys.extend(identifiers_from_traits(person_traits, settings))
    return user_id, keys, person_traits


def _track(raw: dict[str, Any], properties: dict[str, Any],
           received_at: datetime) -> tuple[str, OrderFacts | None, dict[str, Any] | None]:
    """A track message's event name, and the order or the survey answer it carries."""
    event = raw.get("event")
    if not isinstance(event, str) or not event.strip():
        raise InvalidMessage("a track message needs an event name")
    event = event.strip()[:200]
    answer = read_answer(properties) if event == "Feedback Submitted" else \
        read_comment(event, properties) if event in COMMENT_EVENTS else None
    order = None
    if event in ORDER_EVENTS:
        if normalize_plain(properties.get("order_id")) is None:
            raise InvalidMessage(f"{event} needs properties.order_id")
        try:
            order = read_order(event, properties)
        except InvalidOrder as exc:
            raise InvalidMessage(str(exc)) from None
        if order.promised is not None:
            plausible_promise(order.promised, received_at)
    return event, order, answer


def _group(raw: dict[str, Any]) -> str | None:
    """A group message's groupId, kept as its event name (whole)."""
    group = raw.get("groupId")
    if isinstance(group, str) and len(group.strip()) > MAX_EVENT:
        raise InvalidMessage(f"groupId is longer than {MAX_EVENT} characters")
    return exact_identifier(group, "groupId")


def _message_id(raw: dict[str, Any]) -> str:
    """The messageId as sent (one is made when there is none)."""
    message_id = normalize_plain(raw.get("messageId")) or f"gen-{uuid.uuid4()}"
    if len(message_id) > MAX_MESSAGE_ID or isinstance(raw.get("messageId"), float):
        # cut short or rounded, two messages would share an id and the second be dropped as a retry
        raise InvalidMessage(f"messageId must be a string of at most {MAX_MESSAGE_ID} characters")
    return message_id
