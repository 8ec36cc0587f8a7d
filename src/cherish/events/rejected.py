"""Rejected events: kept whole with their reason, listed for managers, replayed once the sender is fixed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.errors import Conflict, NotFound
from cherish.events.flows import ingest
from cherish.events.models import RejectedEvent


def listing(session: Session, *, status: str | None = "rejected", limit: int = 100,
            offset: int = 0) -> list[dict[str, Any]]:
    query = select(RejectedEvent).order_by(RejectedEvent.received_at.desc(), RejectedEvent.id.desc())
    if status:
        query = query.where(RejectedEvent.status == status)
    return [_read(r) for r in session.scalars(query.limit(limit).offset(offset))]


def one(session: Session, *, rejected_id: int) -> dict[str, Any] | None:
    row = session.get(RejectedEvent, rejected_id)
    return None if row is None else _read(row)


def _read(row: RejectedEvent) -> dict[str, Any]:
    return {"id": row.id, "received_at": row.received_at, "index": row.batch_index, "reason": row.reason,
            "payload": row.payload, "status": row.status, "replayed_at": row.replayed_at}


def count(session: Session, *, status: str | None = "rejected") -> int:
    query = select(func.count()).select_from(RejectedEvent)
    if status:
        query = query.where(RejectedEvent.status == status)
    return session.scalar(query) or 0


def discard(session: Session, *, rejected_id: int, actor: str) -> RejectedEvent:
    """Set one rejected event aside for good (a test message, a sender's mistake): it is no longer listed or
    replayed; the row stays, marked discarded, so what a client sent is never silently lost."""
    row = session.get(RejectedEvent, rejected_id)
    if row is None:
        raise NotFound(f"no rejected event {rejected_id}")
    if row.status != "rejected":
        raise Conflict(f"rejected event {rejected_id} was already {row.status}")
    row.status = "discarded"
    audit(session, actor=actor, action="discard_rejected", subject=str(rejected_id))
    return row


def replay(session: Session, settings: Settings, *, ids: list[int] | None, actor: str,
           corrections: dict[int, Any] | None = None) -> dict[str, Any]:
    """Run rejected events (or corrected versions of them) through intake again; the still invalid stay."""
    corrections = corrections or {}
    query = select(RejectedEvent).where(RejectedEvent.status == "rejected").order_by(RejectedEvent.id)
    if ids is not None:
        query = query.where(RejectedEvent.id.in_(ids))
    rows = list(session.scalars(query))
    replayed, still = [], []
    for row in rows:
        if row.id in corrections:
            row.payload = corrections[row.id]
        result = ingest(session, [row.payload], settings=settings, keep_rejected=False)
        if result.rejected:
            row.reason = result.rejected[0]["message"]
            still.append({"id": row.id, "message": row.reason})
        else:
            row.status, row.replayed_at = "replayed", utcnow()
            replayed.append(row.id)
    audit(session, actor=actor, action="replay_rejected", details={"replayed": len(replayed), "still": len(still)})
    return {"replayed": replayed, "still_rejected": still}
