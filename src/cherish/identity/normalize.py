"""Identifier normalisation: the one place that decides what an email, a phone number or an id looks like."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers

from cherish.config import Settings

BUILTIN_TYPES = ("user_id", "anonymous_id", "email", "phone", "loyalty_id")
TRAIT_IDENTIFIERS = ("email", "phone", "loyalty_id")
_TRAIT_ALIASES = {"loyaltyId": "loyalty_id", "loyalty_id": "loyalty_id", "email": "email", "phone": "phone"}

Key = tuple[str, str]


def normalize_email(value: Any) -> str | None:
    """An email address in lower case without surrounding space, or None when it is none: one ``@`` between a
    local part and a domain with a dot, no space or control character anywhere, at most 254 characters."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or "@" in domain or len(text) > 254:
        return None
    if not text.isprintable() or any(c.isspace() for c in text):
        return None
    return text


def normalize_phone(value: Any, region: str) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    return _phone(str(value), region)


@lru_cache(maxsize=100_000)
def _phone(value: str, region: str) -> str | None:
    """E.164 form of one phone number (cached: the same numbers come again and again)."""
    text = value.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_plain(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text[:300] or None
    return None


def normalize(identifier_type: str, value: Any, settings: Settings) -> str | None:
    """The canonical form of ``value`` as an identifier of ``identifier_type``, or None when it is not one."""
    if identifier_type == "email":
        return normalize_email(value)
    if identifier_type == "phone":
        return normalize_phone(value, settings.default_region)
    return normalize_plain(value)


def known_types(settings: Settings) -> tuple[str, ...]:
    return (*BUILTIN_TYPES, *settings.custom_identifiers)


def identifiers_from_traits(traits: dict[str, Any], settings: Settings) -> list[Key]:
    """Identifier keys found among a message's traits (email, phone, loyalty id and custom types)."""
    keys: list[Key] = []
    for name, value in traits.items():
        kind = _TRAIT_ALIASES.get(name)
        if kind is None and name in settings.custom_identifiers:
            kind = name
        if kind is None or value is None:
            continue
        normalized = normalize(kind, value, settings)
        if normalized is not None:
            keys.append((kind, normalized))
    return keys


def parse_key(text: str, settings: Settings) -> Key:
    """Read ``TYPE:VALUE`` as written by a person on the command line or in an API call."""
    from cherish.errors import InvalidInput

    kind, sep, value = text.partition(":")
    if not sep or not value:
        raise InvalidInput(f"identifier {text!r} is not of the form TYPE:VALUE, e.g. email:ann@example.com")
    if kind not in known_types(settings):
        raise InvalidInput(f"unknown identifier type {kind!r}; known: {', '.join(known_types(settings))}")
    normalized = normalize(kind, value, settings)
    if normalized is None:
        raise InvalidInput(f"{value!r} is not a valid {kind}")
    return kind, normalized


def key_text(key: Key) -> str:
    return f"{key[0]}:{key[1]}"
