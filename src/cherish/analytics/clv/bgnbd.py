"""BG/NBD (Fader, Hardie & Lee 2005) and modified BG/NBD (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1, polygamma

from cherish.analytics.clv.base import Model, check_rft, codes, maximise, rft_and_weights


@dataclass
class _Data:
    """Rows of (frequency, recency, T) with weights, with the distinct values of each column: special functions
    and logarithms are evaluated once per distinct value, not once per row; sums over rows that depend on one
    column only are taken over that column's distinct values."""

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
    w_by_big: np.ndarray  # Σ w per distinct T
    wx_by_big: np.ndarray  # Σ w·x per distinct T
    rep: dict[str, np.ndarray]  # the rows with repeat purchases: x, w, and the column codes

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> _Data:
        x_u, x_idx = codes(x)
        t_u, t_idx = codes(t_x)
        big_u, big_idx = codes(big_t)
        repeat = x > 0
        rep = {"x": x[repeat], "w": w[repeat], "x_idx": x_idx[repeat], "t_idx": t_idx[repeat],
               "big_idx": big_idx[repeat]}
        return cls(x=x, w=w, x_u=x_u, x_idx=x_idx, w_by_x=np.bincount(x_idx, weights=w, minlength=len(x_u)),
                   t_u=t_u, t_idx=t_idx, big_u=big_u, big_idx=big_idx, repeat=repeat,
                   w_by_big=np.bincount(big_idx, weights=w, minlength=len(big_u)),
                   wx_by_big=np.bincount(big_idx, weights=w * x, minlength=len(big_u)), rep=rep)


class BetaGeo(Model):
    """BG/NBD: purchases while alive follow a Poisson (rates ~ Gamma(r, α)); after each purchase the customer
    drops out with probability p ~ Beta(a, b)."""

    names = ("r", "alpha", "a", "b")
    _analytic_hessian = True

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

        def all_three(p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            value, grad, hessian = self._ll_gradient_hessian(p, data)
            return -value, -grad, -hessian

        log_params, nll, inverse = maximise(
            lambda p: -self._ll(p, data), start, gradient=lambda p: -self._gradient(p, data),
            value_and_gradient=both, value_gradient_hessian=all_three if self._analytic_hessian else None,
            names=self.names)
        log_params = log_params.copy()
        log_params[1] += np.log(scale)
        # back to the original time unit: scaling time by c multiplies each customer's likelihood by c^-x
        nll += np.log(scale) * float(np.dot(w, x))
        self._finish(log_params, nll, inverse)
        return self

    @staticmethod
    def _terms(log_params: np.ndarray, d: _Data):
        r, alpha, a, b = np.exp(log_params)
        rx = r + d.x
        a3 = -rx * np.log(alpha + d.big_u)[d.big_idx]
        b_x1 = np.log(np.where(d.x_u > 0, b + d.x_u - 1, 1.0))[d.x_idx]
        a4 = np.where(d.repeat, np.log(a) - b_x1 - rx * np.log(alpha + d.t_u)[d.t_idx], -np.inf)
        return (r, alpha, a, b), a3, a4

    def _ll(self, log_params: np.ndarray, d: _Data) -> float:
        return self._ll_gradient_hessian(log_params, d, order=0)[0]

    def _gradient(self, log_params: np.ndarray, d: _Data) -> np.ndarray:
        return self._ll_gradient_hessian(log_params, d, order=1)[1]

    def _ll_and_gradient(self, log_params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
        value, grad, _ = self._ll_gradient_hessian(log_params, d, order=1)
        return value, grad

    @staticmethod
    def _ll_gradient_hessian(log_params: np.ndarray, d: _Data,
                             order: int = 2) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood with its gradient and Hessian in log-parameters (``order`` 0, 1 or 2 of them).

        Per customer, LL = A(x) + A3 + log(1 + e^D): A(x) the gamma-function part, the same for all who share x;
        A3 = −(r+x)·log(α+T), whose sum is taken over distinct T; and D = log a − log(b+x−1) −
        (r+x)·log((α+t_x)/(α+T)) for customers with repeat purchases, the one per-row term.
        """
        theta = np.exp(log_params)
        r, alpha, a, b = theta
        xu, wx = d.x_u, d.w_by_x
        big = alpha + d.big_u
        log_big = np.log(big)
        rep = d.rep
        # the gamma-function part and A3: over distinct x and distinct T
        value = float(np.dot(wx, gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + xu)
                             - gammaln(b) - gammaln(a + b + xu))
                      - np.dot(r * d.w_by_big + d.wx_by_big, log_big))
        # the per-row term, for customers with repeat purchases
        ib_u = 1 / np.where(xu > 0, b + xu - 1, 1.0)
        small = alpha + d.t_u
        log_l = np.log(small)[rep["t_idx"]] - log_big[rep["big_idx"]]  # log((α+t_x)/(α+T)) ≤ 0
        rx = r + rep["x"]
        big_d = np.log(a) + np.log(ib_u)[rep["x_idx"]] - rx * log_l
        e = np.exp(-np.abs(big_d))
        value += float(np.dot(rep["w"], np.maximum(big_d, 0) + np.log1p(e)))
        if order == 0:
            return value, np.empty(0), np.empty(0)
        share = np.where(big_d >= 0, 1 / (1 + e), e / (1 + e))  # P(the "dropped out after x" branch)
        q1 = rep["w"] * share
        inv_small, inv_big = 1 / small, 1 / big
        m = inv_small[rep["t_idx"]] - inv_big[rep["big_idx"]]
        rx_m = rx * m
        q1_by_x = np.bincount(rep["x_idx"], weights=q1, minlength=len(xu))
        sum_wx = wx.sum()
        g = np.array([
            np.dot(wx, digamma(r + xu) - digamma(r) + np.log(alpha)) - np.dot(d.w_by_big, log_big) - np.dot(q1, log_l),
            r * sum_wx / alpha - np.dot(r * d.w_by_big + d.wx_by_big, inv_big) - np.dot(q1, rx_m),
            np.dot(wx, digamma(a + b) - digamma(a + b + xu)) + q1.sum() / a,
            np.dot(wx, digamma(a + b) + digamma(b + xu) - digamma(b) - digamma(a + b + xu)) - np.dot(q1_by_x, ib_u),
        ])
        if order == 1:
            return value, g * theta, np.empty(0)
        q2 = q1 * (1 - share)
        q2_l, q2_rx_m = q2 * log_l, q2 * rx_m
        q2_by_x = np.bincount(rep["x_idx"], weights=q2, minlength=len(xu))
        q2_l_by_x = np.bincount(rep["x_idx"], weights=q2_l, minlength=len(xu))
        q2_m_by_x = np.bincount(rep["x_idx"], weights=q2_rx_m, minlength=len(xu))
        n_rows = inv_small[rep["t_idx"]] ** 2 - inv_big[rep["big_idx"]] ** 2
        tri = lambda z: polygamma(1, z)  # noqa: E731
        h = np.empty((4, 4))
        # dD/dr = −log_l, dD/dα = −(r+x)·m, dD/da = 1/a, dD/db = −1/(b+x−1)
        h[0, 0] = np.dot(wx, tri(r + xu) - tri(r)) + np.dot(q2_l, log_l)
        h[0, 1] = sum_wx / alpha - np.dot(d.w_by_big, inv_big) + np.dot(q2_l, rx_m) - np.dot(q1, m)
        h[1, 1] = (-r * sum_wx / alpha**2 + np.dot(r * d.w_by_big + d.wx_by_big, inv_big**2)
                   + np.dot(q2_rx_m, rx_m) + np.dot(q1 * rx, n_rows))
        h[0, 2] = -q2_l.sum() / a
        h[0, 3] = np.dot(q2_l_by_x, ib_u)
        h[1, 2] = -q2_rx_m.sum() / a
        h[1, 3] = np.dot(q2_m_by_x, ib_u)
        h[2, 2] = np.dot(wx, tri(a + b) - tri(a + b + xu)) + (q2.sum() - q1.sum()) / a**2
        h[2, 3] = np.dot(wx, tri(a + b) - tri(a + b + xu)) - np.dot(q2_by_x, ib_u) / a
        h[3, 3] = (np.dot(wx, tri(a + b) + tri(b + xu) - tri(b) - tri(a + b + xu)) + np.dot(q2_by_x, ib_u**2)
                   + np.dot(q1_by_x, ib_u**2))
        h = np.triu(h) + np.triu(h, 1).T
        # chain rule to log-parameters: H_u = diag(θ)·H·diag(θ) + diag(θ·g)
        return value, g * theta, h * np.outer(theta, theta) + np.diag(g * theta)

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
        log_ratio = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                     + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
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

    _analytic_hessian = False  # its Newton steps take the Hessian from differences of the analytic gradient

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
