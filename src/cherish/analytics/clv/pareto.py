"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), likelihood as in Fader & Hardie's 2005 note."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln, hyp2f1

from cherish.analytics.clv.base import Model, check_rft, maximise, rft_and_weights


def _log_a0(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray,
            big_t: np.ndarray) -> np.ndarray:
    """log of A0, the difference of two Gauss hypergeometric terms, computed without overflow."""
    rsx = r + s + x
    b_param: float | np.ndarray
    if alpha >= beta:
        z_small, z_big = (alpha - beta) / (alpha + t_x), (alpha - beta) / (alpha + big_t)
        b_param, base_small, base_big = s + 1, alpha + t_x, alpha + big_t
    else:
        z_small, z_big = (beta - alpha) / (beta + t_x), (beta - alpha) / (beta + big_t)
        b_param, base_small, base_big = r + x, beta + t_x, beta + big_t
    first = np.log(hyp2f1(rsx, b_param, rsx + 1, z_small)) - rsx * np.log(base_small)
    second = np.log(hyp2f1(rsx, b_param, rsx + 1, z_big)) - rsx * np.log(base_big)
    with np.errstate(divide="ignore"):
        return first + np.log1p(-np.exp(np.minimum(second - first, 0.0)))


class ParetoNBD(Model):
    """Pareto/NBD: Poisson purchases (rates ~ Gamma(r, α)) and exponential lifetimes (rates ~ Gamma(s, β))."""

    names = ("r", "alpha", "s", "beta")

    def __init__(self, max_evaluations: int | None = None) -> None:
        self.max_evaluations = max_evaluations  # give up (ConvergenceError) after this many per optimiser step

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> ParetoNBD:
        x, t_x, big_t, w = rft_and_weights(frequency, recency, T, weights)
        scale = max(float(np.average(big_t, weights=w)), 1e-6)
        data = (x, t_x / scale, big_t / scale, w)
        start = np.log([0.5, 0.5, 0.5, 0.5])
        log_params, nll, inverse = maximise(lambda p: -self._ll(p, *data), start, names=self.names,
                                         max_evaluations=self.max_evaluations)
        log_params = log_params.copy()
        log_params[1] += np.log(scale)
        log_params[3] += np.log(scale)
        nll = -self._ll(log_params, x, t_x, big_t, w)
        self._finish(log_params, nll, inverse)
        return self

    def _ll(self, log_params: np.ndarray, x, t_x, big_t, w) -> float:
        r, alpha, s, beta = np.exp(log_params)
        if not np.all(np.isfinite([r, alpha, s, beta])):
            return -np.inf
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        died = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, big_t)
        total = np.sum(w * (a1 + np.logaddexp(alive, died)))
        return float(total) if np.isfinite(total) else -1e300

    def expected_purchases(self, t: Any) -> np.ndarray:
        r, alpha, s, beta = self._require_fit().values()
        t = np.asarray(t, dtype=float)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        r, alpha, s, beta = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        log_ratio = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + big_t) + s * np.log(beta + big_t)
                     + _log_a0(r, alpha, s, beta, x, t_x, big_t))
        return 1 / (1 + np.exp(log_ratio))

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        r, alpha, s, beta = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        rate = (r + x) * (beta + big_t) / ((alpha + big_t) * (s - 1))
        return rate * (1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1)) * self.p_alive(x, t_x, big_t)
