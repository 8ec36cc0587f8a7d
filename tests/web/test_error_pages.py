"""Errors on browser routes are pages in the dashboard's layout; the API keeps its JSON."""

from __future__ import annotations

from tests.conftest import bearer
from tests.helpers import login

HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_a_browser_gets_a_page_and_the_api_json(client, keys, admin_user):
    login(client, *admin_user)
    missing = client.get("/customers/cus_nobody", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert '<section class="card narrow" id="error">' in missing.text and "no customer cus_nobody" in missing.text
    assert 'href="/overview"' in missing.text  # the layout, with the navigation of who is logged in
    assert f'<code id="request-id">{missing.headers["x-request-id"]}</code>' in missing.text
    unknown = client.get("/no/such/page", headers=HTML)
    assert unknown.status_code == 404 and "<h1>Not found</h1>" in unknown.text and 'href="/overview"' in unknown.text
    evil = client.get("/customers/<img src=x onerror=alert(1)>", headers=HTML)
    assert "<img src=x" not in evil.text and "no customer &lt;img src=x onerror=alert(1)&gt;" in evil.text
    api = client.get("/api/customers/cus_nobody", headers={**HTML, **bearer(keys["viewer"])})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    invalid = client.get("/customers", params={"q": "x", "offset": "many"}, headers=HTML)
    assert invalid.status_code == 400 and "offset must be a whole number" in invalid.text
    plain = client.get("/customers/cus_nobody")  # a client that does not ask for HTML keeps the JSON
    assert plain.json()["error"]["code"] == "not_found"
