"""Choosing the purchase model of `cherish analyze` by its fit and by how well it predicts a holdout period.

Only models whose P(alive) falls for a one-time buyer who stays quiet are candidates: BG/NBD lets a customer drop
out only after a repeat purchase, so it calls every one-time buyer alive however long ago they bought.
Everything here works on the summary compressed to unique (frequency, recency, T, holdout purchases) rows with
the number of customers sharing each, so the choice costs the same for any size of store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cherish.analytics.clv.base import ConvergenceError, compress
from cherish.analytics.clv.bgnbd import ModifiedBetaGeo
from cherish.analytics.clv.pareto import ParetoNBD
from cherish.errors import InvalidInput

CANDIDATES: dict[str, type] = {"mbgnbd": ModifiedBetaGeo, "pareto": ParetoNBD}
DEFAULT = "mbgnbd"  # when the holdout cannot decide: it has the analytic gradient, so it is the cheaper fit
SAMPLE_CUSTOMERS = 5_000  # the comparison runs on a random sample of this many customers at most
# Pareto/NBD has no analytic gradient here: fitted on all of a million customers it takes minutes, so the chosen
# Pareto/NBD is fitted on a random sample of this many (four parameters: standard errors of a few percent)
PARETO_CUSTOMERS = 20_000
# and on a store where it does not converge it gives up after this many likelihood evaluations per optimiser step
# (its hypergeometric terms can cost milliseconds each): the choice then falls to MBG/NBD
PARETO_EVALUATIONS = 1_500
MIN_REPEATERS = 10


@dataclass
class Choice:
    """The chosen model's name, and for each candidate its calibration log-likelihood and holdout error."""

    model: str
    reason: str
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    calibration_end: str | None = None
    holdout_days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "reason": self.reason, "candidates": self.candidates,
                "calibration_end": self.calibration_end, "holdout_days": self.holdout_days}


def _thin(weights: np.ndarray, keep: int, seed: int = 0) -> np.ndarray:
    """A random sample of ``keep`` customers out of rows of ``weights`` customers each (binomial thinning)."""
    total = float(weights.sum())
    if total <= keep:
        return weights
    return np.random.default_rng(seed).binomial(weights.astype(np.int64), keep / total).astype(float)


def choose_model(frequency: Any, recency: Any, T: Any, holdout: Any, weights: Any,
                 holdout_length: float) -> Choice:
    """Fit each candidate on the calibration summary and keep the one whose predicted repeat purchases in the
    holdout are closest to the actual ones (mean squared error per customer); log-likelihoods are kept as well.

    ``holdout`` is each row's repeat purchases in the holdout period, ``holdout_length`` that period's length in
    the unit of recency and T.
    """
    x, t_x, big_t, actual, w = (np.asarray(v, dtype=float) for v in (frequency, recency, T, holdout, weights))
    if not len(x) == len(t_x) == len(big_t) == len(actual) == len(w):
        raise InvalidInput("frequency, recency, T, holdout and weights must have the same length")
    if holdout_length <= 0:
        raise InvalidInput("the holdout period must be longer than zero")
    w = _thin(w, SAMPLE_CUSTOMERS)
    used = w > 0
    x, t_x, big_t, actual, w = x[used], t_x[used], big_t[used], actual[used], w[used]
    if w[x > 0].sum() < MIN_REPEATERS:
        return Choice(DEFAULT, f"fewer than {MIN_REPEATERS} customers bought again before the holdout: "
                               f"{DEFAULT} by default")
    results: dict[str, dict[str, Any]] = {}
    for name in CANDIDATES:
        try:
            model = _candidate(name).fit(x, t_x, big_t, weights=w)
        except (ConvergenceError, InvalidInput) as exc:
            results[name] = {"error": str(exc)}
            continue
        predicted = model.conditional_expected_purchases(holdout_length, x, t_x, big_t)
        if not np.all(np.isfinite(predicted)):
            results[name] = {"error": "predictions are not finite"}
            continue
        results[name] = {
            "log_likelihood": float(model.log_likelihood_),
            "holdout_mse": float(np.average((predicted - actual) ** 2, weights=w)),
            "holdout_predicted": float(np.dot(predicted, w)), "holdout_actual": float(np.dot(actual, w)),
        }
    fitted = {name: r for name, r in results.items() if "holdout_mse" in r}
    if not fitted:
        return Choice(DEFAULT, "no candidate could be fitted on the calibration period", results)
    best = min(fitted, key=lambda name: (fitted[name]["holdout_mse"], -fitted[name]["log_likelihood"]))
    return Choice(best, "lowest holdout error (mean squared error of repeat purchases per customer)", results)


def _candidate(name: str) -> Any:
    return ParetoNBD(max_evaluations=PARETO_EVALUATIONS) if name == "pareto" else CANDIDATES[name]()


def fit_chosen(name: str, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> Any:
    """The chosen model fitted on every customer (MBG/NBD) or on a random sample of them (Pareto/NBD)."""
    if name != "pareto" or len(frequency) <= PARETO_CUSTOMERS:
        return _candidate(name).fit(frequency, recency, T)
    (x, t_x, big_t), weights = compress(frequency, recency, T)
    weights = _thin(weights, PARETO_CUSTOMERS)
    used = weights > 0
    return _candidate(name).fit(x[used], t_x[used], big_t[used], weights=weights[used])


MODELS = {"bgnbd": "BetaGeo", "pareto": "ParetoNBD", "mbgnbd": "ModifiedBetaGeo"}


def model_named(name: str) -> Any:
    """The model class that `--model NAME` names."""
    from cherish.analytics import clv

    if name not in MODELS:
        raise InvalidInput(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return getattr(clv, MODELS[name])


def choose_for_summary(summary: Any) -> tuple[dict[str, Any], Any]:
    """MBG/NBD or Pareto/NBD for a purchase summary: by holdout error when it has a holdout, else by
    log-likelihood (both have four parameters); with the chosen model when it was already fitted on the whole
    summary (else None)."""
    if summary.holdout_purchases is not None and summary.holdout_length:
        return choose_model(summary.frequency, summary.recency, summary.T, summary.holdout_purchases,
                            np.ones(len(summary.frequency)), summary.holdout_length).as_dict(), None
    fitted, failed = {}, {}
    for name, model in (("mbgnbd", ModifiedBetaGeo), ("pareto", ParetoNBD)):
        try:
            fitted[name] = model().fit(summary.frequency, summary.recency, summary.T)
        except ConvergenceError as exc:  # the other candidate may still fit
            failed[name] = str(exc)
    if not fitted:
        raise InvalidInput("neither MBG/NBD nor Pareto/NBD could be fitted to this file: "
                           + "; ".join(f"{name}: {why}" for name, why in failed.items()))
    best = max(fitted, key=lambda name: fitted[name].log_likelihood_)
    candidates: dict[str, Any] = {name: {"log_likelihood": m.log_likelihood_} for name, m in fitted.items()}
    candidates.update({name: {"failed": why} for name, why in failed.items()})
    return {"model": best, "reason": "higher log-likelihood (no holdout period given)",
            "candidates": candidates}, fitted[best]
