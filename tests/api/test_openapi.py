"""The OpenAPI document describes the API as it answers: who may call, what to send, what comes back."""

from __future__ import annotations

import pytest

from tests.conftest import basic, bearer


@pytest.fixture
def document(client) -> dict:  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").json()


def test_security_schemes_are_declared_so_docs_offer_authorize(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["writeKey"] == {**schemes["writeKey"], "type": "http", "scheme": "basic"}
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            expected = [{"writeKey": []}] if path.startswith("/v1/") else [] if path.startswith("/api/s/") \
                else [{"apiKey": []}]  # (a respondent's survey link needs no key: its token is the permission)
            assert operation.get("security") == (expected if path != "/health" else None), path


def test_intake_bodies_are_segment_messages_with_examples(document):
    schemas = document["components"]["schemas"]
    batch = document["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch == {"$ref": "#/components/schemas/Batch"}
    assert schemas["Batch"]["required"] == ["batch"] and schemas["Batch"]["examples"]
    track = document["paths"]["/v1/track"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schemas[track["$ref"].rsplit("/", 1)[1]]["examples"][0]["event"] == "Order Completed"
    for kind in ("identify", "alias", "page", "screen", "group"):
        assert "requestBody" in document["paths"][f"/v1/{kind}"]["post"], kind
    replay = document["paths"]["/api/intake/rejected/replay"]["post"]["requestBody"]["content"]
    assert set(schemas["ReplayRequest"]["properties"]) == {"ids", "corrections"}
    assert replay["application/json"]["schema"]["anyOf"] == [{"$ref": "#/components/schemas/ReplayRequest"},
                                                              {"type": "null"}]  # null, or no body: replay all


def test_validation_errors_are_documented_as_400_in_the_error_shape(document, client, keys):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
    keys_post = document["paths"]["/api/keys"]["post"]["responses"]
    assert keys_post["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(keys_post) >= {"201", "400", "401", "403"}
    assert "409" in document["paths"]["/api/keys/{key_id}"]["delete"]["responses"]
    # undoing a run twice is a conflict, and the document says so
    assert "409" in document["paths"]["/api/identity/runs/{run_id}/undo"]["post"]["responses"]
    assert client.post("/api/keys", json={}, headers=bearer(keys["admin"])).status_code == 400


def test_a_401_on_intake_says_to_use_basic_auth_with_the_write_key(client, keys):
    response = client.post("/v1/track", json={"userId": "u", "event": "E"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "Basic" in response.json()["error"]["message"] and "Bearer" not in response.json()["error"]["message"]
    api = client.get("/api/customers")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert client.post("/v1/track", json={"userId": "u", "event": "E"}, headers=basic(keys["write"])).status_code == 200
