"""The recovery rate: of the recovery cases closed, the share whose customer came back within 14 days of the case
being resolved (bought again, or answered well: NPS 7 or more, CSAT 4-5, CES 5-7), with its Wilson interval;
beside it the same share for customers who were unhappy before cases existed and got none, counted from their
last unhappy answer. The two are comparable because both count the same 14 days, and only those whose 14 days
are over count (a case resolved yesterday has had no time to come back)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.analytics.experience_scores import share
from cherish.cases.models import Case
from cherish.db.base import utcnow
from cherish.events import service as events
from cherish.feedback import service as feedback

WINDOW = timedelta(days=14)
GOOD = {"nps": 7, "csat": 4, "ces": 5}  # the least score that counts as a good answer, per measure


def _came_back(start: datetime, orders: list[datetime], answers: list[tuple[Any, str, float]]) -> bool:
    end = start + WINDOW
    return (any(start < at <= end for at in orders)
            or any(start < at <= end and score >= GOOD.get(kind, 99) for at, kind, score in answers))


def _rate(session: Session, started: dict[str, datetime], now: datetime) -> dict[str, Any]:
    started = {cid: at for cid, at in started.items() if at + WINDOW <= now}
    ids = list(started)
    orders, answers = events.order_times(session, ids), feedback.scores_of(session, ids)
    back = sum(1 for cid, at in started.items() if _came_back(at, orders.get(cid, []), answers.get(cid, [])))
    return share(len(ids), back)


def recovery_rates(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """``with_case``: closed cases (one per customer: their first) whose customer came back; ``before_cases``:
    unhappy customers before the first case opened, who got none, who came back."""
    now = now or utcnow()
    began = session.scalar(select(func.min(Case.opened_at)))
    if began is None:
        return {"with_case": share(0, 0), "before_cases": share(0, 0), "cases_began": None,
                "window_days": WINDOW.days}
    closed: dict[str, datetime] = {}
    for cid, resolved in session.execute(select(Case.customer_id, Case.resolved_at).where(
            Case.status.in_(("resolved", "closed")), Case.resolution_code != "merged").order_by(Case.opened_at)):
        if resolved is not None:  # (counted from the resolution: a replacement order is not coming back)
            closed.setdefault(cid, resolved)
    first_case = dict(session.execute(select(Case.customer_id, func.min(Case.opened_at))
                                      .group_by(Case.customer_id)).tuples().all())
    before = {cid: at for cid, at in feedback.unhappy_before(session, began).items()  # (a case after their
              if cid not in first_case or first_case[cid] > at + WINDOW}  # window does not change what came back)
    return {"with_case": _rate(session, closed, now), "before_cases": _rate(session, before, now), "cases_began": began,
            "window_days": WINDOW.days}
