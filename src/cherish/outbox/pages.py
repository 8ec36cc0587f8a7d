"""Dashboard pages: the delivery log with its filters and dead letters (managers), webhook endpoints (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cherish.access.guard import require
from cherish.access.service import Principal, audit
from cherish.domain_events.service import TYPES
from cherish.outbox import service
from cherish.outbox.flows import ping
from cherish.outbox.service import STATUSES
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


@router.get("/outbox", response_class=HTMLResponse)
def deliveries(request: Request, status: str | None = None, endpoint: str | None = None, offset: str | None = None,
               outcome: str | None = None, principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    status = status if status in STATUSES else None
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        endpoints = service.endpoints(session)
        endpoint = endpoint if endpoint in {e.id for e in endpoints} else None
        rows, total = service.messages(session, status=status, endpoint_id=endpoint, limit=PER_PAGE, offset=start)
        attempts = {m.id: service.attempts_of(session, m.id) for m in rows}
    pager = paging.page(total=total, offset=start, limit=PER_PAGE, shown=len(rows), path="/outbox", status=status,
                        endpoint=endpoint)
    shown = {e.id: service.shown_url(e) for e in endpoints}
    return render_page(request, "outbox.html", principal, rows=rows, attempts=attempts, pager=pager, shown=shown,
                       statuses=STATUSES, status=status, endpoints=endpoints, endpoint=endpoint, outcome=outcome)


@router.post("/outbox/{message_id}/{action}")
def settle(request: Request, message_id: int, action: str,
           principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    if action not in ("retry", "discard"):
        from cherish.errors import NotFound

        raise NotFound(f"no action {action!r}: retry or discard")
    with request.app.state.store.write() as session:
        (service.retry if action == "retry" else service.discard)(session, message_id)
        audit(session, actor=principal.label, action=f"outbox_{action}", subject=str(message_id))
    return RedirectResponse(f"/outbox?status=dead&outcome={action}", status_code=303)


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks(request: Request, tested: str | None = None, status: str | None = None,
             principal: Principal = Depends(require("admin"))) -> HTMLResponse:
    added = request.session.pop("webhook_added", None)  # the endpoint just added: its secret shown here, once
    with request.app.state.store.read() as session:
        rows = service.endpoints(session)
    secret = next((e.secret for e in rows if e.id == added), None)  # read from the store, never put in the cookie
    ping_result = None
    if tested in {e.id for e in rows}:
        ping_result = {"id": tested, "ok": bool(status and status.isdigit() and status.startswith("2")),
                       "status": status if status and status.isdigit() else None}
    shown = {e.id: service.shown_url(e) for e in rows}
    return render_page(request, "webhooks.html", principal, rows=rows, shown=shown, types=TYPES,
                       secret=secret, added=added, tested=ping_result)


@router.post("/webhooks")
def add_webhook(request: Request, url: str = Form(...), events: list[str] = Form(...), kind: str = Form("webhook"),
                description: str | None = Form(None),
                principal: Principal = Depends(require("admin"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        endpoint = service.add_endpoint(session, url, events, kind=kind, description=description)
        audit(session, actor=principal.label, action="webhook_add", subject=endpoint.id,
              details={"events": endpoint.events})
        request.session["webhook_added"] = endpoint.id
    return RedirectResponse("/webhooks", status_code=303)  # a reload does not add it again


@router.post("/webhooks/{endpoint_id}/remove")
def remove_webhook(request: Request, endpoint_id: str,
                   principal: Principal = Depends(require("admin"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        service.remove_endpoint(session, endpoint_id)
        audit(session, actor=principal.label, action="webhook_remove", subject=endpoint_id)
    return RedirectResponse("/webhooks", status_code=303)


@router.post("/webhooks/{endpoint_id}/test")
def test_webhook(request: Request, endpoint_id: str,
                 principal: Principal = Depends(require("admin"))) -> RedirectResponse:
    answer = ping(request.app.state.store, request.app.state.settings, endpoint_id)
    status = str(answer.status_code) if answer.status_code else "failed"
    return RedirectResponse(f"/webhooks?tested={endpoint_id}&status={status}", status_code=303)
