"""Intake routes compatible with Segment's HTTP Tracking API, and the rejected-events list for managers."""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from cherish.access.guard import RowId, require
from cherish.access.service import Principal
from cherish.errors import InvalidInput, PayloadTooLarge
from cherish.events import rejected as rejected_service
from cherish.events.models import RejectedPage, RejectedRead, ReplayResult
from cherish.events.service import message_size
from cherish.events.shapes import ReplayRequest

log = logging.getLogger("cherish.intake")
router = APIRouter(tags=["intake"])


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, decompressed when gzip; reading stops as soon as it is past ``limit``, so a huge body costs no
    more memory than the limit (the rest of it is never read)."""
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    declared = request.headers.get("content-length", "")
    if not gzipped and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request is larger than {limit} bytes")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if inflater is not None:
            if inflater.eof:
                if chunk:
                    raise InvalidInput("the body goes on after the end of its gzip data")
                continue
            try:
                chunk = inflater.decompress(chunk, limit + 1 - size)  # never more than one byte past the limit
            except zlib.error:
                raise InvalidInput("the body says Content-Encoding: gzip but is not valid gzip") from None
            if inflater.unconsumed_tail or inflater.unused_data:
                too_large = inflater.unconsumed_tail or size + len(chunk) > limit
                if too_large:
                    raise PayloadTooLarge(f"the request is larger than {limit} bytes after decompression")
                raise InvalidInput("the body goes on after the end of its gzip data")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request is larger than {limit} bytes"
                                  + (" after decompression" if gzipped else ""))
        parts.append(chunk)
    if inflater is not None and not inflater.eof:
        raise InvalidInput("the body says Content-Encoding: gzip but its gzip data is cut short")
    return b"".join(parts)


async def _read_json(request: Request) -> Any:
    body = await _read_body(request, request.app.state.settings.max_request_bytes)
    request.state.body_size = len(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON") from None


def _check_sizes(messages: list[Any], limit: int, body_size: int) -> None:
    if body_size <= limit:
        return  # no message can be larger than the whole request
    for index, message in enumerate(messages):
        if message_size(message) > limit:
            raise PayloadTooLarge(f"message {index} is larger than {limit} bytes", details=[{"index": index}])


async def _store(request: Request, messages: list[Any], sent_at: Any, forced_type: str | None) -> dict[str, Any]:
    """Store the messages (in a transaction shared with other requests when busy); answer once committed."""
    # validation runs in a worker thread, outside the writer; the writer only resolves and stores
    future = await run_in_threadpool(request.app.state.committer.submit, messages, sent_at, forced_type)
    result = await asyncio.wrap_future(future)
    answer: dict[str, Any] = {"success": True}
    if result.rejected:
        answer["rejected"] = result.rejected
        log.info("intake: %d stored, %d rejected", result.stored, len(result.rejected))
    return answer


@router.post("/v1/batch", summary="Send a batch of messages (Segment HTTP Tracking API)")
async def batch(request: Request, _: Principal = Depends(require("write"))) -> dict[str, Any]:
    body = await _read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise InvalidInput('a batch request is a JSON object with a "batch" list of messages')
    _check_sizes(body["batch"], request.app.state.settings.max_message_bytes, request.state.body_size)
    return await _store(request, body["batch"], body.get("sentAt"), None)


def _single(kind: str):
    async def receive(request: Request, _: Principal = Depends(require("write"))) -> dict[str, Any]:
        body = await _read_json(request)
        if not isinstance(body, dict):
            raise InvalidInput(f"a {kind} request is a JSON object")
        _check_sizes([body], request.app.state.settings.max_message_bytes, request.state.body_size)
        return await _store(request, [body], body.get("sentAt"), kind)

    receive.__name__ = f"receive_{kind}"
    return receive


for _kind in ("track", "identify", "alias", "page", "screen", "group"):
    router.add_api_route(f"/v1/{_kind}", _single(_kind), methods=["POST"], summary=f"Send one {_kind} message")


@router.get("/api/intake/rejected", response_model=RejectedPage, tags=["intake"])
def list_rejected(
    request: Request,
    status: str | None = Query("rejected", description="rejected, replayed, discarded, or empty for all"),
    limit: int = Query(100, ge=1, le=1000),
    _: Principal = Depends(require("manager")),
) -> dict[str, Any]:
    with request.app.state.store.read() as session:
        return {"items": rejected_service.listing(session, status=status or None, limit=limit)}


@router.post("/api/intake/rejected/replay", response_model=ReplayResult, tags=["intake"])
def replay_rejected(
    request: Request, body: ReplayRequest | None = None, principal: Principal = Depends(require("manager"))
) -> dict[str, Any]:
    """Replay rejected events: all, those in ``ids``, or corrected payloads given as ``{"corrections": {id: msg}}``."""
    ids = body.ids if body else None
    corrections = {int(k): v for k, v in body.corrections.items()} if body and body.corrections else {}
    if corrections and ids is None:
        ids = list(corrections)
    with request.app.state.store.write() as session:
        return rejected_service.replay(session, request.app.state.settings, ids=ids, actor=principal.label,
                                       corrections=corrections)


@router.post("/api/intake/rejected/{rejected_id}/discard", response_model=RejectedRead, tags=["intake"],
             summary="Set one rejected event aside for good: no longer listed as rejected, never replayed")
def discard_rejected(request: Request, rejected_id: RowId,
                     principal: Principal = Depends(require("manager"))) -> dict[str, Any]:
    with request.app.state.store.write() as session:
        rejected_service.discard(session, rejected_id=rejected_id, actor=principal.label)
        return rejected_service.one(session, rejected_id=rejected_id)  # type: ignore[return-value]  # found: discard checked it
