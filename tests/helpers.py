"""Small factories for test messages."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count(1)


def track(event: str = "Clicked", *, user_id: str | None = None, anonymous_id: str | None = None,
          properties: dict[str, Any] | None = None, traits: dict[str, Any] | None = None, **extra: Any) -> dict:
    message: dict[str, Any] = {"type": "track", "event": event, "messageId": f"msg-{next(_ids)}",
                               "properties": properties or {}}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    if traits:
        message["context"] = {"traits": traits}
    message.update(extra)
    return message


def identify(*, user_id: str | None = None, anonymous_id: str | None = None, traits: dict[str, Any] | None = None,
             **extra: Any) -> dict:
    message: dict[str, Any] = {"type": "identify", "messageId": f"msg-{next(_ids)}", "traits": traits or {}}
    if user_id:
        message["userId"] = user_id
    if anonymous_id:
        message["anonymousId"] = anonymous_id
    message.update(extra)
    return message


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, seconds: float = 30.0) -> None:
    """Return once ``url``/health answers 200; fail the test if it does not within ``seconds``."""
    import time

    import httpx
    import pytest

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server at {url} did not start")


def person(store, role: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A dashboard user with ``role`` (named after it); their user name and password."""
    from cherish.access.service import create_user

    with store.write() as session:
        create_user(session, username=f"{role}-user", password=f"{role} password long enough", role=role)
    return f"{role}-user", f"{role} password long enough"


def login(client, username: str, password: str) -> str:  # type: ignore[no-untyped-def]
    """Log the test client into the dashboard; the session's CSRF token, as its forms carry it."""
    token = client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/customers")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
