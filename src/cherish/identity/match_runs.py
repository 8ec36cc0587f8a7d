"""The history of `cherish identity match` runs, and undoing a run as a whole: each merge taken back, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.config import Settings
from cherish.customers import service as customers
from cherish.db.base import utcnow
from cherish.db.customer_rows import history
from cherish.errors import Conflict, NotFound
from cherish.identity.merge import propose_review
from cherish.identity.models import Identifier, MatchRun, MatchRunMerge
from cherish.identity.service import move_history


@dataclass
class UndoOutcome:
    run: MatchRun
    undone: list[MatchRunMerge]
    not_undone: list[MatchRunMerge]  # each with its undo_note saying why


def runs(session: Session, *, limit: int = 100, offset: int = 0) -> list[MatchRun]:
    """The latest runs first."""
    return list(session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit).offset(offset)))


def run(session: Session, *, run_id: int) -> MatchRun | None:
    return session.get(MatchRun, run_id)


def count_runs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MatchRun)) or 0


def merges_of(session: Session, *, run_id: int, limit: int = 100, offset: int = 0) -> list[MatchRunMerge]:
    """The merges a run made, newest first, with whether (and why not) each was undone."""
    return list(session.scalars(select(MatchRunMerge).where(MatchRunMerge.run_id == run_id)
                                .order_by(MatchRunMerge.id.desc()).limit(limit).offset(offset)))


def count_merges(session: Session, *, run_id: int) -> int:
    return session.scalar(select(func.count()).select_from(MatchRunMerge).where(MatchRunMerge.run_id == run_id)) or 0


def undo_run(session: Session, settings: Settings, *, run_id: int, actor: str) -> UndoOutcome:
    """Take back every merge of a run still in place, newest first; each pair taken back waits for review."""
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(f"no identity match run {run_id}")
    if run.status == "undone":
        raise Conflict(f"run {run_id} was already undone ({run.undone_at:%Y-%m-%d %H:%M} by {run.undone_by})")
    if run.status == "refused":
        raise Conflict(f"run {run_id} merged nothing: {run.note}")
    items = session.scalars(select(MatchRunMerge).where(MatchRunMerge.run_id == run_id,
                                                        MatchRunMerge.undone_at.is_(None))
                            .order_by(MatchRunMerge.id.desc())).all()
    undone, not_undone = [], []
    for item in items:
        item.undo_note = _undo_merge(session, item)
        if item.undo_note is None:
            item.undone_at = utcnow()
            undone.append(item)
        else:
            not_undone.append(item)
    run.status = "partly undone" if not_undone else "undone"
    run.undone_at, run.undone_by = utcnow(), actor
    session.flush()
    audit(session, actor=actor, action="identity_match_undo", subject=str(run_id),
          details={"undone": len(undone), "not_undone": len(not_undone)})
    return UndoOutcome(run=run, undone=undone, not_undone=not_undone)


def _undo_merge(session: Session, item: MatchRunMerge) -> str | None:
    """Give the merged customer back its identifiers and the events that carried them; None, or why it cannot."""
    merged = customers.get(session, item.merged_id)
    if merged is None:
        return f"{item.merged_id} no longer exists"
    owner = customers.survivor_of(session, item.survivor_id)
    if merged.erased_at is not None or owner is None or customers.survivor_of(session, owner) is None:
        return "a customer of this pair was erased since"
    if merged.merged_into != owner:
        return f"{item.merged_id} is no longer merged into {owner}"
    held = {f"{t}:{v}" for t, v in session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.customer_id == owner))}
    keys = set(item.identifiers or []) & held
    if not keys:
        return "its identifiers have moved since (split off by hand?)"
    events = history(session, owner)
    moving = [e for e in events if keys & set(e.identifiers or [])]
    staying = [e for e in events if not keys & set(e.identifiers or [])]
    kept_keys = {k for e in staying for k in (e.identifiers or [])}
    if not staying:
        return f"every event of {owner} now carries its identifiers"
    tying = next((e for e in moving if kept_keys & set(e.identifiers or [])), None)
    if tying is not None:
        return f"an event since carried identifiers of both (event {tying.id}): they are linked by more than the run"
    moved_keys = keys | ({k for e in moving for k in (e.identifiers or [])} - kept_keys)
    customers.unfold(session, merged.id, owner=owner, family=list(item.family or []))
    move_history(session, owner_id=owner, target_id=merged.id, keys=moved_keys, events=moving)
    propose_review(session, owner, merged.id, reason="undone", evidence=item.evidence, probability=item.probability)
    return None
