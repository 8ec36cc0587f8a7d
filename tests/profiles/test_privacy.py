"""Privacy requests: the export holds everything; erasure leaves no personal data anywhere."""

from __future__ import annotations

from sqlalchemy import inspect, text

from tests.conftest import basic, bearer
from tests.helpers import identify, track

PII = ("erin@example.com", "Erin", "Quill", "+14155550177", "erin-login")


def _all_text(store) -> str:  # type: ignore[no-untyped-def]
    dump = []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                dump.append(repr(tuple(row)))
    return "\n".join(dump)


def test_export_then_erase(client, store, keys):
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        identify(user_id="erin-login", traits={"email": "erin@example.com", "first_name": "Erin", "last_name": "Quill",
                                               "phone": "+14155550177"}),
        track("Order Completed", user_id="erin-login", properties={"order_id": "E-1", "total": 12}),
        track("Support Contact", anonymous_id="call-1", traits={"phone": "+14155550177"}),
        {"type": "track", "event": "Broken", "context": {"traits": {"email": "erin@example.com"}}},
    ]})
    cid = client.get("/api/customers/lookup", params={"email": "erin@example.com"},
                     headers=bearer(keys["viewer"])).json()["id"]
    client.post(f"/api/customers/{cid}/notes", json={"body": "Erin Quill called"}, headers=bearer(keys["agent"]))
    assert client.get(f"/api/customers/{cid}/export", headers=bearer(keys["manager"])).status_code == 403
    exported = client.get(f"/api/customers/{cid}/export", headers=bearer(keys["admin"])).json()
    assert len(exported["events"]) == 3 and exported["orders"][0]["order_id"] == "E-1"
    assert exported["notes"][0]["body"] == "Erin Quill called"
    assert all(p in _all_text(store) for p in PII)

    assert client.delete(f"/api/customers/{cid}", headers=bearer(keys["manager"])).status_code == 403
    response = client.delete(f"/api/customers/{cid}", headers=bearer(keys["admin"]))
    assert response.status_code == 200
    left = _all_text(store)
    for value in PII:
        assert value not in left, f"{value} survived the erasure"
    assert client.get(f"/api/customers/{cid}", headers=bearer(keys["viewer"])).status_code == 404
    assert client.get("/api/customers/lookup", params={"email": "erin@example.com"},
                      headers=bearer(keys["viewer"])).status_code == 404
    # the audit record says what happened, without personal data
    assert "erase" in left


def _files_text(store) -> bytes:  # type: ignore[no-untyped-def]
    """The bytes of the SQLite store and its log files (nothing on PostgreSQL, whose files are not ours)."""
    from pathlib import Path

    if store.dialect != "sqlite":
        return b""
    base = Path(store.engine.url.database)
    return b"".join(path.read_bytes() for path in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if path.exists())


def test_erasure_reaches_every_copy_of_what_names_the_person(client, store, keys):
    """Found left behind: a rejected message that named the email only in its properties, another person's
    rejected message and event naming it, a second login with the same email held in review, an order line's
    name, and (SQLite) the pre-erasure pages in the write-ahead log."""
    sent = client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        identify(user_id="erin-login", traits={"email": "erin@example.com", "first_name": "Erin", "last_name": "Quill",
                                               "phone": "+14155550177"}),
        identify(user_id="erin-second", traits={"email": "Erin@Example.com", "name": "Erin Quill"}),
        track("Order Completed", user_id="erin-login", properties={
            "order_id": "E-1", "total": 12, "products": [{"sku": "G1", "name": "Gift for Erin Quill", "price": 12}]}),
        {"type": "track", "event": "Broken", "properties": {"contact": "erin@example.com"}},
        track("Referred", user_id="bob-login", properties={"friend": "ERIN@example.com"}),
        {"type": "track", "userId": "bob-login", "properties": {"note": "told erin@example.com"}},
    ]})
    assert sent.status_code == 200, sent.text
    viewer = bearer(keys["viewer"])
    cid = client.get("/api/customers/lookup", params={"email": "erin@example.com"}, headers=viewer).json()["id"]
    assert client.get("/api/identity/reviews", headers=bearer(keys["manager"])).json()["items"], \
        "the second login waits for review"
    everything = _all_text(store)
    assert all(value in everything.lower() for value in ("erin@example.com", "gift for erin quill", "erin-second"))

    assert client.delete(f"/api/customers/{cid}", headers=bearer(keys["admin"])).status_code == 200
    left = _all_text(store).lower() + _files_text(store).decode("latin-1").lower()
    for value in ("erin@example.com", "gift for erin quill", "erin quill", "quill", "+14155550177", "erin-second"):
        assert value not in left, f"{value!r} survived the erasure"
    bob = client.get("/api/customers/lookup", params={"user_id": "bob-login"}, headers=viewer).json()["id"]
    timeline = client.get(f"/api/customers/{bob}/timeline", headers=viewer).json()["items"]
    assert any("[erased]" in str(item) for item in timeline), "another person's event keeps its place, not the email"
    assert client.get("/api/intake/rejected", headers=bearer(keys["manager"])).status_code == 200
