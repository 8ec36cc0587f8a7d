"""The contact policy changed by an admin, through the API and the dashboard: the change holds at the next decision
(the worker and the server read it from the store), a wrong value keeps nothing, and null follows the setting."""

from __future__ import annotations

from sqlalchemy import select

from cherish.access.models import AuditRecord
from cherish.contact.flows import Message, reach_out
from cherish.events.flows import ingest
from tests.conftest import bearer
from tests.helpers import identify


def _customer(store, settings, user: str) -> str:  # type: ignore[no-untyped-def]
    with store.write() as session:
        return ingest(session, [identify(user_id=user, traits={"email": f"{user}@example.com"})],
                      settings=settings).customers[0]


def _survey(store, settings, customer: str, n: int) -> str:  # type: ignore[no-untyped-def]
    with store.write() as session:
        contact, = reach_out(session, settings, [Message(customer, "feedback", "email", f"survey {n}")])
        return f"{contact.outcome}: {contact.reason}"


def test_an_admin_changes_the_policy_and_the_next_decision_follows(client, keys, store, settings):
    settings = settings.model_copy(update={"quiet_hours": "00:00-23:59"})  # quiet all day, by the settings
    ann = _customer(store, settings, "ann")
    assert _survey(store, settings, ann, 1).startswith("deferred")

    read = client.get("/api/contact-policy", headers=bearer(keys["manager"]))
    assert read.status_code == 200, read.text
    assert read.json()["set_here"] == [] and read.json()["contact_caps"] == ["2/7d", "6/30d"]
    assert {r["name"] for r in read.json()["suppression_rules"]} == {"erased", "after-unsubscribe", "open-case"}
    assert client.put("/api/contact-policy", json={"quiet_hours": ""},
                      headers=bearer(keys["manager"])).status_code == 403  # managers read, admins change

    changed = client.put("/api/contact-policy", json={"quiet_hours": "", "contact_caps": ["1/7d"],
                                                       "consent_defaults": {"feedback": "granted"}},
                         headers=bearer(keys["admin"]))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["set_here"] == ["consent_defaults", "contact_caps", "quiet_hours"] and body["quiet_hours"] == ""
    assert body["consent_defaults"] == {"service": "granted", "feedback": "granted", "marketing": "denied"}  # merged
    # the app's settings still say quiet all day; the store's policy wins at the next decision
    assert _survey(store, settings, ann, 2).startswith("sent")
    assert _survey(store, settings, ann, 3).startswith("deferred")  # the new cap: one a week

    with store.read() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "contact_policy_change")).one()
        assert record.details["fields"] == ["consent_defaults", "contact_caps", "quiet_hours"]

    back = client.put("/api/contact-policy", json={"contact_caps": None}, headers=bearer(keys["admin"]))
    assert back.json()["contact_caps"] == ["2/7d", "6/30d"] and "contact_caps" not in back.json()["set_here"]


def test_a_wrong_value_keeps_nothing(client, keys, store):
    admin = bearer(keys["admin"])
    for body, words in (({"quiet_hours": "25:00-08:00"}, "quiet_hours"),
                        ({"contact_caps": ["two a week"]}, "contact_caps"),
                        ({"contact_channel_caps": {"pigeon": ["1/7d"]}}, "contact_channel_caps"),
                        ({"retention": 3}, "retention"),
                        ({"quiet_hours": "", "suppression_rules": {"no-such-rule": False}}, "no-such-rule")):
        answer = client.put("/api/contact-policy", json=body, headers=admin)
        assert answer.status_code in (400, 404, 422), (body, answer.text)
        assert words in answer.text, (body, answer.text)
    after = client.get("/api/contact-policy", headers=admin).json()
    assert after["set_here"] == [] and after["quiet_hours"] == "21:00-08:00"  # not the half of the last request
    assert all(r["enabled"] for r in after["suppression_rules"])

    off = client.put("/api/contact-policy", json={"suppression_rules": {"after-unsubscribe": False}}, headers=admin)
    assert off.status_code == 200, off.text
    assert {r["name"]: r["enabled"] for r in off.json()["suppression_rules"]} == {
        "erased": True, "after-unsubscribe": False, "open-case": True}


def test_the_policy_page_changes_it_in_chromium(live_url, browser, admin_user, store):
    page = browser.new_page()
    page.goto(f"{live_url}/login?next=/contact-policy")
    page.fill("input[name=username]", admin_user[0])
    page.fill("input[name=password]", admin_user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/contact-policy")
    assert "CHERISH_QUIET_HOURS" in page.locator("main").inner_text()

    page.fill("input[name=contact_caps]", "three a week")
    page.click("#policy-form button[type=submit]")
    assert "Nothing was saved" in page.locator("#error").inner_text()
    assert "three a week" in page.locator("#error").inner_text()

    page.goto(f"{live_url}/contact-policy")
    page.fill("input[name=contact_caps]", "3/7d, 8/30d")
    page.fill("input[name=contact_channel_caps]", "sms: 1/7d")
    page.fill("input[name=quiet_hours]", "22:00-07:30")
    page.select_option("select[name=consent_marketing]", "denied")
    page.uncheck("input[name='rule:after-unsubscribe']")
    page.click("#policy-form button[type=submit]")
    page.wait_for_url("**/contact-policy?saved=1")
    caps = page.locator("#caps").inner_text()
    assert "3 in 7 days" in caps and "8 in 30 days" in caps and "1 in 7 days on sms" in caps, caps
    assert page.locator("#quiet").inner_text().startswith("22:00 to 07:30")
    text = page.locator("main").inner_text()
    assert "Set here" in text and "CHERISH_QUIET_HOURS" not in text
    assert "CHERISH_CONSENT_DEFAULTS" in text  # marketing was denied already: that part still follows the setting
    assert page.locator("input[name='rule:after-unsubscribe']").is_checked() is False

    page.click("button:has-text('Follow the CHERISH_* settings again')")
    page.wait_for_url("**/contact-policy?saved=1")
    assert page.locator("#quiet").inner_text().startswith("21:00 to 08:00")


def test_values_that_would_break_every_decision_are_refused_on_every_path(store, settings):
    """The form and the settings go through the same checks as the API: a time zone in quiet hours, a window of
    millions of days."""
    import pytest

    from cherish.config import Settings
    from cherish.contact import policy_settings
    from cherish.errors import InvalidInput

    for changes in ({"quiet_hours": "21:00+05:00-08:00"}, {"quiet_hours": "21:00:30-08:00"},
                    {"contact_caps": ["1/3000000d"]}, {"contact_channel_caps": {"sms": ["1/0d"]}}):
        with store.write() as session, pytest.raises(InvalidInput):
            policy_settings.change(session, settings, changes)
        with pytest.raises(ValueError):
            Settings(**changes)
    with store.read() as session:
        assert policy_settings.set_here(session) == {}
