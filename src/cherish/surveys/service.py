"""Survey definitions: questions checked, every change of wording a new version (answers stay tied to the version
they answered), triggers and sampling, and the reward pool.

A survey's first question is its measure, one of ``nps``, ``csat`` or ``ces``: the score its answers carry into
the metrics. Custom questions follow: ``rating`` (on a scale, 0–1 to 2–10), ``single`` and ``multiple`` choice, and
``text``; the answer to the first ``text`` question is the answer's comment, read by text analytics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.db.base import new_id, utcnow
from cherish.db.dialects import insert_ignore
from cherish.errors import Conflict, InvalidInput, NotFound
from cherish.events.service import newest_id
from cherish.feedback.scales import SCALES
from cherish.surveys.models import Invitation, RewardCode, Survey, SurveyVersion

MEASURES = tuple(SCALES)  # nps, csat, ces
CUSTOM = ("rating", "single", "multiple", "text")
STATUSES = ("active", "paused", "archived")
CHANNELS = ("email", "sms", "app")
WORDING = ("title", "intro", "questions")  # a change to any of these makes a new version
MOST_QUESTIONS, MOST_CHOICES, MOST_CODES = 20, 20, 10_000
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DELAY = re.compile(r"^\s*([0-9]{1,4})\s*([mhd])\s*$")
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
DEFAULT_THANKS = "Thank you: we read every answer, and yours helps us do better."
QUESTION_WORDS = {
    "nps": "How likely are you to recommend us to a friend or colleague?",
    "csat": "How satisfied are you with your experience?",
    "ces": "How easy was it to get what you needed?",
    "text": "What is the main reason for your answer?",
}


def parse_delay(text: str) -> int:
    """``"2d"``, ``"2h"``, ``"30m"`` → minutes (at most 90 days)."""
    found = _DELAY.match(str(text))
    if not found:
        raise InvalidInput(f"{str(text)[:20]!r} is not a delay: write a number and m, h or d, as 2d or 2h")
    minutes = int(found[1]) * _MINUTES[found[2]]
    if minutes > 90 * 24 * 60:
        raise InvalidInput("a trigger waits at most 90 days")
    return minutes


def delay_text(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _text(value: Any, name: str, most: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if len(value.strip()) > most:
        raise InvalidInput(f"{name} has at most {most} characters")
    return value.strip()


def check_question(raw: Any, index: int) -> dict[str, Any]:
    """One question, checked and in its stored shape."""
    where = f"question {index + 1}"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be an object with id, type and text")
    unknown = sorted(set(raw) - {"id", "type", "text", "required", "choices", "scale"})
    if unknown:
        raise InvalidInput(f"{where}: unknown field {unknown[0][:40]!r}")
    kind = raw.get("type")
    if kind not in MEASURES + CUSTOM:
        raise InvalidInput(f"{where}: type must be one of {', '.join(MEASURES + CUSTOM)}")
    qid = raw.get("id") or (kind if kind in MEASURES else f"q{index + 1}")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise InvalidInput(f"{where}: id is 1–40 lower-case letters, digits or _, starting with a letter")
    text = _text(raw.get("text") or QUESTION_WORDS.get(kind), f"{where}'s text", 500)
    required = raw.get("required", kind in MEASURES)
    if not isinstance(required, bool):
        raise InvalidInput(f"{where}: required is true or false")
    question: dict[str, Any] = {"id": qid, "type": kind, "text": text, "required": required}
    return question | _choices(raw, kind, where) | _scale(raw, kind, where)


def _choices(raw: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    if kind not in ("single", "multiple"):
        if raw.get("choices") is not None:
            raise InvalidInput(f"{where}: only choice questions have choices")
        return {}
    choices = raw.get("choices")
    if not isinstance(choices, list) or not 2 <= len(choices) <= MOST_CHOICES:
        raise InvalidInput(f"{where}: a {kind} choice question has 2 to {MOST_CHOICES} choices")
    kept = [_text(c, f"{where}'s choice", 200) for c in choices]
    if len(set(kept)) != len(kept):
        raise InvalidInput(f"{where}: each choice once")
    return {"choices": kept}


def _scale(raw: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    if kind != "rating":
        if raw.get("scale") is not None:
            raise InvalidInput(f"{where}: only rating questions have a scale")
        return {}
    scale = raw.get("scale", [1, 5])
    if (not isinstance(scale, list) or len(scale) != 2 or not all(type(x) is int for x in scale)
            or scale[0] not in (0, 1) or not scale[0] < scale[1] <= 10):
        raise InvalidInput(f"{where}: a rating's scale is [low, high], low 0 or 1, high up to 10")
    return {"scale": scale}


def check_questions(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MOST_QUESTIONS:
        raise InvalidInput(f"a survey has 1 to {MOST_QUESTIONS} questions")
    questions = [check_question(q, i) for i, q in enumerate(raw)]
    if questions[0]["type"] not in MEASURES:
        raise InvalidInput("a survey's first question is its measure: nps, csat or ces")
    if any(q["type"] in MEASURES for q in questions[1:]):
        raise InvalidInput("a survey has one measure (nps, csat or ces), its first question")
    ids = [q["id"] for q in questions]
    if len(set(ids)) != len(ids):
        raise InvalidInput("each question needs its own id")
    questions[0]["required"] = True
    return questions


def measure(questions: list[dict[str, Any]]) -> str:
    return str(questions[0]["type"])


def comment_question(questions: list[dict[str, Any]]) -> str | None:
    """The id of the question whose answer is the comment."""
    return next((q["id"] for q in questions if q["type"] == "text"), None)


def _settings(survey: Survey, fields: dict[str, Any]) -> None:
    """Apply the fields that say how the survey is sent (each checked)."""
    if "trigger" in fields:
        _trigger(survey, fields["trigger"])
    if fields.get("sampling") is not None:
        rate = fields["sampling"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
            raise InvalidInput("sampling is the share of triggering events that get a survey: above 0, at most 1")
        survey.sampling = float(rate)
    _numbers(survey, fields)
    if fields.get("channel") is not None:
        if fields["channel"] not in CHANNELS:
            raise InvalidInput(f"channel is where invitations go: one of {', '.join(CHANNELS)}")
        survey.channel = fields["channel"]
    if fields.get("status") is not None:
        if fields["status"] not in STATUSES:
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}")
        survey.status = fields["status"]
    if fields.get("thank_you") is not None:
        survey.thank_you = _text(fields["thank_you"], "thank_you", 1000, required=False) or DEFAULT_THANKS
    if survey.reminder_days is not None and survey.reminder_days >= survey.expires_days:
        raise InvalidInput("the reminder goes before the invitation expires: reminder_days < expires_days")


def _numbers(survey: Survey, fields: dict[str, Any]) -> None:
    for name, low, high in (("expires_days", 1, 90), ("reminder_days", 1, 30), ("rewards_low_at", 0, MOST_CODES)):
        if name in fields and (fields[name] is not None or name == "reminder_days"):  # (no reminder: null)
            value = fields[name]
            if value is not None and (type(value) is not int or not low <= value <= high):
                raise InvalidInput(f"{name} is a whole number from {low} to {high}")
            setattr(survey, name, value)


def _trigger(survey: Survey, trigger: Any) -> None:
    if trigger is None:
        survey.trigger_event = survey.trigger_delay_minutes = survey.trigger_condition = None
        return
    if not isinstance(trigger, dict):
        raise InvalidInput('a trigger is {"event": "Order Delivered", "after": "2d", "condition": {…}}')
    unknown = sorted(set(trigger) - {"event", "after", "condition"})
    if unknown:
        raise InvalidInput(f"trigger: unknown field {unknown[0][:40]!r}")
    survey.trigger_event = _text(trigger.get("event"), "trigger.event", 200)
    survey.trigger_delay_minutes = parse_delay(trigger.get("after") or "0m")
    condition = trigger.get("condition") or None
    if condition is not None and (not isinstance(condition, dict) or len(condition) > 10 or not all(
            isinstance(k, str) and 0 < len(k) <= 100 and (v is None or isinstance(v, str | int | float | bool))
            for k, v in condition.items())):
        raise InvalidInput("trigger.condition names up to 10 event properties, each with the value it must "
                               'have (text, number, true or false), as {"channel": "web"}')
    survey.trigger_condition = condition


def create(session: Session, fields: dict[str, Any], *, backfill: bool = False) -> Survey:
    """A new survey at version 1. Its trigger asks about events from now on, or, with ``backfill``, also about
    those of the last days that are still worth asking about."""
    name = _text(fields.get("name"), "name", 200)
    if session.scalar(select(Survey.id).where(Survey.name == name)) is not None:
        raise Conflict(f"a survey named {name!r} exists")
    questions = check_questions(fields.get("questions"))
    now = utcnow()
    expires = fields.get("expires_days") or 14
    survey = Survey(id=new_id("srv"), name=name, status="active", version=1, sampling=1.0, channel="email",
                    expires_days=14, reminder_days=3 if isinstance(expires, int) and expires > 3 else None,
                    thank_you=DEFAULT_THANKS, rewards_low_at=10, created_at=now, updated_at=now, seen_event_id=0,
                    trigger_start_id=0)
    _settings(survey, fields)
    if not backfill:
        survey.trigger_start_id = survey.seen_event_id = newest_id(session)
    session.add(survey)
    session.flush()
    session.add(SurveyVersion(survey_id=survey.id, version=1, questions=questions, created_at=now,
                              title=_text(fields.get("title"), "title", 300, required=False) or name,
                              intro=_text(fields.get("intro"), "intro", 2000, required=False)))
    session.flush()
    return survey


def change(session: Session, survey_id: str, fields: dict[str, Any]) -> Survey:
    """Change a survey: its wording (a new version; answers already given keep theirs) and how it is sent."""
    survey = get(session, survey_id, lock=True)
    if fields.get("trigger") is not None and (fields["trigger"] or {}).get("event") != survey.trigger_event:
        survey.trigger_start_id = survey.seen_event_id = newest_id(session)  # a new trigger: from now on
    if fields.get("name") is not None:
        name = _text(fields["name"], "name", 200)
        if name != survey.name and session.scalar(select(Survey.id).where(Survey.name == name)) is not None:
            raise Conflict(f"a survey named {name!r} exists")
        survey.name = name or survey.name
    _settings(survey, fields)
    current = version(session, survey.id, survey.version)
    wording = {"title": current.title, "intro": current.intro, "questions": current.questions}
    wanted = dict(wording)
    if fields.get("questions") is not None:
        questions = wanted["questions"] = check_questions(fields["questions"])
        if measure(questions) != measure(current.questions):
            raise InvalidInput(f"a survey keeps its measure ({measure(current.questions)}): its scores would "
                               "not add up otherwise; make a new survey for another")
    if fields.get("title") is not None:
        wanted["title"] = _text(fields["title"], "title", 300)
    if "intro" in fields:
        wanted["intro"] = _text(fields["intro"], "intro", 2000, required=False)
    now = utcnow()
    if wanted != wording:
        survey.version += 1
        session.add(SurveyVersion(survey_id=survey.id, version=survey.version, created_at=now, **wanted))
    survey.updated_at = now
    session.flush()
    return survey


def get(session: Session, survey_id: str, *, lock: bool = False) -> Survey:
    query = select(Survey).where(Survey.id == survey_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no survey {survey_id[:60]}")
    return found


def version(session: Session, survey_id: str, number: int) -> SurveyVersion:
    found = session.get(SurveyVersion, (survey_id, number))
    if found is None:
        raise NotFound(f"survey {survey_id[:60]} has no version {number}")
    return found


def surveys(session: Session) -> list[Survey]:
    return list(session.scalars(select(Survey).order_by(Survey.created_at, Survey.id)))


@dataclass(frozen=True)
class Counts:
    invited: int
    answered: int
    rewards_left: int | None  # None: no pool


def counts(session: Session, survey_ids: list[str]) -> dict[str, Counts]:
    """How many were asked and answered, and the reward codes left, per survey."""
    asked = dict(session.execute(select(Invitation.survey_id, func.count()).where(
        Invitation.survey_id.in_(survey_ids)).group_by(Invitation.survey_id)).all())
    answered = dict(session.execute(select(Invitation.survey_id, func.count()).where(
        Invitation.survey_id.in_(survey_ids), Invitation.answered_at.is_not(None))
        .group_by(Invitation.survey_id)).all())
    pools = {sid: (total, free) for sid, total, free in session.execute(
        select(RewardCode.survey_id, func.count(), func.count().filter(RewardCode.invitation_id.is_(None)))
        .where(RewardCode.survey_id.in_(survey_ids)).group_by(RewardCode.survey_id))}
    return {sid: Counts(asked.get(sid, 0), answered.get(sid, 0), pools[sid][1] if sid in pools else None)
            for sid in survey_ids}


def listing(session: Session) -> list[dict[str, Any]]:
    """Every survey as the API shows it, with its counts."""
    found = surveys(session)
    counted = counts(session, [s.id for s in found])
    return [describe(session, s, counted[s.id]) for s in found]


def describe(session: Session, survey: Survey, counted: Counts | None = None) -> dict[str, Any]:
    """A survey as the API shows it, with its current wording."""
    current = version(session, survey.id, survey.version)
    counted = counted or counts(session, [survey.id])[survey.id]
    trigger = None if survey.trigger_event is None else {
        "event": survey.trigger_event, "after": delay_text(survey.trigger_delay_minutes),
        "condition": survey.trigger_condition}
    return {"id": survey.id, "name": survey.name, "status": survey.status, "version": survey.version,
            "title": current.title, "intro": current.intro, "questions": current.questions,
            "measure": measure(current.questions), "trigger": trigger, "sampling": survey.sampling,
            "channel": survey.channel, "expires_days": survey.expires_days, "reminder_days": survey.reminder_days,
            "thank_you": survey.thank_you, "rewards_low_at": survey.rewards_low_at, "invited": counted.invited,
            "answered": counted.answered, "rewards_left": counted.rewards_left, "created_at": survey.created_at,
            "updated_at": survey.updated_at}


def add_codes(session: Session, survey_id: str, codes: list[str]) -> int:
    """Add reward codes to a survey's pool (a code already there is not added twice); how many were new."""
    get(session, survey_id)
    kept = [c.strip() for c in codes if isinstance(c, str) and c.strip()]
    if not kept or len(kept) > MOST_CODES or any(len(c) > 100 for c in kept):
        raise InvalidInput(f"send 1 to {MOST_CODES} codes of at most 100 characters each")
    before = session.scalar(select(func.count()).where(RewardCode.survey_id == survey_id)) or 0
    insert_ignore(session, RewardCode, [{"survey_id": survey_id, "code": c} for c in dict.fromkeys(kept)],
                  index=("survey_id", "code"))
    after = session.scalar(select(func.count()).where(RewardCode.survey_id == survey_id)) or 0
    return after - before
