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
    cid = client.get("/api/customers/lookup", params={"email": "erin@example.com"}, headers=bearer(keys["viewer"])).json()["id"]
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
