"""Recovery cases end to end on a real store: a detractor sent through `/v1/batch` becomes an owned case with its
service-level due times and a signed `case.opened` webhook at a local receiver; one open case per customer and
reason; no survey while it is open; resolving it lifts the hold and asks the follow-up question; a breach
escalates and alerts the manager."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from cherish.cases import flows, policies
from cherish.cases import service as cases
from cherish.contact.flows import Message, reach_out
from cherish.contact.models import Contact
from cherish.db.base import utcnow
from cherish.outbox import service as outbox
from cherish.outbox.models import OutboxMessage
from cherish.worker.loop import run_worker
from tests.conftest import basic, bearer
from tests.helpers import Receiver, identify, track


def _work(store, settings) -> None:  # type: ignore[no-untyped-def]
    run_worker(store, settings, threading.Event(), once=True)


def _answer(user: str, score: int, comment: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return track("Feedback Submitted", user_id=user, properties={
        "score_type": "nps", "score": score, "comment": comment, "survey": "after delivery", **extra})


def test_a_detractor_through_intake_becomes_an_owned_case_and_a_signed_webhook(store, settings, client, keys):
    receiver = Receiver()
    try:
        with store.write() as session:
            endpoint = outbox.add_endpoint(session, receiver.url, ["case.opened", "case.resolved"])
            receiver.secret = endpoint.secret
        sent = client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
            identify(user_id="ann", traits={"email": "ann@example.com"}),
            _answer("ann", 2, "Third late parcel. I will cancel my account.", branch="Leeds")]})
        assert sent.status_code == 200, sent.text
        _work(store, settings)

        found = client.get("/api/cases", headers=bearer(keys["viewer"])).json()
        assert found["total"] == 1
        case = found["items"][0]
        assert case["reason"] == "urgent complaint" and case["rule"] == "urgent-comment"
        assert case["priority"] in ("high", "urgent") and any("leave" in why for why in case["priority_why"])
        assert case["status"] == "new" and case["team"] == "service" and case["branch"] == "Leeds"
        assert case["first_response_due"] and case["resolution_due"] > case["first_response_due"]
        assert case["sla_policy"] == case["priority"]

        [hook] = [r for r in receiver.received if r["body"]["type"] == "case.opened"]
        assert hook["verified"]
        data = hook["body"]["data"]
        assert data["case_id"] == case["id"] and data["customer_id"] == case["customer_id"]
        assert data["reason"] == "urgent complaint" and data["priority"] == case["priority"]
        assert data["first_response_due"] and data["resolution_due"]
        assert "cancel" not in str(hook["body"])  # no customer text in a case webhook

        detail = client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()
        [signal] = [a for a in detail["activities"] if a["kind"] == "signal"]
        assert signal["text"] == "Third late parcel. I will cancel my account."

        # another unhappy answer with the same reason adds to the case; the same answer again is not counted twice
        client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
            _answer("ann", 1, "Still nothing. I will cancel.")]})
        _work(store, settings)
        again = client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()
        assert again["signals"] == 2
        assert client.get("/api/cases", headers=bearer(keys["viewer"])).json()["total"] == 1

        # while it is open, no survey goes to her (a reply from the case still does)
        with store.write() as session:
            [held] = reach_out(session, settings, [Message(
                customer_id=case["customer_id"], purpose="feedback", channel="email", topic="survey: after delivery",
                content={"subject": "How did we do?", "text": "…"})])
            assert held.outcome == "suppressed" and "recovery case is open" in held.reason
        replied = client.post(f"/api/cases/{case['id']}/replies", headers=bearer(keys["agent"]),
                              json={"text": "We are so sorry. A new parcel leaves today, and the postage is on us."})
        assert replied.status_code == 201 and replied.json()["outcome"] == "sent", replied.text
        after_reply = client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()
        assert after_reply["status"] == "contacted" and after_reply["first_response_at"]

        # resolving needs a resolution code; then the hold lifts and the follow-up question goes out
        refused = client.patch(f"/api/cases/{case['id']}", headers=bearer(keys["agent"]), json={"status": "resolved"})
        assert refused.status_code in (400, 422) and "resolution_code" in refused.text
        assert client.patch(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"]),
                            json={"status": "resolved", "resolution_code": "replaced"}).status_code == 403
        resolved = client.patch(f"/api/cases/{case['id']}", headers=bearer(keys["agent"]),
                                json={"status": "resolved", "resolution_code": "replaced"})
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
        with store.read() as session:
            [follow] = session.scalars(select(Contact).where(Contact.topic == "survey: after recovery"))
        assert follow.outcome == "sent" or (follow.outcome, "quiet hours" in follow.reason) == ("deferred", True)
        _work(store, settings)
        assert [r["body"]["data"]["resolution_code"] for r in receiver.received
                if r["body"]["type"] == "case.resolved"] == ["replaced"]
    finally:
        receiver.close()


def test_a_breached_case_escalates_to_the_next_team_and_alerts_its_manager(store, settings, client, keys):
    from cherish.access.service import create_user

    with store.write() as session:
        create_user(session, username="mia", password="a long enough password", role="manager")
        create_user(session, username="sam", password="a long enough password", role="agent")
        policies.save_team(session, {"name": "leads"})
        policies.save_agent(session, username="mia", email="mia@example.com", team_name="leads", branch=None)
        policies.save_agent(session, username="sam", email="sam@example.com", team_name="service", branch=None)
        policies.save_team(session, {"name": "service", "escalate_to": "leads", "manager": "mia"})
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [_answer("bo", 4, "Meh.")]})
    with store.write() as session:
        from cherish.domain_events import service as domain_events

        events = domain_events.after(session, 0)
    # (the comment reader runs first, as in the worker)
    from cherish.worker.consumers import consume

    consume(store, "comments", settings=settings)
    with store.write() as session:
        received = [e for e in domain_events.after(session, 0) if e.type == "feedback.received"]
        opened = flows.consider(session, settings, flows.signals_of(received), now=utcnow() - timedelta(days=30))
    assert events and [c.reason for c in opened] == ["unhappy answer"]
    case_id = opened[0].id
    with store.read() as session:
        assert cases.get(session, case_id).assignee == "sam"  # the only agent of the service team

    note = flows.watch(store, settings)
    assert "1 cases breached" in note
    detail = client.get(f"/api/cases/{case_id}", headers=bearer(keys["viewer"])).json()
    assert detail["breached"] == "first response" and detail["team"] == "leads" and detail["assignee"] == "mia"
    assert [a["kind"] for a in detail["activities"]].count("escalated") == 1
    breached = client.get("/api/cases?breached=true", headers=bearer(keys["viewer"])).json()
    assert [c["id"] for c in breached["items"]] == [case_id]
    with store.read() as session:
        alerts = list(session.scalars(select(OutboxMessage).where(OutboxMessage.type == "alert.case_escalated")))
    assert [a.body["to"] for a in alerts] == ["mia@example.com"]
    assert "1 cases breached" not in flows.watch(store, settings)  # escalated once


def test_rules_are_data_with_a_dry_run_and_bad_rules_are_refused(store, settings, client, keys):
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        _answer("cy", 3, "Rude staff."), _answer("di", 9, "Lovely."),
        track("Feedback Submitted", user_id="ed", properties={"score_type": "csat", "score": 1})]})
    from cherish.worker.consumers import consume

    consume(store, "comments", settings=settings)
    listed = client.get("/api/case-rules", headers=bearer(keys["viewer"])).json()["items"]
    assert [r["name"] for r in listed][:2] == ["urgent-comment", "unhappy-answer"]
    dry = client.post("/api/case-rules/unhappy-answer/dry-run?days=7", headers=bearer(keys["manager"]))
    assert dry.status_code == 200, dry.text
    assert dry.json()["signals"] == 3 and len(dry.json()["caught"]) == 2
    with store.read() as session:
        assert cases.page(session, cases.Filters(), limit=10, offset=0)[1] == 0  # a dry run opens nothing

    bad = client.put("/api/case-rules/vip", headers=bearer(keys["manager"]),
                     json={"reason": "vip", "condition": {"signal": "answer", "verdicts": ["grumpy"]}})
    assert bad.status_code == 400 and "verdicts" in bad.json()["error"]["message"]
    assert client.put("/api/case-rules/vip", headers=bearer(keys["agent"]),
                      json={"reason": "vip", "condition": {"signal": "answer"}}).status_code == 403
    made = client.put("/api/case-rules/csat-only", headers=bearer(keys["manager"]), json={
        "reason": "unhappy csat", "position": 5, "condition": {"signal": "answer", "verdicts": ["unhappy"]},
        "actions": {"priority": "urgent"}})
    assert made.status_code == 200, made.text
    snoozed = client.put("/api/case-rules/csat-only", headers=bearer(keys["manager"]),
                         json={"snoozed_until": (utcnow() + timedelta(days=1)).isoformat()})
    assert snoozed.json()["snoozed_until"] and snoozed.json()["reason"] == "unhappy csat"
    with store.read() as session:
        assert "csat-only" not in [r.name for r in policies.in_force(session, utcnow())]


def test_the_third_contact_about_one_topic_within_14_days_opens_a_case(store, settings, client, keys):
    def contact(topic: str, days: float) -> dict:
        return track("Support Contact", user_id="flo", timestamp=(utcnow() - timedelta(days=days)).isoformat(),
                     properties={"topic": topic}, context={"channel": "phone"})

    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        contact("refund", 20), contact("refund", 10), contact("damaged item", 5), contact("refund", 4)]})
    assert "0 repeated support contacts" in flows.watch(store, settings)  # two about refunds within 14 days
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [contact("refund", 1)]})
    assert "1 repeated support contacts" in flows.watch(store, settings)
    [case] = client.get("/api/cases?reason=repeated%20contact", headers=bearer(keys["viewer"])).json()["items"]
    assert case["summary"] == "support contact #3 about refund" and case["signals"] == 1
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [contact("refund", 0.5)]})
    flows.watch(store, settings)
    again = client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()
    assert again["signals"] == 2  # the fourth adds to the open case
    flows.watch(store, settings)  # (read again behind the last look: counted once)
    assert client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()["signals"] == 2
