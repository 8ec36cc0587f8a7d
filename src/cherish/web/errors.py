"""Error pages for people: a browser that asked for a dashboard page gets the error in the dashboard's layout,
not the API's JSON body. The API (/api/, /v1/) and every client that does not ask for HTML keep the JSON.

One ASGI layer sees every error answer, whichever handler wrote it (the store's refusals, unknown routes,
invalid queries, the domain's own errors), so the JSON handlers stay the one place that decides status and
message; this layer only dresses that answer for a browser."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cherish.errors import CherishError

TITLES = {400: "That request is not right", 401: "Please log in", 403: "Not allowed", 404: "Not found",
          405: "Not possible here", 409: "That cannot be done now", 413: "Too large", 429: "Too many attempts"}


def wants_html(scope: Scope) -> bool:
    """A browser route: not the API or intake, and the client accepts HTML."""
    if scope["type"] != "http" or scope["path"].startswith(("/api/", "/v1/")):
        return False
    accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"")
    return b"text/html" in accept


async def error_page(scope: Scope, status: int, message: str, request_id: str = "") -> bytes:
    """The error page's HTML, in the layout, with the navigation of whoever is logged in."""
    from cherish.access.guard import current_principal
    from cherish.web.render import templates

    request = Request(scope)
    principal = scope.get("state", {}).get("principal")
    if principal is None and "session" in scope and scope["session"].get("user"):
        try:
            principal = await current_principal(request)
        except CherishError:
            principal = None
    csrf = scope["session"].get("csrf", "") if "session" in scope else ""
    html = templates.get_template("error.html").render(
        request=request, principal=principal, csrf=csrf, status=status, message=message, request_id=request_id,
        title=TITLES.get(status, "Something went wrong"))
    return html.encode()


def _message(body: bytes) -> tuple[str, str]:
    """The error body's message and request id (what a person quotes when asking for help)."""
    try:
        error: Any = json.loads(body)["error"]
        return str(error["message"]), str(error.get("request_id") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


class ErrorPages:
    """Replaces a JSON error answer to a browser route with the error page (same status and headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not wants_html(scope):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def dress(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] >= 400 and kind.startswith(b"application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = await error_page(scope, held["status"], *_message(b"".join(chunks)))
                kept = [(k, v) for k, v in held.get("headers", []) if k not in (b"content-type", b"content-length")]
                headers = [*kept, (b"content-type", b"text/html; charset=utf-8"),
                           (b"content-length", str(len(page)).encode())]
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, dress)


def install(app: Any) -> None:
    """Serve error pages to browsers (called where the JSON error handlers are installed)."""
    app.add_middleware(ErrorPages)
