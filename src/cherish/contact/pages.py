"""The contact policy as it stands (managers) and changed (admins), and the public unsubscribe page, reached from
a link in an email (no login: the signed token is the permission).

GET only asks (mail scanners open links); POST unsubscribes, from the page's button or from the mail client's
one-click request (RFC 8058: ``List-Unsubscribe=One-Click`` in the body), and answers the same page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.contact import policy_settings
from cherish.contact.policy import CHANNELS, CONSENT_PURPOSE, PURPOSES
from cherish.contact.service import rules_in_force
from cherish.contact.unsubscribe import read, unsubscribe
from cherish.contact.views import apply_change, policy_of
from cherish.errors import InvalidInput
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)

_WORDS = {"service": "messages about your orders", "feedback": "requests for feedback",
          "marketing": "news and offers"}


@router.get("/u/{token}", response_class=HTMLResponse)
def ask(request: Request, token: str) -> HTMLResponse:
    with request.app.state.store.read() as session:
        _, purpose, channel = read(session, request.app.state.settings, token)
    return render_page(request, "unsubscribe.html", None, done=False, purpose_words=_WORDS.get(purpose, purpose),
                       channel=channel)


@router.post("/u/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    with request.app.state.store.write() as session:
        purpose, channel = unsubscribe(session, request.app.state.settings, token)
    return render_page(request, "unsubscribe.html", None, done=True, purpose_words=_WORDS.get(purpose, purpose),
                       channel=channel)


@router.get("/contact-policy", response_class=HTMLResponse)
def contact_policy(request: Request, principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    return _policy_page(request, principal, saved=request.query_params.get("saved") == "1")


@router.post("/contact-policy", response_class=HTMLResponse)
async def change_contact_policy(request: Request, principal: Principal = Depends(require("admin"))) -> Response:
    """The page's form: the fields whose value differs from the policy in force are set here; "Follow the settings"
    sets every field back to its CHERISH_* setting."""
    form = await request.form()
    settings = request.app.state.settings
    try:
        with request.app.state.store.write() as session:
            if form.get("reset"):
                changes: dict[str, Any] = dict.fromkeys(policy_settings.FIELDS)
            else:
                changes = _changed(_from_form(form), policy_of(session, settings))
            apply_change(session, settings, principal, changes)
    except InvalidInput as exc:
        return _policy_page(request, principal, error=str(exc), status_code=400)
    return RedirectResponse("/contact-policy?saved=1", status_code=303)


def _policy_page(request: Request, principal: Principal, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    with request.app.state.store.write() as session:  # (the built-in suppression rules are stored on first sight)
        current = policy_of(session, request.app.state.settings)
        rules = rules_in_force(session, request.app.state.settings)
    page = render_page(request, "contact_policy.html", principal, policy=rules, current=current,
                       settings=request.app.state.settings, purposes=PURPOSES, consent_purpose=CONSENT_PURPOSE,
                       env_names=policy_settings.ENV_NAMES, channels=CHANNELS,
                       caps_text=", ".join(current["contact_caps"]),
                       channel_caps_text="; ".join(f"{c}: {', '.join(v)}"
                                                   for c, v in current["contact_channel_caps"].items()),
                       **context)
    page.status_code = status_code
    return page


def _from_form(form: Any) -> dict[str, Any]:
    """What the form says, in the API's shape (caps as ``2/7d, 6/30d``; per channel as ``sms: 1/7d; email: 3/7d``)."""
    channel_caps: dict[str, list[str]] = {}
    for part in str(form.get("contact_channel_caps") or "").split(";"):
        if part.strip():
            channel, _, caps = part.partition(":")
            if not caps.strip():
                raise InvalidInput(f"contact_channel_caps: write a channel and its caps, as sms: 1/7d (not {part!r})")
            channel_caps[channel.strip().lower()] = _caps(caps)
    return {"consent_defaults": {p: str(form.get(f"consent_{p}")) for p in ("service", "feedback", "marketing")
                                 if form.get(f"consent_{p}")},
            "contact_caps": _caps(str(form.get("contact_caps") or "")),
            "contact_channel_caps": channel_caps,
            "quiet_hours": str(form.get("quiet_hours") or "").strip(),
            "survey_fatigue_days": _days(form.get("survey_fatigue_days")),
            "suppression_rules": {name: form.get(f"rule:{name}") == "on"  # each rule shown, ticked or not
                                  for name in form.getlist("rules")}}


def _days(value: Any) -> int:
    text = str(value or "0").strip()
    if not text.isdigit() or int(text) > 365:
        raise InvalidInput("survey_fatigue_days: a whole number of days from 0 to 365")
    return int(text)


def _caps(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _changed(wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    changes = {name: value for name, value in wanted.items() if name in policy_settings.FIELDS
               and value != current[name]}
    if "consent_defaults" in changes:  # a purpose left out keeps what it had
        changes["consent_defaults"] = current["consent_defaults"] | changes["consent_defaults"]
    enabled = {r["name"]: r["enabled"] for r in current["suppression_rules"]}
    switches = {n: on for n, on in wanted["suppression_rules"].items() if n in enabled and enabled[n] != on}
    return changes | ({"suppression_rules": switches} if switches else {})
