"""P(alive), stage, health and value of `cherish analyze` agree, and a one-time buyer of long ago is not alive."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cherish.analytics.service import analyze_store
from cherish.events.flows import ingest
from tests.helpers import AS_OF, lifetime_history


@pytest.fixture
def history(store, settings):  # type: ignore[no-untyped-def]
    with store.write() as session:
        assert ingest(session, lifetime_history(), settings=settings).rejected == []
    return store


def test_one_time_buyer_of_long_ago_is_not_alive_and_stage_health_value_agree(history, settings, engine):
    from sqlalchemy import select

    from cherish.analytics.models import CustomerScore
    from cherish.identity.models import Identifier

    result = analyze_store(history, settings, AS_OF, engine=engine)
    chosen = result["purchase_model"]
    first = min(date.fromisoformat(m["timestamp"][:10]) for m in lifetime_history())
    assert chosen["model"] in ("mbgnbd", "pareto")
    assert chosen["holdout_days"] == (AS_OF - first).days // 4  # a quarter of the history
    assert chosen["calibration_end"] == (AS_OF - timedelta(days=chosen["holdout_days"])).isoformat()
    assert {"mbgnbd", "pareto"} <= set(chosen["candidates"])
    assert "holdout_mse" in chosen["candidates"][chosen["model"]]
    with history.read() as session:
        user = dict(session.execute(select(Identifier.value, Identifier.customer_id)
                                    .where(Identifier.type == "user_id")).all())
        scores = {s.customer_id: s for s in session.scalars(select(CustomerScore))}
    old, steady = scores[user["once-long-ago"]], scores[user["steady"]]
    # BG/NBD would say 1: nobody drops out before a repeat purchase there
    assert old.p_alive < 0.3 and steady.p_alive > 0.8
    assert old.stage == "lapsed" and old.stage_since < AS_OF
    part = next(r for r in old.health_reasons if "P(alive)" in r["reason"])
    assert part["points"] == pytest.approx(40 * old.p_alive, abs=0.05) and part["of"] == 40
    assert not any("still active" in r["reason"] for r in old.health_reasons)
    assert old.health < steady.health and old.clv < steady.clv / 3
    for s in scores.values():  # stage and P(alive) never disagree: a lapsed customer is not likely alive
        if s.p_alive < 0.2:
            assert s.stage == "lapsed"
        if s.stage in ("loyal", "developing", "first purchase", "won back"):
            assert s.p_alive >= 0.5
