"""Login throttling: per account and per address, delays that grow with each failure, counted in the store.

A handful of mistakes costs nothing; after that each failure doubles the wait before the next attempt is even
looked at, up to a quarter of an hour. The counts live in the store, not in memory, so `cherish serve --workers N`
throttles as one. An account's count ends with a successful login; an address's count (shared by an office behind
one router, so allowed more) and any count left alone for a day are forgotten."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.orm import Session

from cherish.access.models import LoginFailure
from cherish.db.base import table_of
from cherish.db.dialects import insert_for
from cherish.errors import TooManyAttempts

FREE_FAILURES = {"account": 5, "address": 20}
LONGEST_WAIT = timedelta(minutes=15)
FORGOTTEN_AFTER = timedelta(days=1)


def throttle_keys(pepper: str, *, account: str, address: str | None) -> dict[str, str]:
    """The store's keys for an account and an address: keyed hashes, so the table holds no name or address."""

    def key(kind: str, value: str) -> str:
        return hmac.new(pepper.encode(), f"login:{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    keys = {"account": key("account", account.strip().casefold())}
    if address:
        keys["address"] = key("address", address)
    return keys


def delay_after(failures: int, kind: str) -> timedelta:
    """The wait after the ``failures``-th failure in a row: none for the free ones, then 2, 4, 8 … seconds."""
    excess = failures - FREE_FAILURES[kind]
    if excess <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(excess, 20)), LONGEST_WAIT)


def admit(session: Session, keys: dict[str, str], *, now: datetime) -> None:
    """Let one login attempt through, counted as a failure until it succeeds; TooManyAttempts while it must wait.

    Counted before the password is checked, and in one statement per key that locks its row: attempts sent at
    once, from any number of processes, are counted one after the other and each sees the waits the others
    started. An attempt told to wait is not counted: the error rolls the transaction back."""
    insert = insert_for(session)
    table = table_of(LoginFailure)
    blocked = table.c.blocked_until > now
    waits, delays = [], []
    for kind, key in keys.items():
        stmt = insert(table).values(key=key, failures=1, last_failed_at=now, blocked_until=None)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
            "failures": case((blocked, table.c.failures),
                             (table.c.last_failed_at < now - FORGOTTEN_AFTER, 1), else_=table.c.failures + 1),
            "last_failed_at": case((blocked, table.c.last_failed_at), else_=now),
        }).returning(table.c.failures, table.c.blocked_until)  # blocked_until as it was: the update leaves it
        failures, until = session.execute(stmt).one()._tuple()
        if until is not None and until > now:
            waits.append(math.ceil((until - now).total_seconds()))
        delays.append((key, delay_after(failures, kind)))
    if waits:
        raise TooManyAttempts(f"too many failed logins for this account or from this address: try again in "
                              f"{max(waits)} seconds", retry_after=max(waits))
    for key, delay in delays:
        if delay:
            session.execute(update(table).where(table.c.key == key).values(blocked_until=now + delay))


def record_success(session: Session, keys: dict[str, str]) -> None:
    """The attempt admitted was right: the account's count starts again; the address's loses this attempt (and no
    more, or logging in to one account would clear the failures against others from the same address)."""
    table = table_of(LoginFailure)
    session.execute(delete(table).where(table.c.key == keys["account"]))
    if "address" in keys:
        session.execute(update(table).where(table.c.key == keys["address"], table.c.failures > 0)
                        .values(failures=table.c.failures - 1))
