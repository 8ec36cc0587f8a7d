"""The customer 360 over the API: profile shape, search, timeline pages, consent and notes."""

from __future__ import annotations

from tests.conftest import basic, bearer
from tests.helpers import identify, track


def _seed(client, key):  # type: ignore[no-untyped-def]
    messages = [
        identify(user_id="ann", anonymous_id="web-1", timestamp="2026-03-01T09:00:00Z",
                 traits={"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "plan": "gold",
                         "phone": "+14155550123", "consent": {"marketing": {"email": True}, "feedback": False}}),
        track("Order Completed", user_id="ann", timestamp="2026-03-02T10:00:00Z", context={"channel": "web"},
              properties={"order_id": "ORD-1", "total": 30}),
        track("Order Completed", user_id="ann", timestamp="2026-04-02T10:00:00Z", context={"channel": "store"},
              properties={"order_id": "ORD-2", "total": 20.5}),
        track("Order Cancelled", user_id="ann", timestamp="2026-04-03T10:00:00Z", properties={"order_id": "ORD-3"}),
    ]
    messages += [track("Support Contact", anonymous_id="web-1", timestamp=f"2026-05-{d:02d}T08:00:00Z",
                       properties={"channel": "chat" if d % 2 else "phone"}) for d in range(1, 11)]
    client.post("/v1/batch", json={"batch": messages}, headers=basic(key))


def test_profile_has_the_documented_shape(client, keys):
    _seed(client, keys["write"])
    customer = client.get("/api/customers/lookup", params={"email": "ann@example.com"},
                          headers=bearer(keys["viewer"])).json()
    assert {"id", "created_at", "identifiers", "traits", "consent", "stats"} <= set(customer)
    assert {(i["type"], i["value"]) for i in customer["identifiers"]} == {
        ("user_id", "ann"), ("anonymous_id", "web-1"), ("email", "ann@example.com"), ("phone", "+14155550123")}
    assert set(customer["identifiers"][0]) == {"type", "value", "first_seen", "last_seen"}
    assert customer["traits"]["plan"] == "gold" and customer["traits"]["first_name"] == "Ann"
    assert {(c["purpose"], c["channel"], c["status"]) for c in customer["consent"]} == {
        ("marketing", "email", "granted"), ("feedback", "any", "denied")}
    stats = customer["stats"]
    assert stats["orders"] == 2 and stats["revenue"] == 50.5 and stats["revenue_by_currency"] == {"USD": 50.5}
    assert stats["first_order_at"].startswith("2026-03-02") and stats["last_order_at"].startswith("2026-04-02")
    assert stats["last_seen_at"].startswith("2026-05-10")
    assert customer["created_at"].startswith("2026-03-01")
    by_order = client.get("/api/customers/lookup", params={"order_id": "ORD-2"}, headers=bearer(keys["viewer"]))
    assert by_order.json()["id"] == customer["id"]


def test_lookup_input_errors_are_clear(client, keys):
    response = client.get("/api/customers/lookup", params={"email": "not-an-email"}, headers=bearer(keys["viewer"]))
    assert response.status_code == 400 and "not a valid email" in response.json()["error"]["message"]
    response = client.get("/api/customers/lookup", params={"email": "a@b.co", "phone": "1"},
                          headers=bearer(keys["viewer"]))
    assert response.status_code == 400
    response = client.get("/api/customers/lookup", params={"type": "member_no", "value": "7"},
                          headers=bearer(keys["viewer"]))
    assert response.status_code == 400 and "unknown identifier type" in response.json()["error"]["message"]


def test_custom_identifier_types(settings, store, keys):
    from fastapi.testclient import TestClient

    from cherish.api.app import create_app

    custom = settings.model_copy(update={"custom_identifiers": ["member_no"]})
    with TestClient(create_app(custom, store)) as client:
        client.post("/v1/identify", json={"userId": "x", "traits": {"member_no": " M-1 "}},
                    headers=basic(keys["write"]))
        found = client.get("/api/customers/lookup", params={"type": "member_no", "value": "M-1"},
                           headers=bearer(keys["viewer"]))
        assert found.status_code == 200
        assert ("member_no", "M-1") in {(i["type"], i["value"]) for i in found.json()["identifiers"]}


def test_timeline_shows_one_kind_or_one_event(client, keys):
    _seed(client, keys["write"])
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        {"type": "page", "userId": "ann", "name": "Order Confirmation", "messageId": "p-1",
         "timestamp": "2026-05-20T08:00:00Z"},
        track("Feedback Submitted", user_id="ann", timestamp="2026-05-21T08:00:00Z",
              properties={"score_type": "csat", "score": 2, "comment": "slow"})]})
    customer = client.get("/api/customers/lookup", params={"user_id": "ann"}, headers=bearer(keys["viewer"])).json()

    def items(**query):  # type: ignore[no-untyped-def]
        response = client.get(f"/api/customers/{customer['id']}/timeline", params=query,
                              headers=bearer(keys["viewer"]))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    orders = items(kind="order")
    assert [i["event"] for i in orders] == ["Order Cancelled", "Order Completed", "Order Completed"]
    assert [i["kind"] for i in items(kind="page")] == ["page"]  # a page named "Order …" is a page, not an order
    assert {i["event"] for i in items(kind="track")} == {"Support Contact", "Feedback Submitted"}
    feedback = items(event="Feedback Submitted")
    assert len(feedback) == 1 and feedback[0]["summary"] == "CSAT 2 · “slow”"
    assert items(kind="order", channel="store")[0]["properties"]["order_id"] == "ORD-2"
    bad = client.get(f"/api/customers/{customer['id']}/timeline", params={"kind": "orders"},
                     headers=bearer(keys["viewer"]))
    assert bad.status_code == 400 and "unknown kind 'orders'" in bad.json()["error"]["message"]

def test_lookup_reads_values_as_they_were_sent(client, keys):
    """The lookup reads the store through the driver: JSON traits keep their types, times are UTC, the profile
    is the one GET /api/customers/{id} gives, and merged or unknown customers answer as before."""
    traits = {"email": "val@example.com", "address": {"city": "Salem", "zip": "97301"}, "tags": ["a", 2],
              "vip": True, "visits": 3, "ratio": 0.5, "nothing": None, "plan": "gold"}
    client.post("/v1/identify", json={"userId": "val", "traits": traits, "timestamp": "2026-02-03T04:05:06.789Z"},
                headers=basic(keys["write"]))
    found = client.get("/api/customers/lookup", params={"email": "VAL@example.com"}, headers=bearer(keys["viewer"]))
    assert found.status_code == 200
    body = found.json()
    assert {k: body["traits"][k] for k in traits if k != "email"} == {k: v for k, v in traits.items() if k != "email"}
    assert body["created_at"] == "2026-02-03T04:05:06.789000+00:00"
    assert {i["first_seen"] for i in body["identifiers"]} == {"2026-02-03T04:05:06.789000+00:00"}
    assert body["stats"] == {"orders": 0, "revenue": 0.0, "revenue_by_currency": {}, "first_order_at": None,
                             "last_order_at": None,
                             "last_seen_at": "2026-02-03T04:05:06.789000+00:00"}
    assert body == client.get(f"/api/customers/{body['id']}", headers=bearer(keys["viewer"])).json()
    assert client.get("/api/customers/lookup", params={"order_id": "nope"},
                      headers=bearer(keys["viewer"])).status_code == 404

def test_search_by_name_email_phone_and_order(client, keys):
    _seed(client, keys["write"])
    for query in ("ann lee", "ANN@example.com", "(415) 555-0123", "ORD-1", "ann@"):
        items = client.get("/api/customers", params={"q": query}, headers=bearer(keys["viewer"])).json()["items"]
        assert [i["name"] for i in items] == ["Ann Lee"], query
    assert client.get("/api/customers", params={"q": "zzz"}, headers=bearer(keys["viewer"])).json()["items"] == []
    client.post("/v1/track", json={"userId": "bo", "event": "Clicked"}, headers=basic(keys["write"]))
    recent = client.get("/api/customers", params={"limit": 5}, headers=bearer(keys["viewer"])).json()["items"]
    assert [i["name"] for i in recent] == [None, "Ann Lee"]  # without q: who was active last, newest first


def test_search_says_how_many_match_and_pages_through_them(client, keys):
    """A search cut at its limit says how many customers match in all, and the next page follows on."""
    batch = [{"type": "identify", "userId": f"kim-{n}", "traits": {"name": f"Kim Park {n:02d}"}} for n in range(7)]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(keys["write"])).status_code == 200
    seen = []
    for offset in (0, 3, 6):
        page = client.get("/api/customers", params={"q": "kim park", "limit": 3, "offset": offset},
                          headers=bearer(keys["viewer"])).json()
        assert (page["total"], page["capped"], page["offset"], page["limit"]) == (7, False, offset, 3)
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == 7
    bad = client.get("/api/customers", params={"q": "kim", "offset": -1}, headers=bearer(keys["viewer"]))
    assert bad.status_code == 400


def test_timeline_pages_newest_first_across_channels(client, keys):
    _seed(client, keys["write"])
    customer = client.get("/api/customers/lookup", params={"user_id": "ann"}, headers=bearer(keys["viewer"])).json()
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"before": cursor} if cursor else {})}
        page = client.get(f"/api/customers/{customer['id']}/timeline", params=params,
                          headers=bearer(keys["viewer"])).json()
        seen += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 14
    stamps = [i["timestamp"] for i in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert set(seen[0]) == {"id", "kind", "event", "channel", "timestamp", "properties", "summary"}
    order = next(i for i in seen if i["kind"] == "order")
    assert order["summary"].startswith(order["properties"]["order_id"])  # the gist of each item, in one line
    assert {i["channel"] for i in seen} >= {"web", "store", "chat", "phone"}
    assert {i["kind"] for i in seen} >= {"order", "track", "identify"}
    chat = client.get(f"/api/customers/{customer['id']}/timeline", params={"channel": "chat"},
                      headers=bearer(keys["viewer"])).json()["items"]
    assert len(chat) == 5 and {i["channel"] for i in chat} == {"chat"}
    bad = client.get(f"/api/customers/{customer['id']}/timeline", params={"before": "garbage!"},
                     headers=bearer(keys["viewer"]))
    assert bad.status_code == 400


def test_consent_and_notes_need_an_agent(client, keys):
    _seed(client, keys["write"])
    cid = client.get("/api/customers/lookup", params={"user_id": "ann"}, headers=bearer(keys["viewer"])).json()["id"]
    change = {"consent": [{"purpose": "marketing", "channel": "email", "status": "denied"}]}
    assert client.put(f"/api/customers/{cid}/consent", json=change, headers=bearer(keys["viewer"])).status_code == 403
    updated = client.put(f"/api/customers/{cid}/consent", json=change, headers=bearer(keys["agent"])).json()
    marketing = [c for c in updated["consent"] if c["purpose"] == "marketing"][0]
    assert marketing["status"] == "denied" and marketing["source"] == "api"
    bad = client.put(f"/api/customers/{cid}/consent", json={"consent": [{"purpose": "spam", "status": "granted"}]},
                     headers=bearer(keys["agent"]))
    assert bad.status_code == 400 and "unknown purpose" in bad.json()["error"]["message"]
    note = client.post(f"/api/customers/{cid}/notes", json={"body": "Prefers phone calls"},
                       headers=bearer(keys["agent"]))
    assert note.status_code == 201


def test_unknown_customer_is_404_in_the_error_shape(client, keys):
    response = client.get("/api/customers/cus_nope", headers=bearer(keys["viewer"]))
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details", "request_id"}


def test_search_reads_percent_and_underscore_as_themselves(client, keys):
    batch = [{"type": "identify", "userId": "w-1", "traits": {"name": "Ann 50% off_sale"}},
             {"type": "identify", "userId": "w-2", "traits": {"name": "Ann 50X offXsale"}}]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(keys["write"])).status_code == 200
    items = client.get("/api/customers", params={"q": "50% off_"}, headers=bearer(keys["viewer"])).json()["items"]
    assert [i["name"] for i in items] == ["Ann 50% off_sale"]
