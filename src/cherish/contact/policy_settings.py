"""The contact policy's settings as they stand: the ``CHERISH_*`` settings, overridden field by field by what an
admin set on the dashboard or through the API (kept in the store, so every server process and worker follows a
change at its next decision, without a restart). A field set back to ``None`` follows the setting again."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cherish.access import service as access
from cherish.config import Settings
from cherish.contact.policy import CHANNELS
from cherish.errors import InvalidInput

FIELDS = ("consent_defaults", "contact_caps", "contact_channel_caps", "quiet_hours", "survey_fatigue_days")
ENV_NAMES = {name: f"CHERISH_{name.upper()}" for name in FIELDS}
_KEY = "contact_policy"
_LONGEST = 2000  # what the store keeps of a setting


def set_here(session: Session) -> dict[str, Any]:
    """The fields set on the dashboard or through the API, with their values."""
    raw = access.instance_value(session, _KEY)
    return orjson.loads(raw) if raw else {}


def in_force(session: Session, settings: Settings) -> Settings:
    """``settings`` with the contact policy's fields as they were set here, where they were."""
    changed = set_here(session)
    return _applied(settings, changed) if changed else settings


def change(session: Session, settings: Settings, changes: dict[str, Any]) -> dict[str, Any]:
    """Set some of the policy's fields (None: follow the ``CHERISH_*`` setting again); every value is checked as the
    setting's own would be, and nothing is kept when one is wrong. Answers the fields set here afterwards."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]} is not a contact policy setting; use {', '.join(FIELDS)}")
    channels = changes.get("contact_channel_caps")
    if isinstance(channels, dict):
        for channel in channels:
            if channel not in CHANNELS:
                raise InvalidInput(f"contact_channel_caps: {str(channel)[:40]!r} is not a channel cherish sends on; "
                                   f"use {', '.join(CHANNELS)}")
    kept = set_here(session)
    for name, value in changes.items():
        if value is None:
            kept.pop(name, None)
        elif name == "consent_defaults" and isinstance(value, dict):  # per purpose: one named leaves the others
            kept[name] = {**dict(in_force(session, settings).consent_defaults), **value}
        else:
            kept[name] = value
    _applied(settings, kept)
    raw = orjson.dumps(kept).decode() if kept else None
    if raw is not None and len(raw) > _LONGEST:
        raise InvalidInput(f"the contact policy's settings take at most {_LONGEST} characters as JSON")
    access.set_instance_value(session, _KEY, raw)
    return kept


def _applied(settings: Settings, changed: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate({**settings.model_dump(), **changed})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "contact policy"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{field}: {message}") from None
