"""What drives NPS among the store's answers: the aspects the worker read in their comments, analysed by
`cherish analyze` and shown on the overview with the quadrant chart and a sentence per driver."""

from __future__ import annotations

import random

from cherish.demo.comments import written
from cherish.events.flows import ingest
from cherish.feedback import service as feedback
from cherish.worker.consumers import consume_all
from tests.conftest import bearer
from tests.helpers import AS_OF, lifetime_history


def _answers(n: int = 400) -> list[dict]:  # type: ignore[type-arg]
    """NPS answers whose comments name aspects: late deliveries come with low scores, friendly staff with high
    ones, the store with ordinary ones."""
    rng = random.Random(9)
    messages = []
    for i in range(n):
        aspect = rng.choice(("delivery", "staff and service", "store", "price and value"))
        score = {"delivery": rng.randint(0, 5), "staff and service": rng.randint(8, 10),
                 "store": rng.randint(5, 9), "price and value": rng.randint(4, 9)}[aspect]
        comment = written(rng, sentiment=(score - 7) / 3, aspects=[aspect]).text
        messages.append({"type": "track", "event": "Feedback Submitted", "userId": f"d-{i % 60}",
                         "messageId": f"nps-{i}", "timestamp": f"{AS_OF.isoformat()}T09:00:00Z",
                         "properties": {"score_type": "nps", "score": score, "comment": comment}})
    return messages


def test_the_overview_says_what_drives_nps(store, settings, client, keys):
    from cherish.analytics.service import analyze_store

    with store.write() as session:
        assert ingest(session, lifetime_history() + _answers(), settings=settings).rejected == []
    with store.read() as session:
        assert feedback.aspect_drivers(session) is None  # nothing read yet
    consume_all(store)
    with store.read() as session:
        found = feedback.aspect_drivers(session)
    assert found is not None and found["respondents"] == 400
    quadrants = {d["name"]: d["quadrant"] for d in found["drivers"]}
    assert quadrants["delivery"] == "improve" and quadrants["staff and service"] == "continue"

    analyze_store(store, settings, AS_OF)
    page = client.get("/overview", headers=bearer(keys["viewer"]))
    assert page.status_code == 200
    panel = page.text.split('id="panel-drivers"', 1)[1].split("</section>", 1)[0]
    assert "delivery: important and below the rest — improve" in panel
    assert "<svg" in panel and 'class="q-improve"' in panel


def test_custom_rating_questions_drive_their_survey_on_the_overview(store, settings, client, keys):
    """A survey's custom ratings as drivers: speed moves the CSAT most; packaging barely does but is correlated with
    speed (as ratings of one delivery are), so it shares some of speed's credit; friendliness, apart, has its own."""
    from cherish.analytics.service import analyze_store

    rng = random.Random(4)
    messages = []
    for i in range(300):
        speed = rng.randint(1, 5)
        packaging = min(5, max(1, speed + rng.choice((-1, 0, 0, 1))))
        friendly = rng.randint(1, 5)
        csat = min(5, max(1, round(0.8 * speed + 0.1 * packaging + 0.3 * friendly - 0.6 + rng.gauss(0, 0.4))))
        messages.append({"type": "track", "event": "Feedback Submitted", "userId": f"r-{i % 80}",
                         "messageId": f"csat-{i}", "timestamp": f"{AS_OF.isoformat()}T09:00:00Z",
                         "properties": {"score_type": "csat", "score": csat, "survey": "after delivery",
                                        "answers": {"speed": speed, "packaging": packaging, "friendly": friendly,
                                                    "topics": ["Price"]}}})
    with store.write() as session:
        assert ingest(session, lifetime_history() + messages, settings=settings).rejected == []
    with store.read() as session:
        found = feedback.rating_drivers(session)["after delivery (CSAT)"]
    weight = {d["name"]: d["importance"] for d in found["drivers"]}
    assert set(weight) == {"speed", "packaging", "friendly"}, found  # (the choice question is no rating)
    assert weight["speed"] == max(weight.values()) and weight["friendly"] > 0.05, found
    assert abs(sum(d["importance"] for d in found["drivers"]) - 1) < 1e-3  # (each rounded to 4 places)

    analyze_store(store, settings, AS_OF)
    panel = client.get("/overview", headers=bearer(keys["viewer"])).text.split('id="panel-drivers"', 1)[1]
    assert "after delivery (CSAT)" in panel and "<th>Question</th>" in panel and "speed:" in panel
