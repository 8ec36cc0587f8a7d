"""What identify calls say about a person besides identifiers: traits (latest wins), name and consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cherish.customers.consent import CHANNELS, PURPOSES
from cherish.customers.models import Consent, Trait
from cherish.db.dialects import distinct_from, raw_executemany, raw_rows, read_time, upsert
from cherish.domain_events import service as domain_events

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


class ProfileRows:
    """The traits, consent and display names that messages give their customers: one rule for intake, the bulk
    import and a split's replay. Per customer a trait keeps its latest value (by the message's time), consent
    and the display name what the last message added said."""

    def __init__(self, *, announce: bool = True) -> None:
        self.announce = announce  # consent that changes is a domain event (not when a split replays history)
        self.traits: dict[tuple[str, str], dict[str, Any]] = {}
        self.consent: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.names: dict[str, str] = {}

    def add(self, customer_id: str, traits: dict[str, Any], *, at: datetime, source: str) -> None:
        """What one message's person traits say (``source`` is the message's type)."""
        for name, value in traits.items():
            if name in NOT_TRAITS or not isinstance(name, str) or not name:
                continue
            key = (customer_id, name[:200])
            current = self.traits.get(key)
            if current is None or current["updated_at"] <= at:
                self.traits[key] = {"customer_id": customer_id, "name": name[:200], "value": value,
                                    "source": source, "updated_at": at}
        for purpose, channel, status in consent_from_traits(traits):
            self.consent[(customer_id, purpose, channel)] = {
                "customer_id": customer_id, "purpose": purpose, "channel": channel, "status": status,
                "at": at, "source": source,
            }
        shown = display_name(traits)
        if shown:
            self.names[customer_id] = shown

    def remap(self, loser: str, survivor: str) -> None:
        """Rows not yet written of a customer folded into another: the survivor's, the latest of both kept."""
        for key in [k for k in self.traits if k[0] == loser]:
            row = self.traits.pop(key)
            current = self.traits.get((survivor, key[1]))
            if current is None or current["updated_at"] <= row["updated_at"]:
                self.traits[(survivor, key[1])] = {**row, "customer_id": survivor}
        for ckey in [k for k in self.consent if k[0] == loser]:
            row = self.consent.pop(ckey)
            current = self.consent.get((survivor, ckey[1], ckey[2]))
            if current is None or current["at"] <= row["at"]:
                self.consent[(survivor, ckey[1], ckey[2])] = {**row, "customer_id": survivor}
        if loser in self.names:
            self.names.setdefault(survivor, self.names.pop(loser))

    def store(self, session: Session) -> None:
        """Write what was gathered beside what is stored (an older value never replaces a newer) and start over."""
        upsert(session, Trait, list(self.traits.values()), index=("customer_id", "name"),
               update=("value", "source", "updated_at"), newer_than="updated_at")
        consent = list(self.consent.values())
        if self.announce:
            announce_consent(session, consent)
        upsert(session, Consent, consent, index=("customer_id", "purpose", "channel"),
               update=("status", "source", "at"), newer_than="at")
        store_names(session, self.names)
        self.traits, self.consent, self.names = {}, {}, {}


def announce_consent(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record ``consent.changed`` for each row (customer_id, purpose, channel, status, at, source) about to be
    stored that changes what is stored: a first answer, or a newer one that says otherwise."""
    if not rows:
        return
    customers = sorted({row["customer_id"] for row in rows})
    stored = {}  # read straight from the driver: this sits on intake's path
    for start in range(0, len(customers), 500):
        part = customers[start:start + 500]
        for c, p, ch, status, at in raw_rows(
                session, f"SELECT customer_id, purpose, channel, status, at FROM consent WHERE customer_id IN "
                         f"({', '.join('?' * len(part))})", part):
            stored[(c, p, ch)] = (status, read_time(at))
    changed = []
    for row in rows:
        before = stored.get((row["customer_id"], row["purpose"], row["channel"]))
        if before is None or (before[1] <= row["at"] and before[0] != row["status"]):
            changed.append((row["customer_id"], {
                "purpose": row["purpose"], "channel": row["channel"], "status": row["status"],
                "previous": before[0] if before else None, "source": row["source"], "at": row["at"].isoformat()}))
    domain_events.record(session, "consent.changed", changed)


def store_names(session: Session, names: dict[str, str]) -> None:
    """Set the display names of written customers (by id), only where it changed: every update of a name moves
    it in the name index."""
    if names:
        raw_executemany(session, f"UPDATE customers SET name = ? WHERE id = ? AND name {distinct_from(session)} ?",
                        [(name, customer_id, name) for customer_id, name in names.items()])
