"""One contact policy per customer, across every purpose: the pure decision, with no database in sight.

Every message to a customer asks :func:`decide` with what is known about the customer (consent, what was sent and
what waits, time zone, suppressions). The answer is ``sent``, ``deferred`` (with when), ``suppressed`` (a rule
or a missing consent says no) or ``dropped`` (it could not go before it stopped being relevant), with the reason
in words a manager can read. The checks, in order:

1. suppression rules (an erased customer, a recent unsubscribe, later an open recovery case);
2. consent for the message's consent purpose on its channel: a denial on the channel or on ``any`` always wins;
   else a grant on either allows; else the purpose's default (``CHERISH_CONSENT_DEFAULTS``);
3. survey fatigue: no survey within ``survey_fatigue_days`` of the last survey sent to the customer (a survey is a
   ``feedback`` message whose topic starts ``survey:``; its reminder, ``survey reminder:``, is not a new survey);
4. quiet hours in the customer's time zone (not for service messages): deferred to their end, never dropped for
   that unless it would be too late;
5. frequency caps over rolling windows, in total and per channel (service messages exempt): a message over a cap
   waits for the oldest in the window to age out, or is dropped when that would be too late. Waiting messages are
   decided again in the order of their purposes (``PRIORITY``), so a higher purpose takes the first free place
   from a lower one that is not yet sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from cherish.config import parse_cap

# Highest first. Recovery and gesture messages ask consent as service and marketing.
PURPOSES = ("service", "recovery", "feedback", "gesture", "marketing")
PRIORITY = {purpose: len(PURPOSES) - rank for rank, purpose in enumerate(PURPOSES)}
CONSENT_PURPOSE = {"service": "service", "recovery": "service", "feedback": "feedback", "gesture": "marketing",
                   "marketing": "marketing"}
OUTCOMES = ("sent", "deferred", "suppressed", "dropped")
CHANNELS = ("email", "sms", "app")  # where cherish can reach a customer: email itself, the others by a sender
SURVEY_TOPIC = "survey:"  # the topic of a survey invitation: "survey: <survey name>"


def is_survey(purpose: str, topic: str) -> bool:
    """Whether a message is a survey invitation (what survey fatigue counts)."""
    return purpose == "feedback" and topic.startswith(SURVEY_TOPIC)


@dataclass(frozen=True)
class Cap:
    """At most ``limit`` messages in any ``days`` days (on ``channel``, or on every channel together)."""

    limit: int
    days: int
    channel: str | None = None

    @classmethod
    def parse(cls, text: str, channel: str | None = None) -> Cap:
        """``"2/7d"``: at most 2 in 7 days."""
        limit, days = parse_cap(text)
        return cls(limit, days, channel)

    def __str__(self) -> str:
        where = f" on {self.channel}" if self.channel else ""
        return f"{self.limit} in {self.days} day{'s' if self.days != 1 else ''}{where}"


@dataclass(frozen=True)
class Rules:
    """The policy's settings: consent defaults per consent purpose, caps, exempt purposes, quiet hours."""

    consent_defaults: dict[str, str]
    caps: tuple[Cap, ...]
    exempt: frozenset[str] = frozenset({"service"})
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(8, 0)
    zone: ZoneInfo = ZoneInfo("UTC")
    survey_fatigue_days: int = 30


@dataclass(frozen=True)
class Sent:
    """A message that went out, as the caps count it."""

    at: datetime
    channel: str
    purpose: str
    survey: bool = False  # a survey invitation (not its reminder)


@dataclass
class Customer:
    """What the policy knows of one customer."""

    consent: dict[tuple[str, str], str] = field(default_factory=dict)  # (purpose, channel) → granted | denied
    contacts: list[Sent] = field(default_factory=list)  # what was sent, any order
    zone: ZoneInfo | None = None
    suppressions: list[tuple[str, frozenset[str] | None, frozenset[str] | None]] = field(default_factory=list)
    # (reason, purposes or None for all, channels or None for all)


@dataclass(frozen=True)
class Request:
    purpose: str
    channel: str
    at: datetime  # when it would go out (aware)
    expires_at: datetime
    survey: bool = False


@dataclass
class Decision:
    outcome: str
    reason: str
    send_at: datetime | None = None  # sent: now; deferred: when to decide again


def _consent(customer: Customer, rules: Rules, purpose: str, channel: str) -> tuple[bool, str]:
    asked = CONSENT_PURPOSE[purpose]
    on_channel, on_any = customer.consent.get((asked, channel)), customer.consent.get((asked, "any"))
    if "denied" in (on_channel, on_any):
        where = channel if on_channel == "denied" else "any channel"
        return False, f"consent for {asked} on {where} is denied"
    if "granted" in (on_channel, on_any):
        return True, ""
    default = rules.consent_defaults.get(asked, "denied")
    if default == "granted":
        return True, ""
    return False, f"no consent for {asked} was given (the default for {asked} is to ask first)"


def _quiet_until(rules: Rules, zone: ZoneInfo, at: datetime) -> datetime | None:
    """When the quiet hours around ``at`` end, in the customer's zone; None outside them."""
    if rules.quiet_start is None or rules.quiet_end is None or rules.quiet_start == rules.quiet_end:
        return None
    local = at.astimezone(zone)
    now = local.time()
    start, end = rules.quiet_start, rules.quiet_end
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside:
        return None
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def _in_window(contacts: list[Sent], cap: Cap, at: datetime) -> list[datetime]:
    since = at - timedelta(days=cap.days)
    return [c.at for c in contacts if since < c.at <= at and (cap.channel is None or c.channel == cap.channel)]


def _fatigued(customer: Customer, request: Request, rules: Rules) -> Decision | None:
    """A survey within the fatigue window of the last one sent is suppressed."""
    if not request.survey or not rules.survey_fatigue_days:
        return None
    last = max((c.at for c in customer.contacts if c.survey and c.at <= request.at), default=None)
    if last is None or last <= request.at - timedelta(days=rules.survey_fatigue_days):
        return None
    return Decision("suppressed", f"a survey went to the customer on {last:%Y-%m-%d}: none within "
                                  f"{rules.survey_fatigue_days} days of the last")


def decide(customer: Customer, request: Request, rules: Rules) -> Decision:
    """The decision for one message (see the module's notes)."""
    for reason, purposes, channels in customer.suppressions:
        if (purposes is None or request.purpose in purposes) and (channels is None or request.channel in channels):
            return Decision("suppressed", reason)
    allowed, why = _consent(customer, rules, request.purpose, request.channel)
    if not allowed:
        return Decision("suppressed", why)
    at = request.at
    waits = _fatigued(customer, request, rules) or _quiet(customer, request, rules)
    if waits:
        return waits
    if request.purpose in rules.exempt:
        return Decision("sent", f"{request.purpose} messages are not capped", send_at=at)
    return _capped(customer, request, rules) or Decision(
        "sent", "consent given, outside quiet hours and within the caps", send_at=at)


def _quiet(customer: Customer, request: Request, rules: Rules) -> Decision | None:
    if request.purpose == "service":
        return None
    until = _quiet_until(rules, customer.zone or rules.zone, request.at)
    if until is None:
        return None
    if until > request.expires_at:
        return Decision("dropped", "quiet hours last until after the message stops being relevant")
    return Decision("deferred", f"quiet hours in the customer's time zone until {until:%H:%M}", send_at=until)


def _capped(customer: Customer, request: Request, rules: Rules) -> Decision | None:
    counted = [c for c in customer.contacts if c.purpose not in rules.exempt]
    for cap in rules.caps:
        if cap.channel is not None and cap.channel != request.channel:
            continue
        taken = sorted(_in_window(counted, cap, request.at))
        if len(taken) < cap.limit:
            continue
        free_at = taken[len(taken) - cap.limit] + timedelta(days=cap.days)
        if free_at > request.expires_at:
            return Decision("dropped", f"the contact cap ({cap}) is reached, and no place frees up in time")
        return Decision("deferred", f"the contact cap ({cap}) is reached; a place frees up "
                                    f"{free_at:%Y-%m-%d %H:%M} UTC", send_at=free_at)
    return None
