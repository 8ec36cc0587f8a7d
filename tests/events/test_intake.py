"""Intake through the HTTP API, as the Segment SDKs and hand-written senders use it."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import func, select

from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from tests.conftest import basic, bearer
from tests.helpers import identify, track


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_batch_is_stored_and_acknowledged(client, store, write_key):
    body = {"batch": [track("Signed Up", user_id="u1"), identify(user_id="u1", traits={"email": "a@b.co"})]}
    response = client.post("/v1/batch", json=body, headers=basic(write_key))
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert _count(store, Event) == 2


def test_every_single_message_endpoint(client, store, write_key):
    for kind, payload in [
        ("track", {"userId": "u1", "event": "Viewed"}),
        ("identify", {"userId": "u1", "traits": {"name": "Ann"}}),
        ("page", {"anonymousId": "a1", "name": "Home"}),
        ("screen", {"anonymousId": "a1", "name": "Cart"}),
        ("group", {"userId": "u1", "groupId": "g1", "traits": {"email": "company@corp.example"}}),
        ("alias", {"userId": "u1", "previousId": "a1"}),
    ]:
        response = client.post(f"/v1/{kind}", json=payload, headers=basic(write_key))
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
    with store.read() as session:
        kinds = sorted(session.scalars(select(Event.type)))
        # group traits describe the company, never the person: no identifier was taken from them
        from cherish.identity.models import Identifier

        assert session.scalar(select(Identifier).where(Identifier.type == "email")) is None
    assert kinds == ["alias", "group", "identify", "page", "screen", "track"]


def test_retried_message_is_stored_once(client, store, write_key):
    message = track("Order Completed", user_id="u1", properties={"order_id": "o-1", "total": 10})
    for _ in range(3):
        assert client.post("/v1/batch", json={"batch": [message, message]}, headers=basic(write_key)).status_code == 200
    assert _count(store, Event) == 1
    assert _count(store, Order) == 1


def test_gzip_body_is_accepted(client, store, write_key):
    body = gzip.compress(json.dumps({"batch": [track(user_id="u1")]}).encode())
    response = client.post("/v1/batch", content=body,
                           headers={**basic(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert response.status_code == 200
    assert _count(store, Event) == 1


def test_bad_gzip_is_a_clear_400(client, write_key):
    response = client.post("/v1/batch", content=b"not gzip", headers={**basic(write_key), "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]["message"]


def test_not_json_or_not_a_batch_is_400_and_nothing_stored(client, store, write_key):
    for body in (b"{nope", b'{"batch": {}}', b"[1, 2]"):
        response = client.post("/v1/batch", content=body, headers=basic(write_key))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and error["message"]
    assert _count(store, Event) == 0 and _count(store, RejectedEvent) == 0


def test_size_limits_after_decompression(client, store, write_key):
    big = track(user_id="u1", properties={"blob": "x" * 33_000})
    response = client.post("/v1/batch", json={"batch": [track(user_id="u2"), big]}, headers=basic(write_key))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    many = {"batch": [track(user_id="u1", properties={"blob": "y" * 20_000}) for _ in range(30)]}
    compressed = gzip.compress(json.dumps(many).encode())
    assert len(compressed) < 500 * 1024
    response = client.post("/v1/batch", content=compressed, headers={**basic(write_key), "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert _count(store, Event) == 0


def test_invalid_messages_are_set_aside_and_the_rest_stored(client, store, write_key, keys):
    batch = [
        track(user_id="u1"),
        {"type": "track", "event": "No one", "messageId": "x1"},
        {"type": "teleport", "userId": "u1"},
        track(user_id="u1", timestamp="yesterday-ish"),
        track("Order Completed", user_id="u1", properties={"total": 3}),
        track(user_id="u2"),
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key))
    assert response.status_code == 200
    answer = response.json()
    assert answer["success"] is True
    assert [r["index"] for r in answer["rejected"]] == [1, 2, 3, 4]
    assert "userId or an anonymousId" in answer["rejected"][0]["message"]
    assert "order_id" in answer["rejected"][3]["message"]
    assert _count(store, Event) == 2
    listed = client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"]
    assert {r["index"] for r in listed} == {1, 2, 3, 4}
    assert any(r["payload"] == {"type": "teleport", "userId": "u1"} for r in listed)
    assert client.get("/api/intake/rejected", headers=bearer(keys["agent"])).status_code == 403


def test_rejected_events_replay_once_fixed(client, store, keys):
    client.post("/v1/batch", json={"batch": [{"type": "track", "event": "Late", "messageId": "r1"}]},
                headers=basic(keys["write"]))
    rejected = client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"]
    assert len(rejected) == 1
    fixed = {**rejected[0]["payload"], "userId": "u9"}
    response = client.post("/api/intake/rejected/replay", json={"corrections": {str(rejected[0]["id"]): fixed}},
                           headers=bearer(keys["manager"]))
    assert response.status_code == 200
    assert response.json()["replayed"] == [rejected[0]["id"]]
    assert client.get("/api/customers/lookup?user_id=u9", headers=bearer(keys["viewer"])).status_code == 200
    assert client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"] == []


def test_orders_follow_the_ecommerce_spec(client, store, write_key):
    products = [{"product_id": "p1", "sku": "S1", "name": "Beans", "category": "Coffee", "price": 12.5, "quantity": 2},
                {"product_id": "p2", "name": "Mug", "price": 10}]
    messages = [
        track("Order Completed", user_id="u1", properties={"order_id": "A", "products": products}),
        track("Order Completed", user_id="u1", properties={"order_id": "B", "revenue": 40, "products": products}),
        track("Order Completed", user_id="u1", properties={"order_id": "C", "total": 50, "revenue": 40,
                                                            "currency": "eur", "coupon": "HELLO", "discount": 5}),
        track("Order Completed", user_id="u1", properties={"order_id": "A", "total": 36}),
        track("Order Refunded", user_id="u1", properties={"order_id": "B"}),
        track("Order Refunded", user_id="u1", properties={"order_id": "C", "total": 10}),
        track("Order Cancelled", user_id="u1", properties={"order_id": "D"}),
    ]
    assert client.post("/v1/batch", json={"batch": messages}, headers=basic(write_key)).status_code == 200
    with store.read() as session:
        orders = {o.order_id: o for o in session.scalars(select(Order))}
        lines = session.scalars(select(OrderLine).where(OrderLine.order_pk == orders["A"].id)).all()
    assert set(orders) == {"A", "B", "C", "D"}
    assert orders["A"].value == 36 and orders["A"].status == "completed"  # same order_id updates, never duplicates
    assert len(lines) == 2 and {line.quantity for line in lines} == {2, 1}
    assert orders["B"].value == 40 and orders["B"].status == "refunded"
    assert orders["C"].value == 50 and orders["C"].currency == "EUR" and orders["C"].coupon == "HELLO"
    assert orders["C"].status == "partially_refunded" and orders["C"].refunded == 10
    assert orders["D"].status == "cancelled"


def test_order_value_is_sum_of_products_when_no_total(client, store, write_key):
    products = [{"price": 12.5, "quantity": 2}, {"price": 10}]
    client.post("/v1/track", json={"userId": "u1", "event": "Order Completed",
                                   "properties": {"order_id": "S", "products": products}}, headers=basic(write_key))
    with store.read() as session:
        assert session.scalar(select(Order.value)) == 35.0


def test_bad_order_numbers_are_rejected_whole(client, store, write_key):
    response = client.post("/v1/batch", json={"batch": [
        track("Order Completed", user_id="u1", properties={"order_id": "Z", "total": "lots"})]},
        headers=basic(write_key))
    assert "total must be a number" in response.json()["rejected"][0]["message"]
    assert _count(store, Order) == 0 and _count(store, Event) == 0


def test_event_time_follows_segment_rules(client, store, write_key):
    batch = [
        track("Explicit", user_id="u1", timestamp="2026-01-02T03:04:05Z"),
        # client clock is 1 hour fast: originalTimestamp and sentAt both in the client's clock
        track("Skewed", user_id="u1", originalTimestamp="2030-01-01T10:00:00Z", sentAt="2030-01-01T10:00:10Z"),
    ]
    client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key))
    with store.read() as session:
        times = dict(session.execute(select(Event.event, Event.timestamp, Event.received_at)
                                     .with_only_columns(Event.event, Event.timestamp)).all())
        received = session.scalar(select(Event.received_at).where(Event.event == "Skewed"))
    assert times["Explicit"].isoformat() == "2026-01-02T03:04:05+00:00"
    assert abs((received - times["Skewed"]).total_seconds() - 10) < 1e-6


def test_channels_are_kept_even_unknown_ones(client, store, write_key):
    batch = [track(user_id="u1", context={"channel": "Store"}), track(user_id="u1", properties={"channel": "kiosk"})]
    client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key))
    with store.read() as session:
        assert sorted(session.scalars(select(Event.channel))) == ["kiosk", "store"]


def test_intake_needs_a_write_key(client, keys):
    assert client.post("/v1/batch", json={"batch": []}).status_code == 401
    assert client.post("/v1/batch", json={"batch": []}, headers=basic("wk_nope")).status_code == 401
    response = client.post("/v1/batch", json={"batch": []}, headers=bearer(keys["admin"]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_feedback_answers_are_kept_and_bad_scores_rejected(client, store, write_key):
    from cherish.feedback.models import Answer

    batch = [
        track("Feedback Submitted", user_id="u1", properties={"score_type": "nps", "score": 9, "comment": "Great",
                                                              "branch": "Bend", "channel": "Store"}),
        track("Feedback Submitted", user_id="u1", properties={"score_type": "nps", "score": 11}),
        track("Feedback Submitted", user_id="u1", properties={"score_type": "stars", "score": 4}),
        track("Feedback Submitted", user_id="u1", properties={"score_type": "csat", "score": "4"}),
    ]
    answer = client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key)).json()
    assert [r["index"] for r in answer["rejected"]] == [1, 2]
    assert "whole number from 0 to 10" in answer["rejected"][0]["message"]
    with store.read() as session:
        rows = session.scalars(select(Answer).order_by(Answer.id)).all()
    assert [(r.score_type, r.score, r.channel, r.branch) for r in rows] == [("nps", 9, "store", "Bend"),
                                                                          ("csat", 4, None, None)]


def test_concurrent_batches_share_transactions_and_keep_their_own_answers(store, settings):
    """Group commit: batches submitted together are stored together, each answered with its own rejects."""
    from concurrent.futures import ThreadPoolExecutor

    from cherish.events.committer import GroupCommitter

    committer = GroupCommitter(store, settings)

    def batch(n: int) -> list[dict]:  # type: ignore[type-arg]
        good = [{"type": "track", "userId": f"g{n}", "event": "Viewed", "messageId": f"c{n}-{i}"} for i in range(5)]
        return [*good[:2], {"type": "nope", "userId": "x"}, *good[2:], {"type": "track", "event": "No one"}]

    with ThreadPoolExecutor(8) as pool:
        futures = list(pool.map(lambda n: committer.submit(batch(n), None, None), range(40)))
    results = [f.result(timeout=60) for f in futures]
    assert all([r["index"] for r in result.rejected] == [2, 6] for result in results)
    assert all(result.stored == 5 for result in results)
    assert _count(store, Event) == 200
    with store.read() as session:
        from cherish.identity.models import Identifier

        assert session.scalar(select(func.count()).select_from(Identifier)) == 40


def test_two_servers_writing_the_same_people_retry_conflicts(store, settings):
    """Two server processes (here: two stores and writers on one database) meet the same new identifiers at
    once: on PostgreSQL one transaction loses on the unique index and is retried; nothing fails or doubles."""
    from concurrent.futures import ThreadPoolExecutor

    from cherish.db.engine import open_store
    from cherish.events.committer import GroupCommitter
    from cherish.identity.models import Identifier

    other = open_store(settings.database_url)
    writers = [GroupCommitter(store, settings), GroupCommitter(other, settings)]

    def batch(n: int) -> list[dict]:  # type: ignore[type-arg]
        return [{"type": "identify", "anonymousId": f"anon-{i}", "traits": {"email": f"p{i}@example.com"},
                 "messageId": f"w{n}-{i}"} for i in range(50)]

    try:
        with ThreadPoolExecutor(8) as pool:
            futures = list(pool.map(lambda n: writers[n % 2].submit(batch(n), None, None), range(16)))
        assert all(f.result(timeout=120).stored == 50 for f in futures)
    finally:
        other.dispose()
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Identifier)) == 100
    assert _count(store, Event) == 800


def test_nul_characters_are_rejected_not_a_server_error(client, store, write_key, keys):
    """PostgreSQL cannot store NUL in text or JSON: such a message is rejected with its reason (its payload kept
    with U+FFFD in place of NUL), the rest of the batch stored, on both stores."""
    batch = [track("Viewed\u0000", user_id="u1"), track(user_id="u2", properties={"note": "a\\u0000 literal"})]
    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key))
    assert response.status_code == 200
    assert response.json()["rejected"] == [{"index": 0, "message": "text must not contain NUL characters (\\u0000)"}]
    assert _count(store, Event) == 1  # a literal backslash-u is text like any other
    listed = client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"]
    assert listed[0]["payload"]["event"] == "Viewed\ufffd"


def test_a_request_whose_client_went_away_does_not_stop_the_writer(store, settings):
    """A cancelled request (its client disconnected) is stored anyway; the writer goes on with the others."""
    from cherish.events.committer import GroupCommitter

    committer = GroupCommitter(store, settings)
    with store.write():  # on SQLite this holds the writer back until both requests are in
        first = committer.submit([{"type": "track", "userId": "gone", "event": "Left", "messageId": "gone-1"}],
                                 None, None)
        assert first.cancel() or store.dialect != "sqlite"  # elsewhere the writer may have been quicker
        later = committer.submit([{"type": "track", "userId": "here", "event": "Stayed", "messageId": "here-1"}],
                                 None, None)
    assert later.result(timeout=30).stored == 1
    assert _count(store, Event) == 2


def test_names_of_new_merged_and_returning_customers(store, settings):
    """A customer born in a batch is written with its name; a name carried by a customer folded into another in
    the same batch goes to the survivor; a later batch changes a name only when it differs."""
    from cherish.customers.models import Customer
    from cherish.events.flows import ingest
    from cherish.identity.models import Identifier

    def name_of(anonymous_id: str) -> str | None:
        with store.read() as session:
            customer = session.scalar(select(Identifier.customer_id).where(Identifier.value == anonymous_id))
            return session.get(Customer, customer).name

    first = [
        identify(anonymous_id="a1", traits={"name": "Ann Lee"}, timestamp="2026-01-01T10:00:00Z"),
        track("Viewed", anonymous_id="y1", timestamp="2026-01-01T10:01:00Z"),  # born first: survives
        identify(anonymous_id="y2", traits={"email": "dee@example.com", "name": "Dee Ray"},
                 timestamp="2026-01-01T10:02:00Z"),
        track("Viewed", anonymous_id="y1", traits={"email": "dee@example.com"}, timestamp="2026-01-01T10:03:00Z"),
    ]
    with store.write() as session:
        assert ingest(session, first, settings=settings).stored == 4
    assert name_of("a1") == "Ann Lee"
    assert name_of("y1") == name_of("y2") == "Dee Ray"
    with store.write() as session:
        ingest(session, [identify(anonymous_id="a1", traits={"name": "Ann Lee"}),
                         identify(anonymous_id="y1", traits={"name": "Dee Rae"})], settings=settings)
    assert (name_of("a1"), name_of("y2")) == ("Ann Lee", "Dee Rae")
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into.is_(None))) == 2
