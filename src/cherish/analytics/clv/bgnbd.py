"""BG/NBD (Fader, Hardie & Lee 2005) and modified BG/NBD (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from cherish.analytics.clv.base import Model, check_rft, codes, maximise, rft_and_weights


@dataclass
class _Data:
    """Rows of (frequency, recency, T) with weights, with the distinct values of each column: special functions
    and logarithms are evaluated once per distinct value, not once per row."""

    x: np.ndarray
    w: np.ndarray
    x_u: np.ndarray
    x_idx: np.ndarray
    w_by_x: np.ndarray
    t_u: np.ndarray
    t_idx: np.ndarray
    big_u: np.ndarray
    big_idx: np.ndarray
    repeat: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> _Data:
        x_u, x_idx = codes(x)
        t_u, t_idx = codes(t_x)
        big_u, big_idx = codes(big_t)
        return cls(x=x, w=w, x_u=x_u, x_idx=x_idx, w_by_x=np.bincount(x_idx, weights=w, minlength=len(x_u)),
                   t_u=t_u, t_idx=t_idx, big_u=big_u, big_idx=big_idx, repeat=x > 0)


class BetaGeo(Model):
    """BG/NBD: purchases while alive follow a Poisson (rates ~ Gamma(r, α)); after each purchase the customer
    drops out with probability p ~ Beta(a, b)."""

    names = ("r", "alpha", "a", "b")

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> BetaGeo:
        x, t_x, big_t, w = rft_and_weights(frequency, recency, T, weights)
        scale = max(float(np.average(big_t, weights=w)), 1e-6)  # fit with α in units of the mean T
        data = _Data.of(x, t_x / scale, big_t / scale, w)
        start = np.log([0.5, 1.0, 0.8, 2.5])
        if len(x) > 50_000:  # start from a fit on a sample of the rows: Newton then needs a few steps on all
            sample = np.random.default_rng(0).random(len(x)) < 15_000 / len(x)
            warm = type(self)().fit(x[sample], t_x[sample], big_t[sample], weights=w[sample])
            start = np.log([warm.params_[n] / (scale if n == "alpha" else 1.0) for n in self.names])
        def both(p: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = self._ll_and_gradient(p, data)
            return -value, -grad

        log_params, nll, inverse = maximise(
            lambda p: -self._ll(p, data), start, gradient=lambda p: -self._gradient(p, data),
            value_and_gradient=both, names=self.names)
        log_params = log_params.copy()
        log_params[1] += np.log(scale)
        nll = -self._ll(log_params, _Data.of(x, t_x, big_t, w))  # the likelihood in the original time unit
        self._finish(log_params, nll, inverse)
        return self

    @staticmethod
    def _terms(log_params: np.ndarray, d: _Data):  # type: ignore[no-untyped-def]
        r, alpha, a, b = np.exp(log_params)
        rx = r + d.x
        a3 = -rx * np.log(alpha + d.big_u)[d.big_idx]
        b_x1 = np.log(np.where(d.x_u > 0, b + d.x_u - 1, 1.0))[d.x_idx]
        a4 = np.where(d.repeat, np.log(a) - b_x1 - rx * np.log(alpha + d.t_u)[d.t_idx], -np.inf)
        return (r, alpha, a, b), a3, a4

    def _ll(self, log_params: np.ndarray, d: _Data) -> float:
        (r, alpha, a, b), a3, a4 = self._terms(log_params, d)
        xu = d.x_u
        per_x = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + xu) - gammaln(b)
                 - gammaln(a + b + xu))
        return float(np.dot(d.w_by_x, per_x) + np.dot(d.w, np.logaddexp(a3, a4)))

    def _gradient(self, log_params: np.ndarray, d: _Data) -> np.ndarray:
        return self._ll_and_gradient(log_params, d)[1]

    def _ll_and_gradient(self, log_params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
        (r, alpha, a, b), a3, a4 = self._terms(log_params, d)
        both = np.logaddexp(a3, a4)
        xu = d.x_u
        per_x = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + xu) - gammaln(b)
                 - gammaln(a + b + xu))
        value = float(np.dot(d.w_by_x, per_x) + np.dot(d.w, both))
        share4 = np.exp(a4 - both)  # weight of the "dropped out after the last purchase" branch
        ws4 = d.w * share4
        ws3 = d.w - ws4
        xu = d.x_u
        log_big, log_t = np.log(alpha + d.big_u)[d.big_idx], np.log(alpha + d.t_u)[d.t_idx]
        rx = r + d.x
        inv_b = (1 / np.where(xu > 0, b + xu - 1, 1.0))[d.x_idx]
        wx = d.w_by_x
        d_r = (np.dot(wx, digamma(r + xu) - digamma(r) + np.log(alpha)) - np.dot(ws3, log_big) - np.dot(ws4, log_t))
        d_alpha = (np.dot(wx, np.full_like(xu, r / alpha)) - np.dot(ws3, rx / (alpha + d.big_u)[d.big_idx])
                   - np.dot(ws4, rx / (alpha + d.t_u)[d.t_idx]))
        d_a = np.dot(wx, digamma(a + b) - digamma(a + b + xu)) + ws4.sum() / a
        d_b = np.dot(wx, digamma(a + b) + digamma(b + xu) - digamma(b) - digamma(a + b + xu)) - np.dot(ws4, inv_b)
        return value, np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])  # chain rule: log-parameters

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

    @staticmethod
    def _a4(log_params: np.ndarray, d: _Data) -> tuple[tuple[float, ...], np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        log_ratio = np.log(alpha + d.big_u)[d.big_idx] - np.log(alpha + d.t_u)[d.t_idx]
        return (r, alpha, a, b), np.log(a) - np.log(b + d.x_u)[d.x_idx] + (r + d.x) * log_ratio

    def _ll(self, log_params: np.ndarray, d: _Data) -> float:
        (r, alpha, a, b), a4 = self._a4(log_params, d)
        xu = d.x_u
        per_x = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + xu + 1)
                 - gammaln(b) - gammaln(a + b + xu + 1))
        a3 = -(r + d.x) * np.log(alpha + d.big_u)[d.big_idx]
        return float(np.dot(d.w_by_x, per_x) + np.dot(d.w, a3 + np.logaddexp(a4, 0)))

    def _ll_and_gradient(self, log_params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
        return self._ll(log_params, d), self._gradient(log_params, d)

    def _gradient(self, log_params: np.ndarray, d: _Data) -> np.ndarray:
        (r, alpha, a, b), a4 = self._a4(log_params, d)
        share = d.w / (1 + np.exp(-a4))  # weighted d log(1 + e^A4) / d A4
        xu = d.x_u
        log_big, log_t = np.log(alpha + d.big_u)[d.big_idx], np.log(alpha + d.t_u)[d.t_idx]
        inv_big, inv_t = (1 / (alpha + d.big_u))[d.big_idx], (1 / (alpha + d.t_u))[d.t_idx]
        rx = r + d.x
        wx = d.w_by_x
        d_r = np.dot(wx, digamma(r + xu) - digamma(r) + np.log(alpha)) - np.dot(d.w, log_big) + np.dot(
            share, log_big - log_t)
        d_alpha = wx.sum() * r / alpha - np.dot(d.w, rx * inv_big) + np.dot(share, rx * (inv_big - inv_t))
        d_a = np.dot(wx, digamma(a + b) - digamma(a + b + xu + 1)) + share.sum() / a
        d_b = (np.dot(wx, digamma(a + b) + digamma(b + xu + 1) - digamma(b) - digamma(a + b + xu + 1))
               - np.dot(share, (1 / (b + d.x_u))[d.x_idx]))
        return np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])

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
