"""One rejected event, from the dashboard and the API: corrected and replayed, or discarded for good."""

from __future__ import annotations

import json

from tests.conftest import basic, bearer
from tests.helpers import login, person

EVIL = "<script>alert(1)</script>"


def _reject(client, keys, *names: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    batch = [{"type": "track", "event": f"{name} {EVIL}", "messageId": name} for name in names]
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": batch})
    listed = client.get("/api/intake/rejected", headers=bearer(keys["manager"])).json()["items"]
    return {row["payload"]["messageId"]: row["id"] for row in listed}


def test_a_manager_corrects_and_replays_one_and_discards_another(client, store, keys):
    ids = _reject(client, keys, "fix-me", "drop-me")
    token = login(client, *person(store, "manager"))
    page = client.get("/intake/rejected").text
    assert EVIL not in page and "&lt;script&gt;" in page and f'action="/intake/rejected/{ids["fix-me"]}/replay"' in page
    corrected = {"type": "track", "event": "Fixed", "messageId": "fix-me", "userId": "fixed-user"}
    replayed = client.post(f"/intake/rejected/{ids['fix-me']}/replay", follow_redirects=False,
                           data={"payload": json.dumps(corrected), "csrf_token": token})
    assert replayed.status_code == 303 and replayed.headers["location"] == "/intake/rejected?outcome=replayed"
    found = client.get("/api/customers/lookup", params={"user_id": "fixed-user"}, headers=bearer(keys["viewer"]))
    assert found.status_code == 200
    still = client.post(f"/intake/rejected/{ids['drop-me']}/replay", follow_redirects=False,
                        data={"payload": "", "csrf_token": token})  # as sent: still invalid, kept
    assert still.headers["location"] == "/intake/rejected?outcome=still"
    bad = client.post(f"/intake/rejected/{ids['drop-me']}/replay", data={"payload": "{nope", "csrf_token": token})
    assert bad.status_code == 400
    discarded = client.post(f"/intake/rejected/{ids['drop-me']}/discard", follow_redirects=False,
                            data={"csrf_token": token})
    assert discarded.status_code == 303
    page = client.get("/intake/rejected?outcome=discarded").text
    assert "No rejected events." in page and "Discarded" in page
    listed = client.get("/api/intake/rejected", params={"status": "discarded"}, headers=bearer(keys["manager"]))
    assert [r["id"] for r in listed.json()["items"]] == [ids["drop-me"]]  # kept, marked, never silently lost


def test_one_rejected_event_is_refused_to_agents_and_without_csrf(client, store, keys):
    ids = _reject(client, keys, "keep-me")
    token = login(client, *person(store, "agent"))
    assert client.post(f"/intake/rejected/{ids['keep-me']}/discard", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/intake/rejected/{ids['keep-me']}/replay", data={"csrf_token": token}).status_code == 403
    login(client, *person(store, "manager"))
    assert client.post(f"/intake/rejected/{ids['keep-me']}/discard", data={"csrf_token": "x"}).status_code == 403
    assert client.post(f"/intake/rejected/{ids['keep-me']}/discard").status_code == 403


def test_the_api_discards_one_rejected_event_once(client, keys):
    ids = _reject(client, keys, "api-drop")
    url = f"/api/intake/rejected/{ids['api-drop']}/discard"
    assert client.post(url, headers=bearer(keys["agent"])).status_code == 403
    answer = client.post(url, headers=bearer(keys["manager"]))
    assert answer.status_code == 200 and answer.json()["status"] == "discarded"
    assert client.post(url, headers=bearer(keys["manager"])).status_code == 409
    assert client.post("/api/intake/rejected/999999/discard", headers=bearer(keys["manager"])).status_code == 404
    replay = client.post("/api/intake/rejected/replay", headers=bearer(keys["manager"]),
                         json={"ids": [ids["api-drop"]]})
    assert replay.json() == {"replayed": [], "still_rejected": []}  # a discarded event is never replayed
