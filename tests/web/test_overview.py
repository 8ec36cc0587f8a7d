"""The overview: charts draw offline in Chromium, tables download as CSV, the report is self-contained."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from tests.analytics.test_metrics import AS_OF, loaded  # noqa: F401  (fixture)
from tests.conftest import bearer
from tests.events.test_sdk_clients import live_url  # noqa: F401  (fixture)
from tests.web.test_dashboard_browser import browser  # noqa: F401  (fixture)


@pytest.fixture
def analysed(loaded, settings):  # type: ignore[no-untyped-def]  # noqa: F811
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
def test_overview_charts_draw_offline(browser, live_url, analysed, admin_user):  # noqa: F811
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
def test_report_is_one_self_contained_file(browser, analysed, settings, tmp_path, monkeypatch):  # noqa: F811
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
