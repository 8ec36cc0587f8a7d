"""Comments that arrive as other events — a review, a chat transcript, an email, a social mention — become feedback
items beside survey answers, with their origin and channel: read by text analytics, shown in the inbox, erased
with the customer, and left out of the scores; the revision that allows them keeps what was read before."""

from __future__ import annotations

import threading

from sqlalchemy import select

from cherish.db.engine import open_store
from cherish.db.migrate import downgrade, upgrade
from cherish.events.flows import ingest
from cherish.feedback.models import Answer, CommentAnalysis
from cherish.worker.loop import run_worker
from tests.conftest import bearer
from tests.helpers import identify, track


def test_reviews_chats_emails_and_mentions_are_feedback_items(store, settings, client, keys):
    messages = [
        identify(user_id="ann", traits={"email": "ann@example.com"}),
        track("Review Posted", user_id="ann", properties={"text": "The delivery was late and the box was crushed",
                                                          "rating": 2, "site": "google"},
              context={"channel": "web"}),
        track("Chat Transcript", user_id="ann", properties={"transcript": "Third time I ask: where is my refund?",
                                                            "channel": "chat"}),
        track("Email Received", user_id="ann", properties={"body": "Lovely staff in the Leeds shop",
                                                           "subject": "Thanks", "branch": "Leeds"}),
        track("Social Mention", user_id="ann", properties={"text": "Best coffee in town", "network": "instagram"}),
        track("Review Posted", user_id="ann", properties={"rating": 5}),  # no words: an event, no item
        track("Feedback Submitted", user_id="ann", properties={"score_type": "nps", "score": 9}),
    ]
    with store.write() as session:
        result = ingest(session, messages, settings=settings)
        other = ingest(session, [track("Review Posted", user_id="ann", properties={"text": "Great stay",
                                                                                 "rating": 8.5, "site": "booking"})],
                       settings=settings)  # a site that rates out of 10: kept as it came
    assert not result.rejected and not other.rejected
    run_worker(store, settings, threading.Event(), once=True)
    with store.read() as session:
        items = {a.origin: a for a in session.scalars(select(Answer))}
        read = {r.answer_id: r for r in session.scalars(select(CommentAnalysis))}
    assert set(items) == {"review", "chat", "email", "social", None}
    with store.read() as session:
        review = session.scalars(select(Answer).where(Answer.origin == "review").order_by(Answer.id)).first()
    assert (review.score, review.score_type, review.channel, review.answers) == (
        None, "comment", "web", {"rating": 2, "site": "google"})
    assert items["chat"].channel == "chat" and items["email"].branch == "Leeds"
    assert "delivery" in [a["name"] for a in read[review.id].aspects] and read[review.id].label == "negative"
    assert "repeated contact" in read[items["chat"].id].urgency

    manager = bearer(keys["manager"])
    page = client.get("/feedback?origin=review", headers=manager).text
    assert "crushed" in page and "rated 2 of 5" in page and "Best coffee" not in page
    assert "Best coffee" in client.get("/feedback?origin=social", headers=manager).text
    metrics = client.get("/api/metrics", headers=manager)
    if metrics.status_code == 200:  # (before the first analyze there is nothing to read)
        assert "comment" not in (metrics.json().get("scores") or {})


def test_the_revision_keeps_what_text_analytics_read_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    upgrade(store, "0013")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customers (id, created_at) VALUES ('cus_1', '2026-01-01')")
        conn.exec_driver_sql("INSERT INTO feedback_answers (source, customer_id, score_type, score, comment, "
                             "answered_at) VALUES ('m1', 'cus_1', 'nps', 3, 'late again', '2026-01-02')")
        conn.exec_driver_sql("INSERT INTO feedback_comment_analyses (answer_id, model, language, sentiment, label, "
                             "aspects, urgency, analyzed_at) VALUES (1, 'm', 'en', -0.5, 'negative', '[]', '[]', "
                             "'2026-01-02')")
    upgrade(store)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM feedback_comment_analyses").scalar() == 1
    downgrade(store, "0013")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM feedback_comment_analyses").scalar() == 1
    store.dispose()


def test_themes_no_aspect_explains_are_on_the_overview(store, settings, client, keys):
    from cherish.analytics.service import analyze_store
    from tests.helpers import AS_OF, lifetime_history

    said = ["Please bring back the oat milk latte", "The oat milk flat white is my favourite",
            "More oat milk drinks please", "Oat milk cappuccino every morning",
            "I love the seasonal pumpkin syrup", "The pumpkin spice syrup is back, yay",
            "Pumpkin syrup season is the best", "Extra pumpkin syrup in my latte"]
    messages = [{"type": "track", "event": "Feedback Submitted", "userId": f"t-{i % 30}", "messageId": f"t-{i}",
                 "timestamp": f"{AS_OF.isoformat()}T09:00:00Z",
                 "properties": {"score_type": "nps", "score": 9, "comment": said[i % len(said)] + f" ({i})"}}
                for i in range(48)]
    with store.write() as session:
        assert ingest(session, lifetime_history() + messages, settings=settings).rejected == []
    run_worker(store, settings, threading.Event(), once=True)
    analyze_store(store, settings, AS_OF)
    panel = client.get("/overview", headers=bearer(keys["viewer"])).text.split('id="panel-themes"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "oat" in panel and "pumpkin" in panel and "Oat milk cappuccino" in panel
