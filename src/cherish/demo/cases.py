"""The demo company's recovery work: a service team and the leads it escalates to, the promises its orders made
(kept and broken), cases opened by the rules from the last three weeks of unhappy answers, urgent comments, broken
promises and repeated support contacts (older ones worked and resolved, some breached), and one incident with its
apologies. The history before that is the "before cases" the recovery rate is compared with."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from cherish.access.service import create_user, user_exists
from cherish.cases import apologies, flows, policies, promises
from cherish.cases import service as cases
from cherish.cases.flows import Replayed, consider, signals_of
from cherish.config import Settings
from cherish.contact import service as contact
from cherish.db.base import utcnow
from cherish.db.engine import Store
from cherish.domain_events import service as domain_events
from cherish.events import service as events
from cherish.feedback.service import answers_since

CASES_BEGAN = timedelta(days=21)  # the demo company began working cases three weeks ago
STAFF = [("ana", "service", None), ("ben", "service", None), ("lee", "service", "Leeds"), ("mia", "leads", None)]
NOTES = ["Called the customer: no answer, left a voicemail.", "Spoke to them; they were upset about the wait.",
         "Checked the order: the parcel sat at the depot for two days."]


def _team(store: Store) -> None:
    with store.write() as session:
        for username, _, _ in STAFF:
            if not user_exists(session, username):  # (nobody logs in as them: the admin resets a password)
                create_user(session, username=username, password=secrets.token_urlsafe(16),
                            role="manager" if username == "mia" else "agent")
        policies.save_team(session, {"name": "leads"})
        for username, team, branch in STAFF:
            policies.save_agent(session, username=username, email=f"{username}@cherish-demo.example", team_name=team,
                                branch=branch)
        policies.save_team(session, {"name": "service", "escalate_to": "leads", "manager": "mia"})
        policies.save_team(session, {"name": "leads", "manager": "mia"})


def _skip_history(store: Store) -> None:
    """The case rules start reading domain events from here (what the build recorded is history)."""
    with store.write() as session:
        domain_events.claim_position(session, "cases")
        domain_events.save_position(session, "cases", domain_events.last_position(session))


def _open(store: Store, settings: Settings, began: datetime, now: datetime) -> int:
    """Cases from the answers, broken promises and support contacts since ``began``, each opened when its signal
    came."""
    with store.write() as session:
        said = answers_since(session, began, limit=50_000)
        broken = promises.broken_since(session, began, limit=50_000)
        groups = signals_of([Replayed(a) for a in said]) + signals_of([Replayed({
            "type": "promise.broken", "customer_id": p.customer_id, "at": p.settled_at,
            "data": {"promise_id": p.id, "kind": p.kind, "what": p.what, "minor": p.minor}}) for p in broken])
        opened = sum(len(consider(session, settings, [g], now=g[0].at)) for g in sorted(groups, key=lambda g: g[0].at))
        support = events.named_after(session, [flows.SUPPORT], 0, events.newest_id(session), since=began)
        opened += flows.support_signals(session, settings, support, now, when_made=True)
    return opened


def _work(store: Store, now: datetime, seed: int) -> int:
    """Cases opened more than two days ago were worked: most resolved, some still waiting; how many resolved."""
    rng = random.Random(seed)
    resolved = 0
    with store.write() as session:
        found, _ = cases.page(session, cases.Filters(status="open"), limit=100_000, offset=0)
        for case in found:
            age = now - case.opened_at
            if age < timedelta(days=2) or rng.random() < 0.12:
                continue  # new, or one that slipped
            answered = case.opened_at + timedelta(hours=rng.uniform(0.5, 30))
            cases.note(session, case, kind="note", actor=f"user:{case.assignee or 'ana'}", text=rng.choice(NOTES),
                       now=answered)
            cases.change(session, case, {"status": "contacted"}, actor=f"user:{case.assignee or 'ana'}",
                         now=answered)
            if rng.random() < 0.8:
                code = rng.choice(("apologised", "refunded", "replaced", "explained", "gesture"))
                cases.change(session, case, {"status": "resolved", "resolution_code": code},
                             actor=f"user:{case.assignee or 'ana'}", now=answered + timedelta(days=rng.uniform(0.2, 3)))
                if rng.random() < 0.7:
                    cases.change(session, case, {"status": "closed"}, actor="worker",
                                 now=answered + timedelta(days=4))
                contact.lift(session, f"case:{case.id}")  # (as resolving does; no follow-up for the past)
                resolved += 1
    return resolved


def _incident(store: Store, settings: Settings, now: datetime) -> int:
    """Late deliveries of one week a month ago: declared, and apologised for with a gesture code each."""
    start, end = now - timedelta(days=35), now - timedelta(days=28)
    with store.write() as session:
        incident = apologies.declare(session, settings, {
            "title": "Carrier strike: deliveries late", "started_at": start, "ended_at": end,
            "description": "Our carrier's drivers struck for a week; parcels waited at the depots.",
            "affected": {"kind": "late deliveries", "from": start, "until": end},
            "apology_subject": "We are sorry your order came late",
            "apology_text": "A strike at our carrier held your parcel up, and we should have told you sooner.\n"
                            "We are sorry.",
            "codes": [f"SORRY-{n:04d}" for n in range(1, 201)]}, actor="user:mia")
    return apologies.apologise_all(store.write, settings, incident.id, most=100_000)["decided"]


def work_cases(store: Store, settings: Settings, *, seed: int) -> str:
    """Set the demo company's recovery work up; a line for the build's progress."""
    now = utcnow()
    _team(store)
    _skip_history(store)
    note = flows.watch(store, settings, now=now)  # every order's promise, kept or broken
    _skip_history(store)  # (the history's broken promises are not cases: cases began three weeks ago)
    opened = _open(store, settings, now - CASES_BEGAN, now)
    resolved = _work(store, now, seed)
    with store.write() as session:
        late = cases.breaching(session, now, limit=100_000)
        for case in late:
            flows.escalate(session, settings, case, now)
    apologised = _incident(store, settings, now)
    _skip_history(store)
    return (f"{note.split(',')[0]}; {opened:,} cases opened, {resolved:,} resolved, {len(late):,} breached; "
            f"{apologised:,} incident apologies")
