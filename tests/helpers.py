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
