"""Surveys through the API: defined and changed by managers, shared as a link, a QR code or a snippet, customers
invited by hand, reward codes added; and the answer endpoints a respondent's token opens (no login: the signed
token is the permission; a token already answered, or expired, is 410 Gone)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.datastructures import MultiDict

from cherish.access.guard import require
from cherish.access.service import Principal, audit
from cherish.errors import InvalidInput
from cherish.surveys import answering, invitations, sharing
from cherish.surveys import service as surveys

router = APIRouter(tags=["surveys"])
Via = Literal["link", "qr", "embed", "sms", "receipt"]


class Question(BaseModel):
    model_config = {"extra": "forbid"}

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = Field(
        None, description="Defaults to the type for the measure, q2, q3 … for the rest.")
    type: Literal["nps", "csat", "ces", "rating", "single", "multiple", "text"]
    text: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="The question's words (the measures have standard ones).")
    required: bool | None = None
    choices: list[Annotated[str, StringConstraints(max_length=200)]] | None = Field(None, max_length=20)
    scale: list[int] | None = Field(None, description="A rating's [low, high], as [1, 5].")


class Trigger(BaseModel):
    model_config = {"extra": "forbid"}

    event: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(examples=["Order Delivered"])
    after: Annotated[str, StringConstraints(pattern=r"^\s*[0-9]{1,4}\s*[mhd]\s*$")] = Field(
        "0m", examples=["2d", "2h"], description="How long after the event: minutes (m), hours (h) or days (d).")
    condition: dict[str, str | int | float | bool | None] | None = Field(
        None, examples=[{"channel": "web"}], description="Event properties and the values they must have.")


class SurveyChange(BaseModel):
    """What to set; a field left out stays as it is. A change of title, intro or questions is a new version."""

    model_config = {"extra": "forbid"}

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    title: Annotated[str, StringConstraints(max_length=300)] | None = None
    intro: Annotated[str, StringConstraints(max_length=2000)] | None = None
    questions: list[Question] | None = Field(None, min_length=1, max_length=20)
    trigger: Trigger | None = None
    sampling: float | None = Field(None, gt=0, le=1, description="The share of triggering events that get one.")
    channel: Literal["email", "sms", "app"] | None = None
    expires_days: int | None = Field(None, ge=1, le=90)
    reminder_days: int | None = Field(None, ge=1, le=30, description="One reminder after this many days; null: none.")
    thank_you: Annotated[str, StringConstraints(max_length=1000)] | None = None
    rewards_low_at: int | None = Field(None, ge=0, le=10_000)
    status: Literal["active", "paused", "archived"] | None = None


class SurveyNew(SurveyChange):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    questions: list[Question] = Field(min_length=1, max_length=20, examples=[[
        {"type": "nps"}, {"type": "text", "text": "What is the main reason for your score?"}]])


class SurveyOut(BaseModel):
    id: str
    name: str
    status: str
    version: int
    title: str
    intro: str | None
    questions: list[dict[str, Any]]
    measure: str
    trigger: dict[str, Any] | None
    sampling: float
    channel: str
    expires_days: int
    reminder_days: int | None
    thank_you: str
    rewards_low_at: int
    invited: int
    answered: int
    rewards_left: int | None
    created_at: datetime
    updated_at: datetime


class SurveyList(BaseModel):
    items: list[SurveyOut]


class InvitationsNew(BaseModel):
    model_config = {"extra": "forbid"}

    customer_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=1000)
    order_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class InvitationOut(BaseModel):
    id: int
    customer_id: str | None
    contact_key: str | None
    due_at: datetime
    expires_at: datetime


class InvitationsMade(BaseModel):
    items: list[InvitationOut]


class Share(BaseModel):
    via: str
    url: str
    qr_svg: str = Field(description="Where to get the link as a QR code (SVG).")
    embed: str = Field(description="An HTML snippet that shows the survey on a web page.")


class RewardCodes(BaseModel):
    model_config = {"extra": "forbid"}

    codes: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(min_length=1,
                                                                                         max_length=10_000)


class RewardsAdded(BaseModel):
    added: int
    rewards_left: int | None


class AnswerIn(BaseModel):
    model_config = {"extra": "forbid"}

    answers: dict[str, int | str | list[str]] = Field(examples=[{"nps": 9, "q2": "Quick and friendly"}])
    final: bool = Field(True, description="false: save what is given and finish later.")


class AnswerOut(BaseModel):
    answered: bool
    token: str = Field(description="The token to go on with (a share link's first answer opens one of its own).")
    thank_you: str | None = None
    reward_code: str | None = None


class AnswerPage(BaseModel):
    survey: str
    title: str
    intro: str | None
    version: int
    questions: list[dict[str, Any]]
    saved: dict[str, Any]


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    if "questions" in fields and fields["questions"] is not None:
        fields["questions"] = [{k: v for k, v in q.items() if v is not None} for q in fields["questions"]]
    return fields


@router.get("/api/surveys", response_model=SurveyList)
def list_surveys(request: Request, _: Principal = Depends(require("manager"))) -> dict[str, Any]:
    with request.app.state.store.read() as session:
        return {"items": surveys.listing(session)}


@router.post("/api/surveys", response_model=SurveyOut, status_code=201)
def create_survey(request: Request, body: SurveyNew, principal: Principal = Depends(require("manager"))) -> Any:
    """A new survey: its first question is its measure (nps, csat or ces); custom questions follow."""
    with request.app.state.store.write() as session:
        survey = surveys.create(session, _body(body.model_dump(exclude_unset=True)))
        audit(session, actor=principal.label, action="survey_create", subject=survey.id, details={})
        return surveys.describe(session, survey)


@router.get("/api/surveys/{survey_id}", response_model=SurveyOut)
def read_survey(request: Request, survey_id: str, _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        return surveys.describe(session, surveys.get(session, survey_id))


@router.patch("/api/surveys/{survey_id}", response_model=SurveyOut)
def change_survey(request: Request, survey_id: str, body: SurveyChange,
                  principal: Principal = Depends(require("manager"))) -> Any:
    """Change a survey; new wording is a new version, and answers given keep the version they answered."""
    fields = _body(body.model_dump(exclude_unset=True))
    with request.app.state.store.write() as session:
        survey = surveys.change(session, survey_id, fields)
        audit(session, actor=principal.label, action="survey_change", subject=survey.id,
              details={"fields": sorted(fields), "version": survey.version})
        return surveys.describe(session, survey)


@router.get("/api/surveys/{survey_id}/versions/{number}", response_model=dict[str, Any])
def read_version(request: Request, survey_id: str, number: int = Path(ge=1, lt=2**31),
                 _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        found = surveys.version(session, survey_id, number)
        return {"survey_id": survey_id, "version": found.version, "title": found.title, "intro": found.intro,
                "questions": found.questions, "created_at": found.created_at}


@router.post("/api/surveys/{survey_id}/invitations", response_model=InvitationsMade, status_code=201)
def invite(request: Request, survey_id: str, body: InvitationsNew,
           principal: Principal = Depends(require("manager"))) -> Any:
    """Ask customers now; the contact policy decides for each (see the contact log for why one did not go)."""
    with request.app.state.store.write() as session:
        made = invitations.invite(session, request.app.state.settings, survey_id, body.customer_ids,
                                  order_id=body.order_id)
        audit(session, actor=principal.label, action="survey_invite", subject=survey_id,
              details={"customers": len(made)})
        return {"items": [{"id": i.id, "customer_id": i.customer_id, "contact_key": i.contact_key,
                           "due_at": i.due_at, "expires_at": i.expires_at} for i in made]}


@router.get("/api/surveys/{survey_id}/share", response_model=Share)
def share(request: Request, survey_id: str, via: Via = Query("link"),
          _: Principal = Depends(require("manager"))) -> Any:
    """A link for anyone to answer (one answer per visitor who sends it), as a URL, a QR code and a snippet."""
    with request.app.state.store.write() as session:  # (the signing key is made on first use)
        return sharing.share(session, request.app.state.settings, survey_id, via)


@router.get("/api/surveys/{survey_id}/share.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def share_qr(request: Request, survey_id: str, via: Via = Query("qr"),
             _: Principal = Depends(require("manager"))) -> Response:
    """The share link as a QR code, an SVG to print on a receipt, a table card or a poster."""
    with request.app.state.store.write() as session:
        found = sharing.share(session, request.app.state.settings, survey_id, via)
    return Response(sharing.qr_svg(found["url"]), media_type="image/svg+xml",
                    headers={"content-disposition": f'inline; filename="survey-{survey_id[:40]}.svg"'})


@router.post("/api/surveys/{survey_id}/rewards", response_model=RewardsAdded)
def add_rewards(request: Request, survey_id: str, body: RewardCodes,
                principal: Principal = Depends(require("manager"))) -> Any:
    """Add codes to the survey's reward pool: each given once, to an answer; an alert (``survey.rewards_low``)
    when the pool runs low."""
    with request.app.state.store.write() as session:
        added = surveys.add_codes(session, survey_id, body.codes)
        audit(session, actor=principal.label, action="survey_rewards", subject=survey_id, details={"added": added})
        return {"added": added, "rewards_left": surveys.counts(session, [survey_id])[survey_id].rewards_left}


@router.get("/api/s/{token}", response_model=AnswerPage, tags=["answering"])
def answer_page(request: Request, token: str) -> Any:
    """The survey a token opens, with what was saved of a half-given answer (410 once answered or expired)."""
    with request.app.state.store.read() as session:
        found = answering.page(session, token)
        return {"survey": found.survey.name, "title": found.wording.title, "intro": found.wording.intro,
                "version": found.wording.version, "questions": found.wording.questions, "saved": found.values}


@router.post("/api/s/{token}", response_model=AnswerOut, tags=["answering"])
def answer(request: Request, token: str, body: AnswerIn) -> Any:
    """Answer (``final``: true) or save a half-given answer; a token is answered once (410 after)."""
    form: MultiDict = MultiDict([(k, str(x)) for k, v in body.answers.items()
                                 for x in (v if isinstance(v, list) else [v])])
    with request.app.state.store.write() as session:
        outcome = answering.respond(session, request.app.state.settings, token,
                                    {k: form.getlist(k) for k in form}, final=body.final,
                                    address=request.client.host if request.client else None)
        if isinstance(outcome, answering.Page):
            raise InvalidInput("; ".join(outcome.problems))
        return {"answered": outcome.answered, "token": outcome.token, "thank_you": outcome.thank_you,
                "reward_code": outcome.reward_code}
