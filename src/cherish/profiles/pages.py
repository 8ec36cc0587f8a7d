"""Dashboard actions on the customer page: add a note, record consent (agents), split an identifier off
(managers). Each calls the service the API calls and answers with a redirect back to the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.cases import promises
from cherish.cases import service as case_service
from cherish.contact import service as contact
from cherish.customers import service as customers
from cherish.customers.consent import CHANNELS, PURPOSES
from cherish.errors import NotFound
from cherish.events import timeline as history
from cherish.events.summary import trait_text
from cherish.feedback import service as feedback
from cherish.identity import service as identity
from cherish.profiles import service
from cherish.web import paging
from cherish.web.render import render_page, templates

router = APIRouter(include_in_schema=False)
templates.env.globals.update(consent_purposes=PURPOSES, consent_channels=CHANNELS)
templates.env.filters["trait"] = trait_text
# What the customer page's timeline can show besides everything: label → (kind, event)
TIMELINE_SHOWS = {"orders": ("order", None), "feedback": (None, "Feedback Submitted"),
                  "other events": ("track", None), "profile updates": ("identify", None), "pages": ("page", None)}


@router.post("/customers/{customer_id}/notes")
def add_note(request: Request, customer_id: str, body: str = Form(""),
             principal: Principal = Depends(require("agent"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        owner = customers.survivor_or_404(session, customer_id)
        customers.add_note(session, owner, author=principal.name, body=body)
    return RedirectResponse(f"/customers/{owner}#customer-actions", status_code=303)


@router.post("/customers/{customer_id}/consent")
def record_consent(request: Request, customer_id: str, purpose: str = Form(...),
                   consent_channel: str = Form("any"), status: str = Form(...),
                   principal: Principal = Depends(require("agent"))) -> RedirectResponse:
    # the field is not called "channel": the page's timeline filter already has a select of that name
    with request.app.state.store.write() as session:
        owner = customers.survivor_or_404(session, customer_id)
        # "api" as the API records it: a person's decision, which rebuilding a profile from events keeps
        customers.set_consent(session, owner, [{"purpose": purpose, "channel": consent_channel, "status": status}],
                            source="api")
    return RedirectResponse(f"/customers/{owner}#consent", status_code=303)


@router.post("/customers/{customer_id}/unmerge")
def unmerge(request: Request, customer_id: str, identifier: str = Form(...),
            principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        owner = customers.survivor_or_404(session, customer_id)
        newcomer = identity.unmerge(session, request.app.state.settings, customer_id=owner, identifier=identifier,
                                    actor=principal.label)
    return RedirectResponse(f"/customers/{owner}?unmerged={newcomer}", status_code=303)


@router.get("/customers", response_class=HTMLResponse)
def customer_search(request: Request, q: str = "", offset: str | None = None,
                    principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    start, pager = paging.offset_from(offset), None
    with request.app.state.store.read() as session:
        if q.strip():
            found = service.search_page(session, request.app.state.settings, q, limit=25, offset=start)
            results, recent = found["items"], None
            pager = paging.page(total=found["total"], offset=start, limit=25, shown=len(results), path="/customers",
                         capped=found["capped"], q=q)
        else:
            results, recent = None, service.recently_active(session)
    template = "customer_results.html" if request.headers.get("hx-request") else "customers.html"
    return render_page(request, template, principal, q=q, results=results, recent=recent, pager=pager)


ORDERS_PER_PAGE = 50


def customer_orders(session: Session, customer_id: str, offset: int, **params: Any) -> dict[str, Any]:
    """The customer page's orders: one page of them with their lines, and where that page sits among them all."""
    orders = history.orders_of(session, customer_id, limit=ORDERS_PER_PAGE, offset=offset)
    pager = paging.page(total=history.count_orders(session, customer_id), offset=offset, limit=ORDERS_PER_PAGE,
                 shown=len(orders), path=f"/customers/{customer_id}", key="orders_offset", **params)
    return {"orders": orders, "order_lines": history.order_lines(session, orders), "orders_page": pager}


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, customer_id: str, channel: str | None = None, before: str | None = None,
                  show: str | None = None, orders_offset: str | None = None, unmerged: str | None = None,
                  principal: Principal = Depends(require("viewer"))) -> Response:
    with request.app.state.store.read() as session:
        customer, survivor = customers.find(session, customer_id)
        if survivor:
            return RedirectResponse(f"/customers/{survivor}", status_code=308)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        kind, event = TIMELINE_SHOWS.get(show or "", (None, None))
        page = service.timeline(session, customer.id, channel=channel or None, before=before, limit=50,
                                  kind=kind, event=event)
        if request.headers.get("hx-request") and before:
            return render_page(request, "timeline_rows.html", principal, customer={"id": customer.id}, page=page,
                           channel=channel, show=show)
        return render_page(
            request, "customer.html", principal, customer=service.profile(session, customer), page=page,
            channel=channel, show=show, shows=TIMELINE_SHOWS, currency=request.app.state.settings.currency,
            **customer_orders(session, customer.id, paging.offset_from(orders_offset, name="orders_offset"),
                              channel=channel, show=show),
            unmerged=unmerged if unmerged and unmerged.startswith("cus_") and unmerged[4:].isalnum() else None,
            notes=customers.notes_of(session, customer.id),
            answers=feedback.answers_of(session, customer.id),
            cases=case_service.of_customers(session, [customer.id], limit=20),
            promised=promises.of_customers(session, [customer.id], limit=20),
            contacts=contact.waiting(session, [customer.id]) + [
                c for c in contact.contacts_page(session, [customer.id], before=None, limit=50)
                if c.outcome != "deferred"],
        )
