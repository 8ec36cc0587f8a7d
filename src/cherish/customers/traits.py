"""What identify calls say about a person besides identifiers: traits (latest wins), name and consent."""

from __future__ import annotations

from typing import Any

from cherish.customers.models import CHANNELS, PURPOSES

_GRANTED = {True, "granted", "yes", "true", "opt_in", "opted_in", "subscribed"}
_DENIED = {False, "denied", "no", "false", "opt_out", "opted_out", "unsubscribed"}
NAME_TRAITS = ("name", "firstName", "first_name", "lastName", "last_name")
# Traits that are identifiers or consent: kept in their own tables, not as traits.
NOT_TRAITS = frozenset({"email", "phone", "loyalty_id", "loyaltyId", "consent"})


def consent_status(value: Any) -> str | None:
    """'granted', 'denied', or None when ``value`` says neither."""
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, bool | int | str):
        if key in _GRANTED:
            return "granted"
        if key in _DENIED:
            return "denied"
    return None


def consent_from_traits(traits: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Consent given in traits as ``{"consent": {"marketing": {"email": true}, "feedback": false}}``."""
    given = traits.get("consent")
    if not isinstance(given, dict):
        return []
    found = []
    for purpose, value in given.items():
        if purpose not in PURPOSES:
            continue
        if isinstance(value, dict):
            for channel, status in value.items():
                state = consent_status(status)
                if state and channel in CHANNELS:
                    found.append((purpose, channel, state))
        elif (state := consent_status(value)) is not None:
            found.append((purpose, "any", state))
    return found


def display_name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:300]
    first = traits.get("firstName", traits.get("first_name"))
    last = traits.get("lastName", traits.get("last_name"))
    parts = [p.strip() for p in (first, last) if isinstance(p, str) and p.strip()]
    return " ".join(parts)[:300] or None
