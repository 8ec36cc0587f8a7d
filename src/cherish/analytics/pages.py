"""The dashboard overview and its CSV tables, and the self-contained HTML report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cherish.access.service import Principal
from cherish.analytics import overview
from cherish.analytics.engines import open_engine
from cherish.analytics.service import analyze, filtered, latest_snapshot
from cherish.api.auth import require
from cherish.errors import InvalidInput, NotFound
from cherish.web.pages import _render, templates

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def context(metrics: dict[str, Any] | None, *, inline_csv: bool = False) -> dict[str, Any]:
    """What the overview templates need; a shared report carries its CSV tables inside the links."""
    if not metrics:
        return {"metrics": None}

    def csv_href(name: str) -> str:
        if not inline_csv:
            return f"/overview/{name}.csv"
        return "data:text/csv;charset=utf-8," + quote(overview.as_csv(*overview.table(metrics, name)))

    chart = overview.chart_data(metrics)
    return {"metrics": metrics, "chart": chart, "chart_json": overview.embedded_json(chart),
            "cohort_table": overview.table(metrics, "cohort_retention"), "heat": overview.heat, "csv_href": csv_href}


def _latest(request: Request) -> dict[str, Any] | None:
    with request.app.state.store.read() as session:
        snapshot = latest_snapshot(session)
        return snapshot.metrics if snapshot else None


def _sliced(request: Request, as_of: str, channel: str | None, branch: str | None, since: date | None) -> dict[str, Any]:
    """The metrics of one slice, computed now on DuckDB (a few seconds on a large store), cached per snapshot."""
    key = (as_of, channel, branch, since)
    cache = request.app.state.__dict__.setdefault("overview_cache", {})
    if key not in cache:
        engine = open_engine("duckdb", request.app.state.store, request.app.state.settings)
        try:
            cache[key] = analyze(filtered(engine, channel=channel, branch=branch, since=since),
                                 date.fromisoformat(as_of))
        finally:
            engine.close()
        while len(cache) > 32:
            cache.pop(next(iter(cache)))
    return cache[key]


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, channel: str | None = None, branch: str | None = None, since: str | None = None,
                  principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    metrics = _latest(request)
    channel, branch = (channel or "").strip() or None, (branch or "").strip() or None
    start = None
    if since:
        try:
            start = date.fromisoformat(since)
        except ValueError:
            raise InvalidInput(f"since {since!r} is not a date (YYYY-MM-DD)") from None
    options = {"channels": [], "branches": []}
    if metrics:
        options = {"channels": sorted(metrics.get("scores_by", {}).get("channel", {}).get("nps", {})),
                   "branches": sorted(metrics.get("scores_by", {}).get("branch", {}).get("nps", {}))}
        if channel or branch or start:
            metrics = _sliced(request, metrics["as_of"], channel, branch, start)
    return _render(request, "overview.html", principal, **context(metrics), filters={
        "channel": channel, "branch": branch, "since": since or "", **options})


@router.get("/overview/{name}.csv")
def overview_csv(request: Request, name: str, _: Principal = Depends(require("viewer"))) -> Response:
    metrics = _latest(request)
    if metrics is None or name not in overview.TABLES:
        raise NotFound(f"no table {name}")
    header, rows = overview.table(metrics, name)
    return Response(overview.as_csv(header, rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def report_html(metrics: dict[str, Any]) -> str:
    """The overview as one self-contained HTML file: styles, chart library and data inlined."""
    return templates.get_template("report.html").render(
        css=(STATIC / "cherish.css").read_text(), chart_js=(STATIC / "chart.umd.min.js").read_text(),
        overview_js=(STATIC / "overview.js").read_text(), **context(metrics, inline_csv=True),
    )
