"""The demo company: deterministic for a seed, and shaped like a real business."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, datetime

from cherish.demo.company import BRANCHES, CATALOG, EMPLOYEES
from cherish.demo.people import make_person, simulate

END = datetime(2026, 6, 1, tzinfo=UTC)
START = datetime(2024, 6, 1, tzinfo=UTC)


def _messages(people: int, seed: int) -> list[dict]:
    out = []
    for index in range(people):
        rng = random.Random(f"{seed}:{index}")
        out += simulate(make_person(rng, index, seed), rng, seed=seed, start=START, end=END).messages
    return out


def test_same_seed_same_company_other_seed_other_company():
    assert _messages(150, 4) == _messages(150, 4)
    assert _messages(150, 4) != _messages(150, 5)


def test_shape_of_the_business():
    messages = _messages(1500, 9)
    assert all(START.isoformat() <= m["timestamp"] < END.isoformat() for m in messages)
    channels = Counter((m.get("context") or {}).get("channel") for m in messages)
    assert {"web", "app", "store", "phone", "email", "chat", "social"} <= set(channels)
    assert len(BRANCHES) == 8 and len(EMPLOYEES) == 30 and len({p.category for p in CATALOG}) >= 5
    orders_per_person = Counter(m["messageId"].split("-")[2] for m in messages if m.get("event") == "Order Completed")
    counts = list(orders_per_person.values())
    once = sum(1 for c in counts if c == 1) / len(counts)
    assert 0.35 < once < 0.8, "many buy once"
    assert max(counts) >= 8, "a few buy often"
    events = Counter(m.get("event") for m in messages)
    assert events["Support Contact"] > 0 and events["Order Delivered"] > 0 and events["Feedback Submitted"] > 0
    promised = [m for m in messages if (m.get("properties") or {}).get("promised_delivery_date")]
    assert promised


def test_scores_follow_the_experience():
    messages = _messages(3000, 2)
    delivered = {m["properties"]["order_id"]: m["timestamp"] for m in messages if m.get("event") == "Order Delivered"}
    promised = {m["properties"]["order_id"]: m["properties"]["promised_delivery_date"] for m in messages
                if (m.get("properties") or {}).get("promised_delivery_date")}
    late, on_time, weak, others = [], [], [], []
    for m in messages:
        p = m.get("properties") or {}
        if m.get("event") != "Feedback Submitted" or p.get("score_type") != "nps":
            continue
        order = p.get("order_id")
        if order in delivered and order in promised:
            (late if delivered[order][:10] > promised[order] else on_time).append(p["score"])
        if p.get("branch"):
            (weak if p["branch"] == "Spokane Riverside" else others).append(p["score"])
    assert statistics.mean(late) < statistics.mean(on_time) - 1.5
    assert statistics.mean(weak) < statistics.mean(others) - 0.8
    comments = [m["properties"]["comment"] for m in messages if (m.get("properties") or {}).get("comment")]
    assert len(set(comments)) > len(comments) * 0.3, "comments are varied"
    assert any("late" in c.lower() for c in comments) and any("friendly" in c.lower() for c in comments)


def test_people_use_different_identifiers_on_different_channels():
    people = [make_person(random.Random(f"8:{i}"), i, 8) for i in range(400)]
    for person in people[:50]:
        simulate(person, random.Random(f"8:{person.index}"), seed=8, start=START, end=END)
    kinds = Counter(len({k for k, _ in p.keys}) for p in people[:50] if p.keys)
    assert max(kinds) >= 3
    assert any(p.alternate for p in people), "some people have a second, unconnected profile"


def test_no_identifier_is_shared_by_two_people():
    """What lets chunks of people be ingested apart (cherish.demo.build): random ids carry the person's number."""
    owners: dict[tuple[str, str], int] = {}
    for index in range(3000):
        rng = random.Random(f"6:{index}")
        person = make_person(rng, index, 6)
        simulate(person, rng, seed=6, start=START, end=END)
        for key in person.keys:
            assert owners.setdefault(key, index) == index, f"{key} is used by two people"
    assert len(owners) > 3000 * 3
