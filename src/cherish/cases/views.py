"""Recovery through the API: cases read by viewers and worked by agents (status, assignment, notes, replies);
rules, service-level policies and teams set by managers; promises recorded by agents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, StrictBool, StringConstraints

from cherish.access.guard import RowId, require
from cherish.access.service import Principal, audit, user_exists
from cherish.cases import flows, policies, promises
from cherish.cases import service as cases
from cherish.cases.recovery import recovery_rates
from cherish.customers import service as customers
from cherish.errors import NotFound

router = APIRouter(tags=["cases"])
Status = Literal["new", "contacted", "waiting", "resolved", "closed"]
Priority = Literal["urgent", "high", "normal", "low"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Words = Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=r"\S")]
Names = list[Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]]
Email = Annotated[str, StringConstraints(pattern=r"^[^@ ]+@[^@ ]+\.[^@ ]+$", max_length=320)]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a whole number, not true or false")
    return value


Order = Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_no_bool)]
Minutes = Annotated[int, Field(ge=1, le=100_000), BeforeValidator(_no_bool)]  # about a year of working days


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("a time is ISO 8601 text with its offset, as 2026-12-02T15:00:00+01:00")
    return value


When = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class CaseOut(BaseModel):
    id: int
    customer_id: str
    reason: str
    rule: str | None
    status: str
    priority: str
    priority_why: list[str]
    summary: str
    branch: str | None
    team: str | None
    assignee: str | None
    sla_policy: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    breached: str | None
    escalated_at: datetime | None
    signals: int
    resolution_code: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class ActivityOut(BaseModel):
    id: int
    kind: str
    actor: str | None
    text: str | None
    data: dict[str, Any]
    at: datetime


class CaseDetail(CaseOut):
    activities: list[ActivityOut]


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class CaseChange(BaseModel):
    model_config = {"extra": "forbid"}

    status: Status | None = None
    resolution_code: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="How it was put right, required to resolve or close an open case: "
                          + ", ".join(cases.RESOLUTIONS) + ".", examples=["apologised"])
    priority: Priority | None = None
    team: Name | None = Field(None, description="Hand to a team: the next of its agents in turn gets it.")
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class NoteIn(BaseModel):
    model_config = {"extra": "forbid"}

    text: Words


class ReplyIn(BaseModel):
    model_config = {"extra": "forbid"}

    text: Words = Field(description="What the customer reads (email, through the contact policy as service).")


class ReplyOut(BaseModel):
    contact: str
    outcome: str
    reason: str


def _out(case: Any) -> dict[str, Any]:
    return {name: getattr(case, name) for name in CaseOut.model_fields}


def _detail(session: Any, case: Any) -> dict[str, Any]:
    return {**_out(case), "activities": [
        {"id": a.id, "kind": a.kind, "actor": a.actor, "text": a.text, "data": a.data, "at": a.at}
        for a in cases.activities(session, case.id)]}


@router.get("/api/cases", response_model=CasePage)
def list_cases(request: Request, customer_id: Annotated[str, StringConstraints(max_length=40)] | None = None,
               status: Literal["new", "contacted", "waiting", "resolved", "closed", "open"] | None = None,
               priority: Priority | None = None, reason: Annotated[str, StringConstraints(max_length=60)] | None = None,
               breached: bool | None = None, assignee: Annotated[str, StringConstraints(max_length=200)] | None = None,
               team: Annotated[str, StringConstraints(max_length=80)] | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
               _: Principal = Depends(require("viewer"))) -> Any:
    """Cases, most urgent and oldest first; ``status=open`` for every case still being worked."""
    with request.app.state.store.read() as session:
        family = customers.family(session, customers.survivor_or_404(session, customer_id)) if customer_id else None
        found, total = cases.page(session, cases.Filters(
            customer_ids=family, status=status, priority=priority, reason=reason, breached=breached,
            assignee=assignee, team=team), limit=limit, offset=offset)
        return {"items": [_out(c) for c in found], "total": total, "limit": limit, "offset": offset}


class Rate(BaseModel):
    n: int
    value: float | None
    low: float | None
    high: float | None


class RecoveryRates(BaseModel):
    with_case: Rate = Field(description="Closed cases (a customer's first) whose customer came back.")
    before_cases: Rate = Field(description="Customers unhappy before the first case opened, without one, who came "
                                           "back.")
    cases_began: datetime | None
    window_days: int


@router.get("/api/recovery-rate", response_model=RecoveryRates)
def recovery_rate(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    """The share of unhappy customers who came back (bought again or answered well) within 14 days: with a
    closed recovery case, and before cases existed, without one; each with its Wilson 95% interval."""
    with request.app.state.store.read() as session:
        return recovery_rates(session)


@router.get("/api/cases/{case_id}", response_model=CaseDetail)
def read_case(request: Request, case_id: RowId, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        return _detail(session, cases.get(session, case_id))


@router.patch("/api/cases/{case_id}", response_model=CaseDetail)
def change_case(request: Request, case_id: RowId, body: CaseChange,
                principal: Principal = Depends(require("agent"))) -> Any:
    """Change the status (resolving needs a resolution code, and sends the follow-up question), the priority or
    who has it."""
    fields = body.model_dump(exclude_unset=True)
    with request.app.state.store.write() as session:
        case = cases.get(session, case_id, lock=True)
        flows.update(session, request.app.state.settings, case, fields, actor=principal.label)
        return _detail(session, case)


@router.post("/api/cases/{case_id}/notes", response_model=ActivityOut, status_code=201)
def add_note(request: Request, case_id: RowId, body: NoteIn, principal: Principal = Depends(require("agent"))) -> Any:
    with request.app.state.store.write() as session:
        case = cases.get(session, case_id, lock=True)
        made = cases.note(session, case, kind="note", actor=principal.label, text=body.text)
        return {"id": made.id, "kind": made.kind, "actor": made.actor, "text": made.text, "data": made.data,
                "at": made.at}


@router.post("/api/cases/{case_id}/replies", response_model=ReplyOut, status_code=201)
def reply(request: Request, case_id: RowId, body: ReplyIn, principal: Principal = Depends(require("agent"))) -> Any:
    """Write to the customer by email from the case; the contact log and the case say whether it went."""
    with request.app.state.store.write() as session:
        case = cases.get(session, case_id, lock=True)
        made = flows.reply(session, request.app.state.settings, case, body.text, actor=principal.label)
        return {"contact": made.key, "outcome": made.outcome, "reason": made.reason}


# rules


class _Where(BaseModel):
    model_config = {"extra": "forbid"}

    channels: Names | None = Field(None, min_length=1, max_length=50, description="Only signals on these channels.")
    branches: Names | None = Field(None, min_length=1, max_length=50, description="Only signals from these branches.")


class AnswerCondition(_Where):
    signal: Literal["answer"]
    verdicts: list[Literal["detractor", "unhappy", "high effort"]] | None = Field(
        None, min_length=1, description="NPS 0-6 (detractor), CSAT 1-2 (unhappy), CES 1-3 (high effort); all when "
                                        "left out.")


class CommentCondition(_Where):
    signal: Literal["comment"]
    sentiment: Literal["negative", "neutral", "positive"] = "negative"
    urgency: list[Literal["churn", "public", "legal or safety", "repeated contact"]] | None = Field(
        None, min_length=1, description="Any of these urgency signals in the comment; all when left out.")


class PromiseCondition(_Where):
    signal: Literal["promise"]
    kinds: list[Literal["delivery", "callback", "refund", "other"]] | None = Field(None, min_length=1)


class SupportCondition(_Where):
    signal: Literal["support"]
    times: int = Field(3, ge=2, le=100, description="The contact that makes this many about one topic …")
    days: int = Field(14, ge=1, le=365, description="… within this many days.")
    topics: Names | None = Field(None, min_length=1, max_length=50)


class IncidentCondition(_Where):
    signal: Literal["incident"]


Condition = Annotated[AnswerCondition | CommentCondition | PromiseCondition | SupportCondition | IncidentCondition,
                      Field(discriminator="signal")]


class Actions(BaseModel):
    model_config = {"extra": "forbid"}

    team: Name | None = Field(None, description="The team its cases go to (the default team when left out).")
    priority: Priority | None = Field(None, description="The least priority its cases get.")


class RuleIn(BaseModel):
    model_config = {"extra": "forbid"}

    reason: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"\S")] | None = None
    condition: Condition | None = Field(None, examples=[{"signal": "answer", "verdicts": ["detractor"]}])
    actions: Actions | None = Field(None, examples=[{"team": "service", "priority": "high"}])
    enabled: StrictBool | None = None
    position: Order | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    snoozed_until: When | None = Field(None, description="The rule rests until then (null: it acts).")


class RuleOut(BaseModel):
    name: str
    reason: str
    condition: dict[str, Any]
    actions: dict[str, Any]
    enabled: StrictBool
    snoozed_until: datetime | None
    description: str | None
    position: int


class RuleList(BaseModel):
    items: list[RuleOut]


class DryRun(BaseModel):
    rule: str
    days: int
    signals: int
    caught: list[dict[str, Any]]


def _rule(rule: Any) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RuleOut.model_fields}


@router.get("/api/case-rules", response_model=RuleList)
def list_rules(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.write() as session:  # (the built-in rules are stored on first use)
        return {"items": [_rule(r) for r in policies.rules(session)]}


@router.put("/api/case-rules/{name}", response_model=RuleOut)
def save_rule(request: Request, name: Name, body: RuleIn, principal: Principal = Depends(require("manager"))) -> Any:
    """Create a rule or change it (a new one needs its condition and reason)."""
    fields = {key: value for key, value in body.model_dump(exclude_unset=True).items()
              if value is not None or key == "snoozed_until"}  # (null: as it is; a snooze's null ends it)
    fields["name"] = name
    for part in ("condition", "actions"):
        if fields.get(part) is not None:
            fields[part] = getattr(body, part).model_dump(exclude_none=True)
    with request.app.state.store.write() as session:
        rule = policies.save_rule(session, fields)
        audit(session, actor=principal.label, action="case_rule_save", subject=name,
              details={"fields": sorted(fields)})
        return _rule(rule)


@router.post("/api/case-rules/{name}/dry-run", response_model=DryRun)
def dry_run(request: Request, name: Name, days: int = Query(30, ge=1, le=365),
            _: Principal = Depends(require("manager"))) -> Any:
    """Which of the last ``days`` of answers, broken promises and support contacts the rule would have caught (and
    the reason its cases get); nothing is opened."""
    with request.app.state.store.write() as session:
        return flows.dry_run(session, request.app.state.settings, name, days=days)


# service-level policies and teams


class SlaIn(BaseModel):
    model_config = {"extra": "forbid"}

    position: Order | None = None
    priorities: list[Priority] | None = Field(None, description="The priorities it applies to; empty: any.")
    reasons: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] | None = Field(None, max_length=20)
    first_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    around_the_clock: StrictBool | None = Field(None, description="Count every minute, not business hours only.")
    escalate_to: Name | None = None
    enabled: StrictBool | None = None


class SlaOut(BaseModel):
    name: str
    position: int
    priorities: list[str]
    reasons: list[str]
    first_response_minutes: int
    resolution_minutes: int
    around_the_clock: StrictBool
    escalate_to: str | None
    enabled: StrictBool


class SlaList(BaseModel):
    items: list[SlaOut]
    business_hours: str


def _sla(policy: Any) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in SlaOut.model_fields}


@router.get("/api/sla-policies", response_model=SlaList)
def list_sla(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    """Policies in the order they are tried: a case gets the first that matches its priority and reason."""
    with request.app.state.store.write() as session:
        return {"items": [_sla(p) for p in policies.sla_policies(session)],
                "business_hours": flows.calendar_of(request.app.state.settings).describe()}


@router.put("/api/sla-policies/{name}", response_model=SlaOut)
def save_sla(request: Request, name: Name, body: SlaIn, principal: Principal = Depends(require("manager"))) -> Any:
    fields = {**body.model_dump(exclude_unset=True), "name": name}
    with request.app.state.store.write() as session:
        policy = policies.save_sla_policy(session, fields)
        audit(session, actor=principal.label, action="sla_policy_save", subject=name,
              details={"fields": sorted(fields)})
        return _sla(policy)


class TeamIn(BaseModel):
    model_config = {"extra": "forbid"}

    manager: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    escalate_to: Name | None = None


class AgentIn(BaseModel):
    model_config = {"extra": "forbid"}

    username: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Email
    branch: Annotated[str, StringConstraints(max_length=200)] | None = None
    active: StrictBool = True


class AgentOut(BaseModel):
    username: str
    email: str
    team: str
    branch: str | None
    active: StrictBool


class TeamOut(BaseModel):
    name: str
    manager: str | None
    escalate_to: str | None
    agents: list[AgentOut]


class TeamList(BaseModel):
    items: list[TeamOut]


def _team(session: Any, team: Any) -> dict[str, Any]:
    return {"name": team.name, "manager": team.manager, "escalate_to": team.escalate_to,
            "agents": [{"username": a.username, "email": a.email, "team": a.team, "branch": a.branch,
                        "active": a.active} for a in policies.agents(session, team_name=team.name)]}


@router.get("/api/teams", response_model=TeamList)
def list_teams(request: Request, _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.write() as session:
        return {"items": [_team(session, t) for t in policies.teams(session)]}


@router.put("/api/teams/{name}", response_model=TeamOut)
def save_team(request: Request, name: Name, body: TeamIn, principal: Principal = Depends(require("manager"))) -> Any:
    with request.app.state.store.write() as session:
        team = policies.save_team(session, {**body.model_dump(exclude_unset=True), "name": name})
        audit(session, actor=principal.label, action="team_save", subject=name, details={})
        return _team(session, team)


@router.post("/api/teams/{name}/agents", response_model=TeamOut)
def add_agent(request: Request, name: Name, body: AgentIn, principal: Principal = Depends(require("manager"))) -> Any:
    """Put a dashboard user in the team (or move them to it), with the address their alerts go to."""
    with request.app.state.store.write() as session:
        if not user_exists(session, body.username):
            raise NotFound(f"no dashboard user {body.username[:80]!r} (`cherish users add` makes one)")
        policies.save_agent(session, username=body.username, email=str(body.email), team_name=name,
                            branch=body.branch, active=body.active)
        audit(session, actor=principal.label, action="agent_save", subject=name, details={})
        return _team(session, policies.team(session, name))


# promises


class PromiseIn(BaseModel):
    model_config = {"extra": "forbid"}

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    kind: Literal["callback", "refund", "other"]
    what: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(
        examples=["call back about the missing parcel"])
    due_at: When


class PromiseOut(BaseModel):
    id: int
    customer_id: str
    kind: str
    order_id: str | None
    what: str
    due_at: datetime
    status: str
    minor: bool
    settled_at: datetime | None
    created_by: str | None
    created_at: datetime


class PromisePage(BaseModel):
    items: list[PromiseOut]
    total: int
    trust: dict[str, Any] | None = Field(None, description="The customer's trust indicator (with customer_id).")


def _promise(p: Any) -> dict[str, Any]:
    return {name: getattr(p, name) for name in PromiseOut.model_fields}


@router.get("/api/promises", response_model=PromisePage)
def list_promises(request: Request, customer_id: Annotated[str, StringConstraints(max_length=40)] | None = None,
                  status: Literal["open", "kept", "broken"] | None = None, limit: int = Query(50, ge=1, le=500),
                  offset: int = Query(0, ge=0, le=1_000_000), _: Principal = Depends(require("viewer"))) -> Any:
    with request.app.state.store.read() as session:
        family = customers.family(session, customers.survivor_or_404(session, customer_id)) if customer_id else None
        found, total = promises.listing(session, customer_ids=family, status=status, limit=limit, offset=offset)
        return {"items": [_promise(p) for p in found], "total": total,
                "trust": promises.trust(session, family) if family else None}


@router.post("/api/promises", response_model=PromiseOut, status_code=201)
def make_promise(request: Request, body: PromiseIn, principal: Principal = Depends(require("agent"))) -> Any:
    """Record a promise made to a customer (a callback, a refund): kept when marked so by its due time, broken
    otherwise."""
    with request.app.state.store.write() as session:
        customer = customers.survivor_or_404(session, body.customer_id)
        made = promises.record(session, customer_id=customer, kind=body.kind, what=body.what, due_at=body.due_at,
                               actor=principal.label)
        return _promise(made)


@router.post("/api/promises/{promise_id}/kept", response_model=PromiseOut)
def keep_promise(request: Request, promise_id: RowId, principal: Principal = Depends(require("agent"))) -> Any:
    """Mark a promise kept (after its due time it counts as broken, and is announced as such)."""
    with request.app.state.store.write() as session:
        kept = promises.keep(session, promise_id)
        if kept.status == "broken":
            flows.announce_broken(session, [kept])
        return _promise(kept)

