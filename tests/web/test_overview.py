"""The overview: charts draw offline in Chromium, tables download as CSV, the report is self-contained."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from tests.conftest import bearer
from tests.helpers import AS_OF


@pytest.fixture
def analysed(loaded, settings):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from cherish.analytics.engines import open_engine
    from cherish.analytics.service import (
        analyze,
        customer_scores,
        health_distribution,
        save_customer_scores,
        save_snapshot,
        stage_summary,
    )
    from cherish.customers.models import Customer

    engine = open_engine("duckdb", loaded, settings)
    try:
        result, scores = analyze(engine, AS_OF), customer_scores(engine, AS_OF)
    finally:
        engine.close()
    with loaded.write() as session:
        known = session.scalar(select(func.count()).select_from(Customer))
        result["stages"] = stage_summary(scores, known)
        result["health_distribution"] = health_distribution(scores)
        result["stage_flows"] = save_customer_scores(session, scores, AS_OF)
        save_snapshot(session, result)
    return loaded


def _drawn(page) -> dict:  # type: ignore[no-untyped-def]
    page.wait_for_function("document.body.dataset.chartsDrawn === 'yes'")
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('canvas')].map(c => {
        const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
        return [c.id, ink];
    }))""")


@pytest.mark.browser
def test_overview_charts_draw_offline(browser, live_url, analysed, admin_user):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_url}/login?next=/overview")
    page.fill("input[name=username]", admin_user[0])
    page.fill("input[name=password]", admin_user[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/overview")
    ink = _drawn(page)
    assert set(ink) >= {"chart-repeat", "chart-stages", "chart-nps", "chart-csat", "chart-ces", "chart-health"}
    assert all(count > 200 for count in ink.values()), ink
    assert page.inner_text("#repeat-rate") == "50.0%"
    assert "2026-01" in page.inner_text("#cohort-heatmap")
    assert all(url.startswith(live_url) for url in requests), "the overview loaded something from elsewhere"


def test_overview_tables_download_as_csv(client, analysed, keys):
    response = client.get("/overview/cohort_retention.csv", headers=bearer(keys["viewer"]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "cohort,size,month 1,month 2,month 3" and lines[1] == "2026-01,2,0.5,0.0,0.5"
    for name in ("repeat_by_cohort", "scores_by_month", "consistency", "stages", "stage_flows"):
        assert client.get(f"/overview/{name}.csv", headers=bearer(keys["viewer"])).status_code == 200
    assert client.get("/overview/secrets.csv", headers=bearer(keys["viewer"])).status_code == 404


@pytest.mark.browser
def test_report_is_one_self_contained_file(browser, analysed, settings, tmp_path, monkeypatch):
    from cherish.cli import app
    from cherish.config import reset_settings

    monkeypatch.setenv("CHERISH_DATABASE_URL", settings.database_url)
    reset_settings()
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--html", str(out)])
    reset_settings()
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "<script src=" not in text and "<link" not in text
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    ink = _drawn(page)
    assert ink and all(count > 200 for count in ink.values())
    assert [u for u in requests if not u.startswith("file:")] == []
    assert shutil.which("chromium")


def test_overview_filters_recompute_a_slice(client, analysed, keys):
    whole = client.get("/overview", headers=bearer(keys["viewer"]))
    assert whole.status_code == 200 and 'id="repeat-rate">50.0%' in whole.text
    sliced = client.get("/overview", params={"since": "2026-02-01"}, headers=bearer(keys["viewer"]))
    # from February on, A (Feb, Apr), C (two in Feb) and E (Mar) buy: A and C come back
    assert sliced.status_code == 200 and 'id="repeat-rate">66.7%' in sliced.text
    assert client.get("/overview", params={"since": "soon"}, headers=bearer(keys["viewer"])).status_code == 400


TRUTH_AS_OF = "2026-04-15"  # April is still in progress


@pytest.fixture
def truthful(store, settings):  # type: ignore[no-untyped-def]
    """Four buyers in two branches, and NPS answers that differ clearly by branch."""
    from datetime import date

    from cherish.analytics.service import analyze_store
    from cherish.events.flows import ingest
    from tests.helpers import answer, order

    messages = [
        order("P", "p1", "2025-01-10T12:00:00Z", 10, branch="N"),
        order("P", "p2", "2025-03-01T12:00:00Z", 10, branch="N"),
        order("Q", "q1", "2025-01-20T12:00:00Z", 10, branch="S"),
        order("Q", "q2", "2025-12-01T12:00:00Z", 10, branch="S"),
        order("R", "r1", "2026-03-05T12:00:00Z", 10, branch="S"),
        order("S", "s1", "2026-04-02T12:00:00Z", 10, branch="N"),
        order("S", "s2", "2026-04-10T12:00:00Z", 10, branch="N"),
    ]
    n = 0
    for branch, channel, scores in (("N", "store", [9, 10]), ("S", "web", [1, 2]), ("W", "web", [5, 6])):
        for i in range(20):
            n += 1
            messages.append(answer("P", n, "nps", scores[i % 2], "2026-02-10T12:00:00Z", branch=branch,
                                   channel=channel))
    for score in (10, 10, 8):
        n += 1
        messages.append(answer("S", n, "nps", score, "2026-04-12T12:00:00Z", channel="web"))
    with store.write() as session:
        assert ingest(session, messages, settings=settings).rejected == []
    analyze_store(store, settings, date.fromisoformat(TRUTH_AS_OF))
    return store


def _csv(client, keys, name, **filters):  # type: ignore[no-untyped-def]
    response = client.get(f"/overview/{name}.csv", params=filters, headers=bearer(keys["viewer"]))
    assert response.status_code == 200
    return [line.split(",") for line in response.text.splitlines()]


def test_repeat_by_cohort_counts_fixed_windows_and_obeys_every_filter(client, truthful, keys):
    rows = _csv(client, keys, "repeat_by_cohort")
    assert rows[0] == ["cohort", "customers", "repeat_within_90_days", "repeat_within_365_days"]
    # 2025-01: P came back after 50 days, Q after 315; March's and April's windows have not passed by 15 April:
    # empty, not 0 (S did come back, within April)
    assert rows[1:] == [["2025-01", "2", "0.5", "1.0"], ["2026-03", "1", "", ""], ["2026-04", "1", "", ""]]
    assert _csv(client, keys, "repeat_by_cohort", branch="N")[1:] == [["2025-01", "1", "1.0", "1.0"],
                                                                     ["2026-04", "1", "", ""]]
    assert [r[0] for r in _csv(client, keys, "repeat_by_cohort", since="2026-01-01")[1:]] == ["2026-03", "2026-04"]
    # stages count only the customers with a purchase in the slice: P and S in branch N
    stages = _csv(client, keys, "stages", branch="N")
    assert sum(int(r[1]) for r in stages[1:]) == 2 and "new" not in [r[0] for r in stages[1:]]
    months = _csv(client, keys, "scores_by_month", channel="store")
    assert [(r[0], r[1], r[2]) for r in months[1:]] == [("nps", "2026-02", "20")]
    page = client.get("/overview", params={"branch": "N"}, headers=bearer(keys["viewer"])).text
    assert 'href="/overview/repeat_by_cohort.csv?branch=N"' in page


def test_partial_month_few_answers_and_intervals_within_the_scale(client, truthful, keys):
    rows = _csv(client, keys, "scores_by_month")
    assert rows[0] == ["score", "month", "answers", "value", "low", "high", "partial_month", "few_answers"]
    feb, apr = rows[1], rows[2]
    assert feb[1:3] == ["2026-02", "60"] and feb[6:] == ["no", "no"]
    # April: two promoters and a passive, NPS 66.7 ± 1.96·100·√((2/3 − 4/9)/3) = ± 53.3, which would reach 120
    assert apr[1:3] == ["2026-04", "3"] and apr[6:] == ["yes", "yes"]
    assert float(apr[3]) == pytest.approx(66.6667, abs=1e-3) and float(apr[5]) == 100.0
    assert float(apr[4]) == pytest.approx(100 * (2 / 3 - 1.959963984540054 * (2 / 27) ** 0.5), abs=1e-3)
    page = client.get("/overview", headers=bearer(keys["viewer"])).text
    assert '"2026-04 (partial)"' in page and '"few": [false, true]' in page


def test_consistency_says_which_way_and_nps_by_channel_is_nps(client, truthful, keys):
    rows = [r for r in _csv(client, keys, "consistency") if r[0] == "branch" and r[1] == "nps"]
    flagged = {r[2]: r[10] for r in rows}
    assert flagged == {"N": "above", "S": "below", "W": "no"}
    # overall mean answer (190 + 30 + 110) / 60 = 5.5, which W (5 and 6) sits on
    assert [float(r[9]) for r in rows] == [5.5, 5.5, 5.5]
    page = client.get("/overview", headers=bearer(keys["viewer"])).text
    assert "N (above the mean)" in page and "S (below the mean)" in page
    by_channel = {r[2]: r for r in _csv(client, keys, "consistency") if r[0] == "channel" and r[1] == "nps"}
    # store: 20 promoters → NPS 100; web: 2 promoters, 40 detractors, 1 passive of 43 → 100·(2 − 40)/43
    assert float(by_channel["store"][4]) == 100.0
    assert float(by_channel["web"][4]) == pytest.approx(100 * (2 - 40) / 43, abs=1e-3)
    assert "<th>NPS</th>" in page and "-88.4" in page


def test_a_panel_empty_under_a_filter_says_why(client, truthful, keys):
    page = client.get("/overview", params={"channel": "phone"}, headers=bearer(keys["viewer"])).text
    for what in ("No purchases in channel phone", "No NPS answers in channel phone", "No CSAT answers in channel phone",
                 "No customers with a stage in channel phone"):
        assert what in page, what
