"""The dashboard overview and its CSV tables, and the self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cherish.access.service import Principal
from cherish.analytics import overview
from cherish.analytics.service import latest_snapshot
from cherish.api.auth import require
from cherish.errors import NotFound
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


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, principal: Principal = Depends(require("viewer"))) -> HTMLResponse:
    return _render(request, "overview.html", principal, **context(_latest(request)))


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
