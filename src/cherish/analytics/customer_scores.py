"""Each customer's scores from `cherish analyze` — RFM, P(alive), stage, health, value — a column at a time.

A million customers are a million rows: they stay in NumPy arrays from the engine's Arrow result to the bulk
write into the store, never a million Python dicts. Iterating a `CustomerScores` still gives one dict per
customer, for tests and small uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cherish.analytics import metrics
from cherish.analytics.clv.select import DEFAULT, Choice, choose_model
from cherish.analytics.engines import Engine
from cherish.analytics.stages import STAGES, classify, lifetime_values
from cherish.db.base import utcnow

_RFM = ("recency_days", "frequency", "r", "f", "m")


@dataclass
class CustomerScores:
    """One entry per customer with a purchase, as columns (NumPy arrays of equal length)."""

    columns: dict[str, np.ndarray]
    model: dict[str, Any] | None = None  # which purchase model gave P(alive) and value, and why

    def __len__(self) -> int:
        return len(self.columns["customer_id"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = list(self.columns)
        for values in zip(*(self.columns[n].tolist() for n in names), strict=True):
            row = dict(zip(names, values, strict=True))
            row["health_reasons"] = orjson.loads(row["health_reasons"])
            for name in ("clv", "p_alive"):
                if row[name] is not None and np.isnan(row[name]):
                    row[name] = None
            yield row


def customer_scores(engine: Engine, as_of: date) -> CustomerScores:
    """Per customer with a purchase: RFM, P(alive), relationship stage, health and 12-month value."""
    purchases = metrics.until(engine.purchases, as_of)
    rfm = metrics.rfm_scores(purchases, as_of).select("customer_id", "recency_days", "frequency", "monetary",
                                                       "r", "f", "m")
    cadence = metrics.customer_cadence(purchases, as_of).select(
        "customer_id", "purchase_days", "span", "age", "since_last", "last_gap", "value", "first_value")
    joined = rfm.join(cadence, "customer_id")
    table = joined.to_pyarrow()
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    for name in ("span", "age", "since_last", "last_gap", "value", "first_value", "monetary"):
        cols[name] = np.asarray(cols[name], dtype=float)  # nulls become NaN
    cols["value"] = np.nan_to_num(cols["value"])
    cols["first_value"] = np.nan_to_num(cols["first_value"])
    cols["monetary"] = np.nan_to_num(cols["monetary"])
    days = np.asarray(cols["purchase_days"], dtype=np.int64)
    gaps = cols["span"][days == 2]
    typical = float(np.median(gaps)) if len(gaps) else 60.0
    choice = purchase_model(engine, purchases, as_of, float(np.nanmax(cols["age"])) if len(days) else 0.0)
    alive, value = lifetime_values(cols, model=choice.model)
    if len(alive) and np.isnan(alive).all():
        choice.reason += "; not fitted: too few customers with repeat purchases, so no P(alive) and no value"
    staged = classify(cols, alive, typical, value)
    out = {"customer_id": np.asarray(cols["customer_id"], dtype=object)}
    for name in _RFM:
        out[name] = np.asarray(cols[name], dtype=np.int64)
    out["monetary"] = cols["monetary"]
    out.update(staged)
    return CustomerScores(out, choice.as_dict())


HOLDOUT_DAYS = 365  # at most; a quarter of the history when that is shorter


def purchase_model(engine: Engine, purchases: Any, as_of: date, history_days: float) -> Choice:
    """MBG/NBD or Pareto/NBD, whichever predicts the last part of the history better from the part before it."""
    holdout = min(HOLDOUT_DAYS, int(history_days // 4))
    if holdout < 7:
        return Choice(DEFAULT, f"the history is too short for a holdout period: {DEFAULT} by default")
    end = as_of - timedelta(days=holdout)
    table = metrics.calibration_summary(purchases, end).to_pyarrow()
    x, t_x, big_t, later, weights = (table.column(name).to_numpy(zero_copy_only=False).astype(float)
                                     for name in ("frequency", "recency", "T", "holdout", "customers"))
    choice = choose_model(x, t_x, big_t, later, weights, float(holdout))
    choice.calibration_end, choice.holdout_days = end.isoformat(), holdout
    return choice


def save_customer_scores(session: Session, scores: CustomerScores, as_of: date) -> list[dict[str, Any]]:
    """Write each customer's scores and stage back to the store; record stage changes; return the flows.

    The whole table is replaced: a customer without purchases any more (all refunded) keeps no stale score.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from cherish.analytics.models import CustomerScore, StageChange
    from cherish.db.dialects import bulk_insert_columns, fetch_columns

    ids = scores["customer_id"]
    merged = fetch_columns(session, "SELECT id FROM customers WHERE merged_into IS NOT NULL")[0]
    keep = np.flatnonzero(pd.Index(merged).get_indexer(ids) < 0)  # not merged away since the engine read the store
    # in key order: each row lands beside the last in the table's b-tree, not on a page of its own
    keep = keep[pc.sort_indices(pa.array(ids[keep], pa.string())).to_numpy()]
    columns = {name: values[keep] for name, values in scores.columns.items()}
    ids, stages = columns["customer_id"], columns["stage"]
    old_ids, old_stages, old_since, old_as_of = fetch_columns(
        session, "SELECT customer_id, stage, stage_since, as_of FROM customer_scores")
    at = pd.Index(old_ids).get_indexer(ids)
    found = at >= 0
    before = np.full(len(ids), None, dtype=object)
    before[found] = np.asarray(old_stages, dtype=object)[at[found]]
    unchanged = found & (before == stages)
    # days as datetime64 (from ISO text on SQLite, dates on PostgreSQL): a million Python dates would take seconds
    since = _stage_began(columns["stage_onset"], as_of, found, np.asarray(old_as_of, dtype="datetime64[D]"), at)
    since[unchanged] = np.asarray(old_since, dtype="datetime64[D]")[at[unchanged]]
    since = since.astype(object)
    session.execute(delete(CustomerScore))
    clv = columns["clv"]
    bulk_insert_columns(session, CustomerScore.__table__, {
        "customer_id": ids, "as_of": np.full(len(ids), as_of, dtype=object),
        **{name: columns[name] for name in ("recency_days", "frequency", "monetary", "r", "f", "m")},
        "p_alive": _nullable(columns["p_alive"]),
        "stage": stages, "stage_since": since, "health": columns["health"],
        "health_reasons": columns["health_reasons"],
        "clv": _nullable(clv),
    })
    changed = ~unchanged
    bulk_insert_columns(session, StageChange.__table__, {
        "customer_id": ids[changed], "from_stage": before[changed], "to_stage": stages[changed],
        "as_of": np.full(int(changed.sum()), as_of, dtype=object),
        "at": np.full(int(changed.sum()), utcnow(), dtype=object),
    })
    flows = pd.DataFrame({"from": np.where(pd.isna(before[changed]), "new", before[changed]),
                          "to": stages[changed]}).value_counts().sort_index()
    return [{"from": a, "to": b, "customers": int(n)} for (a, b), n in flows.items()]


def _stage_began(onset_days: np.ndarray, as_of: date, found: np.ndarray, old_as_of: np.ndarray,
                 at: np.ndarray) -> np.ndarray:
    """The day a changed stage began: told by the purchases where they can (a lapse began four usual gaps after
    the last purchase), but not before the day after the previous run, which still saw the old stage; where the
    purchases cannot tell (NaN), the run's day."""
    onset = np.ceil(np.maximum(np.nan_to_num(np.asarray(onset_days, dtype=float), nan=0.0), 0.0)).astype(np.int64)
    day = np.datetime64(as_of, "D")
    began = day - onset.astype("timedelta64[D]")
    if found.any():
        previous = old_as_of[at[found]] + np.timedelta64(1, "D")
        began[found] = np.maximum(began[found], np.minimum(previous, day))
    return began


def stage_summary(scores: CustomerScores, known_customers: int) -> dict[str, int]:
    """Customers per stage; known customers without a purchase are new."""
    counts = {stage: 0 for stage in STAGES}
    if len(scores):
        names, numbers = np.unique(np.asarray(scores["stage"], dtype=str), return_counts=True)
        counts.update({str(n): int(c) for n, c in zip(names.tolist(), numbers.tolist(), strict=True)})
    counts["new"] = max(known_customers - len(scores), 0)
    return counts


def health_distribution(scores: CustomerScores) -> dict[str, int]:
    """Customers by health band of 20 points."""
    lows = np.minimum(np.asarray(scores["health"], dtype=np.int64) // 20 * 20, 80)
    return {f"{low}–{low + 19}": int((lows == low).sum()) for low in range(0, 100, 20)}


CLV_EDGES = (0, 10, 25, 50, 100, 250, 500, 1000)


def clv_distribution(scores: CustomerScores) -> dict[str, int]:
    """Customers by 12-month value band (customers without a value are left out)."""
    value = np.asarray(scores["clv"], dtype=float)
    value = value[~np.isnan(value)]
    bands = {}
    for low, high in zip(CLV_EDGES, CLV_EDGES[1:], strict=False):
        # below the first edge counts in the first band, as before
        bands[f"{low}–{high}"] = int(((value < high) & ((value >= low) | (low == 0))).sum())
    bands[f"{CLV_EDGES[-1]}+"] = int((value >= CLV_EDGES[-1]).sum())
    return bands


def _nullable(values: np.ndarray) -> np.ndarray:
    """Floats as objects with None where a value is NaN (what the driver stores as NULL)."""
    out = np.asarray(values, dtype=object)
    out[np.isnan(np.asarray(values, dtype=float))] = None
    return out
