"""`cherish analyze`: run the metrics on an engine, as of a date, and keep a dated snapshot in the store."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cherish.analytics import metrics
from cherish.analytics.engines import Engine
from cherish.analytics.models import MetricsSnapshot
import numpy as np

from cherish.analytics.consistency import consistency
from cherish.analytics.stages import classify, lifetime_values
from cherish.analytics.scores import score_of
from cherish.errors import EngineError

DIMENSIONS = ("channel", "branch", "employee")


def _rows(expr: Any, engine: Engine) -> list[dict[str, Any]]:
    try:
        return expr.to_pyarrow().to_pylist()
    except Exception as exc:  # a failed query keeps its SQL in the message
        try:
            sql = str(engine.backend.compile(expr))
        except Exception:  # noqa: BLE001
            sql = "(could not compile)"
        raise EngineError(f"{engine.name} failed: {str(exc).splitlines()[0]}\nquery: {sql[:2000]}") from exc


def _month_key(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def _months_between(later: date, earlier: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def filtered(engine: Engine, *, channel: str | None = None, branch: str | None = None,
             since: date | None = None) -> Engine:
    """The same engine over a slice: purchases and answers of one channel or branch, from a day on."""
    purchases, answers = engine.purchases, engine.answers
    if channel:
        purchases, answers = purchases.filter(purchases.channel == channel), answers.filter(answers.channel == channel)
    if branch:
        purchases, answers = purchases.filter(purchases.branch == branch), answers.filter(answers.branch == branch)
    if since:
        purchases, answers = purchases.filter(purchases.day >= since), answers.filter(answers.day >= since)
    return Engine(engine.name, engine.backend, purchases, answers)


def analyze(engine: Engine, as_of: date, progress: Callable[[str], None] | None = None,
            window: tuple[date, date] | None = None) -> dict[str, Any]:
    """Every relationship metric of the store (or file) as of ``as_of``, as JSON-ready data.

    ``window`` (default: the twelve months ending on ``as_of``) bounds the windowed repeat-customer rate.
    """
    step = progress or (lambda _: None)
    purchases, answers = metrics.until(engine.purchases, as_of), metrics.until(engine.answers, as_of)
    step("repeat-customer rate")
    overall = _rows(metrics.repeat_rate(purchases), engine)[0]
    customers = int(overall["customers"] or 0)
    result: dict[str, Any] = {
        "as_of": as_of.isoformat(), "engine": engine.name, "customers": customers,
        "repeat_customers": int(overall["repeaters"] or 0),
        "repeat_customer_rate": (int(overall["repeaters"] or 0) / customers) if customers else None,
    }
    start, end = window or (as_of - timedelta(days=364), as_of)
    inside = _rows(metrics.repeat_rate_in_window(engine.purchases, start, end), engine)[0]
    result["repeat_customer_rate_window"] = {
        "start": start.isoformat(), "end": end.isoformat(), "customers": int(inside["customers"] or 0),
        "rate": (int(inside["repeaters"] or 0) / int(inside["customers"])) if inside["customers"] else None,
    }
    result["repeat_customer_rate_by_first_channel"] = {
        str(r["channel"]): {"customers": int(r["customers"]), "rate": int(r["repeaters"]) / int(r["customers"])}
        for r in _rows(metrics.repeat_rate_by_first_channel(purchases), engine)
    }
    by_cohort = _rows(metrics.repeat_rate_by_cohort(purchases), engine)
    result["repeat_customer_rate_by_cohort"] = {
        _month_key(r["cohort"]): {"customers": int(r["customers"]), "rate": int(r["repeaters"]) / int(r["customers"])}
        for r in by_cohort
    }
    step("days to the second purchase")
    gaps = _rows(metrics.days_to_second_purchase(purchases), engine)[0]
    result["days_to_second_purchase"] = {k: (float(v) if v is not None else None) for k, v in gaps.items()}
    step("cohort retention")
    partial = as_of.day != calendar.monthrange(as_of.year, as_of.month)[1]
    sizes = {_month_key(r["cohort"]): (r["cohort"], int(r["size"])) for r in _rows(metrics.cohort_sizes(purchases), engine)}
    activity: dict[tuple[str, int], tuple[int, float]] = {
        (_month_key(r["cohort"]), int(r["k"])): (int(r["active"]), float(r["revenue"] or 0.0))
        for r in _rows(metrics.cohort_activity(purchases), engine)
    }
    retention = {}
    for key, (cohort, size) in sorted(sizes.items()):
        span = _months_between(as_of, cohort)
        first_revenue = activity.get((key, 0), (0, 0.0))[1]
        retention[key] = {
            "size": size,
            "retention": [activity.get((key, k), (0, 0.0))[0] / size for k in range(1, span + 1)],
            "revenue_retention": [
                (activity.get((key, k), (0, 0.0))[1] / first_revenue) if first_revenue else None
                for k in range(1, span + 1)
            ],
            "partial": partial and span >= 1,  # the last month of the list is still in progress
        }
    result["cohort_retention"] = retention
    result["partial_month"] = _month_key(as_of) if partial else None
    step("experience scores")
    result["scores"] = {r["score_type"]: score_of(r) for r in _rows(metrics.score_counts(answers), engine)}
    result["scores_by"] = {}
    for dimension in DIMENSIONS:
        grouped: dict[str, dict[str, Any]] = {}
        for row in _rows(metrics.score_counts(answers, by=dimension), engine):
            if row[dimension] is not None:
                grouped.setdefault(row["score_type"], {})[str(row[dimension])] = score_of(row)
        result["scores_by"][dimension] = grouped
    step("consistency")
    result["consistency"] = {}
    for dimension in DIMENSIONS:
        rows = _rows(metrics.unit_moments(answers, dimension), engine)
        result["consistency"][dimension] = {
            kind: consistency([r for r in rows if r["score_type"] == kind], dimension)
            for kind in sorted({r["score_type"] for r in rows})
        }
    step("RFM")
    distribution = _rows(metrics.rfm_distribution(purchases, as_of), engine)
    result["rfm"] = {letter: {str(s): 0 for s in range(1, 6)} for letter in ("r", "f", "m")}
    for row in distribution:
        result["rfm"][row["letter"]][str(int(row["score"]))] = int(row["customers"])
    by_month: dict[str, dict[str, Any]] = {}
    for row in _rows(metrics.score_counts(answers, by="month"), engine):
        by_month.setdefault(row["score_type"], {})[_month_key(row["month"])] = score_of(row)
    result["scores_by"]["month"] = by_month
    return result


def customer_scores(engine: Engine, as_of: date) -> list[dict[str, Any]]:
    """Per customer with a purchase: RFM, P(alive), relationship stage and health."""
    purchases = metrics.until(engine.purchases, as_of)
    rfm = {r["customer_id"]: r for r in _rows(metrics.rfm_scores(purchases, as_of), engine)}
    cadence = _rows(metrics.customer_cadence(purchases, as_of), engine)
    gaps = [r["span"] for r in cadence if r["purchase_days"] == 2]
    typical = float(np.median(gaps)) if gaps else 60.0
    alive, value = lifetime_values(cadence)
    staged = classify(cadence, alive, typical, value)
    return [{**rfm[row["customer_id"]], **row} for row in staged]


def save_customer_scores(session: Session, rows: list[dict[str, Any]], as_of: date) -> list[dict[str, Any]]:
    """Write each customer's scores and stage back to the store; record stage changes; return the flows."""
    from cherish.analytics.models import CustomerScore

    from cherish.analytics.models import StageChange
    from cherish.customers.models import Customer
    from cherish.db.dialects import bulk_insert

    previous = {cid: (stage, since) for cid, stage, since in session.execute(
        select(CustomerScore.customer_id, CustomerScore.stage, CustomerScore.stage_since))}
    alive = set(session.scalars(select(Customer.id).where(Customer.merged_into.is_(None))))
    rows = [r for r in rows if r["customer_id"] in alive]
    changes = [{"customer_id": r["customer_id"], "from_stage": previous.get(r["customer_id"], (None, None))[0],
                "to_stage": r["stage"], "as_of": as_of}
               for r in rows if previous.get(r["customer_id"], (None, None))[0] != r["stage"]]
    # the whole table is replaced: a customer without purchases any more (all refunded) keeps no stale score
    session.execute(delete(CustomerScore))
    bulk_insert(session, CustomerScore.__table__, [
        {"customer_id": r["customer_id"], "as_of": as_of, "recency_days": int(r["recency_days"]),
         "frequency": int(r["frequency"]), "monetary": float(r["monetary"] or 0.0), "r": int(r["r"]), "f": int(r["f"]),
         "m": int(r["m"]), "p_alive": float(r["p_alive"]), "stage": r["stage"],
         "stage_since": as_of if previous.get(r["customer_id"], (None, None))[0] != r["stage"]
         else previous[r["customer_id"]][1],
         "health": int(r["health"]), "health_reasons": r["health_reasons"], "clv": r.get("clv")}
        for r in rows
    ])
    if changes:
        session.execute(StageChange.__table__.insert(), changes)
    flows: dict[tuple[str, str], int] = {}
    for change in changes:
        key = (change["from_stage"] or "new", change["to_stage"])
        flows[key] = flows.get(key, 0) + 1
    return [{"from": a, "to": b, "customers": n} for (a, b), n in sorted(flows.items())]


def stage_summary(rows: list[dict[str, Any]], known_customers: int) -> dict[str, int]:
    """Customers per stage; known customers without a purchase are new."""
    from cherish.analytics.stages import STAGES

    counts = {stage: 0 for stage in STAGES}
    for row in rows:
        counts[row["stage"]] += 1
    counts["new"] = max(known_customers - len(rows), 0)
    return counts


def health_distribution(rows: list[dict[str, Any]]) -> dict[str, int]:
    bins = {f"{low}–{low + 19}": 0 for low in range(0, 100, 20)}
    for row in rows:
        low = min(int(row["health"]) // 20 * 20, 80)
        bins[f"{low}–{low + 19}"] += 1
    return bins


def clv_distribution(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Customers by 12-month value band."""
    edges = (0, 10, 25, 50, 100, 250, 500, 1000)
    bands = {f"{low}–{high}": 0 for low, high in zip(edges, edges[1:], strict=False)} | {f"{edges[-1]}+": 0}
    for row in rows:
        value = row.get("clv")
        if value is None:
            continue
        for low, high in zip(edges, edges[1:], strict=False):
            if value < high:
                bands[f"{low}–{high}"] += 1
                break
        else:
            bands[f"{edges[-1]}+"] += 1
    return bands


def save_snapshot(session: Session, result: dict[str, Any]) -> MetricsSnapshot:
    snapshot = MetricsSnapshot(as_of=date.fromisoformat(result["as_of"]), engine=result["engine"], metrics=result)
    session.add(snapshot)
    session.flush()
    return snapshot


def latest_snapshot(session: Session) -> MetricsSnapshot | None:
    return session.scalar(select(MetricsSnapshot).order_by(MetricsSnapshot.created_at.desc(),
                                                           MetricsSnapshot.id.desc()).limit(1))
