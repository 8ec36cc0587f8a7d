"""The overview of the relationship, from a metrics snapshot: page data, chart data and CSV tables."""

from __future__ import annotations

import io
import json
from typing import Any

from cherish.analytics.experience_scores import FEW_ANSWERS
from cherish.spreadsheets import csv_writer

TABLES = ("cohort_retention", "repeat_by_cohort", "scores_by_month", "consistency", "stages", "stage_flows")


def chart_data(metrics: dict[str, Any]) -> dict[str, Any]:
    partial = metrics.get("partial_month")
    within = metrics.get("repeat_within_days_by_cohort", {})
    cohorts = sorted(within)
    scores = {}
    for kind, months in metrics.get("scores_by", {}).get("month", {}).items():
        keys = sorted(months)
        factor = 100 if kind == "csat" else 1
        scores[kind] = {
            "labels": [_label(k, partial) for k in keys],
            "values": [_scaled(months[k]["value"], factor) for k in keys],
            "low": [_scaled(months[k]["low"], factor) for k in keys],
            "high": [_scaled(months[k]["high"], factor) for k in keys],
            "n": [months[k]["n"] for k in keys],
            # a point on few answers (or in the month still in progress) is drawn hollow
            "few": [months[k]["n"] < FEW_ANSWERS or k == partial for k in keys],
        }
    stages = metrics.get("stages", {})
    health = metrics.get("health_distribution", {})
    value = metrics.get("clv_distribution", {})
    return {
        "repeat": {"labels": cohorts, **{
            f"within_{days}": [None if (share := within[k][f"within_{days}"]) is None else round(100 * share, 2)
                               for k in cohorts] for days in (90, 365)}},
        "scores": scores,
        "stages": {"labels": list(stages), "values": list(stages.values())},
        "health": {"labels": list(health), "values": list(health.values())},
        "clv": {"labels": list(value), "values": list(value.values())},
    }


def _label(month: str, partial: str | None) -> str:
    return f"{month} (partial)" if month == partial else month


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else round(value * factor, 3)


def embedded_json(data: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (customer text may hold '</script>')."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def table(metrics: dict[str, Any], name: str) -> tuple[list[str], list[list[Any]]]:
    """One of the overview's tables as (header, rows), for the page and for CSV downloads."""
    if name == "cohort_retention":
        retention = metrics.get("cohort_retention", {})
        width = max((len(v["retention"]) for v in retention.values()), default=0)
        header = ["cohort", "size"] + [f"month {k}" for k in range(1, width + 1)]
        return header, [[key, v["size"], *[round(x, 4) for x in v["retention"]]]
                        for key, v in sorted(retention.items())]
    if name == "repeat_by_cohort":
        within = metrics.get("repeat_within_days_by_cohort", {})
        # an empty cell: the window has not passed for the whole cohort yet (not a rate of 0)
        return ["cohort", "customers", "repeat_within_90_days", "repeat_within_365_days"], [
            [k, v["customers"], _round(v["within_90"]), _round(v["within_365"])] for k, v in sorted(within.items())]
    if name == "scores_by_month":
        rows = []
        partial = metrics.get("partial_month")
        for kind, months in sorted(metrics.get("scores_by", {}).get("month", {}).items()):
            for month, s in sorted(months.items()):
                rows.append([kind, month, s["n"], _round(s["value"]), _round(s["low"]), _round(s["high"]),
                             "yes" if month == partial else "no", "yes" if s["n"] < FEW_ANSWERS else "no"])
        return ["score", "month", "answers", "value", "low", "high", "partial_month", "few_answers"], rows
    if name == "consistency":
        rows = []
        for dimension, kinds in metrics.get("consistency", {}).items():
            for kind, result in sorted(kinds.items()):
                scores = metrics.get("scores_by", {}).get(dimension, {}).get(kind, {})
                for unit, u in sorted(result.get("by_unit", {}).items()):
                    rows.append([dimension, kind, unit, u["n"], _round(scores.get(unit, {}).get("value")),
                                 _round(u["mean"]), _round(u["shrunk_mean"]), _round(u["low"]), _round(u["high"]),
                                 _round(result.get("mean")), u.get("direction") or "no", _round(result.get("index"))])
        return ["dimension", "score", "unit", "answers", "score_value", "mean_answer", "shrunk_mean_answer", "low",
                "high", "overall_mean_answer", "flagged", "consistency_index"], rows
    if name == "stages":
        return ["stage", "customers"], [[k, v] for k, v in metrics.get("stages", {}).items()]
    if name == "stage_flows":
        flows = metrics.get("stage_flows", [])
        return ["from", "to", "customers"], [[f["from"], f["to"], f["customers"]] for f in flows]
    raise KeyError(name)


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def as_csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def heat(value: float) -> str:
    """Background of a retention cell: the brand colour, stronger with retention."""
    return f"background: rgba(180, 35, 90, {min(max(value, 0.0), 1.0) * 0.85 + 0.05:.2f})"
