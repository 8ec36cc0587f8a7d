"""The edge of the API: what the store cannot hold is a 400, never a 500; every answer carries a request id and
the security headers; a 405 says what is allowed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import bearer


def _login_token(client) -> str:  # type: ignore[no-untyped-def]
    return client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


NUL_REQUESTS = [
    ("get", "/api/customers/lookup", {"params": {"email": "a\x00@b.co"}}),
    ("get", "/api/customers/lookup", {"params": {"user_id": "u\x00"}}),
    ("get", "/api/customers", {"params": {"q": "a\x00"}}),
    ("get", "/api/customers/cus_a%00b", {}),
    ("get", "/api/customers/cus_a/timeline", {"params": {"channel": "web\x00"}}),
    ("post", "/api/customers/cus_a%00/notes", {"json": {"body": "hello\x00"}}),
    ("post", "/api/customers/merge", {"json": {"survivor_id": "cus_a\x00", "merged_id": "cus_b"}}),
    ("post", "/api/customers/cus_a/unmerge", {"json": {"identifier": "email:a\x00@b.co"}}),
    ("post", "/api/keys", {"json": {"role": "viewer", "name": "late\x00night"}}),
]


@pytest.mark.parametrize(("method", "path", "options"), NUL_REQUESTS)
def test_nul_characters_are_refused_not_a_500(client, keys, method, path, options):
    response = getattr(client, method)(path, headers=bearer(keys["admin"]), **options)
    # SQLite can hold a NUL, so there the request may simply find nothing; PostgreSQL cannot
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["code"] in ("invalid_input", "not_found")


def test_nul_in_a_login_name_is_refused(client, store):
    response = client.post("/login", data={"username": "ada\x00", "password": "whatever1",
                                           "csrf_token": _login_token(client)})
    assert response.status_code in (400, 401)
    if store.dialect == "postgresql":
        assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]


def test_a_nul_in_the_query_is_named(client, keys):
    response = client.get("/api/customers/lookup", params={"email": "a\x00@b.co"}, headers=bearer(keys["viewer"]))
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_ids_beyond_the_store_are_refused_not_a_500(client, keys, number):
    admin = bearer(keys["admin"])
    for response in (client.delete(f"/api/keys/{number}", headers=admin),
                     client.post(f"/api/identity/reviews/{number}/accept", headers=admin)):
        assert response.status_code in (400, 404), response.text
    for body in ({"ids": [number]}, {"corrections": {str(number): {"type": "track"}}}):
        response = client.post("/api/intake/rejected/replay", json=body, headers=admin)
        # an id the store can hold but does not have replays nothing, as any unknown id does
        assert response.status_code in (400, 404) or response.json() == {"replayed": [], "still_rejected": []}


def test_a_key_name_longer_than_its_field_is_a_400(client, keys):
    response = client.post("/api/keys", json={"role": "viewer", "name": "k" * 201}, headers=bearer(keys["admin"]))
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"].endswith("name")


def test_every_answer_has_security_headers_and_a_request_id(client, keys):
    for response in (client.get("/login"), client.get("/docs"), client.get("/static/cherish.css"),
                     client.get("/api/customers", headers=bearer(keys["viewer"])), client.get("/nowhere")):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in \
            csp.replace("style-src-attr 'unsafe-inline'", "")
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert len(response.headers["x-request-id"]) == 16


def test_error_bodies_carry_the_request_id(client, keys):
    response = client.get("/api/customers/nobody", headers=bearer(keys["viewer"]))
    assert response.status_code == 404
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


def test_a_405_says_what_is_allowed(client, keys):
    response = client.put("/api/keys", headers=bearer(keys["admin"]))
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unexpected_error_is_logged_with_the_request_id_its_answer_carries(app, caplog):
    from fastapi.testclient import TestClient

    from cherish.api.edge import JsonLines

    @app.get("/api/broken")
    def broken() -> None:
        raise RuntimeError("a fault of ours")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level("INFO", logger="cherish"):
        response = client.get("/api/broken", params={"email": "someone@example.com"})
    assert response.status_code == 500
    request_id = response.json()["error"]["request_id"]
    assert response.headers["x-request-id"] == request_id
    lines = [json.loads(JsonLines().format(record)) for record in caplog.records]
    error = next(line for line in lines if line["level"] == "error")
    assert error["request_id"] == request_id and "a fault of ours" in error["error"]
    access = next(line for line in lines if line["logger"] == "cherish.access")
    assert access == {**access, "route": "/api/broken", "status": 500, "request_id": request_id}
    assert "someone@example.com" not in json.dumps(lines)
