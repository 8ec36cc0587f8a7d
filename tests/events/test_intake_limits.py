"""Intake at the edges: one bad message is rejected with its reason, never a 500 for the whole batch."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cherish.api.app import create_app
from cherish.events.models import Event, RejectedEvent
from cherish.identity.models import Identifier
from tests.conftest import basic, bearer
from tests.helpers import login


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _nested(levels: int) -> str:
    """JSON text of objects nested ``levels`` deep (written out: Python's own encoder stops near 1000)."""
    return '{"a": ' * levels + "{}" + "}" * levels


def _track(n: int, **fields: str) -> str:
    """A track message as JSON text; ``fields`` are further members as JSON text, sent exactly as written."""
    extra = "".join(f', "{name}": {text}' for name, text in fields.items())
    return f'{{"type": "track", "event": "Viewed", "userId": "u{n}", "messageId": "m{n}"{extra}}}'


def _order(properties: str) -> str:
    return ('{"type": "track", "event": "Order Completed", "userId": "buyer", "messageId": "order-1", '
            f'"properties": {properties}}}')


# The triggers of issue 12: each one message of a batch, and (part of) the reason it is rejected with.
TRIGGERS = {
    "timestamp year 1 east of UTC": (_track(9, timestamp='"0001-01-01T00:00:00+01:00"'),
                                     "outside the dates an event can have"),
    "skew correction across centuries": (_track(9, originalTimestamp='"9999-12-31T00:00:00Z"',
                                                sentAt='"0001-01-02T00:00:00Z"'), "centuries apart"),
    "timestamp year 1": (_track(9, timestamp='"0001-01-02T00:00:00Z"'), "before 1970"),
    "timestamp year 9999": (_track(9, timestamp='"9999-12-31T23:59:59Z"'), "more than a day after"),
    "timestamp 2099": (_track(9, timestamp='"2099-01-01T00:00:00Z"'), "more than a day after"),
    "client clock in 2099": (_track(9, originalTimestamp='"2099-01-01T00:00:00Z"'), "more than a day after"),
    "properties nested 988 deep": (_track(9, properties=_nested(988)), "more than 64 levels deep"),
    "properties nested 250 deep": (_track(9, properties=_nested(250)), "more than 64 levels deep"),
    "properties nested 64 deep": (_track(9, properties=_nested(64)), "more than 64 levels deep"),
    "total of -1e300": (_order('{"order_id": "o-1", "total": -1e300}'), "total must not be negative"),
    "quantity of 9.2e18": (_order('{"order_id": "o-1", "products": [{"price": 1, "quantity": 9.2e18}]}'),
                           "quantity 9.2e+18 is larger than"),
    "price of 1e300": (_order('{"order_id": "o-1", "products": [{"price": 1e300}]}'), "not a plausible value"),
    "messageId of 201 characters": (_track(9, messageId=json.dumps("m" * 201)), "at most 200 characters"),
    "userId 2**64+1": (_track(9, userId=str(2**64 + 1)), "cannot be kept exactly"),
    "userId of 301 characters": (_track(9, userId=json.dumps("u" * 301)), "longer than 300 characters"),
    "promised delivery in 9999": (_order('{"order_id": "o-1", "promised_delivery_date": "9999-12-31"}'),
                                  "not a plausible delivery date"),
    "groupId of 201 characters": ('{"type": "group", "userId": "u9", "groupId": "%s"}' % ("g" * 201),
                                  "groupId is longer"),
    "type of 5000 characters": ('{"type": "%s", "userId": "u9"}' % ("t" * 5000), "unknown type 'tttt"),
    "score of 2000 digits": ('{"type": "track", "event": "Feedback Submitted", "userId": "u9", "properties": '
                             '{"score_type": "nps", "score": "%s"}}' % ("9" * 2000), "a nps score is"),
    "order_id of 201 characters": (_order(f'{{"order_id": "{"o" * 201}", "total": 1}}'), "longer than 200"),
}


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_one_bad_message_is_rejected_and_the_batch_stored(trigger, client, store, keys, admin_user):
    """The valid messages are stored, the bad one kept as a rejected event with its reason, and the rejected
    list, its replay and its dashboard page still work."""
    bad, reason = TRIGGERS[trigger]
    body = f'{{"batch": [{_track(1)}, {bad}, {_track(2)}]}}'
    response = client.post("/v1/batch", content=body, headers={**basic(keys["write"]),
                                                               "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [1] and reason in rejected[0]["message"], rejected
    assert _count(store, Event) == 2 and _count(store, RejectedEvent) == 1
    listed = client.get("/api/intake/rejected", headers=bearer(keys["manager"]))
    assert listed.status_code == 200 and reason in listed.json()["items"][0]["reason"]
    replay = client.post("/api/intake/rejected/replay", json={}, headers=bearer(keys["manager"]))
    assert replay.status_code == 200 and replay.json()["replayed"] == []
    assert reason in replay.json()["still_rejected"][0]["message"]
    login(client, *admin_user)
    page = client.get("/intake/rejected")
    assert page.status_code == 200 and reason.split("'")[0] in page.text
    assert _count(store, Event) == 2


def test_a_too_deep_message_is_kept_readable_cut_at_the_limit(client, store, keys):
    body = f'{{"batch": [{_track(1, properties=_nested(988))}]}}'
    client.post("/v1/batch", content=body, headers=basic(keys["write"]))
    payload = client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"][0]["payload"]
    assert payload["userId"] == "u1" and payload["event"] == "Viewed"  # what identifies it is all there
    depth, inner = 1, payload
    while isinstance(inner, dict):
        inner, depth = inner.get("properties", inner.get("a")), depth + 1
    assert depth == 66 and "not kept" in inner  # one level past the limit: a replay rejects it again


def test_an_event_nested_within_the_limit_is_stored_and_read_back(client, store, keys):
    """63 levels below the message: stored, and the customer's timeline and export read it back."""
    body = f'{{"batch": [{_track(1, properties=_nested(62))}]}}'
    assert client.post("/v1/batch", content=body, headers=basic(keys["write"])).json() == {"success": True}
    customer = client.get("/api/customers/lookup?user_id=u1", headers=bearer(keys["manager"]))
    assert customer.status_code == 200, customer.text
    customer_id = customer.json()["id"]
    timeline = client.get(f"/api/customers/{customer_id}/timeline", headers=bearer(keys["manager"]))
    assert timeline.status_code == 200, timeline.text
    exported = client.get(f"/api/customers/{customer_id}/export", headers=bearer(keys["admin"]))
    assert exported.status_code == 200, exported.text


@pytest.mark.parametrize("item", ["1", '"text"', "null", "[1, 2]", "true", "18446744073709551617"])
def test_a_message_that_is_not_an_object_keeps_the_rejected_list_readable(item, client, store, keys, admin_user):
    """{"batch": [1]} is answered 200 with the message rejected; listing, replay and the page still work."""
    body = f'{{"batch": [{_track(1)}, {item}]}}'
    response = client.post("/v1/batch", content=body, headers=basic(keys["write"]))
    assert response.status_code == 200
    assert response.json()["rejected"] == [{"index": 1, "message": "a message must be a JSON object"}]
    listed = client.get("/api/intake/rejected", headers=bearer(keys["manager"]))
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0]["payload"] == json.loads(item) or item == "18446744073709551617"
    assert client.post("/api/intake/rejected/replay", json={}, headers=bearer(keys["manager"])).status_code == 200
    login(client, *admin_user)
    assert client.get("/intake/rejected").status_code == 200


def test_numeric_user_ids_beyond_64_bits_are_never_merged(client, store, keys):
    """2**64+1 and 2**64+2 both read as 1.8446744073709552e+19: rejected (send them as text), never one person;
    those JSON keeps exactly (up to 2**64-1) are kept as their digits."""
    batch = [_track(1, userId=str(2**64 + 1)), _track(2, userId=str(2**64 + 2)), _track(3, userId=str(2**64 - 1)),
             _track(4, userId=json.dumps(str(2**64 + 1))), _track(5, userId=json.dumps(str(2**64 + 2)))]
    response = client.post("/v1/batch", content=f'{{"batch": [{", ".join(batch)}]}}', headers=basic(keys["write"]))
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]
    with store.read() as session:
        kept = dict(session.execute(select(Identifier.value, Identifier.customer_id)
                                    .where(Identifier.type == "user_id")).all())
    assert set(kept) == {str(2**64 - 1), str(2**64 + 1), str(2**64 + 2)}
    assert len(set(kept.values())) == 3


def test_message_ids_are_never_cut_short(client, store, keys):
    """Two messageIds sharing their first 200 characters were stored once (both answered 200)."""
    shared = "m" * 200
    batch = [_track(1, messageId=json.dumps(shared + "a")), _track(2, messageId=json.dumps(shared + "b")),
             _track(3, messageId=json.dumps(shared))]
    response = client.post("/v1/batch", content=f'{{"batch": [{", ".join(batch)}]}}', headers=basic(keys["write"]))
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]
    with store.read() as session:
        assert list(session.scalars(select(Event.message_id))) == [shared]
    assert _count(store, RejectedEvent) == 2


def test_a_loyalty_id_number_beyond_64_bits_is_rejected_too(client, store, keys):
    batch = [f'{{"type": "identify", "userId": "u{n}", "traits": {{"loyalty_id": {2**64 + n}}}}}' for n in (1, 2)]
    response = client.post("/v1/batch", content=f'{{"batch": [{", ".join(batch)}]}}', headers=basic(keys["write"]))
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [0, 1] and "traits.loyalty_id" in rejected[0]["message"]


def test_a_body_over_the_limit_is_refused_without_reading_it_all(app, client, keys, settings):
    """413 once the limit is passed: the rest of a 300 MB body is never read (nor held in memory)."""
    consumed = 0
    chunk = b" " * (1 << 20)

    async def body():  # type: ignore[no-untyped-def]
        nonlocal consumed
        yield b'{"batch": ['
        for _ in range(300):
            consumed += 1
            yield chunk

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post("/v1/batch", content=body(), headers=basic(keys["write"]))

    response = asyncio.run(send())
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    assert consumed <= 2  # 500 KB is passed within the first megabyte
    declared = client.post("/v1/batch", content=b" " * (settings.max_request_bytes + 1),
                           headers=basic(keys["write"]))
    assert declared.status_code == 413


def test_gzip_bodies_are_read_up_to_the_limit_only(client, store, keys, settings):
    import gzip

    bomb = gzip.compress(b'{"batch": [' + b" " * (50 * settings.max_request_bytes) + b"]}")
    response = client.post("/v1/batch", content=bomb, headers={**basic(keys["write"]), "Content-Encoding": "gzip"})
    assert response.status_code == 413 and "after decompression" in response.json()["error"]["message"]
    good = gzip.compress(f'{{"batch": [{_track(1)}]}}'.encode())
    for body, message in ((good[:-9], "cut short"), (good + b"trailing", "after the end")):
        response = client.post("/v1/batch", content=body, headers={**basic(keys["write"]),
                                                                    "Content-Encoding": "gzip"})
        assert response.status_code == 400 and message in response.json()["error"]["message"]
    assert client.post("/v1/batch", content=good, headers={**basic(keys["write"]),
                                                           "Content-Encoding": "gzip"}).status_code == 200
    assert _count(store, Event) == 1


def test_the_writer_process_rejects_as_intake_in_process_does(store, settings, keys, monkeypatch):
    """Through the intake writer process (`cherish serve` on SQLite) every trigger gets the same answer."""
    from cherish.events.writer import ADDRESS_VARIABLE, WriterProcess

    if store.dialect != "sqlite":
        pytest.skip("the writer process is what `cherish serve` runs on SQLite")
    batch = f'{{"batch": [{_track(1)}, {", ".join(bad for bad, _ in TRIGGERS.values())}, {_track(2)}]}}'
    answers = []
    with TestClient(create_app(settings, store)) as client:
        answers.append(client.post("/v1/batch", content=batch, headers=basic(keys["write"])).json())
    with store.write() as session:  # the same batch again, into an empty store, through the writer process
        session.query(RejectedEvent).delete()
        session.query(Event).delete()
    with WriterProcess(settings), TestClient(create_app(settings, store)) as client:
        answers.append(client.post("/v1/batch", content=batch, headers=basic(keys["write"])).json())
        assert client.get("/api/intake/rejected", headers=bearer(keys["manager"])).status_code == 200
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    assert answers[0] == answers[1]
    assert [r["index"] for r in answers[1]["rejected"]] == list(range(1, len(TRIGGERS) + 1))
    assert all(reason in r["message"] for r, (_, reason) in zip(answers[1]["rejected"], TRIGGERS.values(),
                                                                 strict=True))
    assert _count(store, Event) == 2 and _count(store, RejectedEvent) == len(TRIGGERS)
