"""The customer-row contract: every table that holds a customer id says how its rows follow the customer.

A merge folds one customer into another, an unmerge splits an identifier (and what it carried) off into a new
customer, an erasure removes a person's data, an export gathers it. Those four are flows over every domain; each
domain declares its own tables with :func:`declare`, in its ``customer_rows.py`` beside its models (imported by
``cherish.models``), and the flows iterate over the declarations without naming another domain's tables. A table
left out would silently keep a merged customer's rows apart, or a
person's data after an erasure: `tests/test_customer_rows.py` fails for any mapped table with a customer-id
column that is not declared, and runs the four flows over every declared table.

What a declaration says, per flow:

- ``merge``: ``"move"`` (the loser's rows go to the survivor), ``"drop"`` (removed: derived data that the next
  run recomputes), ``Latest(...)`` (combined: for each key the newest row wins), ``"keep"`` (history that stays
  as written), or a function ``(session, Merging) -> None``.
- ``unmerge``: ``"stay"`` (rows stay with the customer that keeps the rest) or a function
  ``(session, Split) -> None`` that moves what follows the split identifier; then ``rebuild``, a function
  ``(session, customer_id) -> None``, recomputes the table's rows of both customers from what each now holds
  (tables that declare the same function are rebuilt by one call).
- ``erase``: ``"delete"``, ``"keep"`` (an anonymous fact: scores, stages), a mapping of the columns to null or
  overwrite (the person's words go, the fact stays), or a function ``(session, Erasure) -> dict of counts``.
- ``export``: ``None`` (nothing a person would ask for: derived or bookkeeping) or ``Export(section, function)``
  where ``function(session, customer_ids) -> list`` gives the section of the export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from cherish.db.base import Base


@dataclass(frozen=True)
class Merging:
    """A merge in progress: ``loser`` is being folded into ``survivor``."""

    survivor: str
    loser: str
    reason: str
    actor: str | None = None


@dataclass(frozen=True)
class Split:
    """An unmerge in progress: the identifier ``keys`` (``type:value``) and the ``events`` that carried them (rows
    with ``id``, ``message_id``, ``event``, ``payload``) move from ``owner`` to ``target``."""

    owner: str
    target: str
    keys: frozenset[str]
    events: Sequence[Any]


@dataclass(frozen=True)
class Erasure:
    """An erasure in progress: the ``people`` (the customer, the ids merged into it, accounts held apart only by
    a guardrail), the identifier ``keys`` they held (``type:value``) and the ``values`` long enough to search
    free text for."""

    people: list[str]
    keys: list[str]
    values: list[str]


@dataclass(frozen=True)
class Latest:
    """Merge by combining: rows with the same ``key`` (besides the customer) keep the values of the newest by
    ``when``."""

    key: tuple[str, ...]
    when: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Export:
    """The section ``section`` of a privacy export, made by ``rows(session, customer_ids)``."""

    section: str
    rows: Callable[[Session, list[str]], list[dict[str, Any]]]


MergeRule = Literal["move", "drop", "keep"] | Latest | Callable[[Session, Merging], None]
UnmergeRule = Literal["stay"] | Callable[[Session, Split], None]
EraseRule = Literal["delete", "keep"] | Mapping[str, Any] | Callable[[Session, Erasure], dict[str, int]]


@dataclass(frozen=True)
class CustomerRows:
    """How the rows of ``table`` that belong to a customer (through ``columns``) follow the customer.

    ``columns`` may be empty for a table that holds no customer id but can name a person in free text (rejected
    messages): it takes part in the erasure only."""

    table: str
    columns: tuple[str, ...] = ("customer_id",)
    merge: MergeRule = "move"
    unmerge: UnmergeRule = "stay"
    rebuild: Callable[[Session, str], None] | None = None
    erase: EraseRule = "delete"
    export: Export | None = None
    why: str = ""  # one line for the reader: why these rules


_REGISTRY: dict[str, CustomerRows] = {}


def declare(*rows: CustomerRows) -> None:
    """Declare a domain's customer-bound tables (call it next to the models, once per table)."""
    for entry in rows:
        if entry.table not in Base.metadata.tables:
            raise ValueError(f"no table {entry.table!r} to declare")
        known = Base.metadata.tables[entry.table].columns
        for column in entry.columns:
            if column not in known:
                raise ValueError(f"{entry.table} has no column {column!r}")
        _REGISTRY[entry.table] = entry


_HISTORY: list[Callable[[Session, str], Sequence[Any]]] = []


def declare_history(read: Callable[[Session, str], Sequence[Any]]) -> None:
    """The domain that keeps a customer's messages declares how to read them, oldest first, as rows with ``id``,
    ``message_id``, ``type``, ``event``, ``timestamp``, ``identifiers`` and ``payload``: what a split divides by
    the identifiers each carried, and what traits and consent are replayed from."""
    _HISTORY[:] = [read]


def history(session: Session, customer_id: str) -> Sequence[Any]:
    """The customer's messages, oldest first (see :func:`declare_history`)."""
    import cherish.models  # noqa: F401  (every domain's declarations)

    if not _HISTORY:
        raise LookupError("no domain declared where a customer's messages are kept")
    return _HISTORY[0](session, customer_id)


def declared() -> list[CustomerRows]:
    """Every declaration, in the order the schema sorts the tables (parents first)."""
    import cherish.models  # noqa: F401  (every domain's models, and with them their declarations)

    order = {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}
    return sorted(_REGISTRY.values(), key=lambda entry: order[entry.table])


def customer_columns() -> dict[str, set[str]]:
    """Every mapped table's columns that hold a customer id: a foreign key to ``customers.id``, or a column
    whose ``info`` says ``{"customer": True}`` (identity's pairs, which outlive a merge and carry no key)."""
    import cherish.models  # noqa: F401

    found: dict[str, set[str]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            points = any(key.column.table.name == "customers" for key in column.foreign_keys)
            if points or column.info.get("customer"):
                found.setdefault(table.name, set()).add(column.name)
    return found


def _table(entry: CustomerRows) -> Table:
    return Base.metadata.tables[entry.table]


# -- the flows' generic steps -------------------------------------------------------------------------------------

def merge_rows(session: Session, merging: Merging) -> None:
    """Apply every table's merge rule to fold ``merging.loser`` into ``merging.survivor``."""
    for entry in declared():
        rule = entry.merge
        table = _table(entry)
        if rule == "keep" or not entry.columns:
            continue
        if callable(rule):
            rule(session, merging)
            continue
        column = table.c[entry.columns[0]]
        if rule == "move":
            session.execute(update(table).where(column == merging.loser).values({column.name: merging.survivor}))
        elif rule == "drop":
            session.execute(delete(table).where(column == merging.loser))
        elif isinstance(rule, Latest):
            _merge_latest(session, table, column.name, merging, rule)
        else:
            raise ValueError(f"{entry.table}: unknown merge rule {rule!r}")


def _merge_latest(session: Session, table: Table, column: str, merging: Merging, rule: Latest) -> None:
    from cherish.db.dialects import upsert

    names = (*rule.key, *rule.values, rule.when)
    moved = [{column: merging.survivor, **dict(zip(names, row, strict=True))} for row in session.execute(
        select(*(table.c[n] for n in names)).where(table.c[column] == merging.loser))]
    session.execute(delete(table).where(table.c[column] == merging.loser))
    upsert(session, table, moved, index=(column, *rule.key), update=(*rule.values, rule.when), newer_than=rule.when)


def unmerge_rows(session: Session, split: Split) -> None:
    """Apply every table's unmerge rule (what follows the split identifier moves to ``split.target``), then
    every rebuild, for both customers, once all rows have moved."""
    entries = declared()
    for entry in entries:
        if callable(entry.unmerge):
            entry.unmerge(session, split)
        elif entry.unmerge != "stay":
            raise ValueError(f"{entry.table}: unknown unmerge rule {entry.unmerge!r}")
    for rebuild in dict.fromkeys(entry.rebuild for entry in entries if entry.rebuild is not None):
        rebuild(session, split.owner)  # (a rebuild several tables declare runs once)
        rebuild(session, split.target)


def erase_rows(session: Session, erasure: Erasure) -> dict[str, int]:
    """Apply every table's erasure rule to ``erasure.people``; the counts the rules report, added up."""
    counts: dict[str, int] = {}
    for entry in declared():
        rule = entry.erase
        if rule == "keep":
            continue
        if callable(rule):
            for name, count in rule(session, erasure).items():
                counts[name] = counts.get(name, 0) + count
            continue
        table = _table(entry)
        for name in entry.columns:
            column = table.c[name]
            if rule == "delete":
                session.execute(delete(table).where(column.in_(erasure.people)))
            elif isinstance(rule, Mapping):
                session.execute(update(table).where(column.in_(erasure.people)).values(dict(rule)))
            else:
                raise ValueError(f"{entry.table}: unknown erasure rule {rule!r}")
    return counts


def export_rows(session: Session, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every declared export section for these customer ids (the customer and the ids merged into it)."""
    return {entry.export.section: entry.export.rows(session, customer_ids)
            for entry in declared() if entry.export is not None}
