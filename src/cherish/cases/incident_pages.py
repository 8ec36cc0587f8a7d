"""Incidents on the dashboard: declared by a manager (whom it touched: orders placed on a channel or with a product
between two dates, or late deliveries in a period), the affected customers reviewed, the apology sent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cherish.access.guard import RowId, require
from cherish.access.service import Principal, audit
from cherish.cases import apologies, incidents
from cherish.errors import CherishError, InvalidInput
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
PER_PAGE = 100


def _listing(request: Request, principal: Principal, problem: str | None = None, status: int = 200) -> Response:
    with request.app.state.store.read() as session:
        found = incidents.listing(session)
        counted = incidents.tally(session, [i.id for i in found])
    page = render_page(request, "incidents.html", principal, items=found, counted=counted, problem=problem)
    page.status_code = status
    return page


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    return _listing(request, principal)


def _day(text: str, name: str, zone: Any, *, end: bool = False) -> datetime:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{name} is a date (YYYY-MM-DD)") from None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=zone)


@router.post("/incidents", response_class=HTMLResponse)
async def incident_declared(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    """The page's form: what went wrong, between which days (in the business time zone), whom it touched."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    settings = request.app.state.settings
    try:
        since = _day(form.get("from", ""), "from", settings.zone)
        until = _day(form.get("until", ""), "until", settings.zone, end=True)
        kind = form.get("kind", "")
        affected: dict[str, Any] = {"kind": kind, "from": since, "until": until}
        if kind == "orders":
            affected.update({k: form[k].strip() for k in ("channel", "product") if form.get(k, "").strip()})
        for name in ("title", "apology_subject", "apology_text"):
            if not form.get(name, "").strip():
                raise InvalidInput(f"{name.replace('_', ' ')} is needed")
        fields = {"title": form["title"].strip()[:200], "description": form.get("description") or None,
                  "started_at": since, "ended_at": until, "affected": affected,
                  "apology_subject": form["apology_subject"].strip()[:200],
                  "apology_text": form["apology_text"][:5000],
                  "codes": [c.strip()[:100] for c in form.get("codes", "").split() if c.strip()][:100_000],
                  "open_cases": form.get("open_cases") == "yes"}
        with request.app.state.store.write() as session:
            incident = apologies.declare(session, settings, fields, actor=principal.label)
            audit(session, actor=principal.label, action="incident_declare", subject=str(incident.id), details={})
    except CherishError as exc:
        return _listing(request, principal, problem=exc.message, status=400)
    return RedirectResponse(f"/incidents/{incident.id}", status_code=303)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: RowId, offset: str | None = None,
                  principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        incident = incidents.get(session, incident_id)
        rows, total = incidents.affected(session, incident_id, limit=PER_PAGE, offset=start)
        counted = incidents.tally(session, [incident_id])[incident_id]
    pager = paging.Page(total=total, offset=start, limit=PER_PAGE, shown=len(rows),
                        path=f"/incidents/{incident_id}")
    return render_page(request, "incident.html", principal, incident=incident, rows=rows, pager=pager,
                       counted=counted)


@router.post("/incidents/{incident_id}/apologies", response_class=HTMLResponse)
def incident_apologies(request: Request, incident_id: RowId,
                       principal: Principal = Depends(require("manager"))) -> Response:
    store = request.app.state.store
    with store.write() as session:
        incidents.get(session, incident_id)
        audit(session, actor=principal.label, action="incident_apologise", subject=str(incident_id), details={})
    apologies.apologise_all(store.write, request.app.state.settings, incident_id, most=2000)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
