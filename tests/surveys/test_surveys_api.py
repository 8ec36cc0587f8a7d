"""Surveys through the API and the answer page on a real store: definitions checked, new wording a new version,
a share link answered by anyone once each, half-given answers saved, one reminder, sampling, the reward pool's
alert, and the feedback inbox with its filters."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from cherish.contact.models import Contact
from cherish.db.base import utcnow
from cherish.events.flows import ingest
from cherish.feedback.models import Answer
from cherish.surveys.invitations import notice, remind_due, send_due
from cherish.surveys.models import Invitation
from cherish.worker.loop import run_worker
from tests.conftest import bearer
from tests.helpers import identify, track


def _make(client, keys, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "csat", "questions": [{"type": "csat"}, {"type": "text"}], **fields}
    made = client.post("/api/surveys", json=body, headers=bearer(keys["manager"]))
    assert made.status_code == 201, made.text
    return made.json()


def test_definitions_are_checked_and_new_wording_is_a_new_version(client, keys):
    manager = bearer(keys["manager"])
    for body, words in [
        ({"name": "x", "questions": [{"type": "text"}]}, "first question is its measure"),
        ({"name": "x", "questions": [{"type": "nps"}, {"type": "csat"}]}, "one measure"),
        ({"name": "x", "questions": [{"type": "nps"}, {"type": "single", "text": "Which?", "choices": ["a"]}]},
         "2 to 20 choices"),
        ({"name": "x", "questions": [{"type": "nps"}, {"type": "rating", "text": "Rate", "scale": [3, 2]}]},
         "scale"),
        ({"name": "x", "questions": [{"type": "nps"}], "trigger": {"event": "Order Delivered", "after": "91d"}},
         "at most 90 days"),
        ({"name": "x", "questions": [{"type": "nps"}], "reminder_days": 20, "expires_days": 10}, "reminder"),
    ]:
        refused = client.post("/api/surveys", json=body, headers=manager)
        assert refused.status_code in (400, 422), body
        assert words in refused.text, refused.text
    assert client.get("/api/surveys", headers=manager).json() == {"items": []}  # nothing kept half-way
    assert client.post("/api/surveys", json={"name": "x", "questions": [{"type": "nps"}]},
                       headers=bearer(keys["agent"])).status_code == 403

    survey = _make(client, keys)
    assert client.post("/api/surveys", json={"name": "csat", "questions": [{"type": "nps"}]},
                       headers=manager).status_code == 409
    same = client.patch(f"/api/surveys/{survey['id']}", json={"sampling": 0.5}, headers=manager).json()
    assert same["version"] == 1 and same["sampling"] == 0.5
    reworded = client.patch(f"/api/surveys/{survey['id']}", json={"questions": [
        {"type": "csat", "text": "How did we do today?"}, {"type": "text"}]}, headers=manager).json()
    assert reworded["version"] == 2 and reworded["questions"][0]["text"] == "How did we do today?"
    first = client.get(f"/api/surveys/{survey['id']}/versions/1", headers=manager).json()
    assert first["questions"][0]["text"] == "How satisfied are you with your experience?"
    other = client.patch(f"/api/surveys/{survey['id']}", json={"questions": [{"type": "nps"}]}, headers=manager)
    assert other.status_code == 400 and "keeps its measure" in other.text


def test_a_share_link_is_answered_once_per_respondent_and_saves_half_given_answers(store, client, keys):
    survey = _make(client, keys, questions=[{"type": "csat"}, {"type": "text"},
                                            {"id": "topics", "type": "multiple", "text": "About?",
                                             "choices": ["Price", "Staff"]}])
    manager = bearer(keys["manager"])
    client.post(f"/api/surveys/{survey['id']}/rewards", json={"codes": ["A", "B"]}, headers=manager)
    shared = client.get(f"/api/surveys/{survey['id']}/share?via=receipt", headers=manager).json()
    token = shared["url"].split("/s/", 1)[1]
    assert 'src="' in shared["embed"] and "<iframe" in shared["embed"]
    svg = client.get(f"/api/surveys/{survey['id']}/share.svg", headers=manager)
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")

    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "frame-ancestors *" in page.headers["content-security-policy"]
    missing = client.post(f"/s/{token}", data={"q2": "no score given", "action": "send"})
    assert missing.status_code == 400 and "Please answer" in missing.text
    saved = client.post(f"/s/{token}", data={"csat": "4", "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303
    mine = saved.headers["location"].split("/s/", 1)[1].split("?", 1)[0]
    assert mine != token  # the respondent's own invitation from now on, which this browser keeps
    assert client.get(f"/s/{token}", follow_redirects=False).headers["location"] == f"/s/{mine}"
    again = client.get(f"/s/{mine}?saved=1")
    assert "Your answers so far are saved" in again.text and 'id="csat-4" name="csat" value="4" checked' in again.text
    done = client.post(f"/api/s/{mine}", json={"answers": {"topics": ["Staff", "Price"]}})  # the score was saved
    assert done.status_code == 200 and done.json()["reward_code"] is None  # rewards go to those invited
    assert client.post(f"/api/s/{mine}", json={"answers": {"csat": 1}}).status_code == 410
    assert "already answered" in client.get(f"/s/{token}").text  # this browser answered its share link
    second = client.post(f"/api/s/{token}", json={"answers": {"csat": 2}})  # another visitor, same link
    assert second.status_code == 200
    assert client.get(f"/api/s/{token}x").status_code == 404
    client.cookies.clear()  # a new visitor
    fresh = client.get(f"/s/{token}?csat=%C2%B2")  # a digit that is not 0-9 chooses nothing
    assert fresh.status_code == 200 and "checked" not in fresh.text
    with store.read() as session:
        answers = list(session.scalars(select(Answer).order_by(Answer.id)))
    assert [(a.score, a.delivered_via, a.answers) for a in answers] == [
        (4.0, "receipt", {"topics": ["Price", "Staff"]}), (2.0, "receipt", None)]
    assert answers[0].customer_id != answers[1].customer_id  # two respondents
    listed = client.get("/api/surveys", headers=manager).json()["items"][0]
    assert (listed["invited"], listed["answered"], listed["rewards_left"]) == (2, 2, 2)


def test_sampling_a_reminder_and_the_inbox(store, settings, client, keys, inbox):
    box, port = inbox
    settings = settings.model_copy(update={"quiet_hours": "", "smtp_host": "127.0.0.1", "smtp_port": port,
                                           "smtp_tls": "none", "survey_fatigue_days": 0})
    now = utcnow()
    people = [identify(user_id=f"u{i}", traits={"email": f"u{i}@example.com"}) for i in range(40)]
    contacts = [track("Support Contact", user_id=f"u{i}", properties={"channel": "chat"},
                      timestamp=(now - timedelta(hours=3)).isoformat()) for i in range(40)]
    with store.write() as session:  # before the survey: its trigger asks about what happens from then on
        early = ingest(session, [identify(user_id="early", traits={"email": "early@example.com"}),
                                 track("Support Contact", user_id="early", properties={"channel": "chat"},
                                       timestamp=(now - timedelta(hours=3)).isoformat())], settings=settings)
    _make(client, keys, name="support", trigger={"event": "Support Contact", "after": "2h",
                                                 "condition": {"channel": "chat"}}, sampling=0.5, reminder_days=2)
    with store.write() as session:
        ingest(session, people + contacts, settings=settings)
    with store.write() as session:
        kept = notice(session, now=now)
        assert notice(session, now=now) == 0  # a second look keeps nothing twice
    assert 8 <= kept <= 32  # about half of 40
    with store.read() as session:
        assert session.scalar(select(Invitation).where(Invitation.customer_id == early.customers[0])) is None
    with store.write() as session:
        assert send_due(session, settings, now=now) == kept
    with store.write() as session:
        assert remind_due(session, settings, now=now + timedelta(days=1)) == 0  # too early
    with store.write() as session:
        assert remind_due(session, settings, now=now + timedelta(days=2, minutes=1)) == kept
    with store.write() as session:
        assert remind_due(session, settings, now=now + timedelta(days=3)) == 0  # one reminder only
        reminders = list(session.scalars(select(Contact).where(Contact.key.like("%_reminder"))))
    assert {c.outcome for c in reminders} == {"sent"} and all(c.topic.startswith("survey reminder:")
                                                                for c in reminders)
    run_worker(store, settings.model_copy(update={"smtp_port": port}), threading.Event(), once=True)
    assert sum(m["Subject"].startswith("A reminder:") for m in box.messages) == kept

    with store.read() as session:
        first = session.scalars(select(Invitation).order_by(Invitation.id)).first()
        assert first is not None and first.channel == "chat"
    manager = bearer(keys["manager"])
    shared = client.get(f"/api/surveys/{first.survey_id}/share", headers=manager).json()
    token = shared["url"].split("/s/", 1)[1]
    for score, comment in [(1, "Third time I call and I will cancel my account"), (5, "Lovely staff, quick help")]:
        assert client.post(f"/api/s/{token}", json={"answers": {"csat": score, "q2": comment}}).status_code == 200
    run_worker(store, settings, threading.Event(), once=True)  # comments are read by the worker
    page = client.get("/feedback", headers=manager)
    assert page.status_code == 200 and "2 answers and comments" in page.text
    urgent = client.get("/feedback?urgent=any", headers=manager).text
    assert "cancel my account" in urgent and "Lovely staff" not in urgent
    unhappy = client.get("/feedback?verdict=unhappy&survey=support", headers=manager).text
    assert "cancel my account" in unhappy and "Lovely staff" not in unhappy
    staff = client.get("/feedback?aspect=staff+and+service&sentiment=positive", headers=manager).text
    assert "Lovely staff" in staff and "cancel my account" not in staff
    assert client.get("/feedback?since=yesterday", headers=manager).status_code == 400


def test_one_address_cannot_flood_a_share_link(client, keys):
    from cherish.surveys.invitations import SHARED_PER_HOUR

    survey = _make(client, keys, name="flood")
    link = client.get(f"/api/surveys/{survey['id']}/share", headers=bearer(keys["manager"])).json()["url"]
    token = link.split("/s/", 1)[1]
    for _ in range(SHARED_PER_HOUR):
        assert client.post(f"/api/s/{token}", json={"answers": {"csat": 5}}).status_code == 200
    stopped = client.post(f"/api/s/{token}", json={"answers": {"csat": 5}})
    assert stopped.status_code == 429 and stopped.headers["retry-after"] == "3600"
    assert client.get("/api/surveys", headers=bearer(keys["manager"])).json()["items"][0]["answered"] == \
        SHARED_PER_HOUR  # nothing kept of the refused one
