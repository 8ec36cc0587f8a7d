"""The OpenAPI document as the API answers: security schemes, intake's bodies, and every status a route gives.

FastAPI derives most of the document from the routes; what it cannot see is added here, in one place: the keys
are checked by one dependency for every route (so no security scheme shows), intake reads its bodies
itself (so none is described), and validation errors answer 400 in the one error shape (not FastAPI's 422)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field, TypeAdapter

from cherish.events.shapes import MESSAGE_SHAPES, Batch


class ErrorDetail(BaseModel):
    code: str = Field(description="invalid_input, unauthorized, forbidden, not_found, conflict, …")
    message: str = Field(description="What is wrong, in words a person can act on.")
    details: list[Any] = Field(description="Per-field or per-message specifics, when there are any.")
    request_id: str | None = Field(None, description="The answer's X-Request-ID, also in the server's log.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class IntakeAnswer(BaseModel):
    success: bool
    rejected: list[dict[str, Any]] | None = Field(
        None, description="Messages set aside, each with its index and the reason; replay them once corrected.")


SECURITY_SCHEMES = {
    "writeKey": {"type": "http", "scheme": "basic",
                 "description": "Intake (/v1/*): the write key as the user name, the password empty — what Segment's "
                                "and RudderStack's SDKs send."},
    "apiKey": {"type": "http", "scheme": "bearer",
               "description": "The REST API (/api/*): `Authorization: Bearer KEY` with a key from "
                              "`cherish keys create` (a dashboard session works too)."},
}
STATUS_TEXT = {
    400: "The request is invalid (a field, a value the store cannot hold, malformed JSON); the message says what.",
    401: "No key, or a key that is unknown or revoked.",
    403: "The key's role may not do this.",
    404: "Nothing with that id.",
    409: "The change conflicts with the current state; the message says which.",
    410: "The survey link was answered already, or expired, or its survey is closed.",
    413: "The request or one of its messages is too large, after decompression.",
    429: "Too many answers from one address through a survey's share link: try again later (Retry-After).",
    503: "Intake is restarting its writer: send the request again (what was stored is recognised by messageId).",
}
# Statuses particular to some routes (method, path template) beyond those every route of its kind can give
CONFLICTS = {("post", "/api/customers/merge"), ("post", "/api/customers/{customer_id}/unmerge"),
             ("post", "/api/identity/reviews/{review_id}/accept"), ("post", "/api/identity/reviews/{review_id}/reject"),
             ("delete", "/api/keys/{key_id}"), ("post", "/api/intake/rejected/{rejected_id}/discard"),
             ("post", "/api/identity/runs/{run_id}/undo"), ("post", "/api/surveys"),
             ("patch", "/api/surveys/{survey_id}"), ("patch", "/api/cases/{case_id}"),
             ("put", "/api/case-rules/{name}"), ("put", "/api/sla-policies/{name}"), ("put", "/api/teams/{name}"),
             ("post", "/api/promises/{promise_id}/kept"), ("post", "/api/incidents")}
NOT_FOUND = {("post", "/api/customers/merge"), ("put", "/api/contact-policy"),  # names in the body or the query
             ("get", "/api/cases"), ("get", "/api/promises"), ("post", "/api/promises"),
             ("post", "/api/incidents")}
_CUSTOMER = "/api/customers/{customer_id}"
REDIRECTS = {("get", _CUSTOMER), ("get", _CUSTOMER + "/timeline"), ("put", _CUSTOMER + "/consent"),
             ("post", _CUSTOMER + "/notes"), ("get", _CUSTOMER + "/export")}  # a merged customer: the survivor's


def _schemas(document: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    """Put ``model`` (and the models it uses) in the document's components; a reference to it."""
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error(document: dict[str, Any], status: int) -> dict[str, Any]:
    return {"description": STATUS_TEXT[status],
            "content": {"application/json": {"schema": _schemas(document, ErrorBody)}}}


def _json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def describe(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document, completed."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if path.startswith("/v1/"):
                operation["security"] = [{"writeKey": []}]
                kind = path.removeprefix("/v1/")
                shape: type[BaseModel] = Batch if kind == "batch" else MESSAGE_SHAPES[kind]
                operation["requestBody"] = _json_body(_schemas(document, shape))
                responses["200"] = {"description": "Stored (once committed), except the messages listed as rejected.",
                                    "content": {"application/json": {"schema": _schemas(document, IntakeAnswer)}}}
                statuses = [400, 401, 403, 413, 503]
            elif path.startswith("/api/s/"):  # a respondent's link: the signed token is the permission
                operation["security"] = []
                statuses = [400, 404, 410, 429]
            elif path.startswith("/api/"):
                operation["security"] = [{"apiKey": []}]
                statuses = [400, 401, 403]
                if "{" in path or (method, path) in NOT_FOUND or path == "/api/customers/lookup" \
                        or path == "/api/metrics":
                    statuses.append(404)
                if (method, path) in CONFLICTS:
                    statuses.append(409)
                if (method, path) in REDIRECTS:
                    responses["308"] = {"description": "The customer was merged: the same route of the survivor."}
            else:
                continue
            for status in statuses:
                responses.setdefault(str(status), _error(document, status))
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema
