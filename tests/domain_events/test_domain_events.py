"""Domain events recorded in the transaction of the change: once per answer, consent only when it changes, and
positions that a reader can follow without missing one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from cherish.domain_events import service as domain_events
from cherish.domain_events.models import DomainEvent
from cherish.events.flows import ingest
from cherish.worker.consumers import consume_all
from tests.helpers import identify, track

COLD = "The coffee was cold and bitter."


def _events(store, type: str | None = None) -> list[DomainEvent]:  # type: ignore[no-untyped-def]
    with store.read() as session:
        query = select(DomainEvent).order_by(DomainEvent.position)
        if type:
            query = query.where(DomainEvent.type == type)
        return list(session.scalars(query))


def _answer(message_id: str, score: int, comment: str = "fine") -> dict:  # type: ignore[type-arg]
    message = track("Feedback Submitted", user_id="u-1", properties={
        "score_type": "nps", "score": score, "comment": comment, "survey": "after-delivery", "channel": "web",
        "branch": "Portland", "employee": "Ann"})
    return {**message, "messageId": message_id, "timestamp": "2026-03-01T10:00:00Z"}


def test_each_answer_is_received_once_however_often_it_is_resent(store, settings):
    with store.write() as session:
        first_time = ingest(session, [_answer("m-1", 3, COLD), _answer("m-2", 10)], settings=settings)
    with store.write() as session:  # the SDK resends the batch
        result = ingest(session, [_answer("m-1", 3, COLD), _answer("m-2", 10)], settings=settings)
    assert result.duplicates == 2
    assert [e.data["score"] for e in _events(store, "feedback.stored")] == [3, 10]
    assert _events(store, "feedback.received") == []  # not before the worker has read the comments
    consume_all(store)
    consume_all(store)  # (nothing more the second time)
    received = _events(store, "feedback.received")
    assert [e.data["score"] for e in received] == [3, 10]
    first = received[0]
    assert first.customer_id == first_time.customers[0]
    said = {name: first.data.pop(name) for name in ("sentiment", "label", "aspects", "urgency", "language")}
    assert first.data == {"source": "m-1", "score_type": "nps", "score": 3, "comment": COLD,
                          "channel": "web", "branch": "Portland", "employee": "Ann", "survey": "after-delivery",
                          "answered_at": "2026-03-01T10:00:00+00:00"}
    assert said["language"] == "en" and said["label"] == "negative" and said["sentiment"] < 0
    assert [a["name"] for a in said["aspects"]] == ["product quality"] and said["urgency"] == []
    assert received[0].position < received[1].position


def test_what_a_comment_says_is_kept_and_erased_with_the_words(store, settings):
    from cherish.feedback.models import Answer, CommentAnalysis
    from cherish.profiles.flows import erase

    with store.write() as session:
        customer = ingest(session, [_answer("m-7", 2, "Third time I have called about my refund. I'm cancelling!"),
                                    _answer("m-8", 9, "")], settings=settings).customers[0]
    consume_all(store)
    with store.read() as session:
        read = session.scalars(select(CommentAnalysis)).one()  # the answer without a comment has nothing to read
        assert read.label == "negative" and read.urgency == ["churn", "repeated contact"]
        assert {a["name"] for a in read.aspects} == {"returns and refunds", "communication"}
    received = _events(store, "feedback.received")
    assert [e.data["label"] for e in received] == ["negative", None]

    from sqlalchemy import update

    from cherish.feedback.text.model import VERSION
    from cherish.worker.jobs import BUILTIN

    with store.write() as session:  # as an older model left it
        session.execute(update(CommentAnalysis).values(model="default:older", label="positive", urgency=[]))
    with store.write() as session:  # an answer stored before the store kept what comments say
        ingest(session, [_answer("m-9", 10, "Friendly staff, lovely shop.")], settings=settings)
    assert BUILTIN["comments-reread"].run(store, settings) == "2 comments read by the current model"
    with store.read() as session:
        read, later = session.scalars(select(CommentAnalysis).order_by(CommentAnalysis.answer_id)).all()
        assert read.model == VERSION and read.label == "negative" and read.urgency == ["churn", "repeated contact"]
        assert later.model == VERSION and later.label == "positive"
    assert len(_events(store, "feedback.received")) == 2  # nothing published again
    consume_all(store)  # the worker reads the new answer's stored event later: one event, one analysis
    with store.read() as session:
        assert len(session.scalars(select(CommentAnalysis)).all()) == 2
    assert [e.data["label"] for e in _events(store, "feedback.received")] == ["negative", None, "positive"]

    with store.write() as session:
        erase(session, customer, actor="test")
    with store.read() as session:
        assert session.scalars(select(CommentAnalysis)).all() == []
        assert [a.comment for a in session.scalars(select(Answer))] == [None, None, None]
        assert [a.score for a in session.scalars(select(Answer).order_by(Answer.id))] == [2, 9, 10]


def test_consent_changed_only_when_what_is_stored_changes(store, settings):
    def consent(message_id: str, when: str, marketing: bool) -> dict:  # type: ignore[type-arg]
        return {**identify(user_id="u-9", traits={"consent": {"marketing": {"email": marketing}}}),
                "messageId": message_id, "timestamp": when}

    with store.write() as session:
        ingest(session, [consent("c-1", "2026-01-01T00:00:00Z", True)], settings=settings)
        ingest(session, [consent("c-2", "2026-01-02T00:00:00Z", True)], settings=settings)  # says the same
        ingest(session, [consent("c-3", "2025-12-01T00:00:00Z", False)], settings=settings)  # older: not stored
        ingest(session, [consent("c-4", "2026-01-03T00:00:00Z", False)], settings=settings)
    changed = _events(store, "consent.changed")
    assert [(e.data["status"], e.data["previous"]) for e in changed] == [("granted", None), ("denied", "granted")]
    assert {(e.data["purpose"], e.data["channel"], e.data["source"]) for e in changed} == {
        ("marketing", "email", "identify")}

    from cherish.customers import service as customers

    with store.write() as session:
        customers.set_consent(session, changed[0].customer_id,
                              [{"purpose": "feedback", "channel": "any", "status": "denied"}], source="api")
    last = _events(store, "consent.changed")[-1]
    assert (last.data["purpose"], last.data["status"], last.data["source"]) == ("feedback", "denied", "api")


def test_a_rolled_back_change_records_nothing(store, settings):
    try:
        with store.write() as session:
            ingest(session, [_answer("m-9", 5)], settings=settings)
            raise RuntimeError("the request failed after intake")
    except RuntimeError:
        pass
    assert _events(store) == []


def test_a_reader_never_skips_an_event_committed_late(store, settings):
    """Two transactions append at once; the one that took its positions first commits last. A reader at the
    other's position must still find it: positions become visible in the order they were given. (Events are
    written as a transaction commits; the first one here is stopped in the middle of that.)"""
    first_appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            with store.write() as session:
                domain_events.record(session, "ping", [(None, {"n": 1})])
                domain_events._write_pending(session)  # its commit under way: positions taken, not yet visible
                first_appended.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=slow)
    thread.start()
    assert first_appended.wait(10)
    done = threading.Event()

    def fast() -> None:
        with store.write() as session:
            domain_events.record(session, "ping", [(None, {"n": 2})])
        done.set()

    other = threading.Thread(target=fast)
    other.start()
    done.wait(1.0)  # without an order, the second would commit now, and a reader would pass the first by
    seen_while_waiting = [e.data["n"] for e in _events(store)]
    release.set()
    thread.join(10)
    other.join(10)
    assert not errors and done.is_set()
    assert seen_while_waiting == []  # nothing visible before the first commits
    assert [e.data["n"] for e in _events(store)] == [1, 2]  # and in the order of their positions


def test_a_new_consumer_starts_at_the_end_and_reads_in_order(store):
    with store.write() as session:
        domain_events.record(session, "ping", [(None, {"n": 0})])
    with store.write() as session:
        start = domain_events.claim_position(session, "test-consumer")
        assert start == domain_events.last_position(session)
    with store.write() as session:
        domain_events.record(session, "ping", [(None, {"n": n}) for n in (1, 2, 3)],
                             at=datetime(2026, 1, 1, tzinfo=UTC))
    with store.write() as session:
        position = domain_events.claim_position(session, "test-consumer")
        batch = domain_events.after(session, position, limit=2)
        assert [e.data["n"] for e in batch] == [1, 2]
        domain_events.save_position(session, "test-consumer", batch[-1].position)
    with store.write() as session:
        rest = domain_events.after(session, domain_events.claim_position(session, "test-consumer"))
        assert [e.data["n"] for e in rest] == [3]


def test_a_position_is_never_given_twice_even_after_the_newest_events_are_erased(store):
    from sqlalchemy import delete

    with store.write() as session:
        domain_events.record(session, "ping", [(None, {"n": n}) for n in range(3)])
    newest = _events(store)[-1].position
    with store.write() as session:  # (an erasure deletes a person's events, the newest among them)
        session.execute(delete(DomainEvent).where(DomainEvent.position == newest))
    with store.write() as session:
        domain_events.record(session, "ping", [(None, {"n": 3})])
    assert _events(store)[-1].position > newest  # a consumer already past it would never read a reused one
