"""The metrics API: the latest snapshot written by `cherish analyze`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.analytics.service import latest_snapshot, shown
from cherish.errors import NotFound

router = APIRouter(prefix="/api/metrics", tags=["analytics"])


@router.get("", summary="The latest snapshot of the relationship metrics")
def latest(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        snapshot = latest_snapshot(session)
        if snapshot is None:
            raise NotFound("no metrics yet: run `cherish analyze`")
        return {"as_of": snapshot.as_of, "engine": snapshot.engine, "created_at": snapshot.created_at,
                "metrics": shown(session, snapshot.metrics)}
