"""Recovery: cases (one open per customer and reason, with its priority, owner and service-level due times), what
happened on each (signals, notes, replies, changes), the rules that open them, the service-level policies, the
teams and agents who work them, and the promises made to customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cherish.db.base import Base, JSONType

_Id = BigInteger().with_variant(Integer(), "sqlite")
OPEN = ("new", "contacted", "waiting")
STATUSES = (*OPEN, "resolved", "closed")
_OPEN_SQL = "status IN ('new', 'contacted', 'waiting')"


class Case(Base):
    """Something that went wrong for one customer, to be put right: why (``reason``, by which ``rule``), how
    urgent (``priority``, with the reasons in ``priority_why``), who owns it, and the service-level targets (the
    first response and the resolution, each due at a time and met or breached)."""

    __tablename__ = "recovery_cases"
    __table_args__ = (
        # one open case per customer and reason: a new signal adds to it
        Index("ux_recovery_cases_open", "customer_id", "reason", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_recovery_cases_customer", "customer_id", "opened_at"),
        Index("ix_recovery_cases_status", "status", "priority", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(60))
    rule: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10))  # urgent, high, normal, low
    priority_why: Mapped[list[str]] = mapped_column(JSONType, default=list)
    summary: Mapped[str] = mapped_column(String(300))
    branch: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(80))
    assignee: Mapped[str | None] = mapped_column(String(200))
    sla_policy: Mapped[str | None] = mapped_column(String(80))
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    breached: Mapped[str | None] = mapped_column(String(40))  # "first response", "resolution": what was missed first
    escalated_at: Mapped[datetime | None]
    signals: Mapped[int] = mapped_column(default=1)
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    follow_up_key: Mapped[str | None] = mapped_column(String(120))  # the "did we put it right?" question sent


class CaseActivity(Base):
    """One thing that happened on a case: a ``signal`` (what opened it or added to it), a ``note``, a ``reply`` to
    the customer, a change (``status``, ``assigned``, ``priority``), an ``escalated`` breach, a ``follow-up``."""

    __tablename__ = "case_activities"
    __table_args__ = (Index("ix_case_activities_case", "case_id", "id"),
                      Index("ux_case_activities_key", "case_id", "key", unique=True),  # a signal counts once
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recovery_cases.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str | None] = mapped_column(String(200))  # a signal's: the answer, event or promise it was
    actor: Mapped[str | None] = mapped_column(String(200))  # a user, a key, "worker"
    text: Mapped[str | None] = mapped_column(Text)  # a note's or a reply's words, a signal's comment
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime]


class CaseRule(Base):
    """When a case opens, as data: ``condition`` (``{"signal": "answer", …}``, see ``cases.rules``), the
    ``reason`` the case gets and what it does (``actions``: team, priority); ``snoozed_until`` stops it for a while."""

    __tablename__ = "case_rules"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    reason: Mapped[str] = mapped_column(String(60))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    snoozed_until: Mapped[datetime | None]
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)  # the order rules are tried in
    updated_at: Mapped[datetime]


class SlaPolicy(Base):
    """Service-level targets for the cases it matches (by ``priorities`` and ``reasons``; empty: any), tried in
    ``position`` order: the first response and the resolution due within so many minutes of working time (or
    around the clock), and the team a breached case goes to."""

    __tablename__ = "sla_policies"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    priorities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    first_response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]
    around_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    escalate_to: Mapped[str | None] = mapped_column(String(80))  # a team
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class Team(Base):
    """A team that works cases, its manager (alerted when a case breaches) and the team breached cases go to."""

    __tablename__ = "case_teams"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    manager: Mapped[str | None] = mapped_column(String(200))  # an agent's username
    escalate_to: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]


class Agent(Base):
    """A dashboard user who works cases: the address alerts go to, the team, and a branch when they work one
    branch's cases. ``last_assigned_at`` turns the round-robin."""

    __tablename__ = "case_agents"

    username: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    team: Mapped[str] = mapped_column(ForeignKey("case_teams.name", ondelete="CASCADE"), index=True)
    branch: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Promise(Base):
    """Something promised to a customer, due at a time: a delivery date (from an order's
    ``promised_delivery_date``), or a callback or refund an agent recorded. ``open`` until kept or broken."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_customer", "customer_id", "due_at"),
                      Index("ix_promises_open_due", "status", "due_at"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # delivery, callback, refund, other
    order_id: Mapped[str | None] = mapped_column(String(200), unique=True)  # one delivery promise per order
    what: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, kept, broken
    minor: Mapped[bool] = mapped_column(Boolean, default=False)  # broken: an apology, not a case
    settled_at: Mapped[datetime | None]  # kept or broken at
    case_id: Mapped[int | None] = mapped_column(_Id)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Incident(Base):
    """Something the company got wrong for many customers at once (a late van, an outage, a bad batch): what and
    when, which customers it touched (``affected``: the filter that found them), the apology they get with an
    optional gesture from ``codes``, and whether it opens a case for each."""

    __tablename__ = "incidents"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    affected: Mapped[dict[str, Any]] = mapped_column(JSONType)
    apology_subject: Mapped[str] = mapped_column(String(200))
    apology_text: Mapped[str] = mapped_column(Text)
    codes: Mapped[list[str]] = mapped_column(JSONType, default=list)  # gesture codes, one per customer, in order
    open_cases: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="declared")  # declared, apologised
    declared_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    apologised_at: Mapped[datetime | None]


class IncidentCustomer(Base):
    """A customer an incident touched, and the apology they were sent (at most one per incident)."""

    __tablename__ = "incident_customers"
    __table_args__ = (Index("ix_incident_customers_customer", "customer_id"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    why: Mapped[str | None] = mapped_column(String(300))  # the order or promise that put them in it
    contact_key: Mapped[str | None] = mapped_column(String(200))  # the apology's contact, once decided
    outcome: Mapped[str | None] = mapped_column(String(20))  # what the contact policy decided
    code: Mapped[str | None] = mapped_column(String(100))
    apologised_at: Mapped[datetime | None]
