"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from cherish.analytics.clv.base import Model, as_array, compress, maximise
from cherish.errors import InvalidInput


class GammaGamma(Model):
    """Transaction values vary around each customer's mean ~ Gamma(p, ν), with ν ~ Gamma(q, γ) across customers.

    Fit on customers with at least one repeat purchase: ``frequency`` repeat purchases whose mean value is
    ``mean_value``. The likelihood is flat near its maximum, so convergence is checked on the gradient.
    """

    names = ("p", "q", "gamma")

    def fit(self, frequency: Any, mean_value: Any, weights: Any = None) -> GammaGamma:
        x, m = as_array("frequency", frequency), as_array("mean_value", mean_value)
        if x.shape != m.shape:
            raise InvalidInput("frequency and mean_value must have the same length")
        if np.any(x <= 0) or np.any(m <= 0):
            raise InvalidInput("Gamma-Gamma is fitted on customers with repeat purchases (frequency > 0) of "
                               "positive value; filter the others out first")
        if weights is None:
            (x, m), w = compress(x, m)
        else:
            w = np.asarray(weights, dtype=float).ravel()
        scale = float(np.average(m, weights=w))  # values in units of the average spend
        data = (x, m / scale, w)
        log_params, nll, inverse = maximise(lambda p: -self._ll(p, *data), np.log([1.0, 1.0, 1.0]),
                                            gradient=lambda p: -self._gradient(p, *data), names=self.names,
                                            relative_tolerance=1e-9)
        log_params = log_params.copy()
        log_params[2] += np.log(scale)
        self._finish(log_params, -self._ll(log_params, x, m, w), inverse)
        return self

    @staticmethod
    def _ll(log_params: np.ndarray, x, m, w) -> float:
        p, q, g = np.exp(log_params)
        px = p * x
        ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m) + px * np.log(x)
              - (px + q) * np.log(x * m + g))
        return float(np.sum(w * ll))

    @staticmethod
    def _gradient(log_params: np.ndarray, x, m, w) -> np.ndarray:
        p, q, g = np.exp(log_params)
        px = p * x
        d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - np.log(x * m + g))
        d_q = digamma(px + q) - digamma(q) + np.log(g) - np.log(x * m + g)
        d_g = q / g - (px + q) / (x * m + g)
        return np.array([np.sum(w * d) for d in (d_p, d_q, d_g)]) * np.array([p, q, g])

    def expected_value(self, frequency: Any, mean_value: Any) -> np.ndarray:
        """Expected value of a customer's future transactions, given x repeat purchases averaging m."""
        p, q, g = self._require_fit().values()
        x, m = as_array("frequency", frequency), as_array("mean_value", mean_value)
        population = p * g / (q - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            individual = (g + x * m) * p / (p * x + q - 1)
        return np.where(x > 0, individual, population)
