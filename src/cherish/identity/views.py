"""Identity routes: manual merge and unmerge, and the review list of proposed merges."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cherish.access.service import Principal
from cherish.api.auth import require
from cherish.identity import service
from cherish.identity.models import MergeRequest, ReviewPage, ReviewRead, UnmergeRequest

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
def accept(request: Request, review_id: int, principal: Principal = Depends(require("manager"))) -> Any:
    return _decide(request, review_id, True, principal)


@router.post("/api/identity/reviews/{review_id}/reject", response_model=ReviewRead)
def reject(request: Request, review_id: int, principal: Principal = Depends(require("manager"))) -> Any:
    return _decide(request, review_id, False, principal)
