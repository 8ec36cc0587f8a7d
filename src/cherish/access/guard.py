"""Who is calling: write keys by Basic auth, API keys by Bearer, dashboard users by session cookie."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from cherish.access.service import Principal, principal_for_key, principal_for_user
from cherish.db.base import LARGEST_ID
from cherish.errors import Forbidden, Unauthorized

# A row's number in a path: what the store can hold (a larger one names nothing, and says so in the document)
RowId = Annotated[int, Path(le=LARGEST_ID)]


def _credential(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        return "bearer", value.strip()
    if scheme == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Basic credentials are not valid base64") from None
        user, _, _password = decoded.partition(":")
        return "basic", user
    return None


def _lookup(request: Request) -> Principal | None:
    store = request.app.state.store
    credential = _credential(request)
    if credential is not None:
        with store.read() as session:
            return principal_for_key(session, credential[1])
    username = request.session.get("user") if "session" in request.scope else None
    epoch = request.session.get("epoch") if username else None
    if username and isinstance(epoch, int):  # a cookie from before epochs began carries none: log in again
        with store.read() as session:
            return principal_for_user(session, username, epoch)
    return None


async def current_principal(request: Request) -> Principal:
    principal = await run_in_threadpool(_lookup, request)
    if principal is None:
        intake = request.url.path.startswith("/v1/")
        if request.headers.get("authorization"):
            raise Unauthorized("the write key is unknown or revoked" if intake else "the key is unknown or revoked")
        if intake:  # what Segment's and RudderStack's SDKs send: the write key as the Basic user name
            raise Unauthorized("intake needs a write key as the Basic auth user name, with an empty password "
                               "(Authorization: Basic base64(KEY:))")
        raise Unauthorized("this needs a key (Authorization: Bearer KEY) or a dashboard login")
    request.state.principal = principal
    return principal


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers with at least ``role``."""

    async def check(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.can(role):
            raise Forbidden(f"this needs the {role} role; the caller has {principal.role}")
        if principal.kind == "user":
            await check_csrf(request)
        return principal

    return check


class Sessions:
    """Dashboard sessions in a signed cookie, marked Secure when the request came over HTTPS (directly, or through
    a trusted proxy's X-Forwarded-Proto): one cookie name, two flag sets, chosen per request."""

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int) -> None:
        options: dict[str, Any] = {"secret_key": secret_key, "session_cookie": "cherish_session",
                                   "max_age": max_age, "same_site": "lax"}
        self.plain = SessionMiddleware(app, https_only=False, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """Forms and htmx posts from the dashboard must carry the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    # No exception for requests that merely carry an Authorization header: only a key's authentication makes a
    # request safe from CSRF, and callers authenticated by key never come here (see ``require``).
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        field = form.get("csrf_token")
        sent = field if isinstance(field, str) else None  # an uploaded file is no token
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form is stale or forged (CSRF token missing or wrong); reload the page")
