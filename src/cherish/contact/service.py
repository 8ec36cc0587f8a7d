"""The contact log and what the policy needs to know about customers, read in bulk."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cherish.config import Settings, parse_quiet_hours
from cherish.contact import policy, policy_settings
from cherish.contact.models import Contact, Hold, SuppressionRule
from cherish.customers import service as customers
from cherish.db.dialects import insert_ignore
from cherish.errors import NotFound

BUILTIN_SUPPRESSIONS: list[dict[str, Any]] = [
    {"name": "erased", "condition": "erased", "days": None, "purposes": None, "channels": None, "enabled": True,
     "description": "Nothing goes to a customer who was erased."},
    {"name": "after-unsubscribe", "condition": "unsubscribed", "days": 30, "purposes": None, "channels": None,
     "enabled": True,
     "description": "For 30 days after an unsubscribe, nothing of that purpose on any channel: one click means no."},
    {"name": "open-case", "condition": "open_case", "days": None, "purposes": ["feedback", "gesture", "marketing"],
     "channels": None, "enabled": True,
     "description": "While a recovery case is open, no survey, gesture or marketing: put it right first (replies "
                    "from the case and service messages still go)."},
]


def rules_of(settings: Settings) -> policy.Rules:
    caps = [policy.Cap.parse(text) for text in settings.contact_caps]
    caps += [policy.Cap.parse(text, channel) for channel, texts in settings.contact_channel_caps.items()
             for text in texts]
    start, end = parse_quiet_hours(settings.quiet_hours)
    return policy.Rules(consent_defaults=dict(settings.consent_defaults), caps=tuple(caps),
                        quiet_start=start, quiet_end=end, zone=settings.zone,
                        survey_fatigue_days=settings.survey_fatigue_days)


def rules_in_force(session: Session, settings: Settings) -> policy.Rules:
    """The policy's rules as they stand: the settings, with what was set on the dashboard or through the API."""
    return rules_of(policy_settings.in_force(session, settings))


def set_rule_enabled(session: Session, name: str, enabled: bool) -> None:
    """Turn a suppression rule on or off, by name."""
    rule = next((r for r in suppression_rules(session) if r.name == name), None)
    if rule is None:
        raise NotFound(f"no suppression rule {name[:80]!r}")
    rule.enabled = enabled
    session.flush()


def ensure_rules(session: Session) -> None:
    insert_ignore(session, SuppressionRule, BUILTIN_SUPPRESSIONS, index=("name",))


def suppression_rules(session: Session) -> list[SuppressionRule]:
    """The rules, the built-in ones stored the first time they are asked for (not on every decision)."""
    rules = list(session.scalars(select(SuppressionRule).order_by(SuppressionRule.name)))
    if {r["name"] for r in BUILTIN_SUPPRESSIONS} <= {r.name for r in rules}:
        return rules
    ensure_rules(session)  # (a store made before a built-in rule existed gets it too)
    return list(session.scalars(select(SuppressionRule).order_by(SuppressionRule.name)))


def _zone(value: Any) -> ZoneInfo | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a trait nobody checked: the business's zone holds


def _purposes_of(consent_purpose: str) -> frozenset[str]:
    return frozenset(p for p, asked in policy.CONSENT_PURPOSE.items() if asked == consent_purpose)


def load(session: Session, settings: Settings, customer_ids: list[str], now: datetime,
         rules: policy.Rules | None = None) -> dict[str, policy.Customer]:
    """What the policy knows of each customer: consent, what was sent within the longest cap's window, time zone,
    suppressions."""
    rules = rules or rules_of(settings)
    ids = sorted(set(customer_ids))
    states = {cid: policy.Customer() for cid in ids}
    consent = customers.consent_for(session, ids)
    for cid, zone in customers.trait_for(session, ids, "timezone").items():
        states[cid].zone = _zone(zone)
    longest = max([cap.days for cap in rules.caps] + [rules.survey_fatigue_days])
    since = now - timedelta(days=longest)
    for start in range(0, len(ids), 500):
        for cid, at, channel, purpose, topic in session.execute(
                select(Contact.customer_id, Contact.send_at, Contact.channel, Contact.purpose, Contact.topic)
                .where(Contact.customer_id.in_(ids[start:start + 500]), Contact.outcome == "sent",
                       Contact.send_at > since)):
            states[cid].contacts.append(policy.Sent(at or now, channel, purpose, policy.is_survey(purpose, topic)))
    active = [r for r in suppression_rules(session) if r.enabled]
    erased = customers.erased_among(session, ids) if any(r.condition == "erased" for r in active) else set()
    held = _held(session, ids) if any(r.condition == "open_case" for r in active) else {}
    for cid, state in states.items():
        rows = consent.get(cid, [])
        for purpose, channel, status, _, _ in sorted(rows, key=lambda r: r[3]):
            state.consent[(purpose, channel)] = status
        for rule in active:
            purposes = frozenset(rule.purposes) if rule.purposes else None
            channels = frozenset(rule.channels) if rule.channels else None
            if rule.condition == "erased" and cid in erased:
                state.suppressions.append((f"suppressed by rule {rule.name}: the customer was erased", None, None))
            elif rule.condition == "open_case" and cid in held:
                state.suppressions.append((f"suppressed by rule {rule.name}: a recovery case is open since "
                                           f"{held[cid]:%Y-%m-%d}", purposes, channels))
            elif rule.condition == "unsubscribed":
                for purpose, channel, status, at, source in rows:
                    if (source == "unsubscribe" and status == "denied" and purpose != "service"
                            and at > now - timedelta(days=rule.days or 0)):
                        stopped = _purposes_of(purpose) & purposes if purposes else _purposes_of(purpose)
                        state.suppressions.append((
                            f"suppressed by rule {rule.name}: unsubscribed from {purpose} on {channel} on "
                            f"{at:%Y-%m-%d}", stopped, channels))
    return states


def _held(session: Session, ids: list[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        for cid, since in session.execute(select(Hold.customer_id, Hold.since).where(
                Hold.customer_id.in_(ids[start:start + 500]), Hold.kind == "open_case")):
            found[cid] = min(since, found.get(cid, since))
    return found


def hold(session: Session, *, key: str, customer_id: str, kind: str, since: datetime) -> None:
    """Hold back messages from a customer for ``kind`` (``open_case``) until :func:`lift` is called with ``key``."""
    insert_ignore(session, Hold, [{"key": key, "customer_id": customer_id, "kind": kind, "since": since}],
                  index=("key",))


def lift(session: Session, key: str) -> None:
    session.execute(delete(Hold).where(Hold.key == key))


def contacts_page(session: Session, customer_ids: list[str], *, before: int | None, limit: int) -> list[Contact]:
    """A customer's contacts, newest first, from before the id ``before``."""
    query = select(Contact).where(Contact.customer_id.in_(customer_ids))
    if before is not None:
        query = query.where(Contact.id < before)
    return list(session.scalars(query.order_by(Contact.id.desc()).limit(limit)))


def waiting(session: Session, customer_ids: list[str]) -> list[Contact]:
    """Deferred contacts of a customer, soonest first: what goes out next, and when."""
    return list(session.scalars(select(Contact).where(Contact.customer_id.in_(customer_ids),
                                                      Contact.outcome == "deferred").order_by(Contact.send_at)))


def sent_times(session: Session, keys: list[str]) -> dict[str, datetime]:
    """When each of the contacts ``keys`` went out, for those that did."""
    found: dict[str, datetime] = {}
    for start in range(0, len(keys), 500):
        found.update((key, at) for key, at in session.execute(
            select(Contact.key, Contact.send_at).where(Contact.key.in_(keys[start:start + 500]),
                                                       Contact.outcome == "sent")) if at is not None)
    return found


def sent_between(session: Session, customer_ids: list[str], since: datetime | None, until: datetime | None, *,
                 channel: str | None = None, limit: int = 500) -> list[Contact]:
    """The messages that went to the customer from ``since`` to before ``until`` (either open), newest first."""
    query = select(Contact).where(Contact.customer_id.in_(customer_ids), Contact.outcome == "sent")
    if since is not None:
        query = query.where(Contact.send_at >= since)
    if until is not None:
        query = query.where(Contact.send_at < until)
    if channel:
        query = query.where(Contact.channel == channel)
    return list(session.scalars(query.order_by(Contact.send_at.desc(), Contact.id.desc()).limit(limit)))
