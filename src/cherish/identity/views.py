"""Identity routes: manual merge and unmerge, the review list of proposed merges, and the runs of the matcher."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cherish.access.guard import RowId, require
from cherish.access.service import Principal
from cherish.identity import match_runs, service
from cherish.identity.models import (
    MatchRunMergeRead,
    MatchRunPage,
    MatchRunRead,
    MatchRunUndone,
    MergeRequest,
    ReviewPage,
    ReviewRead,
    UnmergeRequest,
)

router = APIRouter(tags=["identity"])


@router.post("/api/customers/merge", summary="Merge two customers by hand (the one created first survives)")
def merge(request: Request, body: MergeRequest, principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        survivor = service.merge_by_hand(session, request.app.state.settings, survivor_id=body.survivor_id,
                                         merged_id=body.merged_id, actor=principal.label)
    return {"survivor_id": survivor}


@router.post("/api/customers/{customer_id}/unmerge", summary="Split an identifier off into a customer of its own")
def unmerge(request: Request, customer_id: str, body: UnmergeRequest,
            principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        new_id = service.unmerge(session, request.app.state.settings, customer_id=customer_id,
                                 identifier=body.identifier, actor=principal.label)
    return {"customer_id": customer_id, "new_customer_id": new_id}


@router.get("/api/identity/reviews", response_model=ReviewPage, summary="Proposed merges awaiting a decision")
def reviews(request: Request, status: str | None = Query("pending"), limit: int = Query(100, ge=1, le=1000),
            _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        return {"items": [ReviewRead.model_validate(r, from_attributes=True)
                          for r in service.reviews(session, status=status or None, limit=limit)]}


def _decide(request: Request, review_id: int, accept: bool, principal: Principal) -> Any:
    with request.app.state.store.write() as session:
        review = service.decide_review(session, request.app.state.settings, review_id=review_id, accept=accept,
                                       actor=principal.label)
        return ReviewRead.model_validate(review, from_attributes=True)


@router.post("/api/identity/reviews/{review_id}/accept", response_model=ReviewRead)
def accept(request: Request, review_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    return _decide(request, review_id, True, principal)


@router.post("/api/identity/reviews/{review_id}/reject", response_model=ReviewRead)
def reject(request: Request, review_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    return _decide(request, review_id, False, principal)


@router.get("/api/identity/runs", response_model=MatchRunPage, summary="Runs of `cherish identity match`, latest first")
def runs(request: Request, limit: int = Query(100, ge=1, le=1000), _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        return {"items": [MatchRunRead.model_validate(r, from_attributes=True)
                          for r in match_runs.runs(session, limit=limit)]}


@router.post("/api/identity/runs/{run_id}/undo", response_model=MatchRunUndone,
             summary="Undo every merge of a run, newest first; the pairs taken back wait for review")
def undo_run(request: Request, run_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        outcome = match_runs.undo_run(session, request.app.state.settings, run_id=run_id, actor=principal.label)
        read = lambda items: [MatchRunMergeRead.model_validate(m, from_attributes=True) for m in items]  # noqa: E731
        return {"run": MatchRunRead.model_validate(outcome.run, from_attributes=True),
                "undone": read(outcome.undone), "not_undone": read(outcome.not_undone)}
