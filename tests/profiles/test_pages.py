"""The customer page's actions: notes and consent for agents, splitting an identifier off for managers; each
refused to a lower role and without the CSRF token, customer text escaped."""

from __future__ import annotations

from tests.conftest import basic, bearer
from tests.helpers import identify, login, person, track

EVIL = "<script>alert(1)</script>"


def _customer(client, keys) -> str:  # type: ignore[no-untyped-def]
    batch = [identify(user_id="u-1", traits={"email": "nell@example.com", "name": f"Nell {EVIL}"}),
             track("Clicked", user_id="u-1", anonymous_id="anon-1")]
    assert client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": batch}).status_code == 200
    found = client.get("/api/customers/lookup", params={"user_id": "u-1"}, headers=bearer(keys["viewer"]))
    return found.json()["id"]


def test_an_agent_adds_a_note_and_records_consent(client, store, keys):
    customer = _customer(client, keys)
    token = login(client, *person(store, "agent"))
    page = client.get(f"/customers/{customer}").text
    assert 'id="note-form"' in page and 'id="consent-form"' in page and 'id="unmerge-form"' not in page
    added = client.post(f"/customers/{customer}/notes", data={"body": f"Called back {EVIL}", "csrf_token": token},
                        follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"].startswith(f"/customers/{customer}")
    page = client.get(f"/customers/{customer}").text
    assert "Called back &lt;script&gt;alert(1)&lt;/script&gt;" in page and EVIL not in page
    recorded = client.post(f"/customers/{customer}/consent", follow_redirects=False, data={
        "purpose": "marketing", "consent_channel": "email", "status": "denied", "csrf_token": token})
    assert recorded.status_code == 303
    consent = client.get(f"/api/customers/{customer}", headers=bearer(keys["viewer"])).json()["consent"]
    assert {"purpose": "marketing", "channel": "email", "status": "denied"}.items() <= consent[0].items()
    assert client.post(f"/customers/{customer}/notes", data={"body": "x", "csrf_token": "forged"}).status_code == 403
    assert client.post(f"/customers/{customer}/consent", data={
        "purpose": "marketing", "consent_channel": "email", "status": "granted"}).status_code == 403
    wrong = client.post(f"/customers/{customer}/consent", headers={"Accept": "text/html"}, data={
        "purpose": "spam", "status": "granted", "csrf_token": token})
    assert wrong.status_code == 400 and "unknown purpose" in wrong.text
    assert client.post(f"/customers/{customer}/unmerge", data={
        "identifier": "anonymous_id:anon-1", "csrf_token": token}).status_code == 403  # managers only


def test_a_viewer_sees_no_forms_and_is_refused(client, store, keys):
    customer = _customer(client, keys)
    token = login(client, *person(store, "viewer"))
    page = client.get(f"/customers/{customer}").text
    assert 'id="note-form"' not in page and 'id="consent-form"' not in page
    assert client.post(f"/customers/{customer}/notes", data={"body": "x", "csrf_token": token}).status_code == 403


def test_a_manager_splits_an_identifier_off(client, store, keys):
    customer = _customer(client, keys)
    token = login(client, *person(store, "manager"))
    page = client.get(f"/customers/{customer}").text
    assert 'id="unmerge-form"' in page and "Nell &lt;script&gt;" in page and EVIL not in page
    assert client.post(f"/customers/{customer}/unmerge", data={"identifier": "anonymous_id:anon-1"}).status_code == 403
    split = client.post(f"/customers/{customer}/unmerge", follow_redirects=False,
                        data={"identifier": "anonymous_id:anon-1", "csrf_token": token})
    assert split.status_code == 303 and "unmerged=cus_" in split.headers["location"]
    newcomer = split.headers["location"].split("unmerged=", 1)[1]
    assert "Split off into a customer of its own" in client.get(split.headers["location"]).text
    moved = client.get("/api/customers/lookup", params={"anonymous_id": "anon-1"}, headers=bearer(keys["viewer"]))
    assert moved.json()["id"] == newcomer != customer
