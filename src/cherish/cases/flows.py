"""Recovery across domains: signals of trouble (answers, comments, broken promises, repeated support contacts) become
cases through the rules, each with a priority from the customer's value and stage, service-level due times in
business hours, an owner, a hold on surveys and marketing while it is open, and a ``case.*`` domain event (which
the webhooks consumer sends on). Replies and apologies go through the contact policy and the outbox.

The worker runs all of it: the ``cases`` consumer reads ``feedback.received`` and ``promise.broken`` domain events;
the ``cases`` job (every minute) reads orders and support contacts from the events, settles promises and marks
breached cases."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from cherish.access import service as access
from cherish.analytics import service as analytics
from cherish.cases import hours, policies, promises
from cherish.cases import service as cases
from cherish.cases.models import OPEN, Case, Promise
from cherish.cases.rules import VERDICTS, Signal, Standing, matches, priority
from cherish.config import Settings
from cherish.contact import service as contact
from cherish.contact.flows import Message, reach_out
from cherish.customers import service as customers
from cherish.db.base import utcnow
from cherish.db.engine import Store
from cherish.domain_events import service as domain_events
from cherish.errors import InvalidInput
from cherish.events import service as events
from cherish.feedback.service import answers_since, verdict
from cherish.outbox import service as outbox
from cherish.surveys import invitations
from cherish.surveys import service as surveys

SUPPORT = "Support Contact"
WATCHED = ["Order Completed", "Order Delivered", SUPPORT]
RESCAN = 5000  # events read again behind the last look: on PostgreSQL an id is taken before its commit
SEEN = "cases_seen_event_id"
BATCH = 2000
_CUTOFFS: dict[str, tuple[float, tuple[str, tuple[float, float]] | None]] = {}
CUTOFFS_SECONDS = 3600.0  # how long the value cut-offs (top quarter, top tenth) are reused


def calendar_of(settings: Settings) -> hours.Calendar:
    return hours.Calendar.of(settings.zone, settings.business_hours, settings.holidays)


def _cutoffs(session: Session) -> tuple[str, tuple[float, float]] | None:
    """(measure, (top quarter, top tenth)): lifetime value once analytics has run, revenue before."""
    key = str(session.get_bind().engine.url)
    kept = _CUTOFFS.get(key)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    found = analytics.clv_cutoffs(session)
    value: tuple[str, tuple[float, float]] | None = (
        ("lifetime value", found) if found else
        (("revenue", spent) if (spent := events.revenue_cutoffs(session)) else None))
    _CUTOFFS[key] = (time.monotonic() + CUTOFFS_SECONDS, value)
    return value


def standings(session: Session, customer_ids: list[str]) -> dict[str, Standing]:
    cutoffs = _cutoffs(session)
    scored = analytics.standings(session, customer_ids)
    measure = cutoffs[0] if cutoffs else "revenue"
    values = ({cid: clv for cid, (clv, _) in scored.items()} if measure == "lifetime value"
              else events.revenue_of(session, customer_ids))
    found = {}
    for cid in customer_ids:
        value = values.get(cid)
        top = None
        if cutoffs and value is not None:
            top = 10 if value >= cutoffs[1][1] else 25 if value >= cutoffs[1][0] else None
        found[cid] = Standing(measure, value, top, scored.get(cid, (None, None))[1])
    return found


def signals_of(events_: Sequence[Any]) -> list[list[Signal]]:
    """The signals in ``feedback.received`` and ``promise.broken`` events, grouped by what they came from (an
    answer gives an answer signal and, with a comment, a comment signal: the first rule that matches either
    decides)."""
    groups: list[list[Signal]] = []
    for event in events_:
        if event.customer_id is None:
            continue
        data = event.data
        at = event.recorded_at
        if event.type == "feedback.received":
            key = f"answer:{data.get('source')}"
            where = {"channel": data.get("channel"), "branch": data.get("branch")}
            found = verdict(str(data.get("score_type")), data.get("score"))
            said = {"score_type": data.get("score_type"), "score": data.get("score"), "survey": data.get("survey"),
                    "source": data.get("source")}
            about = (f"{data.get('score_type', '').upper()} {data.get('score'):g}" if data.get("score") is not None
                     else str(data.get("origin") or "comment"))
            # a comment beside an unhappy score is negative, whatever the text model reads in it
            group = [Signal("comment", event.customer_id, at, key, f"{about}: a negative comment", verdict=found,
                            sentiment="negative" if found in VERDICTS else data.get("label"),
                            urgency=list(data.get("urgency") or []), comment=data.get("comment"), data=said,
                            **where)]
            if found:
                group.append(Signal("answer", event.customer_id, at, key, f"{about} ({found})", verdict=found,
                                    urgency=list(data.get("urgency") or []), comment=data.get("comment"), data=said,
                                    **where))
            groups.append(group)
        elif event.type == "promise.broken":
            groups.append([Signal("promise", event.customer_id, at, f"promise:{data.get('promise_id')}",
                                  f"broken promise: {data.get('what') or data.get('kind')}",
                                  promise_kind=data.get("kind"),
                                  minor=bool(data.get("minor")), channel=data.get("channel"),
                                  branch=data.get("branch"), data={"promise_id": data.get("promise_id")})])
    return groups


def consider(session: Session, settings: Settings, groups: list[list[Signal]], *,
             now: datetime | None = None) -> list[Case]:
    """Open or add to cases for the signals the rules in force catch; the cases opened or added to."""
    now = now or utcnow()
    rules = policies.in_force(session, now)
    picked: list[tuple[Signal, Any]] = []
    for group in groups:
        chosen = next(((signal, rule) for rule in rules for signal in group if matches(rule.condition, signal)),
                      None)
        if chosen:
            picked.append(chosen)
    if not picked:
        return []
    held = customers.survivors(session, [s.customer_id for s, _ in picked])
    standing = standings(session, list(set(held.values())))
    calendar = calendar_of(settings)
    slas = policies.sla_policies(session)
    teams = {t.name for t in policies.teams(session)}
    touched = []
    for signal, rule in picked:
        if signal.customer_id not in held:
            continue  # erased since
        signal.customer_id = held[signal.customer_id]
        level, why = priority(rule.reason, signal, standing[signal.customer_id], rule.actions.get("priority"))
        policy = policies.policy_for(session, level, rule.reason, slas)
        first, resolution = _due(calendar, now, policy)
        team = rule.actions.get("team") if rule.actions.get("team") in teams else policies.DEFAULT_TEAM
        case, happened = cases.open_case(session, signal, cases.Opening(
            rule.reason, rule.name, level, why, team, policy.name if policy else None, first, resolution), now=now)
        if happened == "opened":
            cases.assign(session, case, assignee=None, team=case.team, actor="worker", now=now)
            contact.hold(session, key=f"case:{case.id}", customer_id=case.customer_id, kind="open_case", since=now)
            announce(session, "case.opened", case)
        elif happened == "added":
            if case.priority == level and case.sla_policy != (policy.name if policy else None):
                retarget(session, settings, case)  # (the new signal raised its priority)
            announce(session, "case.updated", case, change="signal added")
        else:
            continue  # (read again: nothing new)
        touched.append(case)
    return touched


def _due(calendar: hours.Calendar, start: datetime, policy: Any) -> tuple[datetime | None, datetime | None]:
    if policy is None:
        return None, None
    try:
        return cases.due_times(calendar, start, policy)
    except ValueError:  # a calendar with too little working time ahead: no target rather than no case
        return None, None


def retarget(session: Session, settings: Settings, case: Case) -> None:
    """The service-level policy and due times of the case's priority now, counted from its opening (a target
    already met stays met)."""
    policy = policies.policy_for(session, case.priority, case.reason)
    first, resolution = _due(calendar_of(settings), case.opened_at, policy)
    case.sla_policy = policy.name if policy else None
    if case.first_response_at is None:
        case.first_response_due = first
    case.resolution_due = resolution


def announce(session: Session, type: str, case: Case, **extra: Any) -> None:
    """Record a ``case.*`` domain event: what subscribers get (no customer text)."""
    domain_events.record(session, type, [(case.customer_id, {
        "case_id": case.id, "reason": case.reason, "priority": case.priority, "status": case.status,
        "team": case.team, "assignee": case.assignee, "breached": case.breached,
        "first_response_due": _iso(case.first_response_due), "resolution_due": _iso(case.resolution_due),
        **extra})])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def read_domain_events(session: Session, settings: Settings, events_: Sequence[Any]) -> None:
    """The ``cases`` consumer: answers and broken promises to the rules; minor broken promises to an apology."""
    wanted = [e for e in events_ if e.type in ("feedback.received", "promise.broken")]
    minor = [e for e in wanted if e.type == "promise.broken" and e.data.get("minor") and e.customer_id]
    if minor:
        apologise(session, settings, minor)
    consider(session, settings, signals_of(wanted))


def apologise(session: Session, settings: Settings, broken: Sequence[Any]) -> None:
    """A short apology for each minor broken promise (once per promise), through the contact policy."""
    living = customers.survivors(session, [e.customer_id for e in broken])
    reach_out(session, settings, [Message(
        customer_id=living[e.customer_id], purpose="recovery", channel="email", topic="apology: a late delivery",
        key=f"promise_{e.data.get('promise_id')}_apology",
        content={"subject": "Sorry we were late",
                 "text": f"We promised {e.data.get('what')}, and we were late. We are sorry: it should not "
                         "have happened, and we are looking at why it did.",
                 "html": f"<p>We promised {escape(str(e.data.get('what')))}, and we were late. We are sorry: it "
                         "should not have happened, and we are looking at why it did.</p>"})
        for e in broken if e.customer_id in living])


def announce_broken(session: Session, found: list[Promise]) -> None:
    orders = events.orders_named(session, [p.order_id for p in found if p.order_id])
    domain_events.record(session, "promise.broken", [(p.customer_id, {
        # (an agent's words for a callback or refund may name the person: kept out of webhooks)
        "promise_id": p.id, "kind": p.kind, "what": p.what if p.kind == "delivery" else None,
        "due_at": _iso(p.due_at),
        "settled_at": _iso(p.settled_at), "minor": p.minor, "order_id": p.order_id,
        "channel": orders.get(p.order_id or "", {}).get("channel"),
        "branch": orders.get(p.order_id or "", {}).get("branch")}) for p in found])


def watch(store: Store, settings: Settings, *, now: datetime | None = None) -> str:
    """The ``cases`` job: promises from new orders, kept or broken by deliveries and by time; repeated support
    contacts to the rules; breached cases escalated."""
    now = now or utcnow()
    made = settled = support = 0
    while True:
        with store.write() as session:
            seen = int(access.instance_value(session, SEEN) or 0)
            newest = min(events.newest_id(session), seen + BATCH)
            found = events.named_after(session, WATCHED, max(0, seen - RESCAN), newest)
            made += _promised(session, settings, found, now)
            settled += _deliveries(session, found)
            support += support_signals(session, settings, [e for e in found if e.event == SUPPORT and e.id > seen],
                                       now)
            access.set_instance_value(session, SEEN, str(newest))
        if newest >= seen + BATCH:
            continue
        break
    with store.write() as session:
        lapsed = promises.lapsed(session, now)
        announce_broken(session, lapsed)
    with store.write() as session:
        late = cases.breaching(session, now)
        for case in late:
            escalate(session, settings, case, now)
    return (f"{made} promises kept track of, {settled + len(lapsed)} settled ({len(lapsed)} past due), "
            f"{support} repeated support contacts, {len(late)} cases breached")


def _promised(session: Session, settings: Settings, found: list[Any], now: datetime) -> int:
    ordered = [e.properties.get("order_id") for e in found if e.event == "Order Completed"
               and e.properties.get("promised_delivery_date") and isinstance(e.properties.get("order_id"), str)]
    if not ordered:
        return 0
    orders = events.orders_named(session, ordered)
    return promises.from_orders(session, [o for o in orders.values() if o["promised_delivery_date"]],
                                settings.zone, now)


def _deliveries(session: Session, found: list[Any]) -> int:
    delivered = {str(e.properties["order_id"]): e.timestamp for e in found
                 if e.event == "Order Delivered" and isinstance(e.properties.get("order_id"), str)}
    if not delivered:
        return 0
    settled = promises.delivered(session, delivered)
    announce_broken(session, [p for p in settled if p.status == "broken"])
    return len(settled)


def _topic(event: Any) -> str | None:
    return str(event.properties.get("topic") or "")[:200] or None


def support_groups(found: Sequence[Any], earlier: Sequence[Any], days: int) -> list[Signal]:
    """A signal for each support contact with a topic in ``found``, carrying when the customer contacted support
    about that topic within ``days`` before it (from ``earlier``, which holds them): each rule counts in its own
    window. A contact without a topic is about nothing to repeat."""
    signals = []
    for event in found:
        topic = _topic(event)
        if topic is None:
            continue
        times = sorted(e.timestamp for e in earlier if e.customer_id == event.customer_id and _topic(e) == topic
                       and event.timestamp - timedelta(days=days) <= e.timestamp <= event.timestamp)
        signals.append(Signal("support", event.customer_id, event.timestamp, f"event:{event.message_id}",
                              f"support contact #{len(times)} about {topic}", topic=topic, times=len(times),
                              contacts=times, channel=event.channel,
                              branch=str(event.properties.get("branch") or "") or None,
                              data={"topic": topic, "times": len(times)}))
    return signals


def support_signals(session: Session, settings: Settings, found: list[Any], now: datetime, *,
                    when_made: bool = False) -> int:
    """Each support contact, with how many the customer made about its topic within the longest window a
    support rule looks at, to the rules (the case counts each contact once); ``when_made``: a case opens as of
    the contact (history replayed), not now."""
    windows = [r.condition.get("days", 14) for r in policies.in_force(session, now)
               if r.condition.get("signal") == "support"]
    if not found or not windows:
        return 0
    days = max(windows)
    earlier = events.of_customers_named(session, sorted({e.customer_id for e in found}), [SUPPORT],
                                        min(e.timestamp for e in found) - timedelta(days=days))
    groups = [[s] for s in support_groups(found, earlier, days)]
    if when_made:
        return sum(len(consider(session, settings, [g], now=g[0].at)) for g in groups)
    return len(consider(session, settings, groups, now=now))


def escalate(session: Session, settings: Settings, case: Case, now: datetime) -> None:
    """A breached case: marked, handed on, announced (``case.escalated``), and the manager of the team that had
    it alerted."""
    team = policies.team(session, case.team) if case.team else None
    missed, target = cases.mark_breached(session, case, now)
    announce(session, "case.escalated", case, missed=missed, escalated_to=target)
    manager = policies.agent(session, team.manager) if team is not None and team.manager else None
    if manager is not None:
        outbox.enqueue(session, kind="email", type="alert.case_escalated", key=f"case_{case.id}_escalated",
                       body={"to": manager.email, "subject": f"Case {case.id} breached its {missed} target",
                             "text": f"Case {case.id} ({case.reason}, {case.priority}) missed its {missed} target "
                                     f"and is now with {case.team}. Open it: {settings.public_url.rstrip('/')}"
                                     f"/cases/{case.id}\n", "html": None, "unsubscribe": None})


def reply(session: Session, settings: Settings, case: Case, text: str, *, actor: str) -> Any:
    """Write to the customer from the case (email, purpose ``service``), and note it on the case."""
    if not text.strip():
        raise InvalidInput("a reply has words")
    now = utcnow()
    count = sum(1 for a in cases.activities(session, case.id) if a.kind == "reply")
    [made] = reach_out(session, settings, [Message(
        customer_id=case.customer_id, purpose="service", channel="email", topic=f"case {case.id}: reply",
        key=f"case_{case.id}_reply_{count + 1}",
        content={"subject": "About your recent experience with us", "text": text,
                 "html": "".join(f"<p>{escape(line)}</p>" for line in text.split("\n") if line.strip())})],
        now=now)
    cases.note(session, case, kind="reply", actor=actor, text=text,
               data={"contact": made.key, "outcome": made.outcome, "reason": made.reason}, now=now)
    if made.outcome == "sent":
        cases.responded(case, now)
    announce(session, "case.updated", case, change="reply")
    return made


FOLLOW_UP = {"name": "after recovery", "title": "Did we put it right?",
             "intro": "You told us something went wrong, and we worked on it. One question, to know whether we "
                      "put it right.",
             "questions": [{"type": "csat", "text": "How satisfied are you with how we handled it?"},
                           {"type": "text", "text": "Is there anything we still need to do?"}],
             "expires_days": 7, "reminder_days": None,
             "thank_you": "Thank you. If anything is still not right, reply to our last message and we will "
                          "pick it up."}


def update(session: Session, settings: Settings, case: Case, fields: dict[str, Any], *, actor: str) -> Case:
    """Change a case (status, priority, assignment). Resolving it lifts its hold on surveys and marketing, sends
    the follow-up question ("did we put it right?") through the contact policy and records ``case.resolved``."""
    before = case.priority
    resolved = cases.change(session, case, fields, actor=actor)
    if case.priority != before:
        retarget(session, settings, case)
    if case.status in OPEN:  # (opened again: held again)
        contact.hold(session, key=f"case:{case.id}", customer_id=case.customer_id, kind="open_case",
                     since=case.opened_at)
    else:
        contact.lift(session, f"case:{case.id}")
    if resolved:
        announce(session, "case.resolved", case, resolution_code=case.resolution_code)
        follow_up(session, settings, case)
    else:
        announce(session, "case.updated", case, change=", ".join(sorted(fields)))
    return case


def follow_up(session: Session, settings: Settings, case: Case) -> None:
    """Ask the "after recovery" survey of the case's customer, once per case (made the first time it is needed;
    a manager may pause it on the Surveys page): a survey like any other, so consent for feedback, survey
    fatigue, quiet hours and caps decide whether and when it goes."""
    if case.follow_up_key is not None:
        return
    found = next((s for s in surveys.surveys(session) if s.name == FOLLOW_UP["name"]), None)
    survey = found or surveys.create(session, dict(FOLLOW_UP))
    if survey.status != "active":
        case.follow_up_key = "-"
        return
    [invitation] = invitations.invite(session, settings, survey.id, [case.customer_id], key=f"case:{case.id}")
    case.follow_up_key = f"survey_{invitation.id}"
    cases.note(session, case, kind="follow-up", actor="worker", data={"invitation": invitation.id})


DRY_RUN_MOST = 5000  # signals a dry run looks at (the newest)


def dry_run(session: Session, settings: Settings, name: str, *, days: int, now: datetime | None = None
            ) -> dict[str, Any]:
    """Which recent signals the rule ``name`` would catch, as the first rule to match each (nothing is opened)."""
    now = now or utcnow()
    rule = policies.rule(session, name)
    since = now - timedelta(days=days)
    kind = rule.condition.get("signal")
    groups: list[list[Signal]] = []
    if kind in ("answer", "comment"):
        groups = signals_of([Replayed(a) for a in answers_since(session, since, limit=DRY_RUN_MOST)])
    elif kind == "promise":
        groups = signals_of([Replayed({"type": "promise.broken", "customer_id": p.customer_id, "at": p.settled_at,
                                    "data": {"promise_id": p.id, "kind": p.kind, "what": p.what, "minor": p.minor}})
                             for p in promises.broken_since(session, since, limit=DRY_RUN_MOST)])
    elif kind == "support":
        found = events.named_after(session, [SUPPORT], 0, events.newest_id(session), since=since)[-DRY_RUN_MOST:]
        groups = [[signal] for signal in support_groups(found, found, rule.condition.get("days", 14))]
    rules = [r for r in policies.in_force(session, now) if r.position <= rule.position and r.name != rule.name]
    rules = sorted([*rules, rule], key=lambda r: (r.position, r.name))  # (tried as if on, even when it is off)
    caught = []
    for group in groups:
        first = next(((signal, r) for r in rules for signal in group if matches(r.condition, signal)), None)
        if first is not None and first[1].name == rule.name:
            caught.append({"customer_id": first[0].customer_id, "at": first[0].at, "summary": first[0].summary,
                           "reason": rule.reason})
    return {"rule": rule.name, "days": days, "signals": len(groups), "caught": caught[-100:]}


class Replayed:
    """A stored answer or broken promise, read like the domain event that announced it (a dry run, the demo)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.type = row.get("type", "feedback.received")
        self.customer_id = row["customer_id"]
        self.recorded_at = row.get("at") or row.get("answered_at")
        self.data = row.get("data", row)
