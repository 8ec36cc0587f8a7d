"""Promises on a real store: delivery dates from orders kept or broken at the edges of the business day in the
business time zone (not UTC), a minor lateness answered with an apology, a delivery never made opening a case,
promises an agent records, and the trust indicator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cherish.cases import flows
from cherish.cases.models import Promise
from cherish.contact.models import Contact
from cherish.db.base import utcnow
from cherish.events.flows import ingest
from cherish.worker.consumers import consume
from tests.conftest import bearer
from tests.helpers import identify, track

NEW_YORK = ZoneInfo("America/New_York")


def _order(user: str, order_id: str, promised: str) -> dict:
    return track("Order Completed", user_id=user, timestamp="2026-11-17T15:00:00Z", properties={
        "order_id": order_id, "total": 40, "currency": "USD", "promised_delivery_date": promised})


def _delivered(user: str, order_id: str, local: datetime) -> dict:
    return track("Order Delivered", user_id=user, properties={"order_id": order_id},
                 timestamp=local.astimezone(UTC).isoformat())


def test_delivery_promises_are_kept_until_midnight_in_the_business_time_zone(store, settings, client, keys):
    settings = settings.model_copy(update={"timezone": "America/New_York", "quiet_hours": ""})
    with store.write() as session:
        result = ingest(session, [
            identify(user_id="ann", traits={"email": "ann@example.com"}),
            identify(user_id="bob", traits={"email": "bob@example.com"}),
            identify(user_id="cy", traits={"email": "cy@example.com"}),
            _order("ann", "O-1", "2026-11-20"), _order("bob", "O-2", "2026-11-20"), _order("cy", "O-3", "2026-11-20"),
            # 23:30 in New York on the promised day is 04:30 the next day in UTC: on time
            _delivered("ann", "O-1", datetime(2026, 11, 20, 23, 30, tzinfo=NEW_YORK)),
            # half an hour past midnight there: late, by a little
            _delivered("bob", "O-2", datetime(2026, 11, 21, 0, 30, tzinfo=NEW_YORK)),
        ], settings=settings)  # (O-3 never arrives)
    assert not result.rejected, result.rejected
    note = flows.watch(store, settings)
    assert "3 promises kept track of" in note and "1 past due" in note
    with store.read() as session:
        found = {p.order_id: p for p in session.scalars(select(Promise))}
    assert found["O-1"].status == "kept"
    assert (found["O-2"].status, found["O-2"].minor) == ("broken", True)
    assert (found["O-3"].status, found["O-3"].minor) == ("broken", False)
    assert found["O-1"].due_at == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # midnight in New York, in UTC

    consume(store, "cases", settings=settings)
    with store.read() as session:
        apologies = list(session.scalars(select(Contact).where(Contact.topic == "apology: a late delivery")))
    assert [(c.customer_id, c.purpose, c.outcome) for c in apologies] == [(found["O-2"].customer_id, "recovery",
                                                                           "sent")]
    cases = client.get("/api/cases?reason=broken%20promise", headers=bearer(keys["viewer"])).json()["items"]
    assert [c["customer_id"] for c in cases] == [found["O-3"].customer_id]
    assert cases[0]["priority"] in ("high", "urgent")  # the rule asks for high at least

    history = client.get(f"/api/promises?customer_id={found['O-2'].customer_id}", headers=bearer(keys["viewer"]))
    assert history.status_code == 200
    assert history.json()["trust"] == {"score": 50, "kept": 0, "broken": 1, "open": 0}
    assert flows.watch(store, settings).startswith("0 promises")  # nothing settled twice


def test_an_agent_records_a_promise_and_keeps_it_or_breaks_it_by_time(store, settings, client, keys):
    with store.write() as session:
        [customer_id] = ingest(session, [identify(user_id="dee", traits={"email": "dee@example.com"})],
                               settings=settings).customers
    due = utcnow() + timedelta(hours=2)
    made = client.post("/api/promises", headers=bearer(keys["agent"]), json={
        "customer_id": customer_id, "kind": "callback", "what": "call back about the refund",
        "due_at": due.isoformat()})
    assert made.status_code == 201, made.text
    assert client.post("/api/promises", headers=bearer(keys["viewer"]), json={
        "customer_id": customer_id, "kind": "callback", "what": "x", "due_at": due.isoformat()}).status_code == 403
    naive = client.post("/api/promises", headers=bearer(keys["agent"]), json={
        "customer_id": customer_id, "kind": "refund", "what": "refund", "due_at": "2026-12-24T10:00:00"})
    assert naive.status_code == 400 and "due_at" in naive.text
    kept = client.post(f"/api/promises/{made.json()['id']}/kept", headers=bearer(keys["agent"]))
    assert kept.status_code == 200 and kept.json()["status"] == "kept"
    assert client.post(f"/api/promises/{made.json()['id']}/kept", headers=bearer(keys["agent"])).status_code == 409

    late = client.post("/api/promises", headers=bearer(keys["agent"]), json={
        "customer_id": customer_id, "kind": "refund", "what": "refund the postage",
        "due_at": (utcnow() - timedelta(minutes=1)).isoformat()}).json()
    assert "1 past due" in flows.watch(store, settings)
    listed = client.get(f"/api/promises?customer_id={customer_id}", headers=bearer(keys["viewer"])).json()
    assert {p["id"]: p["status"] for p in listed["items"]} == {made.json()["id"]: "kept", late["id"]: "broken"}
    assert listed["trust"]["kept"] == 1 and listed["trust"]["broken"] == 1 and listed["trust"]["score"] == 67


def test_a_delivery_gets_its_day_of_grace_before_the_clock_breaks_it(store, settings):
    from cherish.cases import promises

    with store.write() as session:
        [customer] = ingest(session, [identify(user_id="eve")], settings=settings).customers
        promises.from_orders(session, [{"order_id": "E-1", "customer_id": customer,
                                        "promised_delivery_date": datetime(2026, 11, 20).date()}],
                             NEW_YORK, utcnow())
        due = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
        assert promises.lapsed(session, due + timedelta(hours=12)) == []  # its delivery may yet come today
        [settled] = promises.delivered(session, {"E-1": due + timedelta(hours=13)})
        assert (settled.status, settled.minor) == ("broken", True)  # late by hours: an apology, not a case
        promises.from_orders(session, [{"order_id": "E-2", "customer_id": customer,
                                        "promised_delivery_date": datetime(2026, 11, 20).date()}],
                             NEW_YORK, utcnow())
        [gone] = promises.lapsed(session, due + timedelta(days=1, minutes=1))
        assert (gone.order_id, gone.status, gone.minor) == ("E-2", "broken", False)
