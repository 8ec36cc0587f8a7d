"""Incidents across domains: the customers an incident touched, found in the orders or the broken delivery promises
(or named), kept for a manager to review; then one apology each (with a gesture code when there is one) through
the contact policy, never twice for one incident, each announced as ``incident.apology_sent``; and, when the
incident asks for it, a case for each of them."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from cherish.cases import incidents, promises
from cherish.cases.flows import consider
from cherish.cases.models import Incident
from cherish.cases.rules import Signal
from cherish.config import Settings
from cherish.contact.flows import Message, reach_out
from cherish.customers import service as customers
from cherish.db.base import utcnow
from cherish.db.engine import Store
from cherish.domain_events import service as domain_events
from cherish.errors import NotFound
from cherish.events import service as events

BATCH = 500  # apologies decided per transaction


def affected_customers(session: Session, affected: dict[str, Any]) -> dict[str, str | None]:
    """Each living customer the filter finds, with the order or promise that put them in (customer id → why)."""
    kind = affected["kind"]
    if kind == "customers":
        named = customers.survivors(session, affected["customer_ids"])
        missing = [c for c in affected["customer_ids"] if c not in named]
        if missing:
            raise NotFound(f"no customer {missing[0][:60]}")
        return {named[c]: None for c in affected["customer_ids"]}
    since, until = (datetime.fromisoformat(affected[name]) for name in ("from", "until"))
    found: list[tuple[str, str | None]]
    if kind == "orders":
        found = [*events.orders_between(session, since, until, channel=affected.get("channel"),
                                                 product=affected.get("product"))]
        about = "order"
    else:
        found = promises.late_between(session, since, until)
        about = "late delivery of order"
    living = set(customers.alive_ids(session, sorted({cid for cid, _ in found})))
    touched: dict[str, str | None] = {}
    for cid, order in found:
        if cid in living:
            touched.setdefault(cid, f"{about} {order}" if order else None)
    return touched


def declare(session: Session, settings: Settings, fields: dict[str, Any], *, actor: str) -> Incident:
    """Declare an incident: the customers it touched are kept for review (none is contacted yet), and, when it
    asks for cases, the incident rule opens one for each."""
    incident = incidents.declare(session, fields, actor=actor)
    touched = affected_customers(session, incident.affected)
    incidents.touch(session, incident, touched)
    if incident.open_cases:
        now = utcnow()
        consider(session, settings, [[Signal("incident", cid, now, f"incident:{incident.id}",
                                             f"incident: {incident.title}"[:300], data={"incident_id": incident.id})]
                                     for cid in touched], now=now)
    return incident


def _content(incident: Incident, code: str | None) -> dict[str, Any]:
    gesture = f"\n\nAs a small apology, this code is yours: {code}" if code else ""
    paragraphs = [line for line in incident.apology_text.split("\n") if line.strip()]
    html = "".join(f"<p>{escape(line)}</p>" for line in paragraphs)
    if code:
        html += f"<p>As a small apology, this code is yours: <strong>{escape(code)}</strong></p>"
    return {"subject": incident.apology_subject, "text": incident.apology_text + gesture + "\n", "html": html}


def apologise(session: Session, settings: Settings, incident_id: int, *, now: datetime | None = None) -> dict[str, int]:
    """Send the apology to the next customers the incident touched who have none yet (a batch per call), each
    through the contact policy with the next unused gesture code; how many were decided and sent."""
    now = now or utcnow()
    incident = incidents.get(session, incident_id)
    waiting, _ = incidents.affected(session, incident_id, limit=BATCH, offset=0, waiting=True)
    if not waiting:
        incident.status = "apologised"
        return {"decided": 0, "sent": 0}
    given = incidents.codes_given(session, incident_id)
    unused = [c for c in incident.codes if c not in given]
    living = customers.survivors(session, [w.customer_id for w in waiting])
    asked = [w for w in waiting if w.customer_id in living]
    made = reach_out(session, settings, [Message(
        customer_id=living[w.customer_id], purpose="recovery", channel="email",
        topic=f"incident {incident.id}: apology", key=f"incident_{incident.id}_{w.customer_id}"[:100],
        content=_content(incident, unused[i] if i < len(unused) else None)) for i, w in enumerate(asked)], now=now)
    sent = []
    for i, (row, contact) in enumerate(zip(asked, made, strict=True)):
        row.contact_key, row.outcome, row.apologised_at = contact.key, contact.outcome, now
        if contact.outcome in ("sent", "deferred"):  # (a deferred one goes when quiet hours end)
            row.code = unused[i] if i < len(unused) else None  # (one held back keeps its code for another)
            sent.append(row)
    for row in waiting:
        if row.customer_id not in living:
            row.contact_key, row.outcome, row.apologised_at = "-", "erased", now
    left = incidents.affected(session, incident_id, limit=1, offset=0, waiting=True)[1]
    incident.status = "apologising" if left else "apologised"  # (the worker's cases job sends the rest)
    incident.apologised_at = incident.apologised_at or now
    domain_events.record(session, "incident.apology_sent", [
        (living[row.customer_id], {"incident_id": incident.id, "title": incident.title, "contact": row.contact_key,
                                   "gesture": row.code is not None}) for row in sent])
    session.flush()
    return {"decided": len(made), "sent": sum(1 for c in made if c.outcome == "sent")}


def apologise_all(session_of: Any, settings: Settings, incident_id: int, *, most: int) -> dict[str, int]:
    """Batches of :func:`apologise`, each in its own transaction of ``session_of()``, until none waits or
    ``most`` were decided."""
    total = {"decided": 0, "sent": 0}
    while total["decided"] < most:
        with session_of() as session:
            done = apologise(session, settings, incident_id)
        total = {k: total[k] + done[k] for k in total}
        if not done["decided"]:
            break
    return total


def send_pending(store: Store, settings: Settings) -> int:
    """The worker's part: the apologies of incidents still going out (beyond what their request sent); how many
    were decided."""
    with store.read() as session:
        going = [i.id for i in incidents.listing(session, limit=1000) if i.status == "apologising"]
    return sum(apologise_all(store.write, settings, incident_id, most=100_000)["decided"] for incident_id in going)
