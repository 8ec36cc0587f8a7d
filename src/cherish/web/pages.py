"""Dashboard pages: login, customer search, the customer 360, identity reviews and rejected events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cherish.access import throttle
from cherish.access.service import Principal, authenticate, end_sessions
from cherish.api.auth import check_csrf, csrf_token, require
from cherish.customers import service as customers
from cherish.customers.summary import trait_text
from cherish.db.base import utcnow
from cherish.errors import CherishError, NotFound, TooManyAttempts
from cherish.events import rejected as rejected_service
from cherish.feedback import service as feedback
from cherish.identity import service as identity
from cherish.web import formatting, paging

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
templates.env.filters["trait"] = trait_text
formatting.register(templates.env)
router = APIRouter(include_in_schema=False)
# What the customer page's timeline can show besides everything: label → (kind, event)
REVIEWS_PER_PAGE, REJECTED_PER_PAGE = 50, 100
TIMELINE_SHOWS = {"orders": ("order", None), "feedback": (None, "Feedback Submitted"),
                  "other events": ("track", None), "profile updates": ("identify", None), "pages": ("page", None)}


def render_page(request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    """A dashboard page in the shared layout: every domain's pages render through this (the signed-in person and
    the form token come with every template)."""
    return templates.TemplateResponse(
        request, name, {"principal": principal, "csrf": csrf_token(request), **context}
    )


def _safe_next(target: str | None) -> str:
    if not target:
        return "/customers"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else "/customers"


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/customers", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render_page(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, username: str = Form(...), password: str = Form(...),
                next: str | None = Form(None)) -> Response:
    await check_csrf(request)
    store = request.app.state.store
    keys = throttle.throttle_keys(request.app.state.secret, account=username,
                                  address=request.client.host if request.client else None)

    def _check() -> tuple[Principal, int] | None:
        with store.write() as session:  # counted as a failure before the password is looked at
            throttle.admit(session, keys, now=utcnow())
        with store.read() as session:
            found = authenticate(session, username=username, password=password)
        if found is not None:
            with store.write() as session:
                throttle.record_success(session, keys)
        return found

    try:
        checked = await run_in_threadpool(_check)
    except TooManyAttempts as exc:
        response = render_page(request, "login.html", None, next=_safe_next(next), error=exc.message.capitalize() + ".")
        response.status_code, response.headers["Retry-After"] = 429, str(exc.retry_after)
        return response
    if checked is None:
        response = render_page(request, "login.html", None, next=_safe_next(next), error="Wrong user name or password.")
        response.status_code = 401
        return response
    principal, epoch = checked
    request.session.clear()
    request.session.update({"user": principal.name, "epoch": epoch})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    await check_csrf(request)
    username = request.session.get("user")
    if username:  # the cookie alone cannot be taken back: end the user's sessions in the store
        def _end() -> None:
            with request.app.state.store.write() as session:
                end_sessions(session, username=username)

        await run_in_threadpool(_end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/customers", response_class=HTMLResponse)
def customer_search(request: Request, q: str = "", offset: str | None = None,
                    principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    start, pager = paging.offset_from(offset), None
    with request.app.state.store.read() as session:
        if q.strip():
            found = customers.search_page(session, request.app.state.settings, q, limit=25, offset=start)
            results, recent = found["items"], None
            pager = paging.page(total=found["total"], offset=start, limit=25, shown=len(results), path="/customers",
                         capped=found["capped"], q=q)
        else:
            results, recent = None, customers.recently_active(session)
    template = "customer_results.html" if request.headers.get("hx-request") else "customers.html"
    return render_page(request, template, principal, q=q, results=results, recent=recent, pager=pager)


ORDERS_PER_PAGE = 50


def customer_orders(session: Session, customer_id: str, offset: int, **params: str | None) -> dict[str, Any]:
    """The customer page's orders: one page of them with their lines, and where that page sits among them all."""
    orders = customers.orders_of(session, customer_id, limit=ORDERS_PER_PAGE, offset=offset)
    pager = paging.page(total=customers.count_orders(session, customer_id), offset=offset, limit=ORDERS_PER_PAGE,
                 shown=len(orders), path=f"/customers/{customer_id}", key="orders_offset", **params)
    return {"orders": orders, "order_lines": customers.order_lines(session, orders), "orders_page": pager}


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, customer_id: str, channel: str | None = None, before: str | None = None,
                  show: str | None = None, orders_offset: str | None = None, unmerged: str | None = None,
                  principal: Principal = Depends(require("viewer"))) -> Response:
    with request.app.state.store.read() as session:
        customer, survivor = customers.find(session, customer_id)
        if survivor:
            return RedirectResponse(f"/customers/{survivor}", status_code=308)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        kind, event = TIMELINE_SHOWS.get(show or "", (None, None))
        page = customers.timeline(session, customer.id, channel=channel or None, before=before, limit=50,
                                  kind=kind, event=event)
        if request.headers.get("hx-request") and before:
            return render_page(request, "timeline_rows.html", principal, customer={"id": customer.id}, page=page,
                           channel=channel, show=show)
        return render_page(
            request, "customer.html", principal, customer=customers.profile(session, customer), page=page,
            channel=channel, show=show, shows=TIMELINE_SHOWS, currency=request.app.state.settings.currency,
            **customer_orders(session, customer.id, paging.offset_from(orders_offset, name="orders_offset"),
                              channel=channel, show=show),
            unmerged=unmerged if unmerged and unmerged.startswith("cus_") and unmerged[4:].isalnum() else None,
            notes=customers.notes_of(session, customer.id),
            answers=feedback.answers_of(session, customer.id),
        )


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
                sides.append(customers.profile(session, customer) if customer else {"id": cid, "identifiers": [],
                                                                                   "traits": {}, "stats": {}})
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
