"""What a customer said: their survey answers, stored (each one a ``feedback.stored`` domain event, which the
worker turns into ``feedback.received`` once the comment is read) and read newest first for the customer 360."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cherish.db.base import utcnow
from cherish.db.dialects import insert_ignore
from cherish.domain_events import service as domain_events
from cherish.feedback.models import Answer, CommentAnalysis
from cherish.feedback.scales import SCALE_TEXT


def verdict(score_type: str, score: float | None) -> str | None:
    """The answer's reading: an NPS detractor (0–6) or promoter (9–10), an unhappy CSAT (1–2), a high-effort CES
    (1–3); None for the rest."""
    if score is None:
        return None
    if score_type == "nps":
        return "detractor" if score <= 6 else "promoter" if score >= 9 else None
    if score_type == "csat":
        return "unhappy" if score <= 2 else None
    if score_type == "ces":
        return "high effort" if score <= 3 else None
    return None


def answers_of(session: Session, customer_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """The customer's answers with their score, comment and where they were given, newest first."""
    rows = list(session.execute(
        select(Answer, CommentAnalysis).outerjoin(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
        .where(Answer.customer_id == customer_id)
        .order_by(Answer.answered_at.desc(), Answer.id.desc()).limit(limit)))
    return [{"answered_at": a.answered_at, "score_type": a.score_type, "score": a.score,
             "scale": SCALE_TEXT.get(a.score_type, ""), "comment": a.comment, "survey": a.survey, "channel": a.channel,
             "branch": a.branch, "employee": a.employee, "verdict": verdict(a.score_type, a.score),
             "survey_version": a.survey_version, "order_id": a.order_id, "delivered_via": a.delivered_via,
             "answers": a.answers, "origin": a.origin,
             "read": None if read is None else {"label": read.label, "sentiment": read.sentiment,
                                                "language": read.language, "urgency": read.urgency,
                                                "aspects": read.aspects}}
            for a, read in rows]


def answers_since(session: Session, since: Any, *, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` answers given from ``since`` on, with what their comments say, as ``feedback.received``
    carries them (oldest first): what a case rule's dry run replays."""
    rows = list(session.execute(
        select(Answer, CommentAnalysis).outerjoin(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
        .where(Answer.answered_at >= since).order_by(Answer.answered_at.desc(), Answer.id.desc()).limit(limit)))
    return [{"customer_id": a.customer_id, "answered_at": a.answered_at, "source": a.source,
             "score_type": a.score_type, "score": a.score, "comment": a.comment, "survey": a.survey,
             "channel": a.channel, "branch": a.branch, "origin": a.origin,
             "label": read.label if read else None, "urgency": read.urgency if read else []}
            for a, read in reversed(rows)]


def scores_of(session: Session, customer_ids: list[str]) -> dict[str, list[tuple[Any, str, float]]]:
    """Each customer's scored answers: (when, score type, score)."""
    found: dict[str, list[tuple[Any, str, float]]] = {}
    for start in range(0, len(customer_ids), 500):
        for cid, at, kind, score in session.execute(
                select(Answer.customer_id, Answer.answered_at, Answer.score_type, Answer.score)
                .where(Answer.customer_id.in_(customer_ids[start:start + 500]), Answer.score.is_not(None))):
            found.setdefault(cid, []).append((at, kind, float(score or 0)))
    return found


def unhappy_before(session: Session, before: Any) -> dict[str, Any]:
    """Each customer's last unhappy answer (an NPS detractor, CSAT 1-2, CES 1-3) given before ``before``: when."""
    rows = session.execute(select(Answer.customer_id, func.max(Answer.answered_at)).where(
        Answer.answered_at < before, Answer.score.is_not(None),
        ((Answer.score_type == "nps") & (Answer.score <= 6)) | ((Answer.score_type == "csat") & (Answer.score <= 2))
        | ((Answer.score_type == "ces") & (Answer.score <= 3))).group_by(Answer.customer_id))
    return dict(rows.tuples().all())


def store_answers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write survey answers (source, customer_id, score_type, score, answered_at and what else an answer has)."""
    if not rows:
        return
    session.execute(insert(Answer), rows)
    domain_events.record(session, "feedback.stored", [(row["customer_id"], {
        "source": row["source"], "score_type": row["score_type"], "score": row["score"],
        "comment": row.get("comment"), "channel": row.get("channel"), "branch": row.get("branch"),
        "employee": row.get("employee"), "survey": row.get("survey"),
        **{name: row[name] for name in ("survey_version", "order_id", "delivered_via", "origin")
           if row.get(name) is not None},
        "answered_at": _iso(row["answered_at"])}) for row in rows])


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def receive(session: Session, stored: Sequence[Any], *, model: str = "default") -> int:
    """Read the comments of the answers that ``feedback.stored`` events announce, keep what they say, and record a
    ``feedback.received`` event per answer with its scores and, for a comment, its language, sentiment, aspects and
    urgency; how many answers. In the transaction that moves the reading consumer's position: once per answer."""
    from cherish.feedback.text.analysis import analyze

    events = [e for e in stored if e.type == "feedback.stored"]
    answers: dict[str, Answer] = {}
    sources = [e.data["source"] for e in events]
    for start in range(0, len(sources), 500):  # locked: an erasure waits for this, or this for the erasure
        answers.update((a.source, a) for a in session.scalars(
            select(Answer).where(Answer.source.in_(sources[start:start + 500])).with_for_update()))
    present = [(e, answers[e.data["source"]]) for e in events if e.data["source"] in answers]  # (not erased since)
    commented = [(e, a) for e, a in present if a.comment and a.comment.strip()]
    found = dict(zip([a.id for _, a in commented], analyze([a.comment or "" for _, a in commented], model=model),
                     strict=True))
    now = utcnow()
    insert_ignore(session, CommentAnalysis, [_kept(answer_id, r, now) for answer_id, r in found.items()],
                  index=("answer_id",))
    domain_events.record(session, "feedback.received", [  # the comment as it is now (erased: none)
        (answer.customer_id, {**event.data, "comment": answer.comment, **_said(found.get(answer.id))})
        for event, answer in present])
    return len(present)


def _kept(answer_id: int, result: Any, now: Any) -> dict[str, Any]:
    """The row that keeps what a comment says."""
    return {"answer_id": answer_id, "model": result.model, "language": result.language,
            "sentiment": result.sentiment, "label": result.label, "aspects": [vars(a) for a in result.aspects],
            "urgency": result.urgency, "analyzed_at": now}


def _said(result: Any) -> dict[str, Any]:
    if result is None:
        return {"sentiment": None, "label": None, "aspects": [], "urgency": [], "language": None}
    found = result.as_json()
    return {name: found[name] for name in ("sentiment", "label", "aspects", "urgency", "language")}


def reread(session: Session, *, model: str = "default", limit: int = 500) -> int:
    """Read, with the current ``model``, up to ``limit`` comments that an older model read or that none has (answers
    stored before the store kept what comments say); how many. Nothing is published: this brings the stored
    analysis up to date for what reads it now."""
    from cherish.feedback.text.analysis import analyze
    from cherish.feedback.text.sentiment import scorer_named

    version = scorer_named(model).version
    stale = list(session.execute(
        select(CommentAnalysis, Answer.comment).join(Answer, Answer.id == CommentAnalysis.answer_id)
        .where(CommentAnalysis.model != version).order_by(CommentAnalysis.answer_id).limit(limit)))
    unread = [] if len(stale) == limit else list(session.execute(
        select(Answer.id, Answer.comment).outerjoin(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
        .where(CommentAnalysis.answer_id.is_(None), Answer.comment.is_not(None), Answer.comment != "")
        .order_by(Answer.id).limit(limit - len(stale))))
    if not stale and not unread:
        return 0
    now = utcnow()
    results = analyze([comment or "" for _, comment in stale + unread], model=model)
    for (row, _), result in zip(stale, results, strict=False):
        row.model, row.language, row.sentiment, row.label = result.model, result.language, result.sentiment, \
            result.label
        row.aspects, row.urgency, row.analyzed_at = [vars(a) for a in result.aspects], result.urgency, now
    session.flush()
    insert_ignore(session, CommentAnalysis, [_kept(answer_id, r, now) for (answer_id, _), r in
                                             zip(unread, results[len(stale):], strict=True)], index=("answer_id",))
    return len(stale) + len(unread)


def _through_day(query: Any, until: Any) -> Any:
    """``query`` kept to the answers given up to the end of the day ``until`` (UTC), when given."""
    if until is None:
        return query
    from datetime import UTC, datetime, time, timedelta

    return query.where(Answer.answered_at < datetime.combine(until + timedelta(days=1), time(), UTC))


def aspect_drivers(session: Session, score_type: str = "nps", *, since: Any = None, until: Any = None,
                   fewest: int = 10, bootstrap: int = 200) -> dict[str, Any] | None:
    """What drives ``score_type`` among the answers whose comment was read in English (given from ``since`` to the
    end of the day ``until``, when given): each aspect a 0/1 driver
    (mentioned or not; aspects mentioned fewer than ``fewest`` times are left out), by ``drivers.analyze_drivers``.
    None when there is too little to say."""
    import numpy as np

    from cherish.errors import InvalidInput
    from cherish.feedback.drivers import analyze_drivers

    query = (select(Answer.score, CommentAnalysis.aspects)
             .join(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
             .where(Answer.score_type == score_type, CommentAnalysis.language == "en"))
    if since is not None:
        query = query.where(Answer.answered_at >= since)
    query = _through_day(query, until)
    rows: list[tuple[float, list[dict[str, Any]]]] = [(row[0], row[1]) for row in session.execute(query)]
    if not rows:
        return None
    named = [{a["name"] for a in aspects} for _, aspects in rows]
    counts: dict[str, int] = {}
    for names in named:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    kept = sorted(name for name, count in counts.items() if fewest <= count <= len(rows) - fewest)
    try:
        analysis = analyze_drivers(np.array([score for score, _ in rows], dtype=float),
                                   {name: np.array([name in n for n in named], dtype=float) for name in kept},
                                   score_name=score_type, bootstrap=bootstrap)
    except InvalidInput:
        return None  # too few answers, or too few aspects, to tell drivers apart
    return analysis.as_json()


def rating_drivers(session: Session, *, until: Any = None, fewest: int = 30,
                   bootstrap: int = 200) -> dict[str, dict[str, Any]]:
    """What drives each survey's score among its custom rating questions (the answers' numeric custom answers, by
    question id), by ``drivers.analyze_drivers``; by survey, for those with at least two rating questions answered
    ``fewest`` times or more."""
    import numpy as np

    from cherish.errors import InvalidInput
    from cherish.feedback.drivers import analyze_drivers

    query = select(Answer.survey, Answer.score_type, Answer.score, Answer.answers).where(
        Answer.survey.is_not(None), Answer.answers.is_not(None), Answer.score.is_not(None))
    query = _through_day(query, until)
    by_survey: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = {}
    for row in session.execute(query):
        ratings = {k: float(v) for k, v in (row.answers or {}).items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        if ratings and row.survey and row.score is not None:
            by_survey.setdefault((row.survey, row.score_type), []).append((float(row.score), ratings))
    found: dict[str, dict[str, Any]] = {}
    for (survey, kind), rows in sorted(by_survey.items()):
        counts: dict[str, int] = {}
        for _, ratings in rows:
            for name in ratings:
                counts[name] = counts.get(name, 0) + 1
        kept = sorted(name for name, count in counts.items() if count >= fewest)
        try:
            analysis = analyze_drivers(np.array([s for s, _ in rows]),
                                       {n: np.array([r.get(n, np.nan) for _, r in rows]) for n in kept},
                                       score_name=kind, bootstrap=bootstrap)
        except InvalidInput:
            continue  # too few answers or questions to tell drivers apart
        found[f"{survey} ({kind.upper()})"] = analysis.as_json()
    return found


def themes(session: Session, *, until: Any = None, most: int = 5000) -> list[dict[str, Any]]:
    """Emerging themes: what the latest ``most`` comments read in English say that no aspect of the taxonomy
    explains, as clusters with their telling words, size and the ids of a few example answers (their words are
    read when shown: an erased comment is then gone from the theme too)."""
    from cherish.feedback.text.topics import emerging_topics

    query = (select(Answer.id, Answer.comment, CommentAnalysis.aspects)
             .join(CommentAnalysis, CommentAnalysis.answer_id == Answer.id)
             .where(CommentAnalysis.language == "en", Answer.comment.is_not(None)))
    query = _through_day(query, until)
    unexplained = [(row.id, row.comment) for row in session.execute(
        query.order_by(Answer.answered_at.desc()).limit(most)) if not row.aspects and row.comment]
    first_of: dict[str, int] = {}
    for answer_id, comment in unexplained:
        first_of.setdefault(comment.strip(), answer_id)
    return [{**topic.as_json(), "examples": [first_of[e] for e in topic.examples if e in first_of]}
            for topic in emerging_topics([c for _, c in unexplained])]


def theme_examples(session: Session, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Themes with their examples' words as they stand now (an erased comment is left out)."""
    ids = [i for theme in found for i in theme.get("examples", []) if isinstance(i, int)]
    words = {row.id: row.comment for row in session.execute(select(Answer.id, Answer.comment)
                                                            .where(Answer.id.in_(ids)))} if ids else {}
    return [{**theme, "examples": [words[i] for i in theme.get("examples", []) if isinstance(i, int) and words.get(i)]}
            for theme in found]
