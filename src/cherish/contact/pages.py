"""The contact policy as it stands (managers), and the public unsubscribe page, reached from a link in an email (no
login: the signed token is the permission).

GET only asks (mail scanners open links); POST unsubscribes, from the page's button or from the mail client's
one-click request (RFC 8058: ``List-Unsubscribe=One-Click`` in the body), and answers the same page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.contact.policy import CONSENT_PURPOSE, PURPOSES
from cherish.contact.service import rules_of, suppression_rules
from cherish.contact.unsubscribe import read, unsubscribe
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
    settings = request.app.state.settings
    with request.app.state.store.write() as session:  # (the built-in suppression rules are stored on first sight)
        rules = [{"name": r.name, "condition": r.condition, "days": r.days, "enabled": r.enabled,
                  "description": r.description} for r in suppression_rules(session)]
    return render_page(request, "contact_policy.html", principal, policy=rules_of(settings), settings=settings,
                       purposes=PURPOSES, consent_purpose=CONSENT_PURPOSE, suppressions=rules)
