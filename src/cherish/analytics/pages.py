"""The dashboard overview and its CSV tables, and the self-contained HTML report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cherish.access.guard import require
from cherish.access.service import Principal
from cherish.analytics import overview
from cherish.analytics.engines import open_engine
from cherish.analytics.service import analyze, customer_panels, filtered, latest_snapshot, shown
from cherish.errors import InvalidInput, NotFound
from cherish.web.render import render_page, templates

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def context(metrics: dict[str, Any] | None, *, inline_csv: bool = False,
            filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the overview templates need; a shared report carries its CSV tables inside the links, a filtered
    overview's links carry its filters."""
    if not metrics:
        return {"metrics": None}
    chosen = {k: v for k, v in (filters or {}).items() if k in ("channel", "branch", "since") and v}

    def csv_href(name: str) -> str:
        if not inline_csv:
            return f"/overview/{name}.csv" + (f"?{urlencode(chosen)}" if chosen else "")
        return "data:text/csv;charset=utf-8," + quote(overview.as_csv(*overview.table(metrics, name)))

    chart = overview.chart_data(metrics)
    return {"metrics": metrics, "chart": chart, "chart_json": overview.embedded_json(chart),
            "cohort_table": overview.table(metrics, "cohort_retention"), "heat": overview.heat, "csv_href": csv_href,
            "slice": _slice_words(chosen)}


def _slice_words(chosen: dict[str, Any]) -> str:
    """The filters in words, for a panel that is empty under them: 'in channel web, branch North, from …'."""
    parts = [f"{name} {chosen[name]}" for name in ("channel", "branch") if chosen.get(name)]
    if chosen.get("since"):
        parts.append(f"from {chosen['since']}")
    return ("in " + ", ".join(parts)) if parts else ""


def _latest(request: Request) -> dict[str, Any] | None:
    with request.app.state.store.read() as session:
        snapshot = latest_snapshot(session)
        return shown(session, snapshot.metrics) if snapshot else None


def _sliced(request: Request, as_of: str, channel: str | None, branch: str | None,
            since: date | None) -> dict[str, Any]:
    """The metrics of one slice, computed now on DuckDB (a few seconds on a large store), cached per snapshot;
    stages, health and value are those of the customers with a purchase in the slice."""
    key = (as_of, channel, branch, since)
    cache = request.app.state.__dict__.setdefault("overview_cache", {})
    if key not in cache:
        day = date.fromisoformat(as_of)
        engine = open_engine("duckdb", request.app.state.store, request.app.state.settings)
        try:
            part = filtered(engine, channel=channel, branch=branch, since=since)
            result = analyze(part, day)
            ids = part.purchases.filter(part.purchases.day <= day).select("customer_id").distinct().to_pyarrow()
        finally:
            engine.close()
        with request.app.state.store.read() as session:
            result.update(customer_panels(session, ids.column("customer_id").to_numpy(zero_copy_only=False), day))
        cache[key] = result
        while len(cache) > 32:
            cache.pop(next(iter(cache)))
    return cache[key]


def _filters(channel: str | None, branch: str | None, since: str | None) -> tuple[str | None, str | None, date | None]:
    channel, branch = (channel or "").strip() or None, (branch or "").strip() or None
    start = None
    if since:
        try:
            start = date.fromisoformat(since)
        except ValueError:
            raise InvalidInput(f"since {since!r} is not a date (YYYY-MM-DD)") from None
    return channel, branch, start


def _metrics(request: Request, channel: str | None, branch: str | None, start: date | None) -> dict[str, Any] | None:
    metrics = _latest(request)
    if metrics and (channel or branch or start):
        metrics = _sliced(request, metrics["as_of"], channel, branch, start)
    return metrics


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, channel: str | None = None, branch: str | None = None, since: str | None = None,
                  principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    channel, branch, start = _filters(channel, branch, since)
    latest = _latest(request)
    options: dict[str, list[Any]] = {"channels": [], "branches": []}
    if latest:
        options = {"channels": sorted(latest.get("scores_by", {}).get("channel", {}).get("nps", {})),
                   "branches": sorted(latest.get("scores_by", {}).get("branch", {}).get("nps", {}))}
    metrics = _metrics(request, channel, branch, start)
    filters = {"channel": channel, "branch": branch, "since": since or ""}
    return render_page(request, "overview.html", principal, **context(metrics, filters=filters),
                   filters={**filters, **options})


@router.get("/overview/{name}.csv")
def overview_csv(request: Request, name: str, channel: str | None = None, branch: str | None = None,
                 since: str | None = None, _: Principal = Depends(require("viewer"))) -> Response:
    """One table of the overview, under the same channel, branch and date filters as the page."""
    channel, branch, start = _filters(channel, branch, since)
    metrics = _metrics(request, channel, branch, start)
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
