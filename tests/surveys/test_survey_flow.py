"""A survey from end to end on a real store: a trigger two days after Order Delivered, the invitation through the
contact policy, the outbox and a real SMTP server (aiosmtpd), the email's score link opened in Chromium (axe-core
finds no serious or critical violation), answered, stored as Feedback Submitted through intake, thanked with a
reward code, and the token refused the second time; survey fatigue and consent through the contact policy."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import httpx
from sqlalchemy import select

from cherish.contact.models import Contact
from cherish.db.base import utcnow
from cherish.domain_events.models import DomainEvent
from cherish.events.flows import ingest
from cherish.events.models import Event
from cherish.feedback.models import Answer
from cherish.surveys.models import Invitation
from cherish.worker.jobs import BUILTIN
from cherish.worker.loop import run_worker
from tests.conftest import bearer
from tests.helpers import identify, track

SURVEY = {
    "name": "after delivery", "title": "How was your delivery?",
    "questions": [{"type": "nps"}, {"type": "text", "text": "What is the main reason for your score?"},
                  {"id": "speed", "type": "single", "text": "Was it on time?", "choices": ["Yes", "No"]}],
    "trigger": {"event": "Order Delivered", "after": "2d"}, "reminder_days": 3,
    "thank_you": "Thank you, {{ and <b>bold</b> }} — we read it.",
}


def _people(store, settings, now):  # type: ignore[no-untyped-def]
    with store.write() as session:
        result = ingest(session, [
            identify(user_id="ann", traits={"email": "ann@example.com"}),
            identify(user_id="bob", traits={"email": "bob@example.com",
                                            "consent": {"feedback": {"email": False}}}),
            track("Order Delivered", user_id="ann", properties={"order_id": "O-1", "branch": "Leeds"},
                  timestamp=(now - timedelta(days=3)).isoformat()),
            track("Order Delivered", user_id="bob", properties={"order_id": "O-2"},
                  timestamp=(now - timedelta(days=3)).isoformat()),
            track("Order Delivered", user_id="ann", properties={"order_id": "O-3"},
                  timestamp=(now - timedelta(days=2, hours=1)).isoformat()),
        ], settings=settings)
    assert not result.rejected, result.rejected
    return result.customers[0], result.customers[1]


def test_a_triggered_survey_is_mailed_answered_once_and_stored_as_feedback(
        store, settings, client, keys, inbox, live_url, browser):
    from axe_playwright_python.sync_playwright import Axe

    box, port = inbox
    settings = settings.model_copy(update={"quiet_hours": "", "smtp_host": "127.0.0.1", "smtp_port": port,
                                           "smtp_tls": "none", "public_url": live_url})
    client.app.state.settings = settings
    now = utcnow()
    made = client.post("/api/surveys", json=SURVEY, headers=bearer(keys["manager"]))
    assert made.status_code == 201, made.text
    survey = made.json()
    ann, bob = _people(store, settings, now)  # (a new trigger asks about what happens from now on)
    assert survey["measure"] == "nps" and survey["version"] == 1 and survey["trigger"]["after"] == "2d"
    assert client.post(f"/api/surveys/{survey['id']}/rewards", json={"codes": ["THANKS-1", "THANKS-2"]},
                       headers=bearer(keys["manager"])).json() == {"added": 2, "rewards_left": 2}

    note = BUILTIN["surveys"].run(store, settings)
    assert note.startswith("3 invitations kept for later, 3 handed to the contact policy"), note
    with store.read() as session:
        contacts = {c.customer_id + ":" + c.key: c for c in session.scalars(select(Contact))}
    outcomes = sorted((c.customer_id == ann, c.outcome, c.reason) for c in contacts.values())
    assert [o[1] for o in outcomes] == ["suppressed", "sent", "suppressed"]
    assert "consent for feedback on email is denied" in outcomes[0][2]  # bob said no
    assert "a survey went to the customer on" in outcomes[2][2]  # ann's second delivery: survey fatigue
    run_worker(store, settings, threading.Event(), once=True)
    assert len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "ann@example.com" and mail["Subject"] == "How was your delivery?"
    assert mail["List-Unsubscribe"]  # a survey is something to unsubscribe from
    links = re.findall(r'href="([^"]+)"', mail.get_body(("html",)).get_content())
    score_link = html.unescape(next(link for link in links if link.endswith("?nps=9")))
    token = score_link.split("/s/", 1)[1].split("?", 1)[0]
    assert f"{live_url}/s/{token}" in mail.get_body(("plain",)).get_content()

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(score_link)
    assert page.locator("#nps-9").is_checked()  # the score clicked in the email is chosen
    found = Axe().run(page).response["violations"]
    assert not [v["id"] for v in found if v["impact"] in ("serious", "critical")], found
    page.get_by_label("What is the main reason for your score?").fill("Quick and <script>friendly</script>")
    page.get_by_text("Yes", exact=True).click()
    page.get_by_role("button", name="Send my answer").click()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    assert "Thank you, {{ and <b>bold</b> }} — we read it." in page.inner_text("main")  # escaped, not run
    assert page.inner_text(".code") == "THANKS-1"
    page.goto(score_link)
    assert "already answered" in page.inner_text("main")

    assert httpx.get(f"{live_url}/s/{token}").status_code == 410
    again = httpx.post(f"{live_url}/api/s/{token}", json={"answers": {"nps": 3}})
    assert again.status_code == 410 and again.json()["error"]["code"] == "gone"
    with store.read() as session:
        answer = session.scalars(select(Answer)).one()
        event = session.scalar(select(Event).where(Event.event == "Feedback Submitted"))
        invitation = session.scalar(select(Invitation).where(Invitation.answered_at.is_not(None)))
    assert (answer.customer_id, answer.score_type, answer.score) == (ann, "nps", 9.0)
    assert (answer.survey, answer.survey_version, answer.order_id, answer.delivered_via) == (
        "after delivery", 1, "O-1", "email")
    assert answer.branch == "Leeds" and answer.comment == "Quick and <script>friendly</script>"
    assert answer.answers == {"speed": "Yes"}
    assert event is not None and event.customer_id == ann and event.message_id == answer.source
    assert invitation is not None and invitation.reward_code == "THANKS-1"
    with store.read() as session:
        low = [e.data for e in session.scalars(select(DomainEvent).where(DomainEvent.type == "survey.rewards_low"))]
    assert [d["codes_left"] for d in low] == [1]  # the pool started below its line (10): said at the first code
