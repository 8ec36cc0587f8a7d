"""`cherish analyze`: run the metrics on an engine, as of a date, and keep a dated snapshot in the store."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.analytics import metrics
from cherish.analytics.consistency import consistency
from cherish.analytics.customer_scores import (
    CustomerScores,
    clv_distribution,
    customer_scores,
    health_distribution,
    save_customer_scores,
    stage_summary,
)
from cherish.analytics.engines import Engine
from cherish.analytics.experience_scores import SCALES, score_of
from cherish.analytics.models import MetricsSnapshot
from cherish.config import Settings
from cherish.db.dialects import json_reader, raw_rows
from cherish.db.engine import Store
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


REPEAT_WINDOWS = (90, 365)


def _repeat_within(rows: list[dict[str, Any]], as_of: date) -> dict[str, dict[str, Any]]:
    """Share of each cohort with a second purchase day within 90 and 365 days of the first; None (not 0) while the
    window of the cohort's last customer has not passed yet — a young cohort has not had the time to come back."""
    out = {}
    for r in rows:
        cohort, customers = r["cohort"], int(r["customers"])
        last_day = date(cohort.year, cohort.month, calendar.monthrange(cohort.year, cohort.month)[1])
        out[_month_key(cohort)] = {"customers": customers, **{
            f"within_{days}": (int(r[f"within_{days}"]) / customers
                               if customers and last_day + timedelta(days=days) <= as_of else None)
            for days in REPEAT_WINDOWS}}
    return out


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
    result["repeat_within_days_by_cohort"] = _repeat_within(
        _rows(metrics.repeat_within_days_by_cohort(purchases), engine), as_of)
    step("days to the second purchase")
    gaps = _rows(metrics.days_to_second_purchase(purchases), engine)[0]
    result["days_to_second_purchase"] = {k: (float(v) if v is not None else None) for k, v in gaps.items()}
    step("cohort retention")
    partial = as_of.day != calendar.monthrange(as_of.year, as_of.month)[1]
    cohorts = _rows(metrics.cohort_sizes(purchases), engine)
    sizes = {_month_key(r["cohort"]): (r["cohort"], int(r["size"])) for r in cohorts}
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
            kind: consistency([r for r in rows if r["score_type"] == kind], dimension, SCALES.get(kind))
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


def save_snapshot(session: Session, result: dict[str, Any]) -> MetricsSnapshot:
    snapshot = MetricsSnapshot(as_of=date.fromisoformat(result["as_of"]), engine=result["engine"], metrics=result)
    session.add(snapshot)
    session.flush()
    return snapshot


def latest_snapshot(session: Session) -> MetricsSnapshot | None:
    return session.scalar(select(MetricsSnapshot).order_by(MetricsSnapshot.created_at.desc(),
                                                           MetricsSnapshot.id.desc()).limit(1))


def shown(session: Session, metrics: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's metrics as pages and the API show them: the themes' examples read now (an erased comment is
    not kept in a snapshot)."""
    from cherish.feedback import service as feedback

    if not metrics.get("themes"):
        return metrics
    return {**metrics, "themes": feedback.theme_examples(session, metrics["themes"])}


def analyze_store(store: Store, settings: Settings, as_of: date, *, engine: str = "duckdb",
                  progress: Callable[[str], None] | None = None,
                  window: tuple[date, date] | None = None) -> dict[str, Any]:
    """`cherish analyze` on the store: the metrics, and each customer's scores, stage and value written back,
    kept as a dated snapshot (what the dashboard's overview and the customer 360 show)."""

    from cherish.analytics.engines import open_engine
    from cherish.customers import service as customers
    from cherish.feedback import service as feedback

    say = progress or (lambda text: None)
    chosen = open_engine(engine, store, settings)
    try:
        result = analyze(chosen, as_of, progress=say, window=window)
        say("per-customer scores, stages and value")
        scores = customer_scores(chosen, as_of)
    finally:
        chosen.close()
    say("what drives the scores")
    with store.read() as session:  # (read apart: intake waits for no bootstrap)
        drivers = {kind: found for kind in ("nps", "csat")
                   if (found := feedback.aspect_drivers(session, kind, until=as_of)) is not None}
        rated = feedback.rating_drivers(session, until=as_of)
        say("themes no aspect explains")
        themes = feedback.themes(session, until=as_of)
    say("writing the scores back")
    with store.write() as session:
        known = customers.count(session, living=True)
        result["stages"] = stage_summary(scores, known)
        result["health_distribution"] = health_distribution(scores)
        result["clv_distribution"] = clv_distribution(scores)
        result["purchase_model"] = scores.model
        result["stage_flows"] = save_customer_scores(session, scores, as_of)
        result["drivers"] = drivers
        result["rating_drivers"] = rated
        result["themes"] = themes
        save_snapshot(session, result)
    return result


def analyze_file(path: Path, settings: Settings, as_of: date, *, columns: dict[str, str | None],
                 date_format: str | None = None, engine: str = "duckdb", progress: Callable[[str], None] | None = None,
                 window: tuple[date, date] | None = None) -> dict[str, Any]:
    """`cherish analyze --orders FILE`: the metrics of an orders file, stored nowhere. ``columns`` names the
    file's ``customer``, ``when``, ``amount``, ``channel`` and ``branch`` columns (the first two are needed)."""
    from cherish.analytics.engines import engine_for_files
    from cherish.analytics.files import purchases_from_file

    table = purchases_from_file(path, customer=columns["customer"] or "customer_id", when=columns["when"] or "date",
                                amount=columns.get("amount"), date_format=date_format,
                                channel=columns.get("channel"), branch=columns.get("branch"))
    chosen = engine_for_files(engine, table, settings)
    try:
        return analyze(chosen, as_of, progress=progress, window=window)
    finally:
        chosen.close()


def customer_panels(session: Session, customer_ids: Any, as_of: date) -> dict[str, Any]:
    """Stages, health, value and the last run's flows of only these customers (those with a purchase in a slice),
    from the scores `cherish analyze` wrote: the per-customer panels of a filtered overview."""
    import numpy as np
    import pandas as pd

    from cherish.db.dialects import fetch_columns

    wanted = pd.Index(np.asarray(customer_ids, dtype=object))
    ids, stages, health, value = fetch_columns(session, "SELECT customer_id, stage, health, clv FROM customer_scores")
    keep = wanted.get_indexer(np.asarray(ids, dtype=object)) >= 0
    scores = CustomerScores({
        "customer_id": np.asarray(ids, dtype=object)[keep], "stage": np.asarray(stages, dtype=object)[keep],
        "health": np.asarray(health, dtype=float)[keep],
        "clv": np.asarray([np.nan if v is None else v for v in value], dtype=float)[keep]})
    counts = stage_summary(scores, int(keep.sum()))
    counts.pop("new")  # a customer in a slice has a purchase in it
    moved = fetch_columns(session, "SELECT customer_id, from_stage, to_stage FROM stage_changes "
                                   f"WHERE as_of = '{as_of.isoformat()}'")
    inside = wanted.get_indexer(np.asarray(moved[0], dtype=object)) >= 0
    flows = pd.DataFrame({"from": np.asarray(moved[1], dtype=object)[inside],
                          "to": np.asarray(moved[2], dtype=object)[inside]}).fillna("new").value_counts().sort_index()
    return {"stages": counts, "health_distribution": health_distribution(scores),
            "clv_distribution": clv_distribution(scores),
            "stage_flows": [{"from": a, "to": b, "customers": int(n)} for (a, b), n in flows.items()]}


_SCORE_COLUMNS = ("as_of", "recency_days", "frequency", "monetary", "r", "f", "m", "p_alive", "stage", "stage_since",
                  "health", "health_reasons", "clv")


def scores_of(session: Session, customer_id: str) -> dict[str, Any] | None:
    """What the latest `cherish analyze` wrote about one customer (None before it ran, or without a purchase)."""
    rows = raw_rows(session, f"SELECT {', '.join(_SCORE_COLUMNS)} FROM customer_scores WHERE customer_id = ?",
                    [customer_id])
    if not rows:
        return None
    score = dict(zip(_SCORE_COLUMNS, rows[0], strict=True))
    return {
        "as_of": _day(score["as_of"]), "recency_days": score["recency_days"], "frequency": score["frequency"],
        "monetary": round(score["monetary"], 2), "rfm": {"r": score["r"], "f": score["f"], "m": score["m"]},
        "p_alive": score["p_alive"], "stage": score["stage"], "stage_since": _day(score["stage_since"]),
        "health": score["health"], "health_reasons": json_reader(session)(score["health_reasons"]),
        "clv": score["clv"],
    }


def _day(value: Any) -> str | None:
    """A date as ISO text (SQLite gives it as text already)."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def standings(session: Session, customer_ids: list[str]) -> dict[str, tuple[float | None, str | None]]:
    """Each scored customer's lifetime value and stage, as the last `cherish analyze` wrote them."""
    found: dict[str, tuple[float | None, str | None]] = {}
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        found.update((cid, (clv, stage)) for cid, clv, stage in raw_rows(
            session, f"SELECT customer_id, clv, stage FROM customer_scores WHERE customer_id IN ({marks})", chunk))
    return found


def clv_cutoffs(session: Session) -> tuple[float, float] | None:
    """The lifetime value that puts a customer among the top quarter and the top tenth (None before analyze)."""
    n = raw_rows(session, "SELECT count(*) FROM customer_scores WHERE clv IS NOT NULL", [])[0][0]
    if not n:
        return None
    quarter, tenth = (raw_rows(session, "SELECT clv FROM customer_scores WHERE clv IS NOT NULL ORDER BY clv DESC "
                                        "LIMIT 1 OFFSET ?", [max(0, int(n * share) - 1)])[0][0]
                      for share in (0.25, 0.10))
    return float(quarter), float(tenth)
