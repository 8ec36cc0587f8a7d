"""Recovery cases on their own tables: opening one (or adding a signal to the customer's open case of that
reason), working it (status, assignment, notes, resolution), the service-level clock, and the inbox's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cherish.cases import hours, policies
from cherish.cases.models import OPEN, STATUSES, Case, CaseActivity
from cherish.cases.rules import PRIORITIES, Signal
from cherish.db.base import utcnow
from cherish.errors import Conflict, InvalidInput, NotFound

RESOLUTIONS = ("apologised", "refunded", "replaced", "explained", "fixed", "gesture", "no action needed",
               "could not reach")
MOST_SIGNALS = 200  # signals kept on one case (a storm of repeats adds to the count, not the page)


@dataclass
class Opening:
    """What a rule decided for a signal: the case's reason, rule, priority and why, team and targets."""

    reason: str
    rule: str
    priority: str
    why: list[str]
    team: str | None
    sla_policy: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None


def open_case(session: Session, signal: Signal, opening: Opening, *, now: datetime | None = None
              ) -> tuple[Case, str]:
    """Open a case for the signal, or add it to the customer's open case of the same reason; the case and what
    happened: ``opened``, ``added`` or ``known`` (the signal was on the case already: not added twice)."""
    now = now or utcnow()
    found = open_of(session, signal.customer_id, opening.reason)
    if found is None:
        case = Case(customer_id=signal.customer_id, reason=opening.reason, rule=opening.rule, status="new",
                    priority=opening.priority, priority_why=opening.why, summary=signal.summary[:300],
                    branch=signal.branch, team=opening.team, sla_policy=opening.sla_policy,
                    first_response_due=opening.first_response_due, resolution_due=opening.resolution_due,
                    signals=1, opened_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
        except IntegrityError:  # opened by another worker a moment ago: add to it
            found = open_of(session, signal.customer_id, opening.reason)
            if found is None:
                raise
        else:
            _signal_activity(session, case, signal, now, new=True)
            return case, "opened"
    assert found is not None
    if not _signal_activity(session, found, signal, now):
        return found, "known"
    found.signals += 1
    found.updated_at = now
    if PRIORITIES.index(opening.priority) < PRIORITIES.index(found.priority):
        found.priority, found.priority_why = opening.priority, opening.why
    return found, "added"


def _signal_activity(session: Session, case: Case, signal: Signal, now: datetime, *, new: bool = False) -> bool:
    if case.signals >= MOST_SIGNALS:
        return True
    if not new and session.scalar(select(CaseActivity.id).where(CaseActivity.case_id == case.id,
                                                                CaseActivity.key == signal.key)) is not None:
        return False
    session.add(CaseActivity(case_id=case.id, customer_id=case.customer_id, kind="signal", key=signal.key,
                             actor="worker", text=signal.comment,
                             data={"signal": signal.kind, "summary": signal.summary, "at": signal.at.isoformat(),
                                   **signal.data}, at=now))
    session.flush()
    return True


def open_of(session: Session, customer_id: str, reason: str) -> Case | None:
    """The customer's open case of that reason, locked (an agent resolving it meanwhile is waited for, and then
    it is no longer open)."""
    return session.scalar(select(Case).where(Case.customer_id == customer_id, Case.reason == reason,
                                             Case.status.in_(OPEN)).with_for_update())


def get(session: Session, case_id: int, *, lock: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no case {case_id}")
    return found


def activities(session: Session, case_id: int) -> list[CaseActivity]:
    return list(session.scalars(select(CaseActivity).where(CaseActivity.case_id == case_id)
                                .order_by(CaseActivity.id)))


def note(session: Session, case: Case, *, kind: str, actor: str, text: str | None = None,
         data: dict[str, Any] | None = None, now: datetime | None = None) -> CaseActivity:
    """Add what happened on a case (a note, a reply, a change)."""
    now = now or utcnow()
    activity = CaseActivity(case_id=case.id, customer_id=case.customer_id, kind=kind, actor=actor, text=text,
                            data=data or {}, at=now)
    session.add(activity)
    case.updated_at = now
    session.flush()
    return activity


def assign(session: Session, case: Case, *, assignee: str | None, team: str | None, actor: str,
           now: datetime | None = None) -> None:
    """Give the case to an agent (and their team), to a team (round-robin within it, by branch first), or to no
    one."""
    now = now or utcnow()
    before = (case.team, case.assignee)
    if assignee:
        agent = policies.agent(session, assignee)
        case.assignee, case.team = agent.username, agent.team
        agent.last_assigned_at = now
    elif team:
        case.team = policies.team(session, team).name
        chosen = policies.next_agent(session, case.team, case.branch, now)
        case.assignee = chosen.username if chosen else None
    else:
        case.assignee = None
    if (case.team, case.assignee) != before:
        note(session, case, kind="assigned", actor=actor, data={"team": case.team, "assignee": case.assignee},
             now=now)


def change(session: Session, case: Case, fields: dict[str, Any], *, actor: str, now: datetime | None = None) -> bool:
    """Change a case's status (``resolution_code`` when resolving), priority or assignment; whether it was
    resolved by this change."""
    now = now or utcnow()
    resolved = False
    if "priority" in fields and fields["priority"] and fields["priority"] != case.priority:
        if fields["priority"] not in PRIORITIES:
            raise InvalidInput(f"a priority is one of {', '.join(PRIORITIES)}")
        note(session, case, kind="priority", actor=actor, data={"from": case.priority, "to": fields["priority"]},
             now=now)
        case.priority = fields["priority"]
        case.priority_why = [*case.priority_why, f"set to {case.priority} by {actor}"]
    if "assignee" in fields or "team" in fields:
        assign(session, case, assignee=fields.get("assignee"), team=fields.get("team"), actor=actor, now=now)
    status = fields.get("status")
    if status and status != case.status:
        resolved = _move(session, case, status, fields.get("resolution_code"), actor=actor, now=now)
    session.flush()
    return resolved


def _move(session: Session, case: Case, status: str, code: str | None, *, actor: str, now: datetime) -> bool:
    if status not in STATUSES:
        raise InvalidInput(f"a case's status is one of {', '.join(STATUSES)}")
    if case.status == "closed":
        raise Conflict(f"case {case.id} is closed; a new signal opens a new case")
    if status in ("resolved", "closed") and case.status in OPEN:
        code = code or case.resolution_code
        if code not in RESOLUTIONS:
            raise InvalidInput(f"a case is resolved with a resolution_code: one of {', '.join(RESOLUTIONS)}")
        case.resolution_code, case.resolved_at = code, now
    elif status in OPEN and case.status == "resolved":
        newer = open_of(session, case.customer_id, case.reason)
        if newer is not None:
            raise Conflict(f"case {newer.id} is open for the same customer and reason: work that one")
        case.resolved_at = None  # opened again: the resolution clock runs on
    if status == "closed":
        case.closed_at = now
    if status in ("contacted", "waiting", "resolved") and case.first_response_at is None:
        case.first_response_at = now
    note(session, case, kind="status", actor=actor,
         data={"from": case.status, "to": status, **({"resolution_code": code} if status == "resolved" else {})},
         now=now)
    resolved = status in ("resolved", "closed") and case.status in OPEN
    case.status = status
    return resolved


def responded(case: Case, now: datetime) -> None:
    """The customer heard from us (a reply): the first response is made, a new case becomes contacted."""
    if case.first_response_at is None:
        case.first_response_at = now
    if case.status == "new":
        case.status = "contacted"


def due_times(calendar: hours.Calendar, opened: datetime, policy: Any) -> tuple[datetime, datetime]:
    """When the first response and the resolution are due under ``policy``, in its calendar."""
    clock = hours.Calendar(calendar.zone, calendar.days, calendar.opens, calendar.closes, calendar.country,
                           calendar.closed, always=bool(policy.around_the_clock))
    return (hours.add(clock, opened, policy.first_response_minutes),
            hours.add(clock, opened, policy.resolution_minutes))


def breaching(session: Session, now: datetime, *, limit: int = 200) -> list[Case]:
    """Open cases past a due time not yet marked breached, locked (other workers skip them)."""
    late = or_(and_(Case.first_response_at.is_(None), Case.first_response_due < now), Case.resolution_due < now)
    return list(session.scalars(select(Case).where(Case.status.in_(OPEN), Case.breached.is_(None), late)
                                .order_by(Case.id).limit(limit).with_for_update(skip_locked=True)))


def mark_breached(session: Session, case: Case, now: datetime) -> tuple[str, str | None]:
    """Mark the case breached, hand it to the team its policy or its team escalates to; (what was missed, the
    team it went to)."""
    missed = ("first response" if case.first_response_at is None and case.first_response_due is not None
              and case.first_response_due < now else "resolution")
    policy = policies.sla_policy(session, case.sla_policy) if case.sla_policy else None
    team = policies.team(session, case.team) if case.team else None
    target = (policy.escalate_to if policy is not None and policy.escalate_to else
              team.escalate_to if team is not None else None)
    case.breached, case.escalated_at, case.updated_at = missed, now, now
    note(session, case, kind="escalated", actor="worker", data={"missed": missed, "to": target}, now=now)
    if target and target != case.team:
        assign(session, case, assignee=None, team=target, actor="worker", now=now)
    return missed, target


@dataclass(frozen=True)
class Filters:
    customer_ids: list[str] | None = None
    status: str | None = None  # a status, or "open"
    priority: str | None = None
    reason: str | None = None
    breached: bool | None = None
    assignee: str | None = None
    team: str | None = None


def _filtered(query: Any, filters: Filters) -> Any:
    if filters.customer_ids is not None:
        query = query.where(Case.customer_id.in_(filters.customer_ids))
    if filters.status == "open":
        query = query.where(Case.status.in_(OPEN))
    elif filters.status:
        query = query.where(Case.status == filters.status)
    for column, value in ((Case.priority, filters.priority), (Case.reason, filters.reason),
                          (Case.assignee, filters.assignee), (Case.team, filters.team)):
        if value:
            query = query.where(column == value)
    if filters.breached is not None:
        query = query.where(Case.breached.is_not(None) if filters.breached else Case.breached.is_(None))
    return query


def page(session: Session, filters: Filters, *, limit: int, offset: int) -> tuple[list[Case], int]:
    """The cases that match, most urgent and oldest first, and how many match."""
    ordering = when({p: i for i, p in enumerate(PRIORITIES)}, value=Case.priority, else_=len(PRIORITIES))
    total = session.scalar(_filtered(select(func.count()).select_from(Case), filters)) or 0
    rows = list(session.scalars(_filtered(select(Case), filters)
                                .order_by(ordering, Case.opened_at, Case.id).limit(limit).offset(offset)))
    return rows, total


def counts(session: Session) -> dict[str, Any]:
    """Open cases by reason and priority, and how many are breached."""
    rows = session.execute(select(Case.reason, Case.priority, Case.breached.is_not(None), func.count())
                           .where(Case.status.in_(OPEN)).group_by(Case.reason, Case.priority,
                                                                  Case.breached.is_not(None)))
    by_reason: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    breached = 0
    for reason, priority, late, n in rows:
        by_reason[reason] = by_reason.get(reason, 0) + n
        by_priority[priority] = by_priority.get(priority, 0) + n
        breached += n if late else 0
    return {"open": sum(by_reason.values()), "breached": breached, "by_reason": by_reason,
            "by_priority": by_priority}


def of_customers(session: Session, customer_ids: list[str], *, limit: int = 50) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.customer_id.in_(customer_ids))
                                .order_by(Case.opened_at.desc()).limit(limit)))
