"""The dashboard in Debian's Chromium, driven by Playwright: login, search, the 360 page and a review."""

from __future__ import annotations

import pytest

from tests.conftest import basic
from tests.helpers import identify, track

pytestmark = pytest.mark.browser


def test_login_search_customer_page_and_review(browser, live_url, keys, admin_user):
    import httpx

    evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    batch = [
        identify(user_id="zoe", anonymous_id="w-1", traits={"email": "zoe@example.com", "name": "Zoe Park",
                                                              "note": evil}),
        track("Order Completed", user_id="zoe", context={"channel": "web"},
              properties={"order_id": "Z-100", "total": 42}),
        track("Support Contact", anonymous_id="w-1", properties={"channel": "chat", "comment": evil}),
        identify(user_id="zoe-2", traits={"email": "zoe@example.com"}),
    ]
    response = httpx.post(f"{live_url}/v1/batch", json={"batch": batch}, headers=basic(keys["write"]))
    assert response.status_code == 200
    page = browser.new_page()
    page.goto(f"{live_url}/customers")
    assert "/login" in page.url
    page.fill("input[name=username]", admin_user[0])
    page.fill("input[name=password]", admin_user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/customers")
    assert "Zoe Park" in page.inner_text("#recent")  # before any search: who was active last
    page.fill("input[name=q]", "Z-100")
    page.wait_for_selector("#search-results a")
    assert page.inner_text("#search-results").count("Zoe Park") == 1
    page.click("#search-results a")
    page.wait_for_selector("#customer-name")
    assert page.inner_text("#customer-name") == "Zoe Park"
    assert "zoe@example.com" in page.inner_text("#identifiers")
    assert "Z-100" in page.inner_text("#orders")
    timeline = page.inner_text("#timeline")
    assert "Order Completed" in timeline and "chat" in timeline and "web" in timeline
    assert "Z-100 · 42.00" in timeline  # each item's gist on its line
    assert evil in page.inner_text("#traits")  # shown as text, never run
    assert page.evaluate("window.pwned") is None
    page.click("text=Identity reviews")
    page.wait_for_selector("article.review")
    assert "guardrail:user_id" in page.inner_text("article.review")
    page.click("button.accept")
    page.wait_for_selector("text=Nothing to review.")
    page.goto(f"{live_url}/identity/reviews?status=accepted")
    assert "accepted by user:ada" in page.inner_text("main")


def test_an_agent_adds_a_note_and_a_missing_page_is_a_page(browser, live_url, keys, store):
    import httpx

    from tests.helpers import person

    evil = '<img src=x onerror="window.pwned=1">'
    batch = [identify(user_id="noa", traits={"email": "noa@example.com", "name": "Noa Bell"})]
    assert httpx.post(f"{live_url}/v1/batch", json={"batch": batch}, headers=basic(keys["write"])).status_code == 200
    username, password = person(store, "agent")
    page = browser.new_page()
    page.goto(f"{live_url}/login?next=/customers")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers")
    page.click("#recent a")
    page.wait_for_selector("#note-form")
    page.fill("#note-form textarea[name=body]", f"Prefers calls {evil}")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("ul.notes")
    assert f"Prefers calls {evil}" in page.inner_text("ul.notes")  # shown as text, never run
    assert page.evaluate("window.pwned") is None
    assert page.query_selector("#unmerge-form") is None  # an agent cannot split identifiers off
    page.goto(f"{live_url}/customers/cus_missing")
    assert "no customer cus_missing" in page.inner_text("#error") and page.is_visible("text=Log out")


def test_api_docs_render_offline(browser, live_url):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_url}/docs")
    page.wait_for_selector("text=Send a batch of messages")
    assert all(url.startswith(live_url) for url in requests), [u for u in requests if not u.startswith(live_url)]


def test_content_security_policy_leaves_the_dashboard_working(browser, live_url, keys, admin_user):
    """Every page the dashboard and /docs show runs under the CSP without a single violation, and what used to be
    inline script (the timeline's filters) still works; a page that tries inline script is stopped."""
    import httpx

    batch = [identify(user_id="kim", traits={"email": "kim@example.com", "name": "Kim Lee"}),
             track("Support Contact", user_id="kim", properties={"channel": "chat"})]
    assert httpx.post(f"{live_url}/v1/batch", json={"batch": batch}, headers=basic(keys["write"])).status_code == 200
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_url}/login?next=/customers")
    page.fill("input[name=username]", admin_user[0])
    page.fill("input[name=password]", admin_user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/customers")
    page.fill("input[name=q]", "Kim")
    page.wait_for_selector("#search-results a")
    page.click("#search-results a")
    page.wait_for_selector("#customer-name")
    page.select_option("select[name=channel]", "chat")  # submits its form by itself
    page.wait_for_url("**channel=chat**")
    assert "Support Contact" in page.inner_text("#timeline")
    page.goto(f"{live_url}/overview")
    page.goto(f"{live_url}/docs")
    page.wait_for_selector("text=Send a batch of messages")
    assert page.is_visible("button.authorize")  # the security schemes are declared
    assert violations == []
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("window.ran") is None and violations
