"""Dashboard actions on the customer page: add a note, record consent (agents), split an identifier off
(managers). Each calls the service the API calls and answers with a redirect back to the page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from cherish.access.service import Principal
from cherish.api.auth import require
from cherish.customers import service
from cherish.customers.models import CHANNELS, PURPOSES
from cherish.errors import NotFound
from cherish.identity import service as identity
from cherish.web.pages import templates

router = APIRouter(include_in_schema=False)
templates.env.globals.update(consent_purposes=PURPOSES, consent_channels=CHANNELS)


def _alive(session: Session, customer_id: str) -> str:
    """The id of the customer the page shows (the survivor, if this one was merged since)."""
    customer, survivor = service.find(session, customer_id)
    if customer is None and survivor is None:
        raise NotFound(f"no customer {customer_id}")
    return customer.id if customer else survivor  # type: ignore[return-value]


@router.post("/customers/{customer_id}/notes")
def add_note(request: Request, customer_id: str, body: str = Form(""),
             principal: Principal = Depends(require("agent"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        owner = _alive(session, customer_id)
        service.add_note(session, owner, author=principal.name, body=body)
    return RedirectResponse(f"/customers/{owner}#customer-actions", status_code=303)


@router.post("/customers/{customer_id}/consent")
def record_consent(request: Request, customer_id: str, purpose: str = Form(...),
                   consent_channel: str = Form("any"), status: str = Form(...),
                   principal: Principal = Depends(require("agent"))) -> RedirectResponse:
    # the field is not called "channel": the page's timeline filter already has a select of that name
    with request.app.state.store.write() as session:
        owner = _alive(session, customer_id)
        # "api" as the API records it: a person's decision, which rebuilding a profile from events keeps
        service.set_consent(session, owner, [{"purpose": purpose, "channel": consent_channel, "status": status}],
                            source="api")
    return RedirectResponse(f"/customers/{owner}#consent", status_code=303)


@router.post("/customers/{customer_id}/unmerge")
def unmerge(request: Request, customer_id: str, identifier: str = Form(...),
            principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        owner = _alive(session, customer_id)
        newcomer = identity.unmerge(session, request.app.state.settings, customer_id=owner, identifier=identifier,
                                    actor=principal.label)
    return RedirectResponse(f"/customers/{owner}?unmerged={newcomer}", status_code=303)
