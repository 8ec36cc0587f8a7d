"""`/api/webhooks` (admin) and `/api/outbox` (manager) through the ASGI app."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from cherish.db.base import utcnow
from cherish.outbox import service as outbox
from cherish.outbox.models import OutboxMessage
from tests.conftest import bearer
from tests.helpers import Receiver


def test_endpoints_are_admins_and_the_secret_is_shown_once(client, keys):
    receiver = Receiver()
    try:
        denied = client.post("/api/webhooks", json={"url": receiver.url, "events": ["*"]},
                             headers=bearer(keys["manager"]))
        assert denied.status_code == 403
        created = client.post("/api/webhooks", json={"url": receiver.url, "events": ["feedback.received"],
                                                     "description": "crm"}, headers=bearer(keys["admin"]))
        assert created.status_code == 201, created.text
        endpoint = created.json()
        assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == ["feedback.received"]
        receiver.secret = endpoint["secret"]
        listed = client.get("/api/webhooks", headers=bearer(keys["admin"])).json()
        assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
        slack = client.post("/api/webhooks", json={"url": "https://hooks.slack.example/services/T1/B2/secret-part",
                                                   "events": ["*"], "kind": "slack"}, headers=bearer(keys["admin"]))
        assert slack.status_code == 201
        shown = {e["kind"]: e["url"] for e in client.get("/api/webhooks", headers=bearer(keys["admin"])).json()}
        assert shown["slack"] == "https://hooks.slack.example/…"  # its path is its credential
        client.delete(f"/api/webhooks/{slack.json()['id']}", headers=bearer(keys["admin"]))

        pinged = client.post(f"/api/webhooks/{endpoint['id']}/test", headers=bearer(keys["admin"]))
        assert pinged.status_code == 200 and pinged.json()["delivered"] is True
        assert receiver.received[0]["verified"] is not None and receiver.received[0]["body"]["type"] == "ping"

        bad = client.post("/api/webhooks", json={"url": "file:///etc/passwd", "events": ["*"]},
                          headers=bearer(keys["admin"]))
        assert bad.status_code == 400 and "url" in bad.text  # (validation errors answer 400 here)
        unknown = client.post("/api/webhooks", json={"url": receiver.url, "events": ["order.eaten"]},
                              headers=bearer(keys["admin"]))
        assert unknown.status_code == 400 and "events" in unknown.text
        texts = client.post("/api/webhooks", json={"url": receiver.url, "events": ["message.sms"]},
                            headers=bearer(keys["admin"]))
        assert texts.status_code == 400  # messages to customers go to a sender endpoint
        sender = client.post("/api/webhooks", json={"url": receiver.url, "events": ["message.sms"], "kind": "sender"},
                             headers=bearer(keys["admin"]))
        assert sender.status_code == 201 and sender.json()["kind"] == "sender"
        assert client.delete(f"/api/webhooks/{endpoint['id']}", headers=bearer(keys["admin"])).status_code == 204
        assert client.delete(f"/api/webhooks/{endpoint['id']}", headers=bearer(keys["admin"])).status_code == 404
    finally:
        receiver.close()


def test_dead_letters_are_listed_retried_and_discarded_by_a_manager(client, keys, store, settings):
    with store.write() as session:
        endpoint = outbox.add_endpoint(session, "http://127.0.0.1:9/nothing-listens", ["*"])
        for n in range(2):
            outbox.enqueue(session, kind="webhook", type="ping", endpoint_id=endpoint.id,
                           body={"type": "ping", "timestamp": "2026-12-01T00:00:00Z", "data": {"n": n}})
    with store.write() as session:
        session.execute(update(OutboxMessage).values(status="dead", attempts=8, last_error="ConnectError"))
    page = client.get("/api/outbox?status=dead", headers=bearer(keys["manager"]))
    assert page.status_code == 200 and page.json()["total"] == 2
    first, second = (m["id"] for m in page.json()["items"])  # newest first
    assert client.get("/api/outbox", headers=bearer(keys["viewer"])).status_code == 403

    retried = client.post(f"/api/outbox/{first}/retry", headers=bearer(keys["manager"]))
    assert retried.status_code == 200 and retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    again = client.post(f"/api/outbox/{first}/retry", headers=bearer(keys["manager"]))
    assert again.status_code == 409 and "not a dead letter" in again.json()["error"]["message"]
    discarded = client.post(f"/api/outbox/{second}/discard", headers=bearer(keys["manager"]))
    assert discarded.json()["status"] == "discarded"
    detail = client.get(f"/api/outbox/{first}", headers=bearer(keys["manager"])).json()
    assert detail["key"].startswith("msg_") and detail["body"]["data"] == {"n": 1} and detail["attempt_log"] == []
    assert client.get("/api/outbox/999999", headers=bearer(keys["manager"])).status_code == 404
    assert client.get("/api/outbox?status=lost", headers=bearer(keys["manager"])).status_code in (400, 422)
    with store.read() as session:
        assert outbox.pending_count(session) == 1
    assert utcnow() - timedelta(minutes=5) < retried_at(store, first)


def retried_at(store, message_id: int):  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.get(OutboxMessage, message_id).next_attempt_at


def test_the_event_types_the_api_offers_are_the_domain_events():
    from typing import get_args

    from cherish.domain_events.service import TYPES
    from cherish.outbox.service import MESSAGE_TYPES
    from cherish.outbox.views import EventType, MessageType

    assert set(get_args(EventType)) == {"*", *TYPES} and set(get_args(MessageType)) == set(MESSAGE_TYPES)
