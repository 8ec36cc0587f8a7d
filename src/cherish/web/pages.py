"""The dashboard's own pages: home, login and logout (each domain's pages are in its pages.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cherish.access import throttle
from cherish.access.guard import check_csrf
from cherish.access.service import Principal, authenticate, end_sessions
from cherish.db.base import utcnow
from cherish.errors import TooManyAttempts
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)


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
