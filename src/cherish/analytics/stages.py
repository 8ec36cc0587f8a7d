"""Relationship stages and health, from each customer's own purchase cadence and P(alive).

Thresholds are documented in docs/metrics.md; change them there and here together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cherish.analytics.clv import BetaGeo, ConvergenceError, GammaGamma, clv
from cherish.errors import InvalidInput

STAGES = ("new", "first purchase", "developing", "loyal", "at risk", "lapsed", "won back")
ACTIVE_CADENCES = 2.0  # within two of their usual gaps since the last purchase: all is well
LAPSED_CADENCES = 4.0  # beyond four usual gaps: gone quiet
LOYAL_DAYS = 4  # purchase days before a customer counts as loyal
ALIVE_AT_RISK, ALIVE_LAPSED = 0.5, 0.2


def lifetime_values(rows: list[dict[str, Any]], months: int = 12,
                    discount_rate: float = 0.01) -> tuple[np.ndarray, np.ndarray | None]:
    """P(alive) (BG/NBD in days, fitted on all customers) and the discounted value of the next ``months``
    (with Gamma-Gamma on the repeat buyers' mean repeat value). Without enough repeat buyers to fit: P(alive) 1,
    no value."""
    if not rows:
        return np.zeros(0), None
    x = np.array([r["purchase_days"] - 1 for r in rows], dtype=float)
    t_x = np.array([r["span"] for r in rows], dtype=float)
    big_t = np.array([r["age"] for r in rows], dtype=float)
    if (x > 0).sum() < 10:
        return np.ones(len(rows)), None
    try:
        model = BetaGeo().fit(x, t_x, big_t)
    except ConvergenceError:
        return np.ones(len(rows)), None
    alive = model.p_alive(x, t_x, big_t)
    repeat_value = np.array([((r["value"] or 0.0) - (r["first_value"] or 0.0)) for r in rows], dtype=float)
    mean_value = np.where(x > 0, repeat_value / np.maximum(x, 1), np.nan)
    usable = (x > 0) & (mean_value > 0)
    if usable.sum() < 10:
        return alive, None
    try:
        spend = GammaGamma().fit(x[usable], mean_value[usable])
        value = clv(model, spend, x, t_x, big_t, np.where(usable, mean_value, np.nan), months=months,
                    discount_rate=discount_rate, periods_per_month=365.25 / 12)
    except (ConvergenceError, InvalidInput):
        return alive, None
    return alive, value


def classify(rows: list[dict[str, Any]], alive: np.ndarray, typical_gap: float,
             value: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Stage and a 0–100 health score (with its three largest contributions) for each customer with a purchase."""
    values = np.array([r["value"] or 0.0 for r in rows], dtype=float)
    value_rank = (np.argsort(np.argsort(values)) + 1) / max(len(rows), 1)
    out = []
    for i, row in enumerate(rows):
        days = int(row["purchase_days"])
        cadence = row["span"] / (days - 1) if days > 1 and row["span"] > 0 else typical_gap
        cadence = max(cadence, 1.0)
        quiet = row["since_last"] / cadence  # how many usual gaps since the last purchase
        if days > 2 and row["last_gap"] is not None:
            prior = (row["span"] - row["last_gap"]) / (days - 2)  # their rhythm before the last purchase
        else:
            prior = typical_gap
        returned = days >= 2 and row["last_gap"] is not None and row["last_gap"] > LAPSED_CADENCES * max(prior, 1.0)
        if quiet > LAPSED_CADENCES or alive[i] < ALIVE_LAPSED:
            stage = "lapsed"
        elif quiet > ACTIVE_CADENCES or alive[i] < ALIVE_AT_RISK:
            stage = "at risk"
        elif returned:
            stage = "won back"
        elif days == 1:
            stage = "first purchase"
        elif days < LOYAL_DAYS:
            stage = "developing"
        else:
            stage = "loyal"
        contributions = {
            "still active (P(alive))": 40 * float(alive[i]),
            "recent compared with their usual rhythm": 25 * float(max(0.0, 1 - quiet / LAPSED_CADENCES)),
            "repeat purchases": 20 * float(min(days - 1, 5) / 5),
            "spend compared with other customers": 15 * float(value_rank[i]),
        }
        health = round(sum(contributions.values()))
        top = sorted(contributions.items(), key=lambda kv: -kv[1])[:3]
        out.append({"customer_id": row["customer_id"], "stage": stage, "p_alive": float(alive[i]), "health": health,
                    "health_reasons": [{"reason": k, "points": round(v, 1)} for k, v in top],
                    "clv": None if value is None else round(float(value[i]), 2)})
    return out
