"""Customer-360 routes: lookup, search, profile, timeline, consent, notes, export and erasure."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.contact import service as contact
from cherish.customers import service as customers
from cherish.errors import InvalidInput, NotFound
from cherish.events import timeline as history
from cherish.profiles import flows, service
from cherish.profiles.models import (
    ConsentUpdate,
    ContactItem,
    ContactPage,
    CustomerPage,
    CustomerRead,
    TimelinePage,
)

router = APIRouter(prefix="/api/customers", tags=["customers"])


def fast_json(data: Any) -> Response:
    """The document as JSON at once (the response model still documents it): lookups are the hot path."""
    return Response(orjson.dumps(data, default=str), media_type="application/json")


def _redirect(request: Request, survivor: str, old: str) -> RedirectResponse:
    path = request.url.path.replace(f"/api/customers/{old}", f"/api/customers/{survivor}", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=308)


def _customer_or_redirect(request: Request, session: Any, customer_id: str):
    customer, survivor = customers.find(session, customer_id)
    if customer is None and survivor is None:
        raise NotFound(f"no customer {customer_id}")
    return customer, (_redirect(request, survivor, customer_id) if survivor else None)


@router.get("", response_model=CustomerPage,
            summary="Search customers by name, email, phone or order number; without q, who was active last")
def search(request: Request, q: str | None = Query(None, max_length=300),
           limit: int = Query(25, ge=1, le=100),
           offset: int = Query(0, ge=0, le=100_000, description="Matches to skip, for the next page."),
           _: Principal = Depends(require("viewer"))) -> dict[str, Any]:
    with request.app.state.store.read() as session:
        if q is None or not q.strip():
            return {"items": service.recently_active(session, limit=limit), "limit": limit}
        return service.search_page(session, request.app.state.settings, q, limit=limit, offset=offset)


@router.get("/lookup", response_model=CustomerRead, summary="Find a customer by any identifier or order number")
def lookup(
    request: Request,
    email: str | None = None, phone: str | None = None, user_id: str | None = None,
    anonymous_id: str | None = None, loyalty_id: str | None = None, order_id: str | None = None,
    type: str | None = Query(None, description="custom identifier type, with value"),
    value: str | None = None,
    _: Principal = Depends(require("viewer")),
) -> Any:
    given = {k: v for k, v in {"email": email, "phone": phone, "user_id": user_id, "anonymous_id": anonymous_id,
                               "loyalty_id": loyalty_id, "order_id": order_id}.items() if v is not None}
    if type is not None or value is not None:
        if not type or value is None:
            raise InvalidInput("type and value go together, e.g. ?type=member_no&value=123")
        given[type] = value
    if len(given) != 1:
        raise InvalidInput(f"give exactly one of {', '.join(service.LOOKUP_FIELDS)} (or type and value)")
    (kind, text), = given.items()
    with request.app.state.store.read() as session:
        customer_id = service.lookup(session, request.app.state.settings, kind=kind, value=text)
        found = None if customer_id is None else service.profile_by_id(session, customer_id)
        if found is None:
            raise NotFound(f"no customer with that {kind}")
        return fast_json(found)


@router.get("/{customer_id}", response_model=CustomerRead, summary="The customer 360")
def read(request: Request, customer_id: str, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        return redirect or fast_json(service.profile(session, customer))


@router.get("/{customer_id}/timeline", response_model=TimelinePage, summary="Everything that happened, newest first")
def timeline(
    request: Request, customer_id: str, channel: str | None = None, before: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    kind: str | None = Query(None, description="Only this kind: " + ", ".join(history.TIMELINE_KINDS)),
    event: str | None = Query(None, max_length=200, description="Only this event, e.g. Feedback Submitted"),
    _: Principal = Depends(require("viewer")),
) -> Any:
    with request.app.state.store.read() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        return redirect or fast_json(service.timeline(session, customer.id, channel=channel, before=before,
                                                      limit=limit, kind=kind or None, event=event or None))


@router.get("/{customer_id}/contacts", response_model=ContactPage,
            summary="Why we did or did not contact this customer: every message and the policy's decision, newest "
                    "first")
def contact_log(request: Request, customer_id: str,
                cursor: str | None = Query(None, max_length=18, pattern=r"^[0-9]+$"),
                limit: int = Query(50, ge=1, le=500), _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        if redirect:
            return redirect
        rows = contact.contacts_page(session, [customer.id], before=int(cursor) if cursor else None, limit=limit)
        items = [ContactItem(at=c.decided_at, purpose=c.purpose, channel=c.channel, topic=c.topic,
                             outcome=c.outcome, reason=c.reason, send_at=c.send_at) for c in rows]
        return ContactPage(items=items, next=str(rows[-1].id) if len(rows) == limit else None)


class ConsentChanges(BaseModel):
    consent: list[ConsentUpdate]


@router.put("/{customer_id}/consent", response_model=CustomerRead, summary="Record consent per purpose and channel")
def put_consent(request: Request, customer_id: str, body: ConsentChanges,
                principal: Principal = Depends(require("agent"))) -> Any:
    with request.app.state.store.write() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        if redirect:
            return redirect
        customers.set_consent(session, customer.id, [c.model_dump() for c in body.consent], source="api")
        session.flush()
        return service.profile(session, customer)


class NoteCreate(BaseModel):
    body: str


@router.post("/{customer_id}/notes", status_code=201, summary="Add an agent's note")
def add_note(request: Request, customer_id: str, body: NoteCreate,
             principal: Principal = Depends(require("agent"))) -> Any:
    with request.app.state.store.write() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        if redirect:
            return redirect
        note = customers.add_note(session, customer.id, author=principal.name, body=body.body)
        return {"id": note.id, "author": note.author, "body": note.body, "created_at": note.created_at}


@router.get("/{customer_id}/export", summary="Everything held about the customer (privacy request)")
def export(request: Request, customer_id: str, _: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.read() as session:
        customer, redirect = _customer_or_redirect(request, session, customer_id)
        return redirect or flows.export(session, customer)


@router.delete("/{customer_id}", summary="Erase the customer's personal data (privacy request)")
def erase(request: Request, customer_id: str, principal: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.write() as session:
        counts = flows.erase(session, customer_id, actor=principal.label)
    request.app.state.store.forget_old_copies()
    return {"erased": True, "counts": counts}
