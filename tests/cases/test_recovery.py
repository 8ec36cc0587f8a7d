"""The recovery rate, counted by hand: customers with a closed case who came back within 14 days, beside those
unhappy before cases began who got none; troubles younger than 14 days wait; the overview's panel and the API."""

from __future__ import annotations

from datetime import timedelta

from cherish.cases import flows
from cherish.cases import service as cases
from cherish.cases.flows import Replayed, signals_of
from cherish.db.base import utcnow
from cherish.events.flows import ingest
from tests.conftest import bearer
from tests.helpers import identify, login, person, track


def _at(days: float) -> str:
    return (utcnow() - timedelta(days=days)).isoformat()


def test_the_recovery_rate_counts_who_came_back_within_14_days(store, settings, client, keys):
    def answer(user: str, score: int, days: float) -> dict:
        return track("Feedback Submitted", user_id=user, timestamp=_at(days),
                     properties={"score_type": "nps", "score": score})

    def order(user: str, order_id: str, days: float) -> dict:
        return track("Order Completed", user_id=user, timestamp=_at(days),
                     properties={"order_id": order_id, "total": 20, "currency": "USD"})

    with store.write() as session:
        people = dict(zip("abcdef", ingest(session, [identify(user_id=u, traits={"email": f"{u}@example.com"})
                                                     for u in "abcdef"], settings=settings).customers, strict=True))
        ingest(session, [
            # before cases began (60 days ago): a comes back with an order after 5 days, b after 30 (too late)
            answer("a", 2, 90), order("a", "A-1", 85), answer("b", 3, 90), order("b", "B-1", 60),
            # with cases: c answers 8 four days after its case; d never comes back; e's case is too young
            answer("c", 1, 50), answer("c", 8, 46), answer("d", 0, 40), answer("e", 2, 3),
            answer("f", 6, 30),  # f's case stays open: not counted
        ], settings=settings)
    with store.write() as session:
        from cherish.feedback.service import answers_since

        said = [a for a in answers_since(session, utcnow() - timedelta(days=80), limit=100) if a["score"] <= 6]
        for group in signals_of([Replayed(a) for a in said]):
            flows.consider(session, settings, [group], now=group[0].at)
        for case in cases.page(session, cases.Filters(status="open"), limit=10, offset=0)[0]:
            if case.customer_id != people["f"]:
                cases.change(session, case, {"status": "resolved", "resolution_code": "apologised"}, actor="test",
                             now=case.opened_at + timedelta(days=1))

    rates = client.get("/api/recovery-rate", headers=bearer(keys["viewer"])).json()
    assert (rates["with_case"]["n"], rates["with_case"]["value"]) == (2, 0.5)  # c came back, d did not
    assert (rates["before_cases"]["n"], rates["before_cases"]["value"]) == (2, 0.5)  # a came back, b too late
    assert 0 < rates["with_case"]["low"] < 0.5 < rates["with_case"]["high"] < 1
    assert rates["window_days"] == 14

    login(client, *person(store, "viewer"))
    panel = client.get("/cases/recovery", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and 'id="recovery-with-case">50%' in panel.text and "<html" not in panel.text
    assert 'hx-get="/cases/recovery"' in client.get("/overview").text
