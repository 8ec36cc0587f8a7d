"""Reaching customers through the contact policy on a real store: email through a real SMTP server (aiosmtpd) with
an unsubscribe link that works in Chromium, caps that defer and the worker that releases, the contact log through
the API."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from cherish.contact.flows import Message, reach_out, release_due
from cherish.contact.models import Contact
from cherish.db.base import utcnow
from cherish.events.flows import ingest
from cherish.outbox.models import OutboxMessage
from cherish.worker.loop import run_worker
from tests.conftest import bearer
from tests.helpers import identify


def _customer(store, settings, user: str, **traits) -> str:  # type: ignore[no-untyped-def]
    with store.write() as session:
        result = ingest(session, [identify(user_id=user, traits={"email": f"{user}@example.com", **traits})],
                        settings=settings)
    return result.customers[0]


def _quiet(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"quiet_hours": ""})  # these tests run at any hour


def test_an_email_reaches_smtp_and_its_unsubscribe_works_in_chromium(store, settings, inbox, live_url, browser):
    box, port = inbox
    settings = _quiet(settings).model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
                                                   "public_url": live_url, "email_sender": "Shop <shop@example.com>"})
    ann = _customer(store, settings, "ann", consent={"marketing": True})
    with store.write() as session:
        sent, = reach_out(session, settings, [Message(ann, "marketing", "email", "spring news", {
            "subject": "Spring <news>", "text": "New beans are in.", "html": "<p>New beans are in.</p>"})])
        assert sent.outcome == "sent" and sent.outbox_message_id is not None
    run_worker(store, settings, threading.Event(), once=True)
    assert len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "ann@example.com" and mail["From"] == "Shop <shop@example.com>"
    assert mail["Subject"] == "Spring <news>" and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"]).group(1)
    assert link.startswith(f"{live_url}/u/")
    assert mail.get_body(("plain",)).get_content().startswith("New beans are in.")
    assert link in mail.get_body(("html",)).get_content()

    page = browser.new_page()
    page.goto(link)
    assert "Stop news and offers by email?" in page.content()  # opening the link only asks
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_selector("text=You are unsubscribed")
    with store.read() as session:
        from cherish.customers import service as customers

        consent = {(c["purpose"], c["channel"]): (c["status"], c["source"]) for c in customers.consent_of(session, ann)}
    assert consent[("marketing", "email")] == ("denied", "unsubscribe")
    with store.write() as session:
        after, = reach_out(session, settings, [Message(ann, "gesture", "email", "a thank-you")])
    assert after.outcome == "suppressed" and "after-unsubscribe" in after.reason
    with store.write() as session:  # an apology asks consent as service: nothing to unsubscribe from
        reach_out(session, settings, [Message(ann, "recovery", "email", "sorry", {"text": "We are sorry."})])
    run_worker(store, settings, threading.Event(), once=True)
    assert box.messages[-1]["List-Unsubscribe"] is None and "To stop these emails" not in box.messages[-1].as_string()
    # a mail client's one-click request (RFC 8058), and a link cherish did not make
    assert httpx.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert httpx.get(link[:-3] + "xyz").status_code == 404


def test_caps_defer_and_the_worker_releases_higher_purposes_first(store, settings):
    settings = _quiet(settings)
    bo = _customer(store, settings, "bo", consent={"marketing": True})
    now = utcnow()
    with store.write() as session:
        first = reach_out(session, settings, [Message(bo, "feedback", "email", "survey 0")],
                          now=now - timedelta(days=6, hours=23))
        first += reach_out(session, settings, [Message(bo, "feedback", "email", "survey 1")],
                           now=now - timedelta(days=1))
        assert [c.outcome for c in first] == ["sent", "sent"]
        later = reach_out(session, settings, [
            Message(bo, "marketing", "email", "offer", expires_at=now + timedelta(days=10)),
            Message(bo, "recovery", "email", "sorry about the parcel"),
            Message(bo, "service", "email", "your order shipped")], now=now)
    assert [c.outcome for c in later] == ["deferred", "deferred", "sent"]
    assert "2 in 7 days" in later[0].reason and later[0].send_at == first[0].send_at + timedelta(days=7)
    assert release_due(store, settings, now=now + timedelta(hours=1)) == 2  # both due: the recovery goes first
    with store.read() as session:
        contacts = {c.topic: c for c in session.scalars(select(Contact))}
    assert (contacts["sorry about the parcel"].outcome, contacts["sorry about the parcel"].decisions) == ("sent", 2)
    offer = contacts["offer"]  # the place went to the recovery message; the offer waits for the next one
    assert (offer.outcome, offer.decisions) == ("deferred", 2)
    assert offer.send_at == first[1].send_at + timedelta(days=7)
    with store.read() as session:
        kinds = [m.kind for m in session.scalars(select(OutboxMessage))]
    assert kinds.count("email") == 4  # two surveys, the shipping notice, the apology


def test_the_same_key_is_one_message_and_bad_messages_store_nothing(store, settings):
    from cherish.errors import InvalidInput, NotFound

    settings = _quiet(settings)
    cy = _customer(store, settings, "cy")
    with store.write() as session:
        once = reach_out(session, settings, [Message(cy, "feedback", "email", "survey", key="survey-1:cy")])
        twice = reach_out(session, settings, [Message(cy, "feedback", "email", "survey", key="survey-1:cy")])
        assert once[0].id == twice[0].id
    for bad, error in ((Message(cy, "gossip", "email", "x"), InvalidInput), (Message(cy, "feedback", "fax", "x"),
                                                                             InvalidInput),
                       (Message(cy, "feedback", "email", "x", key="k" * 101), InvalidInput),
                       (Message("cus_nobody", "feedback", "email", "x"), NotFound)):
        with pytest.raises(error), store.write() as session:
            reach_out(session, settings, [Message(cy, "service", "email", "fine"), bad])
    with store.read() as session:
        assert len(session.scalars(select(Contact)).all()) == 1
    with store.write() as session:
        no_sender, = reach_out(session, settings, [Message(cy, "service", "sms", "your order shipped")])
    assert no_sender.outcome == "suppressed" and "no sender is set up for sms" in no_sender.reason


def test_the_contact_log_through_the_api_follows_merges(client, keys, store, settings):
    settings = _quiet(settings)
    dee = _customer(store, settings, "dee")
    with store.write() as session:
        reach_out(session, settings, [Message(dee, "marketing", "email", "offer"),
                                      Message(dee, "feedback", "email", "survey")])
    page = client.get(f"/api/customers/{dee}/contacts", headers=bearer(keys["viewer"]))
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [(i["topic"], i["outcome"]) for i in items] == [("offer", "suppressed"), ("survey", "sent")]
    assert "no consent for marketing" in items[0]["reason"] and page.json()["next"] is None
    first = client.get(f"/api/customers/{dee}/contacts?limit=1", headers=bearer(keys["viewer"])).json()
    rest = client.get(f"/api/customers/{dee}/contacts?limit=1&cursor={first['next']}",
                      headers=bearer(keys["viewer"])).json()
    assert [i["topic"] for i in first["items"] + rest["items"]] == ["offer", "survey"]
    assert client.get(f"/api/customers/{dee}/contacts").status_code == 401

    other = _customer(store, settings, "dee-2")
    from cherish.identity.merge import merge_customers

    with store.write() as session:
        merge_customers(session, dee, other, via=None, message_id=None, reason="test", actor="test")
    survivor, merged_away = dee, other
    with store.write() as session:
        reach_out(session, settings, [Message(merged_away, "feedback", "email", "survey again")])
    moved = client.get(f"/api/customers/{merged_away}/contacts", headers=bearer(keys["viewer"]),
                       follow_redirects=False)
    assert moved.status_code == 308
    log = client.get(f"/api/customers/{survivor}/contacts", headers=bearer(keys["viewer"])).json()["items"]
    # a message to the merged id goes to the survivor, whose caps already count the first survey
    assert [i["topic"] for i in log] == ["survey again", "offer", "survey"]


def test_the_customer_page_explains_every_contact_decision(client, keys, store, settings):
    eve = _customer(store, settings, "eve", timezone="Asia/Tokyo")
    night = utcnow().replace(hour=13, minute=0, second=0, microsecond=0)  # 22:00 in Tokyo
    with store.write() as session:
        reach_out(session, settings, [Message(eve, "feedback", "email", "survey <after> delivery"),
                                      Message(eve, "marketing", "email", "spring offer"),
                                      Message(eve, "service", "sms", "your order shipped")], now=night)
    page = client.get(f"/customers/{eve}", headers=bearer(keys["viewer"]))
    assert page.status_code == 200
    table = page.text.split('id="contacts"', 1)[1].split("</table>", 1)[0]
    assert "survey &lt;after&gt; delivery" in table and "<after>" not in table
    assert ">upcoming</span>" in table and "quiet hours in the customer&#39;s time zone until 08:00" in table
    assert ">suppressed</span>" in table and "no consent for marketing" in table
    assert "no sender is set up for sms" in table
    assert table.index("survey") < table.index("spring offer")  # what is upcoming comes first


def test_a_text_goes_to_the_companys_own_sender_with_the_customers_number(store, settings):
    from cherish.errors import InvalidInput
    from cherish.outbox import service as outbox
    from tests.helpers import Receiver

    settings = _quiet(settings)
    with store.write() as session:
        ingest(session, [identify(user_id="fay", traits={"phone": "+1 503 555 0100"})], settings=settings)
    from cherish.identity.lookup import holder_of

    with store.read() as session:
        fay = holder_of(session, settings, kind="user_id", value="fay")
    receiver = Receiver()
    try:
        with store.write() as session:
            with pytest.raises(InvalidInput, match="--kind sender"):
                outbox.add_endpoint(session, receiver.url, ["message.sms"])
            receiver.secret = outbox.add_endpoint(session, receiver.url, ["message.sms"], kind="sender").secret
            sent, = reach_out(session, settings, [Message(fay, "service", "sms", "your order shipped",
                                                          {"text": "Your order is on its way."})])
        assert sent.outcome == "sent"
        run_worker(store, settings, threading.Event(), once=True)
        body = receiver.received[0]["body"]
        assert body["type"] == "message.sms" and body["data"]["to"] == "+15035550100"
        assert body["data"]["text"] == "Your order is on its way." and receiver.received[0]["verified"] is not None
    finally:
        receiver.close()


def test_unsubscribe_links_outlive_a_new_session_key(store, settings, client):
    from cherish.contact.unsubscribe import link

    gus = _customer(store, settings, "gus")
    assert client.get("/u/not-a-token").status_code == 404  # before any link exists: nothing is made by a reader
    with store.write() as session:
        url = link(session, settings, gus, "marketing", "email")
    path = url.split("127.0.0.1:8000", 1)[1]
    rotated = settings.model_copy(update={"secret_key": "a brand new session key, rotated"})
    with store.write() as session:
        from cherish.contact.unsubscribe import unsubscribe

        assert unsubscribe(session, rotated, path.rsplit("/", 1)[1]) == ("marketing", "email")
    assert client.get(path).status_code == 200
