"""Answering a survey: the page's state for a token, a half-given answer saved, and the answer given, which enters
cherish the way every other tool's answers do: as a ``Feedback Submitted`` event through intake, in the transaction
that closes the invitation (so a token is answered once, and nothing is kept half-way)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.domain_events import service as domain_events
from cherish.errors import Conflict, Gone, InvalidInput, NotFound
from cherish.events.flows import ingest
from cherish.surveys import service as surveys
from cherish.surveys.invitations import open_for, read_token, token_for
from cherish.surveys.models import Invitation, RewardCode, Survey, SurveyVersion
from cherish.surveys.strings import say

LONGEST_TEXT = 5000
_IDENTIFIERS = ("user_id", "email", "phone", "anonymous_id")  # the one a respondent is named by, first found


@dataclass
class Page:
    """What the answer page shows for a token."""

    survey: Survey
    wording: SurveyVersion
    invitation: Invitation | None  # None: a share link nobody has used yet
    values: dict[str, Any] = field(default_factory=dict)  # saved or chosen answers, by question id
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What an answer or a save came to: the token to go on with, and on an answer the thanks and reward."""

    token: str
    answered: bool
    thank_you: str | None = None
    reward_code: str | None = None
    survey_id: str | None = None
    expires_days: int = 14


def _closed(survey: Survey, invitation: Invitation | None, now: datetime) -> str | None:
    if invitation is not None and invitation.answered_at is not None:
        return "gone_answered"
    if invitation is not None and invitation.expires_at <= now:
        return "gone_expired"
    if survey.status != "active":
        return "gone_closed"
    return None


def page(session: Session, token: str, *, now: datetime | None = None, lock: bool = False) -> Page:
    """The page for ``token``: NotFound for a token cherish did not sign, Gone (410) for an invitation already
    answered or expired, or a survey no longer active."""
    now = now or utcnow()
    kind, ref, _ = read_token(session, token)
    invitation = None
    if kind == "invitation":
        query = select(Invitation).where(Invitation.id == ref)
        invitation = session.scalar(query.with_for_update() if lock else query)
        if invitation is None:  # (its customer was erased)
            raise NotFound("this survey link is not one cherish made")
        survey = surveys.get(session, invitation.survey_id)
        number = invitation.version
    else:
        survey = surveys.get(session, ref)
        number = survey.version
    closed = _closed(survey, invitation, now)
    if closed:
        raise Gone(say(closed))
    wording = surveys.version(session, survey.id, number)
    return Page(survey, wording, invitation, dict((invitation.partial if invitation else None) or {}))


def read_answers(questions: Sequence[dict[str, Any]], form: Mapping[str, Sequence[str]], *,
                 final: bool) -> tuple[dict[str, Any], list[str]]:
    """The answers a form gives, by question id, and the problems in words a respondent reads (a required question
    left out counts only for a final answer)."""
    answers: dict[str, Any] = {}
    problems: list[str] = []
    for question in questions:
        given = [v.strip() for v in form.get(question["id"], []) if isinstance(v, str) and v.strip()]
        if not given:
            if final and question["required"]:
                problems.append(say("missing", question=question["text"]))
            continue
        kind = question["type"]
        if kind in surveys.MEASURES or kind == "rating":
            low, high = surveys.SCALES[kind] if kind in surveys.MEASURES else question["scale"]
            value = given[0]
            if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
                problems.append(say("invalid", question=question["text"]))
                continue
            answers[question["id"]] = int(value)
        elif kind == "single":
            if given[0] not in question["choices"]:
                problems.append(say("invalid", question=question["text"]))
                continue
            answers[question["id"]] = given[0]
        elif kind == "multiple":
            if any(v not in question["choices"] for v in given):
                problems.append(say("invalid", question=question["text"]))
                continue
            answers[question["id"]] = [c for c in question["choices"] if c in given]
        else:
            if len(given[0]) > LONGEST_TEXT:
                problems.append(say("too_long", most=LONGEST_TEXT, question=question["text"]))
                continue
            answers[question["id"]] = given[0]
    return answers, problems


def respond(session: Session, settings: Settings, token: str, form: Mapping[str, Sequence[str]], *, final: bool,
            now: datetime | None = None, address: str | None = None) -> Outcome | Page:
    """Save a half-given answer (``final`` false) or give the answer. A share link's first use opens an invitation
    of its own (the token to go on with). Problems come back as the page to show again, with nothing stored."""
    now = now or utcnow()
    found = page(session, token, now=now, lock=True)
    if final and found.values:  # what was saved before counts, unless given again
        form = {**{k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in found.values.items()},
                **{k: v for k, v in form.items() if any(str(x).strip() for x in v)}}
    answers, problems = read_answers(found.wording.questions, form, final=final)
    if problems:
        found.values, found.problems = {**found.values, **answers}, problems
        return found
    invitation = found.invitation or open_for(session, found.survey.id, _via(session, token), now, address)
    mine = token if found.invitation else token_for(session, invitation.id)
    if not final:
        invitation.partial = {**(invitation.partial or {}), **answers} or None
        return Outcome(mine, answered=False, survey_id=found.survey.id, expires_days=found.survey.expires_days)
    source = f"survey-{invitation.id}-{secrets.token_hex(8)}"  # (never an id another tool's message holds)
    result = ingest(session, [_feedback_event(session, found, invitation, answers, source, now)],
                    settings=settings, received_at=now, keep_rejected=False)
    if result.rejected:
        raise InvalidInput(f"the answer was refused: {result.rejected[0]['message']}")
    if result.stored != 1:
        raise Conflict("the answer could not be stored; send it again")
    invitation.answered_at, invitation.answer_source, invitation.partial = now, source, None
    invitation.customer_id = invitation.customer_id or (result.customers[0] if result.customers else None)
    if invitation.contact_key not in (None, "-"):  # rewards go to those invited, not to anyone with a link
        invitation.reward_code = _reward(session, found.survey, invitation, now)
    return Outcome(mine, answered=True, thank_you=found.survey.thank_you, reward_code=invitation.reward_code,
                   survey_id=found.survey.id, expires_days=found.survey.expires_days)


def invitation_of(session: Session, invitation_id: int, survey_id: str) -> bool:
    """Whether the invitation exists and belongs to the survey."""
    found = session.get(Invitation, invitation_id)
    return found is not None and found.survey_id == survey_id


def _via(session: Session, token: str) -> str:
    return read_token(session, token)[2] or "link"


def _respondent(session: Session, invitation: Invitation) -> dict[str, Any]:
    """Who answers, as intake names people: the invited customer by an identifier they hold; a share link's
    respondent by an anonymous id of their own."""
    if invitation.customer_id is None:
        return {"anonymousId": f"survey-respondent-{invitation.id}"}
    from cherish.customers import service as customers
    from cherish.identity.lookup import identifiers_of

    survivor = customers.survivor_of(session, invitation.customer_id)
    held = {row["type"]: row["value"] for row in identifiers_of(session, survivor)} if survivor else {}
    kind = next((k for k in _IDENTIFIERS if k in held), None)
    if kind is None:
        raise Gone(say("gone_closed"))  # the customer was erased since
    if kind == "user_id":
        return {"userId": held[kind]}
    if kind == "anonymous_id":
        return {"anonymousId": held[kind]}
    return {"anonymousId": f"survey-respondent-{invitation.id}", "context": {"traits": {kind: held[kind]}}}


def _feedback_event(session: Session, found: Page, invitation: Invitation, answers: dict[str, Any], source: str,
                    now: datetime) -> dict[str, Any]:
    questions = found.wording.questions
    first, comment_id = questions[0], surveys.comment_question(questions)
    custom = {k: v for k, v in answers.items() if k not in (first["id"], comment_id)}
    properties = {"score_type": first["type"], "score": answers[first["id"]], "survey": found.survey.name,
                  "survey_id": found.survey.id, "survey_version": invitation.version,
                  "delivered_via": invitation.delivered_via, "answers": custom or None,
                  "comment": answers.get(comment_id) if comment_id else None, "order_id": invitation.order_id,
                  "channel": invitation.channel, "branch": invitation.branch, "employee": invitation.employee}
    return {"type": "track", "event": "Feedback Submitted", "messageId": source,
            "timestamp": now.isoformat(), **_respondent(session, invitation),
            "properties": {k: v for k, v in properties.items() if v is not None}}


def _reward(session: Session, survey: Survey, invitation: Invitation, now: datetime) -> str | None:
    """Give the answer a code from the survey's pool, if it has one left (each code once); say so when the pool
    runs low."""
    code = session.scalar(select(RewardCode).where(RewardCode.survey_id == survey.id,
                                                   RewardCode.invitation_id.is_(None))
                          .order_by(RewardCode.id).limit(1).with_for_update(skip_locked=True))
    if code is None:
        return None
    code.invitation_id, code.given_at = invitation.id, now
    session.flush()
    left = session.scalar(select(func.count()).where(RewardCode.survey_id == survey.id,
                                                     RewardCode.invitation_id.is_(None))) or 0
    given = session.scalar(select(func.count()).where(RewardCode.survey_id == survey.id,
                                                      RewardCode.invitation_id.is_not(None))) or 0
    crossed = left < survey.rewards_low_at <= left + 1 or (given == 1 and left < survey.rewards_low_at)
    if crossed or left == 0:  # as it falls below the line (or starts below it), and when empty
        domain_events.record(session, "survey.rewards_low", [(None, {
            "survey_id": survey.id, "survey": survey.name, "codes_left": left})])
    return code.code
