"""Recovery on the dashboard: the case inbox (mine, my team, breached, by reason) with service-level countdowns, the
case page with the customer's story beside it and the reply box, and the rules, service-level policies and teams."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cherish.access.guard import RowId, require
from cherish.access.service import Principal, audit
from cherish.cases import flows, policies, promises
from cherish.cases import service as cases
from cherish.cases.models import OPEN, STATUSES
from cherish.cases.recovery import recovery_rates
from cherish.cases.rules import PRIORITIES
from cherish.customers import service as customers
from cherish.customers.traits import display_name
from cherish.db.base import utcnow
from cherish.errors import CherishError, InvalidInput
from cherish.events import timeline as history
from cherish.feedback.service import answers_of
from cherish.identity.lookup import contacts as addresses
from cherish.web import paging
from cherish.web.render import render_page

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
VIEWS = {"mine": "Mine", "team": "My team", "breached": "Breached", "open": "All open", "all": "All"}


def countdown(due: datetime | None, done: datetime | None, now: datetime) -> dict[str, Any] | None:
    """What a service-level target shows: met, due in …, or overdue by … (None without a target)."""
    if due is None:
        return None
    if done is not None:
        return {"state": "met" if done <= due else "missed", "text": "met" if done <= due else "met late"}
    left = due - now
    return {"state": "overdue" if left < timedelta() else "soon" if left < timedelta(hours=1) else "due",
            "text": ("overdue by " if left < timedelta() else "due in ") + _span(abs(left)), "due": due}


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _filters(view: str, query: dict[str, str], principal: Principal, team: str | None) -> cases.Filters:
    status = query.get("status") or ("open" if view in ("mine", "team", "breached", "open") else None)
    if status and status != "open" and status not in STATUSES:
        raise InvalidInput(f"a case's status is one of {', '.join(STATUSES)}")
    if query.get("priority") and query["priority"] not in PRIORITIES:
        raise InvalidInput(f"a priority is one of {', '.join(PRIORITIES)}")
    return cases.Filters(status=status, priority=query.get("priority") or None, reason=query.get("reason") or None,
                         breached=True if view == "breached" else None,
                         assignee=principal.name if view == "mine" else None,
                         team=(team or "-") if view == "team" else None)


@router.get("/cases", response_class=HTMLResponse)
def case_inbox(request: Request, principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    query = dict(request.query_params)
    view = query.get("view") or "open"
    if view not in VIEWS:
        raise InvalidInput(f"view is one of {', '.join(VIEWS)}")
    start = paging.offset_from(query.get("offset"))
    now = utcnow()
    with request.app.state.store.write() as session:  # (the default team and rules are stored on first use)
        mine = next((a for a in policies.agents(session) if a.username == principal.name), None)
        filters = _filters(view, query, principal, mine.team if mine else None)
        rows, total = cases.page(session, filters, limit=PER_PAGE, offset=start)
        counted = cases.counts(session)
        reasons = [r.reason for r in policies.rules(session)]
    pager = paging.Page(total=total, offset=start, limit=PER_PAGE, shown=len(rows), path="/cases",
                        params=tuple((k, v) for k, v in (("view", view), ("status", query.get("status", "")),
                                                         ("priority", query.get("priority", "")),
                                                         ("reason", query.get("reason", ""))) if v))
    shown = [{"case": c, "first": countdown(c.first_response_due, c.first_response_at, now),
              "resolution": countdown(c.resolution_due, c.resolved_at, now)} for c in rows]
    return render_page(request, "cases.html", principal, rows=shown, pager=pager, counts=counted, view=view,
                       views=VIEWS, query=query, reasons=sorted(set(reasons) | set(counted["by_reason"])),
                       priorities=PRIORITIES, statuses=STATUSES, team=mine.team if mine else None)


def _story(session: Any, customer_id: str) -> dict[str, Any]:
    """The customer beside the case: who, what they said, what they bought, what we promised, what happened."""
    record = customers.get(session, customer_id)
    traits = customers.traits_of(session, customer_id)
    return {"id": customer_id, "name": display_name(traits) or (record.name if record else None),
            "email": addresses(session, [customer_id]).get(customer_id, {}).get("email"),
            "answers": answers_of(session, customer_id, limit=10),
            "orders": history.orders_of(session, customer_id, limit=10),
            "promises": promises.of_customers(session, [customer_id], limit=10),
            "trust": promises.trust(session, [customer_id]),
            "timeline": history.timeline(session, customer_id, limit=15),
            "cases": cases.of_customers(session, [customer_id], limit=10)}


@router.get("/cases/recovery", response_class=HTMLResponse)
def recovery_panel(request: Request, principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    """The overview's recovery-rate panel (loaded into it), or a page of its own."""
    with request.app.state.store.read() as session:
        rates = recovery_rates(session)
    if request.headers.get("hx-request"):
        return render_page(request, "recovery_panel.html", principal, rates=rates)
    return render_page(request, "recovery.html", principal, rates=rates)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: RowId, principal: Principal = Depends(require("viewer")),
              problem: str | None = None, status_code: int = 200) -> HTMLResponse:
    now = utcnow()
    with request.app.state.store.write() as session:
        case = cases.get(session, case_id)
        story = _story(session, case.customer_id)
        page = render_page(
            request, "case.html", principal, case=case, activities=cases.activities(session, case.id), story=story,
            first=countdown(case.first_response_due, case.first_response_at, now),
            resolution=countdown(case.resolution_due, case.resolved_at, now), statuses=STATUSES,
            resolutions=cases.RESOLUTIONS, priorities=PRIORITIES, teams=policies.teams(session),
            agents=policies.agents(session), problem=problem, is_open=case.status in OPEN)
    page.status_code = status_code
    return page


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}


def _again(request: Request, case_id: int, principal: Principal, exc: CherishError) -> Response:
    return case_page(request, case_id, principal, problem=exc.message, status_code=400 if isinstance(
        exc, InvalidInput) else 409)


@router.post("/cases/{case_id}/reply", response_class=HTMLResponse)
async def case_reply(request: Request, case_id: RowId, principal: Principal = Depends(require("agent"))) -> Response:
    form = await _form(request)
    try:
        with request.app.state.store.write() as session:
            case = cases.get(session, case_id, lock=True)
            if form.get("kind") == "note":
                if not form.get("text", "").strip():
                    raise InvalidInput("a note has words")
                cases.note(session, case, kind="note", actor=principal.label, text=form["text"][:5000])
            else:
                flows.reply(session, request.app.state.settings, case, form.get("text", "")[:5000],
                            actor=principal.label)
    except CherishError as exc:
        return _again(request, case_id, principal, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}", response_class=HTMLResponse)
async def case_change(request: Request, case_id: RowId, principal: Principal = Depends(require("agent"))) -> Response:
    """The case page's form: status (with a resolution code), priority, team or agent."""
    form = await _form(request)
    fields = {k: v for k, v in form.items() if k in ("status", "resolution_code", "priority") and v}
    if form.get("assignee"):
        fields["assignee"] = form["assignee"]
    elif form.get("team"):
        fields["team"] = form["team"]
    try:
        with request.app.state.store.write() as session:
            case = cases.get(session, case_id, lock=True)
            flows.update(session, request.app.state.settings, case, fields, actor=principal.label)
    except CherishError as exc:
        return _again(request, case_id, principal, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/case-rules", response_class=HTMLResponse)
def rules_page(request: Request, principal: Principal = Depends(require("manager")), dry: str | None = None,
               days: int = 30, problem: str | None = None, status_code: int = 200) -> HTMLResponse:
    if not 1 <= days <= 365:
        raise InvalidInput("days is from 1 to 365")
    settings = request.app.state.settings
    with request.app.state.store.write() as session:
        listed = policies.rules(session)
        tried = flows.dry_run(session, settings, dry, days=days) if dry else None
        page = render_page(request, "case_rules.html", principal, rules=listed, tried=tried, days=days,
                           slas=policies.sla_policies(session), teams=policies.teams(session),
                           agents=policies.agents(session), hours=flows.calendar_of(settings).describe(),
                           now=utcnow(), problem=problem, priorities=PRIORITIES)
    page.status_code = status_code
    return page


def _saved(request: Request, principal: Principal, what: str, save: Any) -> Response:
    """Run ``save`` in a transaction; back to the page, or the page again with what was wrong."""
    try:
        with request.app.state.store.write() as session:
            name = save(session)
            audit(session, actor=principal.label, action=what, subject=name, details={"from": "dashboard"})
    except CherishError as exc:
        return rules_page(request, principal, problem=exc.message, status_code=400)
    return RedirectResponse("/case-rules", status_code=303)


@router.post("/case-rules", response_class=HTMLResponse)
async def rule_saved(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    """The page's rule form: a new rule, or a change of the one of that name (condition as JSON)."""
    form = await _form(request)

    def save(session: Any) -> str:
        try:
            condition = json.loads(form.get("condition") or "null")
        except ValueError:
            raise InvalidInput("the condition is JSON, as {\"signal\": \"answer\", \"verdicts\": [\"detractor\"]}") \
                from None
        actions = {k: form[k] for k in ("team", "priority") if form.get(k)}
        fields: dict[str, Any] = {"name": form.get("name", ""), "reason": form.get("reason", ""),
                                  "condition": condition, "actions": actions}
        if form.get("position", "").strip():
            if not form["position"].strip().isdigit():
                raise InvalidInput("the position is a whole number")
            fields["position"] = int(form["position"])
        return policies.save_rule(session, fields).name

    return _saved(request, principal, "case_rule_save", save)


@router.post("/sla-policies", response_class=HTMLResponse)
async def sla_saved(request: Request, principal: Principal = Depends(require("manager"))) -> Response:
    """The page's service-level form: hours to the first response and to the resolution."""
    form = await request.form()

    def save(session: Any) -> str:
        minutes = {}
        for name in ("first_response", "resolution"):
            try:
                minutes[name] = round(float(str(form.get(name) or "")) * 60)
            except ValueError:
                raise InvalidInput(f"{name.replace('_', ' ')} is a number of hours") from None
            if minutes[name] < 1:
                raise InvalidInput(f"{name.replace('_', ' ')} is more than zero hours")
        fields = {"name": str(form.get("name") or ""), "priorities": [str(p) for p in form.getlist("priorities")],
                  "reasons": [r.strip() for r in str(form.get("reasons") or "").split(",") if r.strip()],
                  "first_response_minutes": minutes["first_response"], "resolution_minutes": minutes["resolution"],
                  "around_the_clock": form.get("around_the_clock") == "yes",
                  "escalate_to": str(form.get("escalate_to") or "") or None}
        return policies.save_sla_policy(session, fields).name

    return _saved(request, principal, "sla_policy_save", save)


@router.post("/case-rules/{name}", response_class=HTMLResponse)
async def rule_switch(request: Request, name: str, principal: Principal = Depends(require("manager"))) -> Response:
    """On, off, or snoozed for a day or a week."""
    form = await _form(request)
    change: dict[str, Any] = {"name": name}
    action = form.get("action")
    if action in ("enable", "disable"):
        change["enabled"] = action == "enable"
    elif action in ("snooze-day", "snooze-week", "wake"):
        change["snoozed_until"] = None if action == "wake" else utcnow() + timedelta(
            days=1 if action == "snooze-day" else 7)
    else:
        raise InvalidInput("choose enable, disable, snooze-day, snooze-week or wake")
    with request.app.state.store.write() as session:
        policies.rule(session, name)
        policies.save_rule(session, change)
        audit(session, actor=principal.label, action="case_rule_save", subject=name, details={"action": action})
    return RedirectResponse("/case-rules", status_code=303)
