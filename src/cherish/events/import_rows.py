"""How a row of an imported file reads, whichever way it is stored (message by message, or the bulk path for
order lines): its time, its identifiers and names, its numbers, an order's message id."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from cherish.config import Settings
from cherish.events.messages import MAX_MESSAGE_ID, InvalidMessage, exact_identifier
from cherish.identity.normalize import normalize

IDENTITY_FIELDS = ("user_id", "anonymous_id", "email", "phone", "loyalty_id")
NAME_FIELDS = ("first_name", "last_name", "name")  # the customer's, in every kind of file: traits, searchable
NUMBER_FIELDS = ("price", "quantity", "total", "revenue", "discount")
GROUPING = (".", " ", "\u00a0", "\u202f", "'")  # what separates thousands where the decimal mark is a comma


def row_time(value: Any, date_format: str | None) -> str | None:
    """A row's timestamp as intake reads it: a date alone is midnight UTC; ``date_format`` is strftime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    text = str(value)
    if date_format:
        try:
            return datetime.strptime(text, date_format).replace(tzinfo=UTC).isoformat()
        except ValueError:
            raise InvalidMessage(f"timestamp {text!r} does not match {date_format}") from None
    if len(text) == 10 and text[4] == "-":
        return f"{text}T00:00:00+00:00"
    return text


_LABELS = {"email": "an email address", "phone": "a phone number", "loyalty_id": "a loyalty id"}


def check_identifier(name: str, value: Any, settings: Settings) -> str:
    """The text of an identifier column's value; a value that is not one (``not-an-email``) rejects its row
    rather than leave it known by nothing, or cut short (two ids would become one)."""
    text = str(value)
    exact_identifier(text, name)
    if name in _LABELS and normalize(name, text, settings) is None:
        raise InvalidMessage(f"{name} {text[:60]!r} is not {_LABELS[name]}")
    return text


def row_identity(row: dict[str, Any], settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """userId/anonymousId and the traits of a row (identifiers and names); a row known only by email, phone or
    loyalty id gets a stable anonymous id derived from it."""
    ids: dict[str, Any] = {}
    traits: dict[str, Any] = {}
    if row.get("user_id") is not None:
        ids["userId"] = check_identifier("user_id", row["user_id"], settings)
    if row.get("anonymous_id") is not None:
        ids["anonymousId"] = check_identifier("anonymous_id", row["anonymous_id"], settings)
    for name in ("email", "phone", "loyalty_id"):
        if row.get(name) is not None:
            traits[name] = check_identifier(name, row[name], settings)
    if not ids:  # intake needs a userId or anonymousId: a row known only by email or phone gets a stable one
        if not traits:
            raise InvalidMessage("the row has no identifier (user_id, anonymous_id, email, phone or loyalty_id)")
        first = sorted(traits.items())[0]
        ids["anonymousId"] = "import-" + hashlib.sha1(f"{first[0]}:{first[1]}".encode()).hexdigest()[:20]
    for name in NAME_FIELDS:
        if row.get(name) is not None:
            traits[name] = row[name]
    return ids, traits


def order_message_id(order_id: str) -> str:
    """The messageId of an imported order: its order id, hashed when the two would not fit the column whole."""
    message_id = f"import-order-{order_id}"
    if len(message_id) <= MAX_MESSAGE_ID:
        return message_id
    return f"import-order-sha1-{hashlib.sha1(order_id.encode()).hexdigest()}"


def decimal_point(text: str) -> str:
    """A number written with a decimal comma (``1.234,50``, ``1 234,5``) as Python reads numbers (``1234.50``)."""
    for mark in GROUPING:
        text = text.replace(mark, "")
    return text.replace(",", ".")


