"""Stitching through intake: one customer per person, merges with redirects, guardrails, undo."""

from __future__ import annotations

from sqlalchemy import select

from cherish.identity.models import IdentityReview, Merge, NeverMerge
from tests.conftest import basic, bearer
from tests.helpers import identify, track


def send(client, key, *messages):  # type: ignore[no-untyped-def]
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=basic(key))
    assert response.status_code == 200, response.text
    return response.json()


def lookup(client, key, **query):  # type: ignore[no-untyped-def]
    return client.get("/api/customers/lookup", params=query, headers=bearer(key), follow_redirects=False)


def test_identifiers_found_as_soon_as_the_request_returns(client, keys):
    send(client, keys["write"], identify(user_id="u1", anonymous_id="a1",
                                         traits={"email": "  Ann@Example.COM ", "phone": "(415) 555-0101",
                                                 "loyalty_id": "L-7"}))
    ids = {lookup(client, keys["viewer"], **q).json()["id"] for q in (
        {"user_id": "u1"}, {"anonymous_id": "a1"}, {"email": "ann@example.com"}, {"email": "ANN@example.com "},
        {"phone": "+1 415-555-0101"}, {"loyalty_id": "L-7"})}
    assert len(ids) == 1
    assert lookup(client, keys["viewer"], email="nobody@example.com").status_code == 404


def test_two_customers_merge_when_identifiers_meet(client, store, keys):
    send(client, keys["write"], track(anonymous_id="device-1", traits={"email": "bo@example.com"}))
    send(client, keys["write"], track("Called", anonymous_id="call-9", traits={"phone": "+14155550199"}))
    first = lookup(client, keys["viewer"], email="bo@example.com").json()["id"]
    second = lookup(client, keys["viewer"], phone="+14155550199").json()["id"]
    assert first != second
    send(client, keys["write"], identify(user_id="bo", traits={"email": "bo@example.com", "phone": "4155550199"}))
    assert lookup(client, keys["viewer"], phone="+14155550199").json()["id"] == first  # created first survives
    response = client.get(f"/api/customers/{second}", headers=bearer(keys["viewer"]), follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"].endswith(f"/api/customers/{first}")
    timeline = client.get(f"/api/customers/{second}/timeline", headers=bearer(keys["viewer"])).json()
    assert {i["event"] for i in timeline["items"]} >= {"Clicked", "Called"}
    with store.read() as session:
        merge = session.scalar(select(Merge))
    assert (merge.survivor_id, merge.merged_id, merge.identifier_type, merge.reason) == \
        (first, second, "phone", "event")
    assert merge.message_id


def test_second_user_id_is_a_guardrail_and_goes_to_review(client, store, keys):
    send(client, keys["write"], identify(user_id="acct-1", traits={"email": "family@example.com"}))
    send(client, keys["write"], identify(user_id="acct-2", traits={"email": "family@example.com"}))
    one = lookup(client, keys["viewer"], user_id="acct-1").json()["id"]
    two = lookup(client, keys["viewer"], user_id="acct-2").json()["id"]
    assert one != two
    assert lookup(client, keys["viewer"], email="family@example.com").json()["id"] == one
    reviews = client.get("/api/identity/reviews", headers=bearer(keys["manager"])).json()["items"]
    assert len(reviews) == 1 and reviews[0]["reason"] == "guardrail:user_id"
    assert {reviews[0]["customer_a"], reviews[0]["customer_b"]} == {one, two}
    # the event of acct-2 went to acct-2's customer, its strongest identifier
    timeline = client.get(f"/api/customers/{two}/timeline", headers=bearer(keys["viewer"])).json()["items"]
    assert [i["kind"] for i in timeline] == ["identify"]


def test_alias_overrides_the_user_id_limit(client, keys):
    send(client, keys["write"], identify(user_id="old-login", traits={"email": "c@example.com"}))
    send(client, keys["write"], identify(user_id="new-login"))
    send(client, keys["write"],
         {"type": "alias", "userId": "new-login", "previousId": "old-login", "messageId": "al-1"})
    assert lookup(client, keys["viewer"], user_id="old-login").json()["id"] == \
        lookup(client, keys["viewer"], user_id="new-login").json()["id"]


def test_email_limit_is_configurable(client, settings, keys):
    messages = [track(anonymous_id="shared-device", traits={"email": f"e{i}@example.com"}) for i in range(7)]
    send(client, keys["write"], *messages)
    owner = lookup(client, keys["viewer"], anonymous_id="shared-device").json()
    assert len([i for i in owner["identifiers"] if i["type"] == "email"]) == 5


def test_limits_and_last_seen_of_a_returning_customer(client, keys):
    """A customer stored by earlier requests: its limits still hold when new identifiers come one request at a
    time, and its identifiers' first and last sightings widen with older and later events, whatever their order."""
    send(client, keys["write"], *[track(anonymous_id="kiosk", traits={"email": f"k{i}@example.com"},
                                        timestamp="2026-03-01T10:00:00Z") for i in range(3)])
    for i in range(3, 7):
        send(client, keys["write"], track(anonymous_id="kiosk", traits={"email": f"k{i}@example.com"},
                                          timestamp="2026-03-02T10:00:00Z"))
    owner = lookup(client, keys["viewer"], anonymous_id="kiosk").json()
    assert sorted(i["value"] for i in owner["identifiers"] if i["type"] == "email") == [
        f"k{i}@example.com" for i in range(5)]
    send(client, keys["write"], track(anonymous_id="kiosk", timestamp="2026-04-01T08:00:00Z"))
    send(client, keys["write"], track(anonymous_id="kiosk", timestamp="2026-01-01T08:00:00Z"))
    kiosk = lookup(client, keys["viewer"], anonymous_id="kiosk").json()
    seen = next(i for i in kiosk["identifiers"] if i["type"] == "anonymous_id")
    assert seen["first_seen"].startswith("2026-01-01") and seen["last_seen"].startswith("2026-04-01")
    send(client, keys["write"], track(anonymous_id="kiosk", timestamp="2026-02-01T08:00:00Z"))
    kiosk = lookup(client, keys["viewer"], anonymous_id="kiosk").json()
    seen = next(i for i in kiosk["identifiers"] if i["type"] == "anonymous_id")
    assert seen["first_seen"].startswith("2026-01-01") and seen["last_seen"].startswith("2026-04-01")


def test_a_customer_is_as_old_as_its_history(client, keys):
    """Older events than the one that created a customer move its creation back, whether they carry a known
    identifier or a new one, in a later request or in the same batch; newer ones never move it."""
    def created(**query) -> str:  # type: ignore[no-untyped-def]
        return lookup(client, keys["viewer"], **query).json()["created_at"]

    send(client, keys["write"], track(user_id="h1", timestamp="2026-03-01T10:00:00Z"))
    assert created(user_id="h1").startswith("2026-03-01")
    send(client, keys["write"], track(user_id="h1", timestamp="2025-05-01T10:00:00Z"))
    assert created(user_id="h1").startswith("2025-05-01")
    send(client, keys["write"], track(user_id="h1", traits={"email": "h1@example.com"},
                                      timestamp="2024-01-01T10:00:00Z"))
    assert created(user_id="h1").startswith("2024-01-01")
    send(client, keys["write"], track(user_id="h1", timestamp="2025-01-01T10:00:00Z"),
         track(anonymous_id="h1-phone", traits={"email": "h1@example.com"}, timestamp="2026-05-01T10:00:00Z"))
    assert created(user_id="h1").startswith("2024-01-01")
    send(client, keys["write"], track(user_id="h2", timestamp="2026-03-01T10:00:00Z"),
         track(user_id="h2", timestamp="2025-02-01T10:00:00Z"))
    assert created(user_id="h2").startswith("2025-02-01")


def test_shared_identifiers_never_merge_anyone(client, keys):
    send(client, keys["write"], track(user_id="p1", traits={"email": "test@example.com"}),
         track(user_id="p2", traits={"email": "test@example.com"}))
    one, two = (lookup(client, keys["viewer"], user_id=u).json() for u in ("p1", "p2"))
    assert one["id"] != two["id"]
    assert lookup(client, keys["viewer"], email="test@example.com").status_code == 404
    assert client.get("/api/identity/reviews", headers=bearer(keys["manager"])).json()["items"] == []


def test_unmerge_splits_identifier_and_its_events_and_holds_on_replay(client, store, keys):
    send(client, keys["write"],
         identify(user_id="dana", traits={"email": "dana@example.com", "name": "Dana"}),
         track("Order Completed", anonymous_id="kiosk-7", traits={"email": "dana@example.com", "phone": "+14155550111"},
               properties={"order_id": "K-1", "total": 20}))
    customer = lookup(client, keys["viewer"], user_id="dana").json()["id"]
    assert lookup(client, keys["viewer"], phone="+14155550111").json()["id"] == customer
    response = client.post(f"/api/customers/{customer}/unmerge", json={"identifier": "phone:+14155550111"},
                           headers=bearer(keys["manager"]))
    assert response.status_code == 200, response.text
    newcomer = response.json()["new_customer_id"]
    assert lookup(client, keys["viewer"], phone="+14155550111").json()["id"] == newcomer
    assert lookup(client, keys["viewer"], anonymous_id="kiosk-7").json()["id"] == newcomer
    assert lookup(client, keys["viewer"], order_id="K-1").json()["id"] == newcomer
    assert lookup(client, keys["viewer"], email="dana@example.com").json()["id"] == customer
    # replaying an event that carries both identifiers does not undo the split: it is proposed for review instead
    send(client, keys["write"], track("Again", user_id="dana", traits={"phone": "+14155550111"}))
    assert lookup(client, keys["viewer"], phone="+14155550111").json()["id"] == newcomer
    with store.read() as session:
        assert session.scalar(select(NeverMerge)) is not None
        review = session.scalar(select(IdentityReview))
    assert review.reason == "never_merge"


def test_manual_merge_and_review_decisions(client, keys):
    send(client, keys["write"], identify(user_id="m1", traits={"email": "m@example.com"}),
         identify(user_id="m2", traits={"email": "m@example.com"}),
         identify(user_id="m3", traits={"email": "z@example.com"}))
    ids = [lookup(client, keys["viewer"], user_id=u).json()["id"] for u in ("m1", "m2", "m3")]
    review = client.get("/api/identity/reviews", headers=bearer(keys["manager"])).json()["items"][0]
    assert client.post(f"/api/identity/reviews/{review['id']}/accept", headers=bearer(keys["agent"])).status_code == 403
    decided = client.post(f"/api/identity/reviews/{review['id']}/accept", headers=bearer(keys["manager"]))
    assert decided.json()["status"] == "accepted"
    assert lookup(client, keys["viewer"], user_id="m2").json()["id"] == ids[0]
    again = client.post(f"/api/identity/reviews/{review['id']}/reject", headers=bearer(keys["manager"]))
    assert again.status_code == 409
    merged = client.post("/api/customers/merge", json={"survivor_id": ids[2], "merged_id": ids[0]},
                         headers=bearer(keys["manager"]))
    assert merged.status_code == 200
    assert merged.json()["survivor_id"] == ids[0]
    assert lookup(client, keys["viewer"], user_id="m3").json()["id"] == ids[0]


def test_rejecting_a_review_keeps_the_two_apart(client, keys):
    send(client, keys["write"], identify(user_id="r1", traits={"email": "r@example.com"}),
         identify(user_id="r2", traits={"email": "r@example.com"}))
    review = client.get("/api/identity/reviews", headers=bearer(keys["manager"])).json()["items"][0]
    rejected = client.post(f"/api/identity/reviews/{review['id']}/reject", headers=bearer(keys["manager"]))
    assert rejected.json()["status"] == "rejected"
    send(client, keys["write"], {"type": "alias", "userId": "r2", "previousId": "r1", "messageId": "al-r"})
    first, second = (lookup(client, keys["viewer"], user_id=u).json()["id"] for u in ("r1", "r2"))
    assert first != second
