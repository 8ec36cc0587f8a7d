"""Stitching: the identifiers of each message are linked to one customer, merging customers where they meet.

The resolver works on a whole batch inside the caller's transaction: it looks identifiers up in bulk, keeps
what it learns in memory, and writes new customers and identifiers in bulk when the caller flushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.service import insert_new
from cherish.db.base import new_id, utcnow
from cherish.db.dialects import bulk_insert_columns, raw_executemany, raw_rows, read_time
from cherish.identity.merge import merge_customers, never_merge_pairs, propose_review
from cherish.identity.models import STRENGTH, Identifier
from cherish.identity.normalize import Key, normalize

_CHUNK = 2000


def _strength(key: Key) -> int:
    try:
        return STRENGTH.index(key[0])
    except ValueError:  # custom identifier types rank after the loyalty id, before email
        return 2


@dataclass
class IdentityResolver:
    """Resolves messages' identifiers to customer ids within one transaction."""

    session: Session
    settings: Settings
    flush_pending: Callable[[], None] = lambda: None
    remap_pending: Callable[[str, str], None] = lambda loser, survivor: None
    owner: dict[Key, str | None] = field(default_factory=dict)
    created: dict[str, datetime] = field(default_factory=dict)
    _limited: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _new_customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _new_identifiers: dict[Key, dict[str, Any]] = field(default_factory=dict)
    _seen: dict[Key, tuple[datetime, datetime]] = field(default_factory=dict)
    merged: list[tuple[str, str]] = field(default_factory=list)
    _moved: dict[str, str] = field(default_factory=dict)
    _keys_of: dict[str, set[Key]] = field(default_factory=dict)  # owner → its keys known here (reverse index)
    _unloaded: set[str] = field(default_factory=set)  # owners looked up whose limits and creation are not loaded
    _stored_seen: dict[Key, tuple[Any, Any]] = field(default_factory=dict)  # first and last seen as read, to skip
    # updates that change nothing
    _older: dict[str, datetime] = field(default_factory=dict)  # stored customers seen before they were created

    def __post_init__(self) -> None:
        self.shared: set[Key] = set()
        for text in self.settings.shared_identifiers:
            kind, _, value = text.partition(":")
            normalized = normalize(kind, value, self.settings)
            if normalized:
                self.shared.add((kind, normalized))

    # -- lookups ----------------------------------------------------------------------------------------
    def prefetch(self, keys: Iterable[Key]) -> None:
        """Look up, in bulk, the owners of identifiers not seen yet in this transaction. What guardrails and merges
        need of those owners (their limited identifiers, when they were created) is loaded once for all of them,
        the first time any is needed: a batch of returning customers with nothing new needs none of it."""
        by_type: dict[str, list[str]] = {}
        for kind, value in {k for k in keys if k not in self.owner}:
            by_type.setdefault(kind, []).append(value)
        for kind, values in by_type.items():
            for start in range(0, len(values), _CHUNK):
                # one type at a time, so that the (type, value) index is used on every engine
                part = values[start : start + _CHUNK]
                rows = raw_rows(self.session, "SELECT value, customer_id, first_seen, last_seen FROM identifiers "
                                f"WHERE type = ? AND value IN ({', '.join('?' * len(part))})", [kind, *part])
                for value, customer_id, first_seen, last_seen in rows:
                    self.owner[(kind, value)] = customer_id
                    self._stored_seen[(kind, value)] = (first_seen, last_seen)
                    self._keys_of.setdefault(customer_id, set()).add((kind, value))
                    if customer_id not in self._limited:
                        self._unloaded.add(customer_id)
            for value in values:
                self.owner.setdefault((kind, value), None)

    def _load_unloaded(self) -> None:
        """Creation times and limited identifiers of every owner looked up and not loaded yet, in bulk."""
        unknown = [c for c in self._unloaded if c not in self._limited]
        self._unloaded = set()
        self._load_created([c for c in unknown if c not in self.created])
        self._load_limits(unknown)

    def _load_limits(self, customers: list[str]) -> None:
        """The identifiers of limited types that the given customers hold, stored and pending, in bulk."""
        limited = list(self.settings.identifier_limits)
        for customer_id in customers:
            self._limited[customer_id] = {t: set() for t in limited}
        for start in range(0, len(customers), _CHUNK):
            chunk = customers[start : start + _CHUNK]
            # Filter the types here: with a type condition, SQLite may pick the (type, value) index and scan it.
            for customer_id, kind, value in raw_rows(
                self.session, f"SELECT customer_id, type, value FROM identifiers WHERE customer_id IN "
                              f"({', '.join('?' * len(chunk))})", chunk):
                if kind in self._limited[customer_id]:
                    self._limited[customer_id][kind].add(value)
        if customers:
            wanted = set(customers)
            for (kind, value), row in self._new_identifiers.items():
                if row["customer_id"] in wanted and kind in self._limited[row["customer_id"]]:
                    self._limited[row["customer_id"]][kind].add(value)

    def _load_created(self, customers: list[str]) -> None:
        """When the given (stored) customers were created: the oldest survives a merge."""
        for start in range(0, len(customers), _CHUNK):
            chunk = customers[start : start + _CHUNK]
            for customer_id, created_at in raw_rows(
                    self.session, f"SELECT id, created_at FROM customers WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk):
                self.created[customer_id] = read_time(created_at)

    def _limited_values(self, customer_id: str, kind: str) -> set[str]:
        if customer_id not in self._limited:
            if customer_id in self._unloaded:
                self._load_unloaded()
            else:
                self._load_limits([customer_id])
        return self._limited[customer_id].setdefault(kind, set())

    def _fits(self, customer_id: str, key: Key, alias: bool) -> bool:
        limit = self.settings.identifier_limit(key[0])
        if limit is None or (alias and key[0] == "user_id"):
            return True
        values = self._limited_values(customer_id, key[0])
        return key[1] in values or len(values) < limit

    # -- the decision ---------------------------------------------------------------------------------
    def resolve(
        self, keys: Sequence[Key], *, when: datetime, message_id: str | None = None, alias: bool = False
    ) -> str:
        """The customer these identifiers belong to, creating or merging customers as the rules allow."""
        keys = list(dict.fromkeys(k for k in keys if k not in self.shared))
        if any(k not in self.owner for k in keys):  # usually all were looked up with the batch
            self.prefetch(keys)
        owners = list(dict.fromkeys(o for k in keys if (o := self.owner[k]) is not None))
        if len(owners) > 1:
            reason = self._merge_blocker(owners, keys, alias)
            if reason is None:
                via = next(k for k in keys if self.owner[k] is not None and self.owner[k] != owners[0])
                owners = [self.merge(owners, via=via, message_id=message_id, reason="alias" if alias else "event")]
            else:
                target = self._strongest_target(keys, when)
                for other in owners:
                    if other != target:
                        shared = [f"{k[0]}:{k[1]}" for k in keys if self.owner[k] in (target, other)]
                        self._flush_own()
                        propose_review(
                            self.session, target, other, reason=reason,
                            evidence={"identifiers": shared, "message_id": message_id},
                        )
                self._attach(target, keys, when, alias)
                return target
        if owners:
            target = owners[0]
            unfit = [k for k in keys if self.owner[k] is None and not self._fits(target, k, alias)]
            if unfit:
                strongest = min(keys, key=_strength)
                if strongest in unfit:
                    newcomer = self._create(when)
                    self._attach(newcomer, [k for k in keys if self.owner[k] is None], when, alias)
                    self._flush_own()
                    propose_review(
                        self.session, target, newcomer, reason=f"guardrail:{strongest[0]}",
                        evidence={"identifiers": [f"{k[0]}:{k[1]}" for k in keys], "message_id": message_id},
                    )
                    return newcomer
            self._attach(target, keys, when, alias)
            return target
        customer_id = self._create(when)
        self._attach(customer_id, keys, when, alias)
        return customer_id

    def _merge_blocker(self, owners: list[str], keys: Sequence[Key], alias: bool) -> str | None:
        for kind, limit in self.settings.identifier_limits.items():
            if alias and kind == "user_id":
                continue
            values: set[str] = set()
            for owner in owners:
                values |= self._limited_values(owner, kind)
            values |= {v for t, v in keys if t == kind}
            if len(values) > limit:
                return f"guardrail:{kind}"
        # Only customers split by hand before are kept apart, and those exist already: the ones born in this
        # transaction need no look-up (the demo and imports meet many of them).
        if never_merge_pairs(self.session, [o for o in owners if o not in self._new_customers]):
            return "never_merge"
        return None

    def _strongest_target(self, keys: Sequence[Key], when: datetime) -> str:
        strongest = min(keys, key=_strength)
        owner = self.owner[strongest]
        return owner if owner is not None else self._create(when)

    # -- writes ---------------------------------------------------------------------------------------
    def _create(self, when: datetime) -> str:
        customer_id = new_id("cus")
        created_at = min(when, utcnow())
        self._new_customers[customer_id] = {"id": customer_id, "created_at": created_at}
        self.created[customer_id] = created_at
        self._limited[customer_id] = {t: set() for t in self.settings.identifier_limits}
        return customer_id

    def _attach(self, customer_id: str, keys: Sequence[Key], when: datetime, alias: bool) -> None:
        for key in keys:
            owner = self.owner.get(key)
            if owner is None:
                if not self._fits(customer_id, key, alias):
                    continue
                self.owner[key] = customer_id
                self._keys_of.setdefault(customer_id, set()).add(key)
                self._new_identifiers[key] = {
                    "type": key[0], "value": key[1], "customer_id": customer_id, "first_seen": when, "last_seen": when,
                }
                if key[0] in self.settings.identifier_limits:
                    self._limited_values(customer_id, key[0]).add(key[1])
            elif owner == customer_id:
                self._seen_between(key, when, when)

    def _seen_between(self, key: Key, first: datetime, last: datetime) -> None:
        pending = self._new_identifiers.get(key)
        if pending is not None:
            pending["first_seen"] = min(pending["first_seen"], first)
            pending["last_seen"] = max(pending["last_seen"], last)
        else:
            seen_first, seen_last = self._seen.get(key, (first, last))
            self._seen[key] = (min(seen_first, first), max(seen_last, last))

    def widen(self, customer_id: str, keys: Sequence[Key], first: datetime, last: datetime) -> None:
        """Record that ``customer_id``'s identifiers among ``keys`` were seen from ``first`` to ``last``: what
        resolving each of many messages with the same identifiers would record, for bulk paths."""
        customer_id = self.current(customer_id)
        for key in keys:
            if self.owner.get(key) == customer_id:
                self._seen_between(key, first, last)

    def merge(self, customers: Sequence[str], *, via: Key | None, message_id: str | None, reason: str,
              actor: str | None = None) -> str:
        """Fold ``customers`` into the one created first; returns the survivor's id."""
        if any(c in self._unloaded for c in customers):
            self._load_unloaded()
        self._load_created([c for c in customers if c not in self.created])
        survivor = min(customers, key=lambda c: (self.created[c], c))
        losers = [c for c in customers if c != survivor]
        if all(c in self._new_customers for c in losers):
            # Customers born in this transaction and never written: joining them needs no database work.
            for loser in losers:
                self._fold_unwritten(loser, survivor)
            self._limited.pop(survivor, None)
            return survivor
        self.flush()
        for loser in customers:
            if loser == survivor:
                continue
            merge_customers(self.session, survivor, loser, via=via, message_id=message_id, reason=reason, actor=actor)
            self.merged.append((survivor, loser))
            self._moved[loser] = survivor
            self._reassign_keys(loser, survivor)
            self._limited.pop(loser, None)
        self._limited.pop(survivor, None)
        return survivor

    def _reassign_keys(self, loser: str, survivor: str) -> None:
        moved = self._keys_of.pop(loser, set())
        for key in moved:
            self.owner[key] = survivor
        self._keys_of.setdefault(survivor, set()).update(moved)

    def current(self, customer_id: str) -> str:
        """Where a customer id seen earlier in this transaction lives now, after merges."""
        while customer_id in self._moved:
            customer_id = self._moved[customer_id]
        return customer_id

    def _fold_unwritten(self, loser: str, survivor: str) -> None:
        del self._new_customers[loser]
        self._moved[loser] = survivor
        self.created.pop(loser, None)
        self._limited.pop(loser, None)
        keys = self._keys_of.get(loser, set())
        for key in keys:
            row = self._new_identifiers.get(key)
            if row is not None:
                row["customer_id"] = survivor
        self._reassign_keys(loser, survivor)
        self.remap_pending(loser, survivor)

    def name_unwritten(self, names: dict[str, str]) -> None:
        """Give customers born in this transaction and not written yet their names, written with them (cheaper
        than updating them afterwards); the names of these customers are taken out of ``names``."""
        for customer_id in [c for c in names if c in self._new_customers]:
            self._new_customers[customer_id]["name"] = names.pop(customer_id)

    def _flush_own(self) -> None:
        # A customer is as old as its oldest sighting: older events than the one that created it (history imported
        # after live events, a batch out of order) move its creation back, as they move its identifiers' first_seen.
        for row in self._new_identifiers.values():
            self._seen_at(row["customer_id"], row["first_seen"])
        if self._new_customers:
            rows = list(self._new_customers.values())
            insert_new(self.session, rows)
            self._new_customers = {}
        if self._new_identifiers:
            rows = list(self._new_identifiers.values())
            bulk_insert_columns(self.session, Identifier.__table__, {
                name: [r[name] for r in rows] for name in ("type", "value", "customer_id", "first_seen", "last_seen")})
            self._new_identifiers = {}

    def flush(self) -> None:
        """Write what was decided so far: new customers and identifiers, then the caller's pending rows."""
        self._flush_own()
        if self._seen:
            # An identifier's first and last sighting widen with every event, whatever order events come in (a
            # file of last year's orders imported after live events moves first_seen back).
            earlier, later = [], []
            for key, (first, last) in self._seen.items():
                known_first, known_last = self._stored_seen.get(key, (None, None))
                if known_first is None or read_time(known_first) > first:
                    earlier.append((first, key[0], key[1], first))
                    self._seen_at(self.owner.get(key), first)
                    known_first = first
                if known_last is None or read_time(known_last) < last:
                    later.append((last, key[0], key[1], last))
                    known_last = last
                self._stored_seen[key] = (known_first, known_last)
            if earlier:
                raw_executemany(self.session, "UPDATE identifiers SET first_seen = ? WHERE type = ? AND value = ? "
                                "AND first_seen > ?", earlier)
            if later:
                raw_executemany(self.session, "UPDATE identifiers SET last_seen = ? WHERE type = ? AND value = ? "
                                "AND last_seen < ?", later)
            self._seen = {}
        if self._older:
            raw_executemany(self.session, "UPDATE customers SET created_at = ? WHERE id = ? AND created_at > ?",
                            [(when, customer_id, when) for customer_id, when in self._older.items()])
            self._older = {}
        self.flush_pending()

    def _seen_at(self, customer_id: str | None, when: datetime) -> None:
        """Note that ``customer_id`` was seen at ``when``: a customer not written yet takes it as its creation if
        older; a stored one is updated at the flush, unless one of its identifiers was already seen by then."""
        if customer_id is None:
            return
        new = self._new_customers.get(customer_id)
        if new is not None:
            if when < new["created_at"]:
                new["created_at"] = self.created[customer_id] = when
            return
        created = self.created.get(customer_id)
        if created is not None and created <= when:
            return
        for key in self._keys_of.get(customer_id, ()):
            stored = self._stored_seen.get(key)
            if stored is not None and stored[0] is not None and read_time(stored[0]) <= when:
                return  # created no later than its identifiers' first sightings
        previous = self._older.get(customer_id)
        if previous is None or when < previous:
            self._older[customer_id] = when
            if created is not None:
                self.created[customer_id] = when
