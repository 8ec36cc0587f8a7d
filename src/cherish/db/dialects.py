"""The few statements SQLite and PostgreSQL spell differently, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session


def _insert_for(session: Session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def upsert(
    session: Session,
    model: Any,
    rows: Sequence[dict[str, Any]],
    *,
    index: Sequence[str],
    update: Sequence[str],
    newer_than: str | None = None,
) -> None:
    """Insert ``rows``; where ``index`` already exists update ``update`` (only when newer by ``newer_than``)."""
    if not rows:
        return
    stmt = _insert_for(session)(model)
    table = model.__table__
    where = table.c[newer_than] <= stmt.excluded[newer_than] if newer_than else None
    stmt = stmt.on_conflict_do_update(
        index_elements=list(index), set_={c: stmt.excluded[c] for c in update}, where=where
    )
    session.execute(stmt, list(rows))


def insert_ignore(session: Session, model: Any, rows: Sequence[dict[str, Any]], *, index: Sequence[str]) -> None:
    """Insert ``rows``, skipping those whose ``index`` already exists."""
    if not rows:
        return
    stmt = _insert_for(session)(model).on_conflict_do_nothing(index_elements=list(index))
    session.execute(stmt, list(rows))
