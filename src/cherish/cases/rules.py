"""Case rules as data, and the priority of a case: pure functions over signals, with no database in sight.

A signal is something that may call for a case: an ``answer`` (its verdict by the metrics' thresholds), a
``comment`` (its sentiment and urgency signals), a broken ``promise``, ``support`` contacts about one topic, an
``incident``. A rule's condition names the signal and what it must carry::

    {"signal": "answer", "verdicts": ["detractor", "unhappy", "high effort"]}
    {"signal": "comment", "sentiment": "negative", "urgency": ["churn", "public"]}
    {"signal": "promise", "kinds": ["delivery"]}
    {"signal": "support", "times": 3, "days": 14}
    {"signal": "incident"}

and optionally ``channels`` or ``branches`` it is kept to. Rules are tried in order; the first that matches a
signal decides its case (an NPS 2 that says "I will cancel" is one urgent complaint, not also an unhappy answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cherish.errors import InvalidInput

SIGNALS = ("answer", "comment", "promise", "support", "incident")
VERDICTS = ("detractor", "unhappy", "high effort")
URGENCY = ("churn", "public", "legal or safety", "repeated contact")
SENTIMENTS = ("negative", "neutral", "positive")
PRIORITIES = ("urgent", "high", "normal", "low")  # highest first
PROMISE_KINDS = ("delivery", "callback", "refund", "other")
_FILTERS = ("channels", "branches")
_FIELDS = {"answer": ("verdicts",), "comment": ("sentiment", "urgency"), "promise": ("kinds",),
           "support": ("times", "days", "topics"), "incident": ()}
# what each reason weighs before the customer's value, stage and reach
REASON_WEIGHT = {"urgent complaint": 3, "broken promise": 2, "repeated contact": 2, "unhappy answer": 1,
                 "incident": 1}

BUILTIN: list[dict[str, Any]] = [
    {"name": "urgent-comment", "reason": "urgent complaint", "position": 10,
     "condition": {"signal": "comment", "sentiment": "negative", "urgency": list(URGENCY)},
     "actions": {}, "description": "A negative comment that threatens to leave or go public, raises a legal or "
                                   "safety matter or says it is not the first time."},
    {"name": "unhappy-answer", "reason": "unhappy answer", "position": 20,
     "condition": {"signal": "answer", "verdicts": list(VERDICTS)},
     "actions": {}, "description": "An NPS of 0-6, a CSAT of 1-2 or a CES of 1-3 (the metrics' thresholds)."},
    {"name": "broken-promise", "reason": "broken promise", "position": 30, "condition": {"signal": "promise"},
     "actions": {"priority": "high"}, "description": "A promise (a delivery date, a callback, a refund) was not "
                                                     "kept; minor ones get an apology instead."},
    {"name": "repeated-contact", "reason": "repeated contact", "position": 40,
     "condition": {"signal": "support", "times": 3, "days": 14},
     "actions": {}, "description": "The third support contact about the same topic within 14 days."},
    {"name": "incident", "reason": "incident", "position": 50, "condition": {"signal": "incident"},
     "actions": {}, "description": "An incident a manager declared with cases for the customers it touched."},
]


@dataclass
class Signal:
    """Something that happened to one customer that a rule may turn into a case (``key``: what it was, so that
    the same signal never counts twice on a case)."""

    kind: str
    customer_id: str
    at: datetime
    key: str
    summary: str
    verdict: str | None = None
    sentiment: str | None = None
    urgency: list[str] = field(default_factory=list)
    channel: str | None = None
    branch: str | None = None
    topic: str | None = None
    times: int = 1  # support contacts about ``topic`` within the longest window a rule looks at
    contacts: list[datetime] = field(default_factory=list)  # when each of those was made
    promise_kind: str | None = None
    minor: bool = False
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _strings(raw: Any, name: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x.strip() for x in raw):
        raise InvalidInput(f"a rule's {name} is a non-empty list of names")
    if allowed is not None:
        wrong = [x for x in raw if x not in allowed]
        if wrong:
            raise InvalidInput(f"{wrong[0]!r} is not one of the {name}: {', '.join(allowed)}")
    return [x.strip()[:200] for x in raw][:50]


def check_condition(raw: Any) -> dict[str, Any]:
    """The condition as stored, or a clear error."""
    if not isinstance(raw, dict) or raw.get("signal") not in SIGNALS:
        raise InvalidInput(f"a rule's condition names its signal: {{\"signal\": one of {', '.join(SIGNALS)}}}")
    kind = raw["signal"]
    allowed = {"signal", *_FILTERS, *_FIELDS[kind]}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise InvalidInput(f"a {kind} rule has no {extra[0]!r}; it takes {', '.join(sorted(allowed - {'signal'}))}")
    found: dict[str, Any] = {"signal": kind}
    for name in _FILTERS:
        if name in raw:
            found[name] = _strings(raw[name], name)
    _CHECKS[kind](raw, found)
    return found


def _answer(raw: dict[str, Any], found: dict[str, Any]) -> None:
    found["verdicts"] = _strings(raw.get("verdicts", list(VERDICTS)), "verdicts", VERDICTS)


def _comment(raw: dict[str, Any], found: dict[str, Any]) -> None:
    if raw.get("sentiment", "negative") not in SENTIMENTS:
        raise InvalidInput(f"a comment rule's sentiment is one of {', '.join(SENTIMENTS)}")
    found["sentiment"] = raw.get("sentiment", "negative")
    found["urgency"] = _strings(raw.get("urgency", list(URGENCY)), "urgency", URGENCY)


def _promise(raw: dict[str, Any], found: dict[str, Any]) -> None:
    if "kinds" in raw:
        found["kinds"] = _strings(raw["kinds"], "kinds", PROMISE_KINDS)


def _support(raw: dict[str, Any], found: dict[str, Any]) -> None:
    for name, low, high, default in (("times", 2, 100, 3), ("days", 1, 365, 14)):
        value = raw.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(f"a support rule's {name} is a whole number from {low} to {high}")
        found[name] = value
    if "topics" in raw:
        found["topics"] = _strings(raw["topics"], "topics")


_CHECKS = {"answer": _answer, "comment": _comment, "promise": _promise, "support": _support,
           "incident": lambda raw, found: None}


def check_actions(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"team", "priority"}:
        raise InvalidInput("a rule's actions are {\"team\": a team's name, \"priority\": the least it gets}")
    found: dict[str, Any] = {}
    if raw.get("priority") is not None:
        if raw["priority"] not in PRIORITIES:
            raise InvalidInput(f"a priority is one of {', '.join(PRIORITIES)}")
        found["priority"] = raw["priority"]
    if raw.get("team") is not None:
        if not isinstance(raw["team"], str) or not 0 < len(raw["team"].strip()) <= 80:
            raise InvalidInput("a team's name has 1 to 80 characters")
        found["team"] = raw["team"].strip()
    return found


def matches(condition: dict[str, Any], signal: Signal) -> bool:
    """Whether ``signal`` is what ``condition`` asks for."""
    if condition.get("signal") != signal.kind:
        return False
    if "channels" in condition and signal.channel not in condition["channels"]:
        return False
    if "branches" in condition and signal.branch not in condition["branches"]:
        return False
    kind = signal.kind
    if kind == "answer":
        return signal.verdict in condition.get("verdicts", VERDICTS)
    if kind == "comment":
        return (signal.sentiment == condition.get("sentiment", "negative")
                and bool(set(signal.urgency) & set(condition.get("urgency", URGENCY))))
    if kind == "promise":
        return not signal.minor and signal.promise_kind in condition.get("kinds", PROMISE_KINDS)
    if kind == "support":
        since = signal.at - timedelta(days=condition.get("days", 14))
        within = sum(1 for at in signal.contacts if since <= at <= signal.at) if signal.contacts else signal.times
        return within >= condition.get("times", 3) and ("topics" not in condition
                                                         or signal.topic in condition["topics"])
    return True


@dataclass(frozen=True)
class Standing:
    """What is known of the customer's worth to the business: lifetime value (when analytics has run) or revenue,
    and where that stands among customers (``top``: 10 or 25 for the top tenth or quarter), and their stage."""

    measure: str = "revenue"  # "lifetime value" or "revenue"
    value: float | None = None
    top: int | None = None
    stage: str | None = None


def priority(reason: str, signal: Signal, standing: Standing, floor: str | None = None) -> tuple[str, list[str]]:
    """The case's priority and why, in words an agent reads on the case."""
    points = REASON_WEIGHT.get(reason, 1)
    why = [f"{reason} (+{points})"]
    if "public" in signal.urgency:
        points += 2
        why.append("says they will take it public (+2)")
    elif "churn" in signal.urgency:
        points += 1
        why.append("says they will leave (+1)")
    if standing.top == 10:
        points += 2
        why.append(f"{standing.measure} among the top tenth of customers (+2)")
    elif standing.top == 25:
        points += 1
        why.append(f"{standing.measure} among the top quarter of customers (+1)")
    if standing.stage in ("loyal", "won back"):
        points += 1
        why.append(f"a {standing.stage} customer (+1)")
    elif standing.stage == "at risk":
        points += 1
        why.append("already at risk of leaving (+1)")
    level = "urgent" if points >= 5 else "high" if points >= 3 else "normal"
    if floor and PRIORITIES.index(floor) < PRIORITIES.index(level):
        why.append(f"the rule asks for {floor} at least")
        level = floor
    return level, why
