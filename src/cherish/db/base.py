"""Declarative base and the column types every table shares, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
import random
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, Table, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower-case


_sequence = itertools.count()
# The random part of ids comes from a generator seeded by the OS (and seeded again in every forked process, so
# that two server workers never share a sequence): asking the OS for each id costs a system call, which showed
# as 7% of intake's writer under load. Ids are opaque, not secrets: every route that takes one checks a key.
_random = random.Random()
os.register_at_fork(after_in_child=_random.seed)
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every 10-bit value as two characters, in order
_SHIFTS = range(110, -1, -10)


LARGEST_ID = 2**63 - 1  # what a BIGINT holds: a path id beyond it cannot name a row


def new_id(prefix: str) -> str:
    """An opaque id such as ``cus_01k9w2...``: ordered by creation (within a process, even in one millisecond).

    24 Crockford base-32 characters: 50 bits of milliseconds, a 20-bit counter, 50 random bits; spelled ten bits
    (two characters) at a time, since intake makes one for every new customer.
    """
    value = ((time.time_ns() // 1_000_000) & (2**50 - 1)) << 70
    value |= (next(_sequence) % 2**20) << 50 | _random.getrandbits(50)
    return prefix + "_" + "".join([_PAIRS[value >> shift & 1023] for shift in _SHIFTS])


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored as naive UTC (the common ground of SQLite and PostgreSQL) and read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, as the Core statements (``update``, ``delete``, ``.c``) take it: SQLAlchemy types
    ``__table__`` as any ``FromClause``, though a declarative class always maps one ``Table``."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
