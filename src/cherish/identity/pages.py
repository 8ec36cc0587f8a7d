"""Dashboard pages for the runs of `cherish identity match`: each run, the merges it made, and undoing it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cherish.access.service import Principal
from cherish.api.auth import require
from cherish.errors import NotFound
from cherish.identity import match_runs
from cherish.web import paging
from cherish.web.pages import render_page

router = APIRouter(include_in_schema=False)
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
