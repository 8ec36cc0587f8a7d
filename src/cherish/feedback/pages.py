"""The feedback inbox on the dashboard: answers and comments with filters, counts and pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.feedback import inbox
from cherish.feedback.text.aspects import DEFAULT
from cherish.feedback.text.urgency import SIGNALS
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


@router.get("/feedback", response_class=HTMLResponse)
def feedback_inbox(request: Request, principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    query = dict(request.query_params)
    filters = inbox.Filters.read(query)
    start = paging.offset_from(query.get("offset"))
    with request.app.state.store.read() as session:
        rows, total, flagged = inbox.items(session, filters, limit=PER_PAGE, offset=start)
        offered = inbox.choices(session)
    pager = paging.Page(total=total, offset=start, limit=PER_PAGE, shown=len(rows), path="/feedback",
                        params=tuple((k, v) for k, v in filters.params().items() if v))
    return render_page(request, "feedback.html", principal, rows=rows, pager=pager, flagged=flagged,
                       filters=filters, offered=offered, aspects=list(DEFAULT.patterns),
                       urgency=SIGNALS, verdicts=list(inbox.VERDICTS), labels=inbox.LABELS,
                       origins=inbox.ORIGINS)
