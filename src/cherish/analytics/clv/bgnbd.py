"""BG/NBD (Fader, Hardie & Lee 2005) and modified BG/NBD (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from cherish.analytics.clv.base import Model, check_rft, compress, maximise


class BetaGeo(Model):
    """BG/NBD: purchases while alive follow a Poisson (rates ~ Gamma(r, α)); after each purchase the customer
    drops out with probability p ~ Beta(a, b)."""

    names = ("r", "alpha", "a", "b")

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> BetaGeo:
        x, t_x, big_t = check_rft(frequency, recency, T)
        if weights is None:
            (x, t_x, big_t), w = compress(x, t_x, big_t)
        else:
            w = np.asarray(weights, dtype=float).ravel()
        scale = max(float(np.average(big_t, weights=w)), 1e-6)  # fit with α in units of the mean T
        data = (x, t_x / scale, big_t / scale, w)
        start = np.log([0.5, 1.0, 0.8, 2.5])
        log_params, nll, inverse = maximise(
            lambda p: -self._ll(p, *data), start, gradient=lambda p: -self._gradient(p, *data), names=self.names)
        log_params = log_params.copy()
        log_params[1] += np.log(scale)
        nll = -self._ll(log_params, x, t_x, big_t, w)
        self._finish(log_params, nll, inverse)
        return self

    @staticmethod
    def _parts(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray):  # type: ignore[no-untyped-def]
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + big_t)
        repeat = x > 0
        a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
                      -np.inf)
        return (r, alpha, a, b), a1, a2, a3, a4, repeat

    def _ll(self, log_params: np.ndarray, x, t_x, big_t, w) -> float:  # type: ignore[no-untyped-def]
        _, a1, a2, a3, a4, _ = self._parts(log_params, x, t_x, big_t)
        return float(np.sum(w * (a1 + a2 + np.logaddexp(a3, a4))))

    def _gradient(self, log_params: np.ndarray, x, t_x, big_t, w) -> np.ndarray:  # type: ignore[no-untyped-def]
        (r, alpha, a, b), _, _, a3, a4, repeat = self._parts(log_params, x, t_x, big_t)
        share4 = np.exp(a4 - np.logaddexp(a3, a4))  # weight of the "dropped out after last purchase" branch
        share3 = 1 - share4
        bx1 = np.where(repeat, b + x - 1, 1.0)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - share3 * np.log(alpha + big_t) - share4 * np.log(alpha + t_x)
        d_alpha = r / alpha - share3 * (r + x) / (alpha + big_t) - share4 * (r + x) / (alpha + t_x)
        d_a = digamma(a + b) - digamma(a + b + x) + share4 / a
        d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - share4 / bx1
        grads = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)])
        return grads * np.array([r, alpha, a, b])  # chain rule for log-parameters

    # -- predictions -------------------------------------------------------------------------------------
    def expected_purchases(self, t: Any) -> np.ndarray:
        """Expected purchases of a new customer in a period of length ``t``."""
        r, alpha, a, b = self._require_fit().values()
        t = np.asarray(t, dtype=float)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Probability that each customer is still active at the end of their observation."""
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.where(x > 0, 1 / (1 + np.exp(log_ratio)), 1.0)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods after T, given each customer's history."""
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        first = (a + b + x - 1) / (a - 1)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
        second = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp
        return first * second * self.p_alive(x, t_x, big_t)


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: like BG/NBD, but a customer may also drop out right after the first purchase."""

    def _ll(self, log_params: np.ndarray, x, t_x, big_t, w) -> float:  # type: ignore[no-untyped-def]
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
        a3 = -(r + x) * np.log(alpha + big_t)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return float(np.sum(w * (a1 + a2 + a3 + np.logaddexp(a4, 0))))

    def _gradient(self, log_params: np.ndarray, x, t_x, big_t, w) -> np.ndarray:  # type: ignore[no-untyped-def]
        r, alpha, a, b = np.exp(log_params)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        share = 1 / (1 + np.exp(-a4))  # d log(1 + e^A4) / d A4
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - np.log(alpha + big_t) + share * (
            np.log(alpha + big_t) - np.log(alpha + t_x))
        d_alpha = r / alpha - (r + x) / (alpha + big_t) + share * (r + x) * (1 / (alpha + big_t) - 1 / (alpha + t_x))
        d_a = digamma(a + b) - digamma(a + b + x + 1) + share / a
        d_b = digamma(a + b) + digamma(b + x + 1) - digamma(b) - digamma(a + b + x + 1) - share / (b + x)
        grads = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)])
        return grads * np.array([r, alpha, a, b])

    def expected_purchases(self, t: Any) -> np.ndarray:
        r, alpha, a, b = self._require_fit().values()
        t = np.asarray(t, dtype=float)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b + 1, a + b, t / (alpha + t)))

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return 1 / (1 + np.exp(log_ratio))

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        r, alpha, a, b = self._require_fit().values()
        x, t_x, big_t = check_rft(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + big_t + t))
        body = (a + b + x) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
        return body * self.p_alive(x, t_x, big_t)
