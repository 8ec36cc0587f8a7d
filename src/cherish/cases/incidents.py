"""Incidents on their own tables: declared with what went wrong and whom it touched, the affected customers kept
for review, and each one's apology (and gesture code) recorded once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.cases.models import Incident, IncidentCustomer
from cherish.db.base import utcnow
from cherish.db.dialects import insert_ignore
from cherish.errors import Conflict, InvalidInput, NotFound

AFFECTED_KINDS = ("orders", "late deliveries", "customers")
MOST_AFFECTED = 100_000  # customers one incident may touch


def check_affected(raw: Any) -> dict[str, Any]:
    """Who an incident touched, as stored: orders placed between two times (on a channel, with a product), late
    deliveries due between two times, or a list of customer ids."""
    if not isinstance(raw, dict) or raw.get("kind") not in AFFECTED_KINDS:
        raise InvalidInput(f"say whom it touched: {{\"kind\": one of {', '.join(AFFECTED_KINDS)}, …}}")
    kind = raw["kind"]
    if kind == "customers":
        ids = raw.get("customer_ids")
        if not isinstance(ids, list) or not 0 < len(ids) <= 10_000 or not all(isinstance(i, str) for i in ids):
            raise InvalidInput("a list of customers is 1 to 10,000 customer ids")
        return {"kind": kind, "customer_ids": sorted(set(ids))}
    for name in ("from", "until"):
        if not isinstance(raw.get(name), datetime):
            raise InvalidInput(f"{kind} are found between two times: give 'from' and 'until'")
    if raw["until"] <= raw["from"]:  # (well formed, and still nothing to look through: a conflict of the two)
        raise Conflict("'until' comes after 'from'")
    found = {"kind": kind, "from": raw["from"].isoformat(), "until": raw["until"].isoformat()}
    if kind == "orders":
        for name in ("channel", "product"):
            if raw.get(name) is not None:
                found[name] = str(raw[name])[:200]
    return found


def declare(session: Session, fields: dict[str, Any], *, actor: str, now: datetime | None = None) -> Incident:
    now = now or utcnow()
    incident = Incident(
        title=fields["title"], description=fields.get("description"), started_at=fields["started_at"],
        ended_at=fields.get("ended_at"), affected=check_affected(fields["affected"]),
        apology_subject=fields["apology_subject"], apology_text=fields["apology_text"],
        codes=list(fields.get("codes") or []), open_cases=bool(fields.get("open_cases")), status="declared",
        declared_by=actor, created_at=now)
    if incident.ended_at is not None and incident.ended_at < incident.started_at:
        raise Conflict("an incident ends after it starts")
    session.add(incident)
    session.flush()
    return incident


def touch(session: Session, incident: Incident, customers: dict[str, str | None]) -> int:
    """Keep the customers the incident touched (customer id → why); how many in all."""
    if len(customers) > MOST_AFFECTED:
        raise InvalidInput(f"the incident touches {len(customers):,} customers; narrow it to {MOST_AFFECTED:,} at "
                           "most")
    rows = [{"incident_id": incident.id, "customer_id": cid, "why": (why or "")[:300] or None}
            for cid, why in customers.items()]
    for start in range(0, len(rows), 1000):
        insert_ignore(session, IncidentCustomer, rows[start:start + 1000], index=("incident_id", "customer_id"))
    return len(rows)


def get(session: Session, incident_id: int) -> Incident:
    found = session.get(Incident, incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id}")
    return found


def listing(session: Session, *, limit: int = 100) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id.desc()).limit(limit)))


def affected(session: Session, incident_id: int, *, limit: int, offset: int,
             waiting: bool = False) -> tuple[list[IncidentCustomer], int]:
    """The customers it touched (``waiting``: those not yet sent an apology) and how many."""
    query = select(IncidentCustomer).where(IncidentCustomer.incident_id == incident_id)
    if waiting:
        query = query.where(IncidentCustomer.contact_key.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(IncidentCustomer.customer_id).limit(limit).offset(offset)
    return list(session.scalars(query.with_for_update() if waiting else query)), total


def tally(session: Session, incident_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per incident: customers touched, apologies decided, and how many of those went out."""
    found: dict[int, dict[str, int]] = {i: {"affected": 0, "apologised": 0, "sent": 0} for i in incident_ids}
    for incident_id, outcome, n in session.execute(
            select(IncidentCustomer.incident_id, IncidentCustomer.outcome, func.count())
            .where(IncidentCustomer.incident_id.in_(incident_ids))
            .group_by(IncidentCustomer.incident_id, IncidentCustomer.outcome)):
        found[incident_id]["affected"] += n
        if outcome is not None:
            found[incident_id]["apologised"] += n
        if outcome == "sent":
            found[incident_id]["sent"] += n
    return found


def codes_given(session: Session, incident_id: int) -> set[str]:
    return {code for code in session.scalars(select(IncidentCustomer.code).where(
        IncidentCustomer.incident_id == incident_id, IncidentCustomer.code.is_not(None))) if code}


def of_customers(session: Session, customer_ids: list[str]) -> list[tuple[Incident, IncidentCustomer]]:
    return list(session.execute(select(Incident, IncidentCustomer).join(
        IncidentCustomer, IncidentCustomer.incident_id == Incident.id)
        .where(IncidentCustomer.customer_id.in_(customer_ids)).order_by(Incident.id.desc())).tuples())
