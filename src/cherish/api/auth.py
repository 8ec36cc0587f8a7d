"""Who is calling: write keys by Basic auth, API keys by Bearer, dashboard users by session cookie."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from cherish.access.service import Principal, principal_for_key, principal_for_user
from cherish.errors import Forbidden, Unauthorized


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
    if username:
        with store.read() as session:
            return principal_for_user(session, username)
    return None


async def current_principal(request: Request) -> Principal:
    principal = await run_in_threadpool(_lookup, request)
    if principal is None:
        if request.headers.get("authorization"):
            raise Unauthorized("the key is unknown or revoked")
        raise Unauthorized("this needs a key (Authorization: Bearer KEY) or a dashboard login")
    request.state.principal = principal
    return principal


def require(role: str) -> Callable[..., Principal]:
    """A dependency that lets through callers with at least ``role``."""

    async def check(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.can(role):
            raise Forbidden(f"this needs the {role} role; the caller has {principal.role}")
        if principal.kind == "user":
            await check_csrf(request)
        return principal

    return check


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """Forms and htmx posts from the dashboard must carry the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("authorization"):
        return  # key-authenticated calls carry no cookie, so no CSRF risk
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")  # type: ignore[assignment]
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form is stale or forged (CSRF token missing or wrong); reload the page")
