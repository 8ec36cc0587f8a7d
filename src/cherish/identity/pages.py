"""Dashboard pages for the runs of `cherish identity match`: each run, the merges it made, and undoing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.customers import service as customers
from cherish.customers.traits import display_name
from cherish.errors import CherishError, NotFound
from cherish.identity import match_runs
from cherish.identity import service as identity
from cherish.identity.lookup import identifiers_of
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
REVIEWS_PER_PAGE = 50
RUNS_PER_PAGE, MERGES_PER_PAGE = 50, 100


@router.get("/identity/runs", response_class=HTMLResponse)
def runs_page(request: Request, offset: str | None = None,
              principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        runs = match_runs.runs(session, limit=RUNS_PER_PAGE, offset=start)
        pager = paging.page(total=match_runs.count_runs(session), offset=start, limit=RUNS_PER_PAGE,
                            shown=len(runs), path="/identity/runs")
    return render_page(request, "runs.html", principal, runs=runs, pager=pager)


@router.get("/identity/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: int, offset: str | None = None, undone: int | None = None,
             kept: int | None = None,
             principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        run = match_runs.run(session, run_id=run_id)
        if run is None:
            raise NotFound(f"no identity match run {run_id}")
        merges = match_runs.merges_of(session, run_id=run_id, limit=MERGES_PER_PAGE, offset=start)
        pager = paging.page(total=match_runs.count_merges(session, run_id=run_id), offset=start,
                            limit=MERGES_PER_PAGE, shown=len(merges), path=f"/identity/runs/{run_id}")
    return render_page(request, "run.html", principal, run=run, merges=merges, pager=pager, undone=undone,
                   kept=kept)


@router.post("/identity/runs/{run_id}/undo")
def undo_run(request: Request, run_id: int, principal: Principal = Depends(require("manager"))) -> RedirectResponse:
    with request.app.state.store.write() as session:
        outcome = match_runs.undo_run(session, request.app.state.settings, run_id=run_id, actor=principal.label)
        undone, kept = len(outcome.undone), len(outcome.not_undone)
    return RedirectResponse(f"/identity/runs/{run_id}?undone={undone}&kept={kept}", status_code=303)


@router.get("/identity/reviews", response_class=HTMLResponse)
def review_page(request: Request, status: str = Query("pending"), offset: str | None = None,
                principal: Principal = Depends(require("manager"))) -> HTMLResponse:
    start = paging.offset_from(offset)
    with request.app.state.store.read() as session:
        rows = []
        for review in identity.reviews(session, status=status or None, limit=REVIEWS_PER_PAGE, offset=start):
            sides = []
            for cid in (review.customer_a, review.customer_b):
                customer, survivor = customers.find(session, cid)
                if customer is None and survivor:
                    customer, _ = customers.find(session, survivor)
                sides.append(_side(session, customer.id, customer.name) if customer else
                             {"id": cid, "name": None, "identifiers": []})
            rows.append({"review": review, "sides": sides})
        pager = paging.page(total=identity.count_reviews(session, status=status or None), offset=start,
                     limit=REVIEWS_PER_PAGE, shown=len(rows), path="/identity/reviews", status=status)
    return render_page(request, "reviews.html", principal, rows=rows, status=status, pager=pager)


@router.post("/identity/reviews/{review_id}/{decision}")
def decide(request: Request, review_id: int, decision: str,
           principal: Principal = Depends(require("manager"))) -> Response:
    if decision not in ("accept", "reject"):
        raise NotFound("unknown decision")
    try:
        with request.app.state.store.write() as session:
            identity.decide_review(session, request.app.state.settings, review_id=review_id,
                                   accept=decision == "accept", actor=principal.label)
    except CherishError as exc:
        if exc.status >= 500:
            raise
    return RedirectResponse("/identity/reviews", status_code=303)


def _side(session: Session, customer_id: str, stored_name: str | None) -> dict[str, Any]:
    """One customer of a proposed pair as the review shows it: the name its page heads with, its identifiers."""
    return {"id": customer_id, "name": display_name(customers.traits_of(session, customer_id)) or stored_name,
            "identifiers": identifiers_of(session, customer_id)}
