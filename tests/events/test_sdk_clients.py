"""The official Segment and RudderStack Python clients, unchanged, against a running cherish server."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import bearer


def _lookup(url: str, key: str, **query: str) -> dict:
    response = httpx.get(f"{url}/api/customers/lookup", params=query, headers=bearer(key), follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.json()


def test_segment_client(live_url, keys):
    from segment.analytics import Client

    errors: list = []
    client = Client(keys["write"], host=live_url, sync_mode=True, on_error=lambda e, batch: errors.append(e),
                    max_retries=1)
    client.identify("seg-user", {"email": "Seg@Example.com", "name": "Sam Segment"}, anonymous_id="seg-anon")
    client.track("seg-user", "Order Completed", {"order_id": "SEG-1", "total": 19.99, "currency": "USD"})
    client.page("seg-user", "Docs", "Home")
    client.alias("seg-anon", "seg-user")
    client.flush()
    assert errors == []
    customer = _lookup(live_url, keys["viewer"], email="seg@example.com")
    assert customer["stats"]["orders"] == 1 and customer["stats"]["revenue"] == 19.99
    assert _lookup(live_url, keys["viewer"], anonymous_id="seg-anon")["id"] == customer["id"]
    timeline = httpx.get(f"{live_url}/api/customers/{customer['id']}/timeline", headers=bearer(keys["viewer"])).json()
    assert {i["kind"] for i in timeline["items"]} == {"identify", "order", "page", "alias"}


def test_rudderstack_client_gzips(live_url, keys):
    from rudderstack.analytics import Client

    errors: list = []
    client = Client(keys["write"], host=live_url, sync_mode=True, gzip=True,
                    on_error=lambda e, batch: errors.append(e), max_retries=1)
    client.identify("rud-user", {"email": "rud@example.com", "phone": "+14155550142"})
    client.track("rud-user", "Feedback Submitted", {"score_type": "nps", "score": 9, "comment": "Great <b>coffee</b>"})
    client.flush()
    assert errors == []
    customer = _lookup(live_url, keys["viewer"], phone="+14155550142")
    assert _lookup(live_url, keys["viewer"], user_id="rud-user")["id"] == customer["id"]
    timeline = httpx.get(f"{live_url}/api/customers/{customer['id']}/timeline", headers=bearer(keys["viewer"])).json()
    feedback = [i for i in timeline["items"] if i["event"] == "Feedback Submitted"]
    assert feedback[0]["properties"]["comment"] == "Great <b>coffee</b>"


def test_a_wrong_write_key_is_reported_to_the_client(live_url):
    from segment.analytics import Client
    from segment.analytics.request import APIError

    client = Client("wk_wrong", host=live_url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("someone", "Anything")
    assert raised.value.status == 401 and "unknown or revoked" in str(raised.value)
