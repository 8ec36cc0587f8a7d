"""The shapes of what intake takes: Segment's messages (for the API's document) and the replay request.

Intake reads its bodies itself (a message that does not fit is set aside as a rejected event, not refused: the
SDKs drop a whole batch on a 4xx), so the message models describe and give examples and validate nothing on the
way in. The replay request is a manager's, and is checked against its model like any other API body."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

_OPEN = ConfigDict(extra="allow")  # Segment's messages carry more than cherish reads; all of it is kept


class Context(BaseModel):
    model_config = _OPEN
    traits: dict[str, Any] | None = Field(None, description="The person's traits (email, phone, loyalty_id, …).")
    channel: str | None = Field(None, description="Where it happened: web, app, store, phone, email, chat, social.")


class Message(BaseModel):
    """What every message may carry; a message needs a userId or an anonymousId."""

    model_config = _OPEN
    userId: str | None = Field(None, description="Your id of the person.")
    anonymousId: str | None = Field(None, description="A device's or visit's id before the person is known.")
    messageId: str | None = Field(None, description="Unique per message: a message sent twice is stored once.")
    timestamp: str | None = Field(None, description="When it happened (ISO 8601); else corrected by sentAt.")
    sentAt: str | None = Field(None, description="When the client sent it (ISO 8601), to correct its clock.")
    context: Context | None = None


class Track(Message):
    """Something the person did; Segment's e-commerce events and Feedback Submitted carry meaning."""

    type: Literal["track"] | None = Field(None, description="Implied by /v1/track; needed in a batch.")
    event: str = Field(description="The event's name, e.g. Order Completed.")
    properties: dict[str, Any] | None = Field(None, description="order_id, total, currency, products, score …")
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "track", "userId": "u-1042", "event": "Order Completed", "messageId": "m-8f2c",
        "timestamp": "2026-03-01T10:15:00Z", "context": {"channel": "web"},
        "properties": {"order_id": "A-1001", "total": 59.9, "currency": "EUR",
                       "promised_delivery_date": "2026-03-04"}}]})


class Identify(Message):
    """Who the person is: traits, some of which identify them (email, phone, loyalty_id)."""

    type: Literal["identify"] | None = Field(None, description="Implied by /v1/identify; needed in a batch.")
    traits: dict[str, Any] | None = None
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "identify", "userId": "u-1042", "anonymousId": "a-77", "messageId": "m-8f2b",
        "traits": {"email": "sam@example.com", "phone": "+33 6 12 34 56 78", "name": "Sam Doe"}}]})


class Alias(Message):
    """Two ids of one person: previousId becomes userId."""

    type: Literal["alias"] | None = Field(None, description="Implied by /v1/alias; needed in a batch.")
    previousId: str = Field(description="The id the person had before.")
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "alias", "userId": "u-1042", "previousId": "a-77", "messageId": "m-8f2d"}]})


class Page(Message):
    """A page (web) or a screen (app) the person saw."""

    type: Literal["page", "screen"] | None = Field(None, description="Implied by the route; needed in a batch.")
    name: str | None = None
    properties: dict[str, Any] | None = None
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "page", "anonymousId": "a-77", "name": "Pricing", "properties": {"url": "https://shop.example/p"}}]})


class Group(Message):
    """The company or household the person belongs to."""

    type: Literal["group"] | None = Field(None, description="Implied by /v1/group; needed in a batch.")
    groupId: str | None = None
    traits: dict[str, Any] | None = None


class Batch(BaseModel):
    """Up to 500 KB of messages, each with its type; the answer lists those set aside as rejected."""

    batch: list[Track | Identify | Alias | Page | Group]
    sentAt: str | None = Field(None, description="When the client sent the batch (ISO 8601).")
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"batch": [
        Identify.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]  # a dict set above
        Track.model_config["json_schema_extra"]["examples"][0]]}]})  # type: ignore[index]  # a dict set above


MESSAGE_SHAPES: dict[str, type[BaseModel]] = {"track": Track, "identify": Identify, "alias": Alias, "page": Page,
                                               "screen": Page,
                  "group": Group}


_ID = r"^[1-9][0-9]{0,8}$"


def _whole(value: Any) -> Any:
    """A whole number as JSON has it (12 or 12.0), never true or false."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("a whole number")
    return int(value) if isinstance(value, float) else value


class ReplayRequest(BaseModel):
    """Which rejected events to store again: all of them (no body), those in ``ids``, or corrected messages."""

    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_whole)]] | None = Field(
        None, description="Rejected-event ids to replay as they were.")
    corrections: Annotated[dict[Annotated[str, Field(pattern=_ID)], Any], WithJsonSchema(
        {"type": "object", "patternProperties": {_ID: {}}, "additionalProperties": False})] | None = Field(
        None, description="Rejected-event id → the corrected message to store in its place (checked as intake "
                          "checks a message: one that still does not fit stays rejected, with its reason).")
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ids": [12, 13]},
        {"corrections": {"14": {"type": "track", "userId": "u-1042", "event": "Order Completed",
                                "properties": {"order_id": "A-1002", "total": 20}}}}]})
