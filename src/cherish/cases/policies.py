"""What governs cases, stored as data: the rules that open them, the service-level policies that time them, the
teams and agents who work them. Built-in rules and policies are stored the first time they are asked for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.cases import rules as case_rules
from cherish.cases.models import Agent, CaseRule, SlaPolicy, Team
from cherish.db.base import utcnow
from cherish.db.dialects import insert_ignore
from cherish.errors import Conflict, InvalidInput, NotFound

DEFAULT_TEAM = "service"
MOST_MINUTES = 100_000  # a target's working minutes: within what the calendar looks ahead for
# (name, priorities, first response and resolution in working minutes): an hour and a day for the urgent, down to
# two days and two weeks for the low; a working day is eight hours
BUILTIN_POLICIES = [("urgent", ["urgent"], 60, 8 * 60), ("high", ["high"], 4 * 60, 3 * 8 * 60),
                    ("normal", ["normal"], 8 * 60, 5 * 8 * 60), ("low", [], 2 * 8 * 60, 10 * 8 * 60)]


def ensure(session: Session) -> None:
    """Store the built-in rules, service-level policies and the default team (those missing)."""
    now = utcnow()
    insert_ignore(session, CaseRule, [{**rule, "enabled": True, "updated_at": now} for rule in case_rules.BUILTIN],
                  index=("name",))
    insert_ignore(session, SlaPolicy, [
        {"name": name, "position": (i + 1) * 10, "priorities": priorities, "reasons": [],
         "first_response_minutes": first, "resolution_minutes": resolution, "around_the_clock": False,
         "escalate_to": None, "enabled": True, "updated_at": now}
        for i, (name, priorities, first, resolution) in enumerate(BUILTIN_POLICIES)], index=("name",))
    insert_ignore(session, Team, [{"name": DEFAULT_TEAM, "manager": None, "escalate_to": None, "created_at": now}],
                  index=("name",))


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 80:
        raise InvalidInput(f"a {what}'s name has 1 to 80 characters")
    return value.strip()


# rules


def _stored(session: Session, query: Any, builtin: set[str]) -> list[Any]:
    """The rows of ``query``, the built-in ones stored first when one is missing (a new store, or one made
    before they existed)."""
    found = list(session.scalars(query))
    if found and builtin <= {row.name for row in found}:
        return found
    ensure(session)
    return list(session.scalars(query))


def rules(session: Session) -> list[CaseRule]:
    return _stored(session, select(CaseRule).order_by(CaseRule.position, CaseRule.name),
                   {r["name"] for r in case_rules.BUILTIN})


def rule(session: Session, name: str) -> CaseRule:
    rules(session)
    found = session.get(CaseRule, name)
    if found is None:
        raise NotFound(f"no case rule {name[:80]!r}")
    return found


def save_rule(session: Session, fields: dict[str, Any]) -> CaseRule:
    """Create a rule, or change the one of that name (its condition, reason, actions, order, on or off, snooze)."""
    name = _name(fields.get("name"), "rule")
    rules(session)
    found = session.get(CaseRule, name)
    if found is None:
        if "condition" not in fields or "reason" not in fields:
            raise Conflict(f"there is no rule {name!r} yet: a new rule needs a condition and the reason its cases "
                           "get")
        found = CaseRule(name=name, enabled=True, actions={}, position=1000, updated_at=utcnow())
        session.add(found)
    if "condition" in fields:
        found.condition = case_rules.check_condition(fields["condition"])
    if "reason" in fields:
        reason = fields["reason"]
        if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 60:
            raise InvalidInput("a rule's reason has 1 to 60 characters (cases are counted by it)")
        found.reason = reason.strip()
    if "actions" in fields:
        found.actions = case_rules.check_actions(fields["actions"])
        if found.actions.get("team"):
            team(session, found.actions["team"])  # (a team that exists, or 404)
    for field, kind in (("enabled", bool), ("position", int), ("description", str)):
        if fields.get(field) is not None:
            if not isinstance(fields[field], kind):
                raise InvalidInput(f"a rule's {field} is a {kind.__name__}")
            setattr(found, field, fields[field])
    if "snoozed_until" in fields:
        found.snoozed_until = fields["snoozed_until"]
    found.updated_at = utcnow()
    session.flush()
    return found


def in_force(session: Session, now: datetime) -> list[CaseRule]:
    """The rules that act now: enabled and not snoozed, in order."""
    return [r for r in rules(session) if r.enabled and (r.snoozed_until is None or r.snoozed_until <= now)]


# service-level policies


def sla_policies(session: Session) -> list[SlaPolicy]:
    return _stored(session, select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.name), set())


def save_sla_policy(session: Session, fields: dict[str, Any]) -> SlaPolicy:
    name = _name(fields.get("name"), "service-level policy")
    sla_policies(session)
    found = session.get(SlaPolicy, name)
    if found is None:
        if fields.get("first_response_minutes") is None or fields.get("resolution_minutes") is None:
            raise Conflict(f"there is no policy {name!r} yet: a new one needs first_response_minutes and "
                           "resolution_minutes")
        found = SlaPolicy(name=name, position=1000, priorities=[], reasons=[], around_the_clock=False, enabled=True,
                          updated_at=utcnow())
        session.add(found)
    for field in ("first_response_minutes", "resolution_minutes", "position"):
        if fields.get(field) is not None:
            setattr(found, field, fields[field])
    if max(found.first_response_minutes, found.resolution_minutes) > MOST_MINUTES:
        raise InvalidInput(f"a target is at most {MOST_MINUTES:,} minutes of working time (about a year of "
                           "working days)")
    if fields.get("priorities") is not None:
        wrong = [p for p in fields["priorities"] if p not in case_rules.PRIORITIES]
        if wrong:
            raise InvalidInput(f"{wrong[0]!r} is not a priority: {', '.join(case_rules.PRIORITIES)}")
        found.priorities = list(fields["priorities"])
    for field in ("reasons", "around_the_clock", "enabled"):
        if fields.get(field) is not None:
            setattr(found, field, fields[field])
    if "escalate_to" in fields:
        found.escalate_to = team(session, fields["escalate_to"]).name if fields["escalate_to"] else None
    if found.resolution_minutes < found.first_response_minutes:
        raise Conflict("a case is resolved no sooner than it is first answered: resolution_minutes is at least "
                           "first_response_minutes")
    found.updated_at = utcnow()
    session.flush()
    return found


def sla_policy(session: Session, name: str) -> SlaPolicy | None:
    return session.get(SlaPolicy, name)


def policy_for(session: Session, priority: str, reason: str, among: list[SlaPolicy] | None = None
               ) -> SlaPolicy | None:
    """The first enabled policy that matches the priority and the reason (``among``: the policies, read once)."""
    for policy in among if among is not None else sla_policies(session):
        if (policy.enabled and (not policy.priorities or priority in policy.priorities)
                and (not policy.reasons or reason in policy.reasons)):
            return policy
    return None


# teams and agents


def teams(session: Session) -> list[Team]:
    return _stored(session, select(Team).order_by(Team.name), {DEFAULT_TEAM})


def team(session: Session, name: str) -> Team:
    teams(session)
    found = session.get(Team, name)
    if found is None:
        raise NotFound(f"no team {str(name)[:80]!r}")
    return found


def save_team(session: Session, fields: dict[str, Any]) -> Team:
    name = _name(fields.get("name"), "team")
    teams(session)
    found = session.get(Team, name)
    if found is None:
        found = Team(name=name, created_at=utcnow())
        session.add(found)
    if "escalate_to" in fields:
        target = fields["escalate_to"]
        if target == name:
            raise Conflict("a team escalates to another team, not to itself")
        found.escalate_to = team(session, target).name if target else None
    if "manager" in fields:
        found.manager = agent(session, fields["manager"]).username if fields["manager"] else None
    session.flush()
    return found


def agents(session: Session, *, team_name: str | None = None) -> list[Agent]:
    query = select(Agent).order_by(Agent.team, Agent.username)
    if team_name is not None:
        query = query.where(Agent.team == team_name)
    return list(session.scalars(query))


def agent(session: Session, username: str) -> Agent:
    found = session.get(Agent, username)
    if found is None:
        raise NotFound(f"no agent {str(username)[:80]!r} (add them with POST /api/teams/NAME/agents)")
    return found


def save_agent(session: Session, *, username: str, email: str, team_name: str, branch: str | None,
               active: bool = True) -> Agent:
    """Put a dashboard user in a team (or move them), with the address their alerts go to."""
    team(session, team_name)
    found = session.get(Agent, username)
    if found is None:
        found = Agent(username=username, created_at=utcnow())
        session.add(found)
    found.email, found.team, found.branch, found.active = email, team_name, branch, active
    session.flush()
    return found


def next_agent(session: Session, team_name: str, branch: str | None, now: datetime) -> Agent | None:
    """Who gets the next case of the team: an active agent of the case's branch when there is one, else the
    whole team, in turn (the one whose last assignment is oldest)."""
    candidates = list(session.scalars(select(Agent).where(Agent.team == team_name, Agent.active.is_(True))
                                      .order_by(Agent.username).with_for_update()))  # (one turn each at a time)
    local = [a for a in candidates if branch and a.branch == branch]
    pool = local or candidates
    if not pool:
        return None
    chosen = min(pool, key=lambda a: (a.last_assigned_at is not None, a.last_assigned_at or now, a.username))
    chosen.last_assigned_at = now
    return chosen
