"""Incidents through the API: declared by managers with whom they touched, reviewed (viewers and up), and apologised
for once per customer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, StrictBool, StringConstraints

from cherish.access.guard import RowId, require
from cherish.access.service import Principal, audit
from cherish.cases import apologies, incidents
from cherish.cases.views import When

router = APIRouter(tags=["incidents"])
SENT_NOW = 2000  # apologies decided within the request; the worker's cases job sends the rest


Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]


class Between(BaseModel):
    model_config = {"extra": "forbid", "populate_by_name": True}

    since: When = Field(alias="from")
    until: When


class OrdersPlaced(Between):
    kind: Literal["orders"]
    channel: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    product: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="A product id or SKU one of the order's lines holds.")


class LateDeliveries(Between):
    kind: Literal["late deliveries"]


class Named(BaseModel):
    model_config = {"extra": "forbid"}

    kind: Literal["customers"]
    customer_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=10_000)


Affected = Annotated[OrdersPlaced | LateDeliveries | Named, Field(discriminator="kind")]


class Apology(BaseModel):
    model_config = {"extra": "forbid"}

    subject: Text = Field(examples=["We are sorry about your order"])
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=r"\S")] = Field(
        examples=["Our delivery partner lost a day last week, and your order came late. We are sorry."])


class IncidentIn(BaseModel):
    model_config = {"extra": "forbid"}

    title: Text = Field(examples=["Late van, Leeds depot"])
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    started_at: When
    ended_at: When | None = None
    affected: Affected = Field(examples=[{"kind": "late deliveries", "from": "2026-11-20T00:00:00Z",
                                          "until": "2026-11-23T00:00:00Z"}])
    apology: Apology
    gesture_codes: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100_000, description="One per customer, in order, while they last.")
    open_cases: StrictBool = Field(False, description="Also open a case for each customer (the incident rule).")


class IncidentOut(BaseModel):
    id: int
    title: str
    description: str | None
    started_at: datetime
    ended_at: datetime | None
    affected: dict[str, Any]
    status: str
    open_cases: bool
    declared_by: str | None
    created_at: datetime
    apologised_at: datetime | None
    customers: int
    apologies_decided: int
    apologies_sent: int
    codes_left: int


class AffectedOut(BaseModel):
    customer_id: str
    why: str | None
    outcome: str | None
    code: str | None
    apologised_at: datetime | None


class IncidentDetail(IncidentOut):
    items: list[AffectedOut]
    total: int


class IncidentList(BaseModel):
    items: list[IncidentOut]


class ApologiesOut(BaseModel):
    decided: int
    sent: int
    waiting: int = Field(description="Customers still to be sent theirs (the worker goes on within a minute).")


def _out(incident: Any, counted: dict[str, int]) -> dict[str, Any]:
    return {**{name: getattr(incident, name) for name in ("id", "title", "description", "started_at", "ended_at",
                                                          "affected", "status", "open_cases", "declared_by",
                                                          "created_at", "apologised_at")},
            "customers": counted["affected"], "apologies_decided": counted["apologised"],
            "apologies_sent": counted["sent"], "codes_left": max(0, len(incident.codes) - counted["coded"])}


def _counted(session: Any, incident: Any) -> dict[str, int]:
    return {**incidents.tally(session, [incident.id])[incident.id],
            "coded": len(incidents.codes_given(session, incident.id))}


@router.post("/api/incidents", response_model=IncidentOut, status_code=201)
def declare(request: Request, body: IncidentIn, principal: Principal = Depends(require("manager"))) -> Any:
    """Declare an incident: the customers it touched are found and kept for review; nobody is contacted until
    apologies are sent."""
    affected = body.affected.model_dump(by_alias=False)
    if "since" in affected:
        affected["from"] = affected.pop("since")
    fields = {"title": body.title, "description": body.description, "started_at": body.started_at,
              "ended_at": body.ended_at, "affected": affected, "apology_subject": body.apology.subject,
              "apology_text": body.apology.text, "codes": body.gesture_codes, "open_cases": body.open_cases}
    with request.app.state.store.write() as session:
        incident = apologies.declare(session, request.app.state.settings, fields, actor=principal.label)
        audit(session, actor=principal.label, action="incident_declare", subject=str(incident.id), details={})
        return _out(incident, _counted(session, incident))


@router.get("/api/incidents", response_model=IncidentList)
def list_incidents(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        found = incidents.listing(session)
        counted = incidents.tally(session, [i.id for i in found])
        return {"items": [_out(i, {**counted[i.id], "coded": len(incidents.codes_given(session, i.id))})
                          for i in found]}


@router.get("/api/incidents/{incident_id}", response_model=IncidentDetail)
def read_incident(request: Request, incident_id: RowId, limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=1_000_000), _: Principal = Depends(require("viewer"))) -> Any:
    """The incident with the customers it touched and what each was sent."""
    with request.app.state.store.read() as session:
        incident = incidents.get(session, incident_id)
        rows, total = incidents.affected(session, incident_id, limit=limit, offset=offset)
        return {**_out(incident, _counted(session, incident)), "total": total, "items": [
            {"customer_id": r.customer_id, "why": r.why, "outcome": r.outcome, "code": r.code,
             "apologised_at": r.apologised_at} for r in rows]}


@router.post("/api/incidents/{incident_id}/apologies", response_model=ApologiesOut)
def send_apologies(request: Request, incident_id: RowId, principal: Principal = Depends(require("manager"))) -> Any:
    """Send the apology to everyone the incident touched who has none yet, through the contact policy (a second
    call sends nothing twice)."""
    store = request.app.state.store
    with store.write() as session:
        incidents.get(session, incident_id)
        audit(session, actor=principal.label, action="incident_apologise", subject=str(incident_id), details={})
    done = apologies.apologise_all(store.write, request.app.state.settings, incident_id, most=SENT_NOW)
    with store.read() as session:
        waiting = incidents.affected(session, incident_id, limit=1, offset=0)[1] - \
            incidents.tally(session, [incident_id])[incident_id]["apologised"]
    return {**done, "waiting": waiting}
