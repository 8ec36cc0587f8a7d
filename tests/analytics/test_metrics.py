"""The relationship metrics on every engine, against hand computations on small data."""

from __future__ import annotations

import math
from datetime import date

import pytest

from cherish.analytics.engines import open_engine
from cherish.analytics.service import analyze
from cherish.errors import EngineError
from cherish.events.flows import ingest
from tests.helpers import AS_OF, order, run, same_results


def test_repeat_rate_and_cohorts_by_hand(loaded, settings, engine):
    result = run(loaded, settings, engine)
    assert result["customers"] == 4  # A, B, C, E: D cancelled, F refunded
    assert result["repeat_customer_rate"] == pytest.approx(0.5, abs=1e-12)  # A (3 days) and C (2 days)
    retention = result["cohort_retention"]
    assert retention["2026-01"] == {"size": 2, "retention": [0.5, 0.0, 0.5], "partial": False,
                                    "revenue_retention": pytest.approx([30 / 65, 0.0, 15 / 65])}
    assert retention["2026-02"]["retention"] == [0.0, 0.0] and retention["2026-03"]["size"] == 1
    assert result["days_to_second_purchase"]["n"] == 2  # A: 36 days, C: 17 days
    assert result["days_to_second_purchase"]["mean"] == pytest.approx(26.5)


def test_experience_scores_by_hand(loaded, settings, engine):
    result = run(loaded, settings, engine)
    nps, csat, ces = (result["scores"][k] for k in ("nps", "csat", "ces"))
    assert nps["n"] == 5 and nps["value"] == pytest.approx(0.0, abs=1e-9)
    assert nps["high"] == pytest.approx(100 * 1.959963984540054 * math.sqrt(0.8 / 5))
    assert csat["value"] == pytest.approx(2 / 3)
    assert csat["low"] == pytest.approx(0.2076, abs=1e-3) and csat["high"] == pytest.approx(0.9385, abs=1e-3)
    assert ces["value"] == pytest.approx(5.0) and ces["high_effort"] == pytest.approx(0.25)
    # the t interval 5 ± 3.44 passes the top of the 1–7 scale: it stops at 7
    assert ces["value"] - ces["low"] == pytest.approx(3.182446305284263 * math.sqrt(14 / 3) / 2)
    assert ces["high"] == 7.0
    assert result["scores_by"]["branch"]["nps"]["X"]["n"] == 2
    assert result["scores_by"]["branch"]["nps"]["Y"]["value"] == pytest.approx(100 * (1 / 3 - 1 / 3), abs=1e-9)
    assert set(result["scores_by"]["month"]["nps"]) == {"2026-03"}


@pytest.mark.postgres
def test_the_engines_agree_on_every_figure(loaded, settings):
    """DuckDB and the operational PostgreSQL give the same metrics, to 1e-9 (only PostgreSQL has both)."""
    if loaded.dialect != "postgresql":
        pytest.skip("the database engine runs on PostgreSQL only")
    same_results({engine: run(loaded, settings, engine) for engine in ("duckdb", "database")})


def test_business_time_zone_moves_day_and_month(loaded, settings):
    new_york = settings.model_copy(update={"timezone": "America/New_York"})
    result = run(loaded, new_york, "duckdb")
    assert "2026-03" not in result["cohort_retention"]
    assert result["cohort_retention"]["2026-02"]["size"] == 2  # C and E


def test_database_engine_on_sqlite_names_duckdb(store, settings):
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(EngineError, match="use --engine duckdb"):
        open_engine("database", store, settings)


def test_analyze_cli_snapshot_api_and_files(loaded, settings, monkeypatch, tmp_path):
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from cherish.access.service import create_key
    from cherish.api.app import create_app
    from cherish.cli import app
    from cherish.config import reset_settings

    monkeypatch.setenv("CHERISH_DATABASE_URL", settings.database_url)
    reset_settings()
    out = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["analyze", "--as-of", "2026-04-30", "--json", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "repeat-customer rate 50.0%" in result.stderr
    assert json.loads(out.read_text())["customers"] == 4
    with loaded.write() as session:
        key = create_key(session, role="viewer")[1]
    with TestClient(create_app(settings, loaded)) as client:
        latest = client.get("/api/metrics", headers={"Authorization": f"Bearer {key}"}).json()
        assert latest["as_of"] == "2026-04-30" and latest["metrics"]["repeat_customer_rate"] == 0.5
        assert client.get("/api/metrics").status_code == 401
    orders = tmp_path / "orders.csv"
    orders.write_text("cust,day,amount,store\nA,20260105,20,X\nA,20260210,30,X\nB,20260120,40,Y\nC,20260203,10,Y\n")
    result = CliRunner().invoke(app, ["analyze", "--orders", str(orders), "--customer-column", "cust",
                                      "--date-column", "day", "--date-format", "%Y%m%d", "--amount-column", "amount",
                                      "--branch-column", "store", "--as-of", "2026-03-31", "--json", str(out)])
    assert result.exit_code == 0, result.stderr
    from_file = json.loads(out.read_text())
    assert from_file["customers"] == 3 and from_file["repeat_customer_rate"] == pytest.approx(1 / 3)
    assert from_file["cohort_retention"]["2026-01"]["retention"] == [0.5, 0.0]
    bad = CliRunner().invoke(app, ["analyze", "--orders", str(orders), "--customer-column", "nope"])
    assert bad.exit_code == 1 and "no such column" in bad.stderr
    reset_settings()


def test_rfm_and_consistency_by_hand(loaded, settings, engine):
    from cherish.analytics.service import customer_scores

    chosen = open_engine(engine, loaded, settings)
    try:
        rows = {r["customer_id"]: r for r in customer_scores(chosen, AS_OF)}
        result = analyze(chosen, AS_OF)
    finally:
        chosen.close()
    with loaded.read() as session:
        from sqlalchemy import select

        from cherish.identity.models import Identifier

        ids = dict(session.execute(select(Identifier.value, Identifier.customer_id)
                                   .where(Identifier.type == "user_id")).all())
    scores = {user: (rows[cid]["r"], rows[cid]["f"], rows[cid]["m"]) for user, cid in ids.items() if cid in rows}
    # recency days A 29, B 100, C 69, E 60; purchase days A 3, B 1, C 2, E 1; value A 70, B 40, C 20, E 10
    assert scores == {"A": (4, 4, 4), "B": (1, 1, 3), "C": (2, 3, 2), "E": (3, 1, 1)}, engine
    assert rows[ids["A"]]["recency_days"] == 29 and rows[ids["A"]]["monetary"] == pytest.approx(70)
    assert result["rfm"]["f"] == {"1": 2, "2": 0, "3": 1, "4": 1, "5": 0}
    branch = result["consistency"]["branch"]["nps"]
    assert branch["icc1"] == pytest.approx(-0.67345, abs=1e-4) and branch["index"] == 1.0
    assert branch["flagged"] == [] and branch["mean"] == pytest.approx(6.0)


def test_consistency_flags_real_outliers_not_small_samples():
    from cherish.analytics.consistency import consistency

    def unit(name, n, mean, sd):  # type: ignore[no-untyped-def]
        return {"branch": name, "n": n, "total": n * mean, "squares": (n - 1) * sd**2 + n * mean**2}

    steady = [unit(f"b{i}", 60, 7.0 + (i % 3 - 1) * 0.05, 2.0) for i in range(9)]
    tiny = unit("three answers", 3, 4.0, 2.0)
    weak = unit("weak", 80, 5.0, 2.0)
    result = consistency([*steady, tiny, weak], "branch")
    assert result["flagged"] == ["weak"]
    assert 0 < result["index"] < 1
    assert result["by_unit"]["three answers"]["shrunk_mean"] > 5.5  # pulled most of the way to the overall mean


def test_customer_scores_on_the_360(loaded, settings, keys):
    from fastapi.testclient import TestClient

    from cherish.analytics.service import customer_scores, save_customer_scores
    from cherish.api.app import create_app

    with open_engine("duckdb", loaded, settings) as chosen:
        rows = customer_scores(chosen, AS_OF)
    with loaded.write() as session:
        assert sum(f["customers"] for f in save_customer_scores(session, rows, AS_OF)) == 4
    with TestClient(create_app(settings, loaded)) as client:
        profile = client.get("/api/customers/lookup", params={"user_id": "A"},
                             headers={"Authorization": f"Bearer {keys['viewer']}"}).json()
    assert profile["scores"]["rfm"] == {"r": 4, "f": 4, "m": 4} and profile["scores"]["as_of"] == "2026-04-30"


def test_stages_health_and_flows_by_hand(loaded, settings):
    from datetime import date as day

    from sqlalchemy import func, select

    from cherish.analytics.models import CustomerScore, StageChange
    from cherish.analytics.service import customer_scores, save_customer_scores, stage_summary
    from cherish.customers.models import Customer
    from cherish.identity.models import Identifier

    def stages_as_of(when):  # type: ignore[no-untyped-def]
        with open_engine("duckdb", loaded, settings) as chosen:
            rows = customer_scores(chosen, when)
        with loaded.write() as session:
            known = session.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into.is_(None)))
            return rows, stage_summary(rows, known), save_customer_scores(session, rows, when)

    rows, summary, flows = stages_as_of(AS_OF)
    with loaded.read() as session:
        user = dict(session.execute(select(Identifier.customer_id, Identifier.value)
                                    .where(Identifier.type == "user_id")).all())
    stage = {user[r["customer_id"]]: r["stage"] for r in rows}
    # typical gap 17 days (C); A: 3 purchase days, 29 days since the last of gaps of 43 → developing;
    # B: 100 days ≈ 5.9 typical gaps → lapsed; C: 69 days ≈ 4.06 of its own 17 → lapsed; E: 60 ≈ 3.5 → at risk
    assert stage == {"A": "developing", "B": "lapsed", "C": "lapsed", "E": "at risk"}
    assert summary["new"] == 2  # D (cancelled) and F (refunded) are known, with no purchase
    assert {(f["from"], f["to"]): f["customers"] for f in flows} == {("new", "developing"): 1, ("new", "lapsed"): 2,
                                                                   ("new", "at risk"): 1}
    health = {user[r["customer_id"]]: r for r in rows}
    assert 0 <= health["B"]["health"] < health["A"]["health"] <= 100
    # two repeat buyers are too few to fit a purchase model: no P(alive) (not a guess of 1), and health is the
    # other three parts, largest first with the most each can give, out of their 60 points scaled to 100
    assert all(r["p_alive"] is None for r in rows)
    reasons = health["A"]["health_reasons"]
    assert sorted(r["of"] for r in reasons) == [15, 20, 25]
    assert [r["points"] for r in reasons] == sorted((r["points"] for r in reasons), reverse=True)
    assert sum(r["points"] for r in reasons) * 100 / 60 == pytest.approx(health["A"]["health"], abs=0.6)
    # two months later A is 90 days ≈ 2.1 of its gaps out (at risk), E 121 days ≈ 7.1 typical gaps (lapsed)
    _, _, later = stages_as_of(day(2026, 6, 30))
    assert sorted((f["from"], f["to"]) for f in later) == [("at risk", "lapsed"), ("developing", "at risk")]
    with loaded.read() as session:
        assert session.scalar(select(func.count()).select_from(StageChange)) == 6
        since = dict(session.execute(select(CustomerScore.customer_id, CustomerScore.stage_since)).all())
    by_user = {name: since[cid] for cid, name in user.items() if cid in since}
    # B bought on 20 January; with the typical gap of 17 days it lapsed 4·17 = 68 days later, on 29 March — and
    # stayed lapsed: the second run keeps that day, not its own
    assert by_user["B"] == day(2026, 3, 29)
    # E (28 February, typical gap 17) lapsed on 8 May, after the first run (30 April) had seen it at risk
    assert by_user["E"] == day(2026, 5, 8)
    # A was developing since its second purchase day (10 February); at risk since 2·43 days after 1 April
    assert by_user["A"] == day(2026, 6, 26)


def test_windowed_and_first_channel_repeat_rates(store, settings, engine):
    messages = [
        order("P", "p1", "2026-01-10T10:00:00Z", 10, channel="web"), order("P", "p2", "2026-03-10T10:00:00Z", 10),
        order("Q", "q1", "2026-02-10T10:00:00Z", 10, channel="store"),
        order("R", "r1", "2026-02-15T10:00:00Z", 10, channel="store"), order("R", "r2", "2026-05-01T10:00:00Z", 10),
        order("S", "s1", "2025-12-01T10:00:00Z", 10, channel="web"), order("S", "s2", "2026-02-01T10:00:00Z", 10),
    ]
    for m in messages:
        m["context"] = {"channel": m["properties"].pop("channel", "web")}
    with store.write() as session:
        assert ingest(session, messages, settings=settings).rejected == []
    chosen = open_engine(engine, store, settings)
    try:
        result = analyze(chosen, date(2026, 6, 30), window=(date(2026, 1, 1), date(2026, 3, 31)))
    finally:
        chosen.close()
    # first purchase inside Jan–Mar: P, Q, R; repeats by 31 March: P only (R's second comes in May)
    assert result["repeat_customer_rate_window"]["customers"] == 3
    assert result["repeat_customer_rate_window"]["rate"] == pytest.approx(1 / 3)
    by_channel = result["repeat_customer_rate_by_first_channel"]
    assert by_channel["web"] == {"customers": 2, "rate": 1.0}  # P and S began on the web
    assert by_channel["store"]["customers"] == 2 and by_channel["store"]["rate"] == pytest.approx(0.5)
