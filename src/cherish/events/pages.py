"""Dashboard actions on one rejected event: replay it (as sent, or corrected) or discard it."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.errors import Conflict, InvalidInput, NotFound
from cherish.events import rejected as rejected_service
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
REJECTED_PER_PAGE = 100


def _corrected(text: str | None) -> object | None:
    """The corrected message a manager typed, or None to replay it as it was sent."""
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the corrected message is not valid JSON: {exc}") from None


@router.post("/intake/rejected/{rejected_id}/replay")
def replay_one(request: Request, rejected_id: int, payload: str | None = Form(None),
               principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    corrected = _corrected(payload)
    with request.app.state.store.write() as session:
        row = rejected_service.one(session, rejected_id=rejected_id)
        if row is None:
            raise NotFound(f"no rejected event {rejected_id}")
        if row["status"] != "rejected":
            raise Conflict(f"rejected event {rejected_id} was already {row['status']}")
        result = rejected_service.replay(
            session, request.app.state.settings, ids=[rejected_id], actor=principal.label,
            corrections=None if corrected is None else {rejected_id: corrected})
    outcome = "replayed" if rejected_id in result["replayed"] else "still"
    return RedirectResponse(f"/intake/rejected?outcome={outcome}", status_code=303)


@router.post("/intake/rejected/{rejected_id}/discard")
def discard_one(request: Request, rejected_id: int,
                principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        rejected_service.discard(session, rejected_id=rejected_id, actor=principal.label)
    return RedirectResponse("/intake/rejected?outcome=discarded", status_code=303)


@router.get("/intake/rejected", response_class=HTMLResponse)
def rejected_page(request: Request, offset: str | None = None, outcome: str | None = None,
                  principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        rows = rejected_service.listing(session, status="rejected", limit=REJECTED_PER_PAGE, offset=start)
        pager = paging.page(total=rejected_service.count(session, status="rejected"), offset=start,
                     limit=REJECTED_PER_PAGE, shown=len(rows), path="/intake/rejected")
    return render_page(request, "rejected.html", principal, rows=rows, pager=pager, outcome=outcome)


@router.post("/intake/rejected/replay")
def replay(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    with request.app.state.store.write() as session:
        rejected_service.replay(session, request.app.state.settings, ids=None, actor=principal.label)
    return RedirectResponse("/intake/rejected", status_code=303)
