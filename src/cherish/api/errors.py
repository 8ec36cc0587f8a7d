"""The one JSON error shape, for every error the API answers with."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cherish.errors import CherishError, Unauthorized
from cherish.web import errors as error_pages

log = logging.getLogger("cherish.api")


def error_body(code: str, message: str, details: list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/v1/")) and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    error_pages.install(app)  # browser routes: the same errors as pages in the dashboard's layout
    @app.exception_handler(CherishError)
    async def _cherish(request: Request, exc: CherishError) -> JSONResponse | RedirectResponse:
        if isinstance(exc, Unauthorized) and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
        return JSONResponse(error_body("invalid_input", message, details), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "error"), str(exc.detail)), status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal error; the server log has the details"), status_code=500)
