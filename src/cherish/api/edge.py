"""The edge of the service, in one pure ASGI layer: a request id, the access log line, security headers, and
the refusal of NUL characters in paths and queries (PostgreSQL cannot hold them in text)."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("cherish.access")

# Everything the dashboard and /docs load comes from this origin: scripts and style sheets are files (no inline
# <script> or <style>), so neither needs 'unsafe-inline'. Style *attributes* stay allowed: the overview's cohort
# heat map colours its cells with them, and an attribute cannot run code. data: images are Swagger UI's icons.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # customer ids travel in dashboard URLs: other sites never learn them from a Referer
    (b"referrer-policy", b"same-origin"),
]


def new_request_id() -> str:
    return secrets.token_hex(8)


def request_id_of(scope: Scope) -> str | None:
    return scope.get("state", {}).get("request_id")


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (``/api/customers/{customer_id}``), never the path itself: paths and
    queries can carry emails and phone numbers."""
    route = scope.get("route")
    return getattr(route, "path", None) if route is not None else None


def _has_nul(scope: Scope) -> bool:
    query = scope.get("query_string", b"").lower()
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class Edge:
    """Wraps the app: every HTTP response gets a request id and the security headers, and one access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets when the app raises: the error handler's answer, outside this layer

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", request_id)
                for name, value in SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
            await send(message)

        try:
            if _has_nul(scope):
                await _refuse_nul(request_id, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, status, time.perf_counter() - started, request_id)


async def _refuse_nul(request_id: str, send: Send) -> None:
    body = json.dumps({"error": {"code": "invalid_input", "details": [], "request_id": request_id,
                                 "message": "the path or query holds a NUL character (%00), which no field accepts"}})
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body.encode()})


def _log_access(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    principal = scope.get("state", {}).get("principal")
    access_log.info("request", extra={"access": {
        "method": scope.get("method"), "route": route_template(scope), "status": status,
        "latency_ms": round(seconds * 1000, 2), "principal": getattr(principal, "label", None),
        "request_id": request_id,
    }})


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and an access record's fields; tracebacks folded in."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
        }
        access = getattr(record, "access", None)
        if access is not None:
            line.update(access)
        else:
            line["message"] = record.getMessage()
            if request_id := getattr(record, "request_id", None):  # set by the request's log filter
                line["request_id"] = request_id
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


JsonLines.converter = time.gmtime


def configure_logging(level: str, *, access: bool) -> None:
    """Send cherish's logs to standard error as JSON lines (the server's, once per process); the access log
    only when ``access``."""
    root = logging.getLogger("cherish")
    root.setLevel(level.upper())
    if not any(isinstance(h.formatter, JsonLines) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines())
        root.addHandler(handler)
        root.propagate = False
    # the access log says INFO whatever the server's level: it is switched by its own setting
    access_log.setLevel(logging.INFO if access else logging.CRITICAL + 1)
