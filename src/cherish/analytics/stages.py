"""Relationship stages and health, from each customer's own purchase cadence and P(alive).

Thresholds are documented in docs/metrics.md; change them there and here together.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import orjson

from cherish.analytics.clv import ConvergenceError, GammaGamma, clv
from cherish.analytics.clv.base import unique_rows
from cherish.analytics.clv.select import DEFAULT, fit_chosen
from cherish.errors import InvalidInput

STAGES = ("new", "first purchase", "developing", "loyal", "at risk", "lapsed", "won back")
ACTIVE_CADENCES = 2.0  # within two of their usual gaps since the last purchase: all is well
LAPSED_CADENCES = 4.0  # beyond four usual gaps: gone quiet
LOYAL_DAYS = 4  # purchase days before a customer counts as loyal
ALIVE_AT_RISK, ALIVE_LAPSED = 0.5, 0.2


def lifetime_values(customers: Mapping[str, np.ndarray], months: int = 12, discount_rate: float = 0.01,
                    model: str = DEFAULT) -> tuple[np.ndarray, np.ndarray | None]:
    """P(alive) (``model``, MBG/NBD or Pareto/NBD, in days, fitted on all customers) and the discounted value of
    the next ``months`` (with Gamma-Gamma on the repeat buyers' mean repeat value). Without enough repeat buyers
    to fit: P(alive) unknown (NaN), no value.

    ``customers`` holds columns: purchase_days, span and age (days), value and first_value (money).
    """
    x = np.asarray(customers["purchase_days"], dtype=float) - 1
    if len(x) == 0:
        return np.zeros(0), None
    t_x = np.asarray(customers["span"], dtype=float)
    big_t = np.asarray(customers["age"], dtype=float)
    if (x > 0).sum() < 10:
        return np.full(len(x), np.nan), None
    try:
        fitted = fit_chosen(model, x, t_x, big_t)
    except ConvergenceError:
        try:  # the chosen model fitted the calibration period but not the whole history: the default then
            fitted = fit_chosen(DEFAULT, x, t_x, big_t)
        except ConvergenceError:
            return np.full(len(x), np.nan), None
    (ux, ut, ubig), inverse = unique_rows(x, t_x, big_t)  # P(alive) depends on these only: once per distinct row
    alive = fitted.p_alive(ux, ut, ubig)[inverse]
    repeat_value = (np.nan_to_num(np.asarray(customers["value"], dtype=float))
                    - np.nan_to_num(np.asarray(customers["first_value"], dtype=float)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_value = np.where(x > 0, repeat_value / np.maximum(x, 1), np.nan)
    usable = (x > 0) & (mean_value > 0)
    if usable.sum() < 10:
        return alive, None
    try:
        spend = GammaGamma().fit(x[usable], mean_value[usable])
        value = clv(fitted, spend, x, t_x, big_t, np.where(usable, mean_value, np.nan), months=months,
                    discount_rate=discount_rate, periods_per_month=365.25 / 12)
    except (ConvergenceError, InvalidInput):
        return alive, None
    return alive, value


# what each part of health measures, and the most it can give; P(alive) is a chance, not a claim that they are active
REASONS = ("chance they are still a customer (P(alive))", "recent compared with their usual rhythm",
           "repeat purchases", "spend compared with other customers")
WEIGHTS = (40, 25, 20, 15)


def classify(customers: Mapping[str, np.ndarray], alive: np.ndarray, typical_gap: float,
             value: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Stage and a 0–100 health score (with its four contributions, largest first, as JSON text) for each customer
    with a purchase, as columns: stage, p_alive, health, health_reasons, clv (NaN where there is no value).

    ``customers`` holds columns: purchase_days, span, since_last, last_gap (NaN after a single purchase day)
    and value.
    """
    days = np.asarray(customers["purchase_days"], dtype=np.int64)
    span = np.asarray(customers["span"], dtype=float)
    last_gap = np.asarray(customers["last_gap"], dtype=float)
    values = np.nan_to_num(np.asarray(customers["value"], dtype=float))
    n = len(days)
    # the share of customers spending at most as much: equal spenders get the same rank
    value_rank = np.searchsorted(np.sort(values), values, side="right") / max(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cadence = np.where((days > 1) & (span > 0), span / np.maximum(days - 1, 1), typical_gap)
        cadence = np.maximum(cadence, 1.0)
        quiet = np.asarray(customers["since_last"], dtype=float) / cadence  # usual gaps since the last purchase
        has_gap = ~np.isnan(last_gap)
        # their rhythm before the last purchase
        prior = np.where((days > 2) & has_gap, (span - last_gap) / np.maximum(days - 2, 1), typical_gap)
        returned = (days >= 2) & has_gap & (np.nan_to_num(last_gap) > LAPSED_CADENCES * np.maximum(prior, 1.0))
    rules = [(quiet > LAPSED_CADENCES) | (alive < ALIVE_LAPSED), (quiet > ACTIVE_CADENCES) | (alive < ALIVE_AT_RISK),
             returned, days == 1, days < LOYAL_DAYS]
    stage = np.select(rules, ["lapsed", "at risk", "won back", "first purchase", "developing"], "loyal").astype(object)
    onset = _onset(customers, cadence, quiet, rules)
    contributions = np.stack([
        WEIGHTS[0] * np.asarray(alive, dtype=float),
        WEIGHTS[1] * np.maximum(0.0, 1 - quiet / LAPSED_CADENCES),
        WEIGHTS[2] * np.minimum(days - 1, 5) / 5,
        WEIGHTS[3] * value_rank,
    ], axis=1)
    known = ~np.isnan(contributions[:, 0])
    # without a P(alive) (too few repeat buyers to fit a model) health is the other three parts out of their 60
    # points, scaled to 100, and P(alive) is left out of the reasons: a guess of 1 would call a lapsed one-time
    # buyer "still a customer"
    health = np.round(np.where(known, np.nansum(contributions, axis=1),
                               np.nansum(contributions, axis=1) * 100 / (100 - WEIGHTS[0]))).astype(np.int64)
    return {"stage": stage, "stage_onset": onset, "p_alive": np.asarray(alive, dtype=float), "health": health,
            "health_reasons": _reasons_json(contributions),
            "clv": np.full(n, np.nan) if value is None else np.round(np.asarray(value, dtype=float), 2)}


def _reasons_json(contributions: np.ndarray) -> np.ndarray:
    """Each customer's health reasons as JSON text, largest part first (ties: the order of REASONS), a part
    without a value (NaN, which sorts last) left out: ``[{"reason": …, "of": 40, "points": 31.2}, …]``.

    Built column-wise in Arrow: a part's points take one of a few hundred values (tenths of at most 40), each
    written once, and the pieces are joined in C; a million customers take a fraction of a second, not five."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = np.argsort(-np.nan_to_num(contributions, nan=-1.0), axis=1, kind="stable")
    tenths = np.rint(np.take_along_axis(contributions, order, axis=1) * 10)  # as np.round(points, 1) rounds
    known = ~np.isnan(tenths)
    steps = np.where(known, tenths, 0).astype(np.int64)
    low = int(steps.min(initial=0))
    written = pa.array([f"{t / 10}}}" for t in range(low, int(steps.max(initial=0)) + 1)])
    everyone = pa.array(np.zeros(len(contributions), dtype=np.int64))
    pieces: list[pa.Array] = [pa.array(["["]).take(everyone)]
    for k in range(contributions.shape[1]):
        heads = pa.array([f'{"," if k else ""}{{"reason":{orjson.dumps(name).decode()},"of":{most},"points":'
                          for name, most in zip(REASONS, WEIGHTS, strict=True)])
        missing = pa.array(~known[:, k])
        pieces.append(pc.if_else(missing, None, heads.take(pa.array(order[:, k]))))
        pieces.append(pc.if_else(missing, None, written.take(pa.array(steps[:, k] - low))))
    pieces.append(pa.array(["]"]).take(everyone))
    joined = pc.binary_join_element_wise(*pieces, "", null_handling="skip")
    return joined.to_numpy(zero_copy_only=False).astype(object)


def _onset(customers: Mapping[str, np.ndarray], cadence: np.ndarray, quiet: np.ndarray,
           rules: list[np.ndarray]) -> np.ndarray:
    """Days before the as-of day on which each customer's stage began, where the purchases tell (NaN where not:
    a stage reached through P(alive) alone, or loyalty reached at a purchase day that is not the last or previous)."""
    days = np.asarray(customers["purchase_days"], dtype=np.int64)
    since_last = np.asarray(customers["since_last"], dtype=float)
    last_gap = np.asarray(customers["last_gap"], dtype=float)
    lapsed, at_risk, returned = rules[0], rules[1], rules[2]
    return np.select(
        [lapsed & (quiet > LAPSED_CADENCES), lapsed, at_risk & (quiet > ACTIVE_CADENCES), at_risk,
         returned, days == 1, days == 2, days == 3, days == LOYAL_DAYS],
        [since_last - LAPSED_CADENCES * cadence, np.nan, since_last - ACTIVE_CADENCES * cadence, np.nan,
         since_last, since_last, since_last, since_last + last_gap, since_last],  # day 1, 2nd day, 2nd day, 4th day
        np.nan)
