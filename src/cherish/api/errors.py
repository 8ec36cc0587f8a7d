"""The one JSON error shape, for every error the API answers with; each body carries the request's id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cherish.api.edge import request_id_of, route_template
from cherish.errors import CherishError, InvalidInput, TooManyAttempts, Unauthorized
from cherish.web import errors as error_pages

log = logging.getLogger("cherish.api")


def error_body(code: str, message: str, details: list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/v1/")) and "text/html" in request.headers.get("accept", "")


def _answer(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = request_id_of(request.scope)
    if request_id:
        body["error"]["request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers)


def _flat(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_candidates"):  # FastAPI ≥0.160 keeps included routers nested
            yield from _flat(route.effective_candidates())
        else:
            yield route


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: Starlette's own Allow names the first matching route's only
    (GET /api/keys, not also POST). A path spelled out by a route (/api/customers/merge) is that route's alone, as
    the API's document has it, though a template (/api/customers/{customer_id}) would match it too."""
    path = request.scope["path"]
    matching = [route for route in _flat(request.app.router.routes)
                if getattr(route, "methods", None) and getattr(route, "path_regex", None) is not None
                and route.path_regex.match(path)]
    literal = [route for route in matching if getattr(route, "path", None) == path]
    return sorted({method for route in (literal or matching) for method in route.methods})


def store_refusal(exc: BaseException) -> InvalidInput | None:
    """What the store refused in what a client sent, as an error the client can act on; None for anything else.

    Checked once here rather than route by route: PostgreSQL holds no NUL character in text and no integer beyond
    INTEGER/BIGINT, SQLite none beyond 2^63, and a value longer than its column is refused by PostgreSQL alone."""
    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):
        return InvalidInput("a number is too large for the store (ids and counts fit in 64 bits)")
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(orig, "sqlstate", None)
    if "cannot contain NUL" in str(orig):
        return InvalidInput("text must not contain NUL characters (\\u0000)")
    if sqlstate == "22003":
        return InvalidInput("a number is out of range (ids fit in 32 bits)")
    if sqlstate == "22001":
        return InvalidInput("a text is longer than its field allows")
    return None


def install(app: FastAPI) -> None:
    error_pages.install(app)  # browser routes: the same errors as pages in the dashboard's layout
    @app.exception_handler(CherishError)
    async def _cherish(request: Request, exc: CherishError) -> JSONResponse | RedirectResponse:
        if isinstance(exc, Unauthorized) and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        headers = None
        if isinstance(exc, Unauthorized):
            # intake's SDKs send the write key as a Basic user name; everything else under /api/ takes Bearer
            headers = {"WWW-Authenticate": 'Basic realm="cherish intake"' if request.url.path.startswith("/v1/")
                       else "Bearer"}
        elif isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after)}
        return _answer(request, exc.to_dict(), exc.status, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
        return _answer(request, error_body("invalid_input", message, details), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return _answer(request, error_body(codes.get(exc.status_code, "error"), str(exc.detail)), exc.status_code,
                       headers)

    async def _refused(request: Request, exc: Exception) -> JSONResponse:
        refusal = store_refusal(exc)
        if refusal is None:
            raise exc  # a fault of ours, not of the input: answered below as a 500
        return _answer(request, refusal.to_dict(), refusal.status)

    for kind in (DBAPIError, psycopg.Error, OverflowError):  # psycopg's own when a query went straight to the driver
        app.add_exception_handler(kind, _refused)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, route_template(request.scope),
                      extra={"request_id": request_id_of(request.scope)})
        return _answer(request, error_body("internal", "internal error; the server log has the details"), 500,
                       {"X-Request-ID": request_id_of(request.scope) or ""})
