"""Webhooks end to end: an endpoint added with the CLI receives signed domain events through the worker; retries,
dead letters, the per-destination limit and several workers, against a real local receiver that checks signatures
with the `standardwebhooks` package."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cherish.db.base import utcnow
from cherish.events.flows import ingest
from cherish.outbox import service as outbox
from cherish.outbox.models import DeliveryAttempt, OutboxMessage
from cherish.worker.loop import run_worker
from tests.helpers import Receiver, track


def _answers(store, settings, n: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    with store.write() as session:
        ingest(session, [{**track("Feedback Submitted", user_id=f"u-{i % 7}", properties={
            "score_type": "nps", "score": i % 11, "comment": f"comment {i}"}), "messageId": f"fb-{i}"}
            for i in range(start, start + n)], settings=settings)


def _work(store, settings) -> None:  # type: ignore[no-untyped-def]
    run_worker(store, settings, threading.Event(), once=True)


def test_an_endpoint_added_with_the_cli_receives_signed_events(cli, settings):
    run, store = cli
    receiver = Receiver()
    try:
        added = run("webhooks", "add", receiver.url, "--events", "feedback.received", "--description", "helpdesk")
        assert added.exit_code == 0, added.stderr
        secret = added.stdout.strip()
        assert secret.startswith("whsec_") and len(added.stdout.splitlines()) == 1
        receiver.secret = secret
        _answers(store, settings, 3)
        with store.write() as session:  # a consent change: not subscribed, not sent
            from cherish.customers import service as customers

            customers.set_consent(session, store_customer(store), [{"purpose": "marketing", "status": "granted"}],
                                  source="api")
        worked = run("worker", "--once")
        assert worked.exit_code == 0, worked.stderr
        assert len(receiver.received) == 3 and all(r["verified"] for r in receiver.received)
        first = min(receiver.received, key=lambda r: r["body"]["data"]["position"])  # (sent side by side)
        assert first["body"]["type"] == "feedback.received" and first["body"]["timestamp"].endswith("Z")
        assert first["body"]["data"]["score_type"] == "nps" and first["body"]["data"]["comment"] == "comment 0"
        assert first["body"]["data"]["customer_id"].startswith("cus_")
        assert len({r["id"] for r in receiver.received}) == 3
        again = run("worker", "--once")  # nothing is sent twice
        assert again.exit_code == 0 and len(receiver.received) == 3

        listed = run("webhooks", "list")
        assert listed.exit_code == 0 and "helpdesk" in listed.stdout and secret not in listed.stdout
        with store.read() as session:
            endpoint_id = outbox.endpoints(session)[0].id
        assert endpoint_id in listed.stdout  # whole, never cut to fit the terminal
        pinged = run("webhooks", "test", endpoint_id)
        assert pinged.exit_code == 0, pinged.stderr
        assert "ping delivered" in pinged.stderr and receiver.received[-1]["body"]["type"] == "ping"
        log = run("outbox", "list", "--status", "delivered")
        assert log.exit_code == 0 and "4 of 4" in log.stderr
        removed = run("webhooks", "remove", endpoint_id)
        assert removed.exit_code == 0
        assert run("webhooks", "test", endpoint_id).exit_code == 1
    finally:
        receiver.close()


def store_customer(store) -> str:  # type: ignore[no-untyped-def]
    from cherish.customers.models import Customer

    with store.read() as session:
        return session.scalars(select(Customer.id)).first()


@pytest.mark.parametrize(("args", "message"), [
    (["ftp://example.com", "--events", "*"], "is not an http(s) URL"),
    (["http://127.0.0.1:1/x", "--events", "order.eaten"], "unknown event type 'order.eaten'"),
    (["http://127.0.0.1:1/x", "--events", ","], "name the event types"),
    (["http://127.0.0.1:1/x", "--events", "*", "--kind", "pigeon"], "unknown endpoint kind"),
    (["http://example.com:abc/", "--events", "*"], "is not an http(s) URL"),
    (["http://[::1", "--events", "*"], "is not an http(s) URL"),
    (["http://user:secret@example.com/", "--events", "*"], "no user name"),
])
def test_bad_endpoints_are_one_line_and_store_nothing(cli, args, message):
    run, store = cli
    result = run("webhooks", "add", *args)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr
    with store.read() as session:
        assert outbox.endpoints(session) == []


def test_failures_are_retried_with_backoff_then_dead_letters_that_can_be_retried(store, settings):
    settings = settings.model_copy(update={"outbox_max_attempts": 3})
    receiver = Receiver(fail=3)
    try:
        with store.write() as session:
            endpoint = outbox.add_endpoint(session, receiver.url, ["*"])
            receiver.secret = endpoint.secret
        _answers(store, settings, 1, start=9)  # (a promoter: no case, so one event)
        for _ in range(3):
            _work(store, settings)
            with store.write() as session:  # the backoff's wait, passed at once
                session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                                .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        with store.read() as session:
            message = session.scalars(select(OutboxMessage)).one()
            attempts = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert message.status == "dead" and message.attempts == 3 and "HTTP 500" in (message.last_error or "")
        assert [a.outcome for a in attempts] == ["retry", "retry", "dead"]
        assert all(a.status_code == 500 and a.latency_ms >= 0 for a in attempts)
        assert receiver.received == []

        with store.write() as session:
            outbox.retry(session, message.id)
        with store.write() as session, pytest.raises(Exception, match="pending, not a dead letter"):
            outbox.retry(session, message.id)
        _work(store, settings)
        assert [r["id"] for r in receiver.received] == [message.key]  # the same webhook-id as every attempt
        with store.read() as session:
            assert session.get(OutboxMessage, message.id).status == "delivered"
    finally:
        receiver.close()



def test_an_endpoint_that_is_down_or_too_slow_is_an_attempt_that_failed(store, settings):
    """Nothing listening, or no answer within CHERISH_OUTBOX_TIMEOUT: each is one failed attempt with its reason,
    retried later; the worker goes on with the rest."""
    from tests.helpers import free_port

    settings = settings.model_copy(update={"outbox_timeout": 0.5})
    slow = Receiver(delay=2.0)
    try:
        with store.write() as session:
            down = outbox.add_endpoint(session, f"http://127.0.0.1:{free_port()}/hook", ["*"])
            late = outbox.add_endpoint(session, slow.url, ["*"])
        _answers(store, settings, 1)
        _work(store, settings)
        with store.read() as session:
            messages = {m.endpoint_id: m for m in session.scalars(select(OutboxMessage))}
            attempts = {a.message_id: a for a in session.scalars(select(DeliveryAttempt))}
        for endpoint, words in ((down.id, "refused"), (late.id, "timed out")):
            message = messages[endpoint]
            assert message.status == "pending" and message.attempts == 1 and message.next_attempt_at > utcnow()
            attempt = attempts[message.id]
            assert attempt.outcome == "retry" and attempt.status_code is None
            assert words in (attempt.error or "").lower(), attempt.error
    finally:
        slow.close()

def test_backoff_grows_and_carries_jitter():
    import random

    rng = random.Random(1)
    waits = [outbox.backoff(n, rng).total_seconds() for n in range(1, 10)]
    assert waits[0] >= 5 and waits[1] >= 30 and waits[-1] >= 6 * 3600
    assert all(later >= earlier * 0.8 for earlier, later in zip(waits, waits[1:], strict=False))
    assert len({outbox.backoff(1, rng).total_seconds() for _ in range(20)}) > 1  # not all at the same moment


def test_at_most_the_limit_goes_to_one_destination_at_once(store, settings):
    settings = settings.model_copy(update={"outbox_concurrency": 2})
    receiver = Receiver(delay=0.15)
    try:
        with store.write() as session:
            receiver.secret = outbox.add_endpoint(session, receiver.url, ["feedback.received"]).secret
        _answers(store, settings, 10)
        _work(store, settings)
        assert len(receiver.received) == 10 and receiver.most_at_once == 2
    finally:
        receiver.close()


def test_several_workers_never_deliver_one_message_twice(store, settings):
    if store.one_writer:
        from cherish.errors import Conflict
        from cherish.worker.loop import only_worker

        with only_worker(store), pytest.raises(Conflict, match="another worker already serves"), only_worker(store):
            pass
        return
    receiver = Receiver(delay=0.01)
    try:
        with store.write() as session:
            receiver.secret = outbox.add_endpoint(session, receiver.url, ["feedback.received"]).secret
        _answers(store, settings, 300)
        from cherish.db.engine import open_store

        stores = [open_store(settings.database_url) for _ in range(3)]
        threads = [threading.Thread(target=_work, args=(each, settings)) for each in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        for each in stores:
            each.dispose()
        ids = [r["id"] for r in receiver.received]
        assert len(ids) == 300 and len(set(ids)) == 300
    finally:
        receiver.close()


def test_a_slack_endpoint_gets_a_readable_message_with_the_customers_words_escaped(store, settings):
    receiver = Receiver()
    try:
        with store.write() as session:
            outbox.add_endpoint(session, receiver.url, ["feedback.received"], kind="slack")
        with store.write() as session:
            ingest(session, [{**track("Feedback Submitted", user_id="u-1", properties={
                "score_type": "nps", "score": 2, "branch": "Portland",
                "comment": "<!channel> see <https://evil.example|here> & weep"}), "messageId": "fb-slack"}],
                settings=settings)
        _work(store, settings)
        body = receiver.received[0]["body"]
        assert body["text"].startswith("*NPS 2* (Portland)")
        assert "&lt;!channel&gt;" in body["text"] and "<!channel>" not in body["text"] and "&amp; weep" in body["text"]
        assert body["blocks"][0]["text"]["text"] == body["text"]
        assert "feedback.received" in body["blocks"][1]["elements"][0]["text"]
    finally:
        receiver.close()
