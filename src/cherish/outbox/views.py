"""Webhook endpoints (admin) and the outbox's delivery log and dead letters (manager)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Discriminator, Field, Tag

from cherish.access.guard import RowId, require
from cherish.access.service import Principal, audit
from cherish.outbox import service
from cherish.outbox.flows import ping

router = APIRouter(tags=["outbox"])


# as domain_events.TYPES and outbox.service.MESSAGE_TYPES, and *
EventType = Literal["*", "feedback.received", "consent.changed", "survey.rewards_low", "case.opened", "case.updated",
                    "case.escalated", "case.resolved", "promise.broken", "incident.apology_sent", "ping"]
MessageType = Literal["message.sms", "message.app"]


# a host (a name or an IPv4 address: an IPv6 literal's grammar is beyond a pattern, give it a name), a port from 1
# to 65535 if any, and a path
_URL = (r"^https?://[A-Za-z0-9][A-Za-z0-9.\-]*"
        r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[^\s]*)?$")


class _EndpointCreate(BaseModel):
    url: str = Field(max_length=2000, pattern=_URL, examples=["https://helpdesk.example.com/hooks/cherish"])
    description: str | None = Field(None, max_length=300, pattern=r"^[^\x00]*$")


class WebhookCreate(_EndpointCreate):
    """Signed JSON (Standard Webhooks) for the domain events named."""

    kind: Literal["webhook"] = "webhook"
    events: list[EventType] = Field(min_length=1, max_length=10, examples=[["feedback.received", "consent.changed"]],
                                    description="Domain event types, or [\"*\"] for every type.")


class SlackCreate(_EndpointCreate):
    """A Slack-compatible incoming webhook: team alerts for the domain events named."""

    kind: Literal["slack"]
    events: list[EventType] = Field(min_length=1, max_length=10)


class SenderCreate(_EndpointCreate):
    """The company's own SMS or app sender: messages to customers on its channel, with their address."""

    kind: Literal["sender"]
    events: list[MessageType] = Field(min_length=1, max_length=2, examples=[["message.sms"]])


def _kind(value: Any) -> str:
    found = value.get("kind", "webhook") if isinstance(value, dict) else getattr(value, "kind", "webhook")
    return found if found in ("webhook", "slack", "sender") else "webhook"


EndpointCreate = Annotated[Annotated[WebhookCreate, Tag("webhook")] | Annotated[SlackCreate, Tag("slack")]
                           | Annotated[SenderCreate, Tag("sender")], Discriminator(_kind)]


class EndpointRead(BaseModel):
    id: str
    kind: str
    url: str = Field(description="Without its query string; a Slack webhook's without its path (its credential).")
    events: list[str]
    description: str | None
    enabled: bool
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="The signing secret (whsec_…), shown only in this answer.")


class PingResult(BaseModel):
    delivered: bool
    status_code: int | None
    latency_ms: float
    error: str | None


class AttemptRead(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    outcome: str


class MessageRead(BaseModel):
    id: int
    key: str = Field(description="The idempotency key, sent as webhook-id on every attempt.")
    kind: str
    endpoint_id: str | None
    customer_id: str | None
    type: str
    status: Literal["pending", "delivered", "dead", "discarded"]
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class MessageDetail(MessageRead):
    body: dict[str, Any]
    attempt_log: list[AttemptRead]


class MessagePage(BaseModel):
    items: list[MessageRead]
    total: int
    offset: int
    limit: int


def _read(endpoint: Any) -> EndpointRead:
    return EndpointRead.model_validate(endpoint, from_attributes=True).model_copy(
        update={"url": service.shown_url(endpoint)})


@router.get("/api/webhooks", response_model=list[EndpointRead], summary="Webhook endpoints (never their secrets)")
def list_endpoints(request: Request, _: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.read() as session:
        return [_read(e) for e in service.endpoints(session)]


@router.post("/api/webhooks", status_code=201, response_model=EndpointCreated,
             summary="Add an endpoint; its signing secret is shown once")
def add_endpoint(request: Request, body: EndpointCreate = Body(...),
                 principal: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.write() as session:
        endpoint = service.add_endpoint(session, body.url, body.events, kind=body.kind, description=body.description)
        audit(session, actor=principal.label, action="webhook_add", subject=endpoint.id,
              details={"events": endpoint.events})
        return EndpointCreated.model_validate(endpoint, from_attributes=True)


@router.delete("/api/webhooks/{endpoint_id}", status_code=204, response_class=Response, response_model=None,
               summary="Remove an endpoint; what still waits for it is not sent")
def remove_endpoint(request: Request, endpoint_id: str, principal: Principal = Depends(require("admin"))) -> Response:
    with request.app.state.store.write() as session:
        service.remove_endpoint(session, endpoint_id)
        audit(session, actor=principal.label, action="webhook_remove", subject=endpoint_id)
    return Response(status_code=204)


@router.post("/api/webhooks/{endpoint_id}/test", response_model=PingResult, summary="Send a signed ping now")
def test_endpoint(request: Request, endpoint_id: str, _: Principal = Depends(require("admin"))) -> Any:
    answer = ping(request.app.state.store, request.app.state.settings, endpoint_id)
    return PingResult(delivered=answer.ok, status_code=answer.status_code, latency_ms=round(answer.latency_ms, 1),
                      error=answer.error)


@router.get("/api/outbox", response_model=MessagePage, summary="The delivery log, newest first")
def list_messages(request: Request, status: Literal["pending", "delivered", "dead", "discarded"] | None = None,
                  endpoint_id: str | None = Query(None, max_length=40), limit: int = Query(50, ge=1, le=500),
                  offset: int = Query(0, ge=0, le=10**7), _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        rows, total = service.messages(session, status=status, endpoint_id=endpoint_id, limit=limit, offset=offset)
        return MessagePage(items=[MessageRead.model_validate(m, from_attributes=True) for m in rows], total=total,
                           offset=offset, limit=limit)


def _detail(session: Any, message: Any) -> MessageDetail:
    return MessageDetail(**MessageRead.model_validate(message, from_attributes=True).model_dump(), body=message.body,
                         attempt_log=[AttemptRead.model_validate(a, from_attributes=True)
                                      for a in service.attempts_of(session, message.id)])


@router.get("/api/outbox/{message_id}", response_model=MessageDetail, summary="A message with every attempt")
def get_message(request: Request, message_id: RowId, _: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.read() as session:
        return _detail(session, service.message(session, message_id))


@router.post("/api/outbox/{message_id}/retry", response_model=MessageDetail,
             summary="Send a dead letter again (a fresh round of attempts, the same webhook-id)")
def retry(request: Request, message_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        message = service.retry(session, message_id)
        audit(session, actor=principal.label, action="outbox_retry", subject=str(message_id))
        return _detail(session, message)


@router.post("/api/outbox/{message_id}/discard", response_model=MessageDetail, summary="Give up on a dead letter")
def discard(request: Request, message_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        message = service.discard(session, message_id)
        audit(session, actor=principal.label, action="outbox_discard", subject=str(message_id))
        return _detail(session, message)
