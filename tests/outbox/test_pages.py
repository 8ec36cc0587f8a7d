"""The dashboard's webhooks (admins), deliveries with dead letters, and contact policy pages, in Chromium."""

from __future__ import annotations

from sqlalchemy import update

from cherish.outbox import service as outbox
from cherish.outbox.models import OutboxMessage
from tests.helpers import Receiver


def _log_in(page, live_url, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login?next=/webhooks")
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/webhooks")


def _session_of(set_cookie: str) -> str:
    """What a Set-Cookie header's session holds, decoded (Starlette signs the cookie; it does not encrypt it)."""
    import base64

    value = set_cookie.partition("=")[2].partition(".")[0]
    return base64.b64decode(value + "=" * (-len(value) % 4)).decode(errors="replace") if value else ""


def test_an_admin_adds_and_tests_an_endpoint_and_settles_dead_letters(live_url, browser, admin_user, store):
    receiver = Receiver()
    try:
        page = browser.new_page()
        _log_in(page, live_url, admin_user)
        cookies: list[str] = []
        page.on("response", lambda response: cookies.append(response.header_value("set-cookie") or ""))
        page.fill("input[name=url]", receiver.url)
        page.check("input[name=events][value='feedback.received']")
        page.fill("input[name=description]", "helpdesk <b>inbox</b>")
        page.click("form[action='/webhooks'] button[type=submit]")
        secret = page.locator("#secret code").inner_text().strip()
        assert secret.startswith("whsec_")
        assert not any(secret in _session_of(cookie) for cookie in cookies)  # the cookie carries the id alone
        receiver.secret = secret
        assert "helpdesk <b>inbox</b>" in page.locator("#endpoints").inner_text()  # shown as text, not markup
        page.reload()
        assert page.locator("#secret").count() == 0  # shown once

        page.click("#endpoints button:has-text('Send a test ping')")
        assert "Ping delivered" in page.locator("#tested").inner_text()
        assert receiver.received[0]["verified"] is not None

        with store.write() as session:  # a message that failed every attempt
            endpoint = outbox.endpoints(session)[0]
            outbox.enqueue(session, kind="webhook", type="ping", endpoint_id=endpoint.id,
                           body={"type": "ping", "timestamp": "2026-12-01T00:00:00Z", "data": {}})
            session.flush()
            session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                            .values(status="dead", attempts=8, last_error="HTTP 500: down for maintenance"))
        page.goto(f"{live_url}/outbox?status=dead")
        table = page.locator("#deliveries")
        assert "dead letter" in table.inner_text() and "down for maintenance" in table.inner_text()
        table.locator("button:has-text('Retry')").click()
        assert "goes out again" in page.locator("#outcome").inner_text()
        page.goto(f"{live_url}/outbox")
        assert page.locator("#deliveries tbody tr").count() == 2

        page.goto(f"{live_url}/contact-policy")
        assert "at most 2 in 7 days" in page.locator("#caps").inner_text()
        assert "after-unsubscribe" in page.locator("#suppressions").inner_text()
        assert "21:00 to 08:00" in page.locator("#quiet").inner_text()
    finally:
        receiver.close()


def test_webhook_pages_are_for_admins_and_deliveries_for_managers(client, keys):
    from tests.conftest import bearer

    assert client.get("/webhooks", headers=bearer(keys["manager"])).status_code == 403
    assert client.get("/outbox", headers=bearer(keys["manager"])).status_code == 200
    assert client.get("/outbox", headers=bearer(keys["viewer"])).status_code == 403
    assert client.get("/contact-policy", headers=bearer(keys["agent"])).status_code == 403
    assert client.get("/outbox?status=bogus&endpoint=nope", headers=bearer(keys["manager"])).status_code == 200
