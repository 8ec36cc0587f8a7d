"""The case inbox and the case page in Chromium: an agent finds their case among theirs (with its service-level
countdown), reads the customer's words escaped, replies, and the email arrives at a real SMTP server (aiosmtpd);
the reply shows on the case and in the customer's contact log, and their last-seen date does not move. Managers
see the rules, run a dry run and snooze one."""

from __future__ import annotations

import threading

from cherish.access.service import create_user
from cherish.cases import policies
from cherish.events import timeline as history
from cherish.worker.loop import run_worker
from tests.conftest import basic, bearer
from tests.helpers import identify, track

COMMENT = 'Awful <script>alert("x")</script> service. I will cancel.'


def _login(page, live_url: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_agent_replies_from_the_case_and_the_customer_gets_the_email(store, settings, client, keys, inbox,
                                                                        live_url, browser):
    box, port = inbox
    settings = settings.model_copy(update={"quiet_hours": "", "smtp_host": "127.0.0.1", "smtp_port": port,
                                           "smtp_tls": "none", "public_url": live_url})
    client.app.state.settings = settings
    with store.write() as session:
        create_user(session, username="ana", password="an agent's long password", role="agent")
        create_user(session, username="max", password="a manager's long password", role="manager")
        policies.save_agent(session, username="ana", email="ana@example.com", team_name="service", branch=None)
    sent = client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        identify(user_id="kim", traits={"email": "kim@example.com", "name": "Kim <b>Lee</b>"}),
        track("Feedback Submitted", user_id="kim", properties={
            "score_type": "nps", "score": 1, "comment": COMMENT, "survey": "after delivery"})]})
    assert sent.status_code == 200
    run_worker(store, settings, threading.Event(), once=True)
    [case] = client.get("/api/cases", headers=bearer(keys["viewer"])).json()["items"]
    assert case["assignee"] == "ana"
    with store.read() as session:
        seen_before = history.last_seen(session, case["customer_id"])

    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(page, live_url, "ana", "an agent's long password")
    page.goto(f"{live_url}/cases?view=mine")
    row = page.locator("#cases tbody tr").first
    assert f"#{case['id']}" in row.inner_text() and case["reason"] in row.inner_text()
    assert "due in" in row.inner_text() or "overdue by" in row.inner_text()  # the countdowns
    assert "1 open" in page.inner_text("#case-counts")
    row.get_by_role("link", name=f"#{case['id']}").click()
    assert COMMENT in page.inner_text("#case-activities")  # the customer's words, shown as text
    assert "Kim <b>Lee</b>" in page.inner_text("#case-customer") and not dialogs
    page.get_by_label("Reply by email to kim@example.com, or a note for the team").fill(
        "Dear Kim,\nwe are sorry. A refund is on its way.")
    page.get_by_role("button", name="Send reply").click()
    assert "we are sorry. A refund is on its way." in page.inner_text("#case-activities")
    assert "contacted" in page.inner_text("main")

    run_worker(store, settings, threading.Event(), once=True)  # the outbox delivers the email
    [mail] = [m for m in box.messages if m["To"] == "kim@example.com"]
    assert "A refund is on its way." in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe"] is None  # a reply from a case is service: nothing to unsubscribe from
    with store.read() as session:
        assert history.last_seen(session, case["customer_id"]) == seen_before
    page.goto(f"{live_url}/customers/{case['customer_id']}")
    assert f"case {case['id']}: reply" in page.inner_text("#contacts")
    assert f"service message sent: case {case['id']}: reply" in page.inner_text("#timeline")  # among her events
    assert f"#{case['id']}" in page.inner_text("#customer-cases") and page.inner_text("#trust") == "100"

    # resolving without a code says why, and keeps the case as it was
    page.goto(f"{live_url}/cases/{case['id']}")
    page.locator("#case-change select[name=status]").select_option("resolved")
    page.get_by_role("button", name="Save").click()
    assert "resolution_code" in page.inner_text("#case-problem")
    page.locator("#case-change select[name=status]").select_option("resolved")
    page.locator("#case-change select[name=resolution_code]").select_option("refunded")
    page.get_by_role("button", name="Save").click()
    assert "resolved (refunded)" in page.inner_text("main")
    assert client.get(f"/api/cases/{case['id']}", headers=bearer(keys["viewer"])).json()["status"] == "resolved"

    manager = browser.new_page()
    _login(manager, live_url, "max", "a manager's long password")
    manager.goto(f"{live_url}/case-rules")
    manager.locator("#case-rules tr", has_text="unhappy-answer").get_by_role("link", name="Dry run").click()
    assert "Nothing was opened" in manager.inner_text("#dry-run")
    manager.locator("#case-rules tr", has_text="repeated-contact").get_by_role(
        "button", name="Snooze a day").click()
    assert "snoozed until" in manager.locator("#case-rules tr", has_text="repeated-contact").inner_text()
    assert "mon-fri 09:00-17:00" in manager.inner_text("main")

    # a rule and a service-level policy made on the page; a broken condition says why and saves nothing
    rule = manager.locator("#rule-form")
    rule.get_by_label("Name").fill("refund-twice")
    rule.get_by_label("Reason of its cases").fill("refund chased")
    rule.get_by_label("Condition").fill('{"signal": "support", "times": 2, "days": 7, "topics": "refund"}')
    rule.get_by_role("button", name="Save the rule").click()
    assert "topics is a non-empty list" in manager.inner_text("#rules-problem")
    manager.locator("#rule-form").get_by_label("Name").fill("refund-twice")
    manager.locator("#rule-form").get_by_label("Reason of its cases").fill("refund chased")
    manager.locator("#rule-form").get_by_label("Position").fill("5")
    manager.locator("#rule-form").get_by_role("button", name="Save the rule").click()  # (the example condition)
    assert "refund chased" in manager.locator("#case-rules tr", has_text="refund-twice").inner_text()
    sla = manager.locator("#sla-form")
    sla.get_by_label("Policy").fill("vip")
    sla.get_by_label("Priorities").select_option(["urgent", "high"])
    sla.get_by_label("First response (hours)").fill("0.5")
    sla.get_by_label("Resolution (hours)").fill("4")
    sla.get_by_role("button", name="Save the policy").click()
    rules = client.get("/api/case-rules", headers=bearer(keys["viewer"])).json()["items"]
    assert next(r for r in rules if r["name"] == "refund-twice")["condition"] == {
        "signal": "support", "times": 2, "days": 7, "topics": ["refund"]}
    slas = {p["name"]: p for p in client.get("/api/sla-policies", headers=bearer(keys["viewer"])).json()["items"]}
    assert (slas["vip"]["first_response_minutes"], slas["vip"]["resolution_minutes"]) == (30, 240)
    assert slas["vip"]["priorities"] == ["urgent", "high"]
