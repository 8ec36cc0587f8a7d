"""The feedback inbox: every answer and comment, newest first, filtered by survey, where the experience happened,
score, what the comment says and when; detractors and urgent comments marked for the recovery work."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cherish.errors import InvalidInput
from cherish.feedback.models import Answer, CommentAnalysis
from cherish.feedback.scales import SCALE_TEXT, SCALES
from cherish.feedback.service import verdict

VERDICTS = {"detractor": ("nps", 0, 6), "passive": ("nps", 7, 8), "promoter": ("nps", 9, 10),
            "unhappy": ("csat", 1, 2), "high effort": ("ces", 1, 3)}
LABELS = ("negative", "neutral", "positive")
ORIGINS = ("survey", "review", "chat", "email", "social")


@dataclass(frozen=True)
class Filters:
    """What the inbox shows; each left empty shows all."""

    survey: str | None = None
    channel: str | None = None
    branch: str | None = None
    employee: str | None = None
    score_type: str | None = None
    origin: str | None = None  # survey (answers), or review, chat, email, social
    verdict: str | None = None
    sentiment: str | None = None
    aspect: str | None = None
    urgent: str | None = None  # "any", or one signal (churn, public, legal or safety, repeated contact)
    since: date | None = None
    until: date | None = None

    @classmethod
    def read(cls, raw: dict[str, Any]) -> Filters:
        """Filters from a query string, checked."""
        text = {f.name: (str(raw.get(f.name) or "").strip()[:200] or None) for f in fields(cls)}
        if text["score_type"] and text["score_type"] not in SCALES:
            raise InvalidInput(f"score_type is one of {', '.join(SCALES)}")
        if text["verdict"] and text["verdict"] not in VERDICTS:
            raise InvalidInput(f"verdict is one of {', '.join(VERDICTS)}")
        if text["origin"] and text["origin"] not in ORIGINS:
            raise InvalidInput(f"origin is one of {', '.join(ORIGINS)}")
        if text["sentiment"] and text["sentiment"] not in LABELS:
            raise InvalidInput(f"sentiment is one of {', '.join(LABELS)}")
        days: dict[str, date | None] = {}
        for name in ("since", "until"):
            given = text[name]
            try:
                days[name] = date.fromisoformat(given) if given else None
            except ValueError:
                raise InvalidInput(f"{name} is a day, as 2026-03-31") from None
        return cls(**{**text, **days})  # type: ignore[arg-type]

    def params(self) -> dict[str, str | None]:
        return {f.name: (str(getattr(self, f.name)) if getattr(self, f.name) is not None else None)
                for f in fields(self)}


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for name in ("survey", "channel", "branch", "employee", "score_type"):
        value = getattr(filters, name)
        if value:
            found.append(getattr(Answer, name) == (value.lower() if name == "channel" else value))
    if filters.origin:
        found.append(Answer.origin.is_(None) if filters.origin == "survey" else Answer.origin == filters.origin)
    if filters.verdict:
        kind, low, high = VERDICTS[filters.verdict]
        found.append(and_(Answer.score_type == kind, Answer.score >= low, Answer.score <= high))
    if filters.sentiment:
        found.append(CommentAnalysis.label == filters.sentiment)
    if filters.aspect:  # the aspect's name as a JSON string inside the list (portable across the engines)
        found.append(cast(CommentAnalysis.aspects, String).like(f'%"{_plain(filters.aspect)}"%'))
    if filters.urgent == "any":
        found.append(and_(CommentAnalysis.urgency.is_not(None), cast(CommentAnalysis.urgency, String).like('%"%')))
    elif filters.urgent:
        found.append(cast(CommentAnalysis.urgency, String).like(f'%"{_plain(filters.urgent)}"%'))
    if filters.since:
        found.append(Answer.answered_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        found.append(Answer.answered_at < datetime.combine(filters.until + timedelta(days=1), time(), UTC))
    return found


def _plain(text: str) -> str:
    """A name to look for: letters, digits, spaces, - and _ only (LIKE's wildcards and quotes go)."""
    return "".join(c for c in text if c.isalnum() or c in " -_")[:60]


def items(session: Session, filters: Filters, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int,
                                                                                      dict[str, int]]:
    """The page of items, how many match, and how many of those are detractors and urgent."""
    query = (select(Answer, CommentAnalysis).outerjoin(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
             .where(*_conditions(filters)))
    counted = query.subquery()
    detractor = or_(*[and_(counted.c.score_type == kind, counted.c.score <= high)
                      for kind, low, high in (VERDICTS["detractor"], VERDICTS["unhappy"], VERDICTS["high effort"])])
    urgent = cast(counted.c.urgency, String).like('%"%')
    total, flagged, pressing = session.execute(select(
        func.count(), func.count().filter(detractor), func.count().filter(urgent))).one()
    rows = session.execute(query.order_by(Answer.answered_at.desc(), Answer.id.desc()).limit(limit).offset(offset))
    return [_item(a, read) for a, read in rows], int(total), {"unhappy": int(flagged), "urgent": int(pressing)}


def _item(answer: Answer, read: CommentAnalysis | None) -> dict[str, Any]:
    return {"id": answer.id, "customer_id": answer.customer_id, "answered_at": answer.answered_at,
            "score_type": answer.score_type, "score": answer.score, "scale": SCALE_TEXT.get(answer.score_type, ""),
            "verdict": verdict(answer.score_type, answer.score), "comment": answer.comment, "survey": answer.survey,
            "channel": answer.channel, "branch": answer.branch, "employee": answer.employee,
            "delivered_via": answer.delivered_via, "order_id": answer.order_id, "origin": answer.origin,
            "rating": (answer.answers or {}).get("rating") if answer.origin else None,
            "site": (answer.answers or {}).get("site") or (answer.answers or {}).get("network") if answer.origin
            else None,
            "label": read.label if read else None, "sentiment": read.sentiment if read else None,
            "aspects": [a["name"] for a in read.aspects] if read else [], "urgency": list(read.urgency or []) if read
            else [], "language": read.language if read else None}


def choices(session: Session) -> dict[str, list[str]]:
    """The values the inbox's filters offer: surveys, channels, branches and employees seen in answers."""
    found: dict[str, list[str]] = {}
    for name in ("survey", "channel", "branch", "employee"):
        column = getattr(Answer, name)
        values: list[Any] = list(session.scalars(select(column).where(column.is_not(None)).distinct()
                                                 .order_by(column).limit(200)))
        found[name] = [str(v) for v in values]
    return found
