"""Rejected events: kept whole with their reason, listed for managers, replayed once the sender is fixed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.events.models import RejectedEvent
from cherish.events.service import ingest


def listing(session: Session, *, status: str | None = "rejected", limit: int = 100) -> list[dict[str, Any]]:
    query = select(RejectedEvent).order_by(RejectedEvent.received_at.desc(), RejectedEvent.id.desc()).limit(limit)
    if status:
        query = query.where(RejectedEvent.status == status)
    return [
        {"id": r.id, "received_at": r.received_at, "index": r.batch_index, "reason": r.reason, "payload": r.payload,
         "status": r.status, "replayed_at": r.replayed_at}
        for r in session.scalars(query)
    ]


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
