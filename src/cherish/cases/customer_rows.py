"""Recovery cases, what happened on them and promises in the customer-row contract (`cherish.db.customer_rows`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cherish.cases.models import Case, CaseActivity, Incident, IncidentCustomer, Promise
from cherish.contact import service as contact
from cherish.db.base import utcnow
from cherish.db.customer_rows import CustomerRows, Export, Merging, declare


def _cases(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": c.id, "reason": c.reason, "status": c.status, "priority": c.priority, "opened_at": c.opened_at,
             "resolved_at": c.resolved_at, "resolution_code": c.resolution_code}
            for c in session.scalars(select(Case).where(Case.customer_id.in_(customer_ids)).order_by(Case.id))]


def _activities(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"case_id": a.case_id, "kind": a.kind, "at": a.at, "text": a.text}
            for a in session.scalars(select(CaseActivity).where(CaseActivity.customer_id.in_(customer_ids))
                                     .order_by(CaseActivity.id)) if a.kind in ("signal", "reply", "note")]


def _promises(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"kind": p.kind, "what": p.what, "due_at": p.due_at, "status": p.status, "settled_at": p.settled_at}
            for p in session.scalars(select(Promise).where(Promise.customer_id.in_(customer_ids))
                                     .order_by(Promise.id))]


def _merge_cases(session: Session, merging: Merging) -> None:
    """The loser's cases go to the survivor; an open one whose reason the survivor also has open is closed into
    it (one open case per customer and reason)."""
    open_reasons = set(session.scalars(select(Case.reason).where(
        Case.customer_id == merging.survivor, Case.status.in_(("new", "contacted", "waiting")))))
    for case in session.scalars(select(Case).where(Case.customer_id == merging.loser)):
        if case.status in ("new", "contacted", "waiting") and case.reason in open_reasons:
            case.status, case.resolution_code, case.closed_at = "closed", "merged", utcnow()
            contact.lift(session, f"case:{case.id}")  # (the survivor's open case holds for both)
        case.customer_id = merging.survivor
    session.flush()
    session.execute(update(CaseActivity).where(CaseActivity.customer_id == merging.loser)
                    .values(customer_id=merging.survivor))


declare(
    CustomerRows("recovery_cases", merge=_merge_cases, erase="delete", export=Export("recovery_cases", _cases),
                 why="a case is about the person: it follows them, and goes when they are erased"),
    CustomerRows("case_activities", merge="move", erase="delete", export=Export("case_activities", _activities),
                 why="notes and replies hold the person's words and ours to them"),
    CustomerRows("promises", merge="move", erase="delete", export=Export("promises", _promises),
                 why="what was promised to the person, kept or not"),
)


def _incidents(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"incident": i.title, "started_at": i.started_at, "apologised_at": row.apologised_at,
             "gesture_code": row.code}
            for i, row in session.execute(select(Incident, IncidentCustomer).join(
                IncidentCustomer, IncidentCustomer.incident_id == Incident.id)
                .where(IncidentCustomer.customer_id.in_(customer_ids)).order_by(Incident.id)).tuples()]


def _merge_incidents(session: Session, merging: Merging) -> None:
    """The loser's place in each incident goes to the survivor, unless the survivor is in it already."""
    held = set(session.scalars(select(IncidentCustomer.incident_id).where(
        IncidentCustomer.customer_id == merging.survivor)))
    session.execute(delete(IncidentCustomer).where(IncidentCustomer.customer_id == merging.loser,
                                                   IncidentCustomer.incident_id.in_(held)))
    session.execute(update(IncidentCustomer).where(IncidentCustomer.customer_id == merging.loser)
                    .values(customer_id=merging.survivor))


declare(
    CustomerRows("incident_customers", merge=_merge_incidents, erase="delete",
                 export=Export("incidents", _incidents),
                 why="an apology was owed to the person; a merged customer was owed one per incident"),
)
