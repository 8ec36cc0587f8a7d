"""The public answer page a survey link opens (no login, no script needed: a plain form), and the surveys on the
dashboard: each with its share link, QR code and snippet, its counts, and a form to make one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cherish.access.guard import require
from cherish.access.service import Principal, audit
from cherish.errors import Gone, InvalidInput, NotFound
from cherish.surveys import answering, sharing
from cherish.surveys import service as surveys
from cherish.surveys.invitations import read_token
from cherish.surveys.strings import LANGUAGE, say
from cherish.web.render import render_page, templates

router = APIRouter(include_in_schema=False)
_COOKIE = "cherish_survey_"
# the page may be shown inside a company's own site (the embed snippet); nothing else of cherish may
_FRAMED = {"content-security-policy": "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
                                      "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors *",
           "cache-control": "no-store"}


def _answer_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    wording = context.get("wording")
    context.setdefault("heading", wording.title if wording is not None else say("thanks_title"))
    response = templates.TemplateResponse(request, "survey_answer.html", {"say": say, "lang": LANGUAGE, **context},
                                          status_code=status)
    response.headers.update(_FRAMED)
    return response


def _form(request: Request, token: str, found: answering.Page, *, status: int = 200,
          saved: bool = False) -> HTMLResponse:
    scales, ends = {}, {}
    for q in found.wording.questions:
        if q["type"] in surveys.MEASURES:
            scales[q["id"]] = surveys.SCALES[q["type"]]
            ends[q["id"]] = (say(f"low_{q['type']}"), say(f"high_{q['type']}"))
        elif q["type"] == "rating":
            scales[q["id"]] = tuple(q["scale"])
            ends[q["id"]] = (say("low_rating"), say("high_rating"))
    return _answer_page(request, status, state="form", token=token, wording=found.wording, values=found.values,
                        problems=found.problems, saved=saved, scales=scales, ends=ends)


def _closed(request: Request, exc: Exception) -> HTMLResponse:
    if isinstance(exc, Gone):
        return _answer_page(request, 410, state="closed", heading=say("gone_title"), message=exc.message)
    return _answer_page(request, 404, state="closed", heading=say("not_found_title"), message=say("not_found"))


def _mine(request: Request, token: str) -> str | None:
    """The visitor's own invitation, when ``token`` is a share link this browser already used (its cookie)."""
    with request.app.state.store.read() as session:
        kind, ref, _ = read_token(session, token)
        if kind != "share":
            return None
        kept = request.cookies.get(_COOKIE + ref.replace("_", "-"))
        if not kept:
            return None
        try:
            mine_kind, invitation_id, _ = read_token(session, kept)
        except NotFound:
            return None
        return kept if mine_kind == "invitation" and answering.invitation_of(session, invitation_id, ref) else None


def _remember(response: Response, survey_id: str, token: str, days: int) -> None:
    response.set_cookie(_COOKIE + survey_id.replace("_", "-"), token, max_age=days * 86400, path="/s/",
                        httponly=True, samesite="lax")


@router.get("/s/{token}", response_class=HTMLResponse)
def answer_form(request: Request, token: str) -> Response:
    """The survey; a score in the query (``?nps=9``, from the email's first question) is chosen, not yet stored
    (mail scanners open links too). A share link this browser used leads to the visitor's own answer."""
    try:
        mine = _mine(request, token)
        if mine is not None:
            return RedirectResponse(f"/s/{mine}", status_code=303)
        with request.app.state.store.read() as session:
            found = answering.page(session, token)
    except (Gone, NotFound) as exc:
        return _closed(request, exc)
    chosen, _ = answering.read_answers(found.wording.questions, {
        k: request.query_params.getlist(k) for k in request.query_params}, final=False)
    found.values = {**found.values, **chosen}
    return _form(request, token, found, saved=request.query_params.get("saved") == "1")


@router.post("/s/{token}", response_class=HTMLResponse)
async def answer_sent(request: Request, token: str) -> Response:
    form = await request.form()
    given = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    final = form.get("action") != "save"
    try:
        token = _mine(request, token) or token  # one answer per visitor of a share link
        with request.app.state.store.write() as session:
            outcome = answering.respond(session, request.app.state.settings, token, given, final=final,
                                        address=request.client.host if request.client else None)
    except (Gone, NotFound) as exc:
        return _closed(request, exc)
    if isinstance(outcome, answering.Page):
        return _form(request, token, outcome, status=400)
    response: Response
    if not outcome.answered:
        response = RedirectResponse(f"/s/{outcome.token}?saved=1", status_code=303)
    else:
        response = _answer_page(request, state="thanks", thank_you=outcome.thank_you,
                                reward_code=outcome.reward_code)
    if outcome.token != token and outcome.survey_id:  # a share link's first use: this visitor's own invitation
        _remember(response, outcome.survey_id, outcome.token, outcome.expires_days)
    return response


@router.get("/surveys", response_class=HTMLResponse)
def survey_list(request: Request, principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    with request.app.state.store.read() as session:
        items = surveys.listing(session)
    return render_page(request, "surveys.html", principal, items=items, problem=None)



@router.post("/surveys", response_class=HTMLResponse)
async def survey_made(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    """The page's form: a measure, an optional comment question and an optional trigger."""
    form = await request.form()
    questions: list[dict[str, Any]] = [{"type": str(form.get("measure") or "")}]
    if str(form.get("comment") or "").strip():
        questions.append({"type": "text", "text": str(form.get("comment"))})
    fields: dict[str, Any] = {"name": str(form.get("name") or ""), "title": str(form.get("title") or "") or None,
                              "questions": questions}
    if str(form.get("trigger_event") or "").strip():
        fields["trigger"] = {"event": str(form.get("trigger_event")), "after": str(form.get("after") or "0m")}
    try:
        sampling = float(str(form.get("sampling") or "100")) / 100
    except ValueError:
        sampling = -1.0
    fields["sampling"] = sampling
    try:
        with request.app.state.store.write() as session:
            survey = surveys.create(session, fields)
            audit(session, actor=principal.label, action="survey_create", subject=survey.id, details={})
    except InvalidInput as exc:
        with request.app.state.store.read() as session:
            items = surveys.listing(session)
        page = render_page(request, "surveys.html", principal, items=items, problem=exc.message)
        page.status_code = 400
        return page
    return RedirectResponse(f"/surveys/{survey.id}", status_code=303)


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
def survey_page(request: Request, survey_id: str, principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    settings = request.app.state.settings
    with request.app.state.store.write() as session:  # (the share links' signing key is made on first use)
        survey = surveys.describe(session, surveys.get(session, survey_id))
        shared = {via: sharing.share(session, settings, survey_id, via) for via in ("link", "qr", "embed")}
    return render_page(request, "survey.html", principal, survey=survey, shared=shared,
                       delay=surveys.delay_text)
