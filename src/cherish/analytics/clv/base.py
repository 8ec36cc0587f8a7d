"""What every model shares: input checks, compression to unique rows with weights, a checked maximum likelihood."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from cherish.errors import InvalidInput


class ConvergenceError(RuntimeError):
    """The optimiser stopped where the gradient is not (near) zero: the parameters are not a maximum."""


def as_array(name: str, values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise InvalidInput(f"{name} is empty: the model needs at least one customer")
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{name} has missing or infinite values")
    return array


def check_rft(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (frequency, recency, T) with messages a person can act on."""
    x, t_x, big_t = as_array("frequency", frequency), as_array("recency", recency), as_array("T", T)
    if not (x.shape == t_x.shape == big_t.shape):
        raise InvalidInput("frequency, recency and T must have the same length")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise InvalidInput("frequency must hold whole numbers ≥ 0 (repeat purchase periods)")
    if np.any(t_x < 0) or np.any(big_t < 0):
        raise InvalidInput("recency and T must be ≥ 0")
    if np.any(t_x > big_t + 1e-9):
        raise InvalidInput("recency cannot exceed T (a purchase after the end of the calibration period?)")
    if np.any((x == 0) & (t_x != 0)):
        raise InvalidInput("a customer without repeat purchases must have recency 0")
    return x, t_x, big_t


def rft_and_weights(frequency: Any, recency: Any, T: Any,
                    weights: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked (frequency, recency, T) with weights: compressed to unique rows when no weights are given."""
    x, t_x, big_t = check_rft(frequency, recency, T)
    if weights is None:
        (x, t_x, big_t), w = compress(x, t_x, big_t)
        return x, t_x, big_t, w
    w = as_array("weights", weights)
    if w.shape != x.shape or np.any(w < 0):
        raise InvalidInput("weights must be ≥ 0, one per row")
    return x, t_x, big_t, w


def codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (sorted) and, for each entry, the index of its value: a hash table, not a sort."""
    inverse, unique = pd.factorize(np.asarray(values), sort=True)
    return np.asarray(unique), inverse.astype(np.intp, copy=False)


def compress(*columns: np.ndarray, weights: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of ``columns`` with how many customers share each: a fit then costs the same for any size."""
    rows, inverse = unique_rows(*columns)
    counts = np.bincount(inverse, weights=weights, minlength=len(rows[0])).astype(float)
    return rows, counts


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of ``columns``, and for each row the index of its unique row."""
    coded = [codes(np.asarray(column, dtype=float)) for column in columns]
    sizes = [len(unique) for unique, _ in coded]
    if float(np.prod(sizes, dtype=float)) < 2.0**62:  # one integer key per row, in mixed radix of the codes
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for (_, inverse), size in zip(coded, sizes, strict=True):
            key = key * size + inverse
        inverse, distinct = pd.factorize(key)
        parts = []
        rest = np.asarray(distinct, dtype=np.int64)
        for size in reversed(sizes):  # decode each column's code from the key, last column first
            parts.append(rest % size)
            rest = rest // size
        row_codes = parts[::-1]
    else:  # too many distinct values for one integer key: unique rows of the code matrix
        matrix, inverse = np.unique(np.stack([inv for _, inv in coded], axis=1), axis=0, return_inverse=True)
        row_codes = list(matrix.T)
    return [unique[code] for (unique, _), code in zip(coded, row_codes, strict=True)], inverse.ravel()


def maximise(
    negative_ll: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
    value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    value_gradient_hessian: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]] | None = None,
    names: tuple[str, ...],
    relative_tolerance: float = 1e-7,
    max_evaluations: int | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise a negative log-likelihood over log-parameters, then check that the gradient vanishes.

    With an analytic Hessian, damped Newton steps first (a handful from a good start); otherwise, or where
    they fail, quasi-Newton; where it stops early (flat likelihoods do), L-BFGS-B and Nelder-Mead continue from the
    best point. Convergence means a gradient norm below ``relative_tolerance`` times the log-likelihood.
    ``max_evaluations`` caps each optimiser's iterations and evaluations, for a fit that must give up in bounded
    time (a ConvergenceError) rather than search on. Returns (log-parameters, negative log-likelihood, inverse
    Hessian in log space).
    """
    tolerance = lambda value: relative_tolerance * max(1.0, abs(value))  # noqa: E731
    if gradient is not None:
        both = value_and_gradient or (lambda p: (negative_ll(p), gradient(p)))
        three = value_gradient_hessian or (lambda p: (*both(p), _forward_hessian(both, p)))
        found = _newton(three, start, tolerance)
        if found is not None:
            x, value, hessian = found
            try:
                return x, value, np.linalg.inv(hessian)
            except np.linalg.LinAlgError:
                pass
    best = None
    norm = float("inf")
    steps = (("BFGS", {"gtol": 1e-9, "maxiter": 5000}),
             ("L-BFGS-B", {"gtol": 1e-12, "ftol": 1e-16, "maxiter": 20000}),
             ("Nelder-Mead", {"xatol": 1e-11, "fatol": 1e-13, "maxiter": 40000, "maxfev": 80000}),
             ("BFGS", {"gtol": 1e-10, "maxiter": 5000}))
    for method, options in steps:
        if max_evaluations is not None:
            options = {k: (min(v, max_evaluations) if k in ("maxiter", "maxfev") else v) for k, v in options.items()}
        point = best.x if best is not None else start
        with np.errstate(all="ignore"):
            if value_and_gradient is not None and method != "Nelder-Mead":
                # one pass computes both: the shared terms are the expensive part
                result = optimize.minimize(value_and_gradient, point, jac=True, method=method, options=options)
            else:
                result = optimize.minimize(negative_ll, point, jac=gradient if method != "Nelder-Mead" else None,
                                           method=method, options=options)
        if best is None or (np.isfinite(result.fun) and result.fun <= best.fun):
            best = result
        if gradient is not None:
            _newton_polish(negative_ll, gradient, best)
        norm = float(np.linalg.norm(_gradient(negative_ll, gradient, best.x)))
        if norm <= tolerance(best.fun):
            break
    else:
        raise ConvergenceError(
            f"the fit did not converge: gradient norm {norm:.3g} at "
            f"{dict(zip(names, [round(float(v), 6) for v in np.exp(best.x)], strict=True)) if best else {}}"
        )
    hessian = _hessian(negative_ll, gradient, best.x)
    try:
        inverse = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        inverse = np.full_like(hessian, np.nan)
    return best.x, float(best.fun), inverse


def _forward_hessian(both: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                     step: float = 1e-6) -> np.ndarray:
    """A Hessian from forward differences of the analytic gradient: one gradient per parameter."""
    grad = both(x)[1]
    columns = []
    for i in range(len(x)):
        shifted = x.copy()
        shifted[i] += step
        columns.append((both(shifted)[1] - grad) / step)
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def _newton(three: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]], start: np.ndarray,
            tolerance: Callable[[float], float], iterations: int = 50) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Damped Newton steps, with the model's analytic Hessian or one from differences of its gradient.

    From a good start (a fit on a subsample) it needs a handful of iterations where BFGS needs dozens of
    likelihood evaluations. Returns None when it does not converge, and the caller falls back to quasi-Newton.
    """
    x = np.array(start, dtype=float)
    value, grad, hessian = three(x)
    for _ in range(iterations):
        if not (np.isfinite(value) and np.all(np.isfinite(hessian))):
            return None
        if np.linalg.norm(grad) <= tolerance(value):
            return x, value, hessian
        direction = _descent_direction(hessian, grad)
        if direction is None:
            return None
        length = float(np.linalg.norm(direction))
        if length > 1.0:  # at most a factor e in any parameter per step: far from the optimum, stay careful
            direction = direction / length
        t = 1.0
        while t > 1e-6:
            candidate = x - t * direction
            new_value, new_grad, new_hessian = three(candidate)
            if np.isfinite(new_value) and new_value <= value:
                break
            t /= 2
        else:
            return None
        x, value, grad, hessian = candidate, new_value, new_grad, new_hessian
    return None


def _descent_direction(hessian: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    """The Newton direction; where the Hessian is not positive definite (far from the optimum), a multiple of
    the identity is added until it is (Levenberg–Marquardt), which bends the step towards steepest descent."""
    shift = 0.0
    scale = max(float(np.max(np.abs(np.diag(hessian)))), 1e-12)
    for _ in range(60):
        try:
            np.linalg.cholesky(hessian + shift * np.eye(len(grad)))
            return np.linalg.solve(hessian + shift * np.eye(len(grad)), grad)
        except np.linalg.LinAlgError:
            shift = max(2 * shift, 1e-6 * scale)
    return None


def _newton_polish(f: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray],
                   best: Any, steps: int = 6) -> None:
    """A few Newton steps from a quasi-Newton optimum: on flat likelihoods they finish what BFGS stopped."""
    for _ in range(steps):
        g = gradient(best.x)
        try:
            step = np.linalg.solve(_hessian(f, gradient, best.x), g)
        except np.linalg.LinAlgError:
            return
        candidate = best.x - step
        value = f(candidate)
        if not np.isfinite(value) or value > best.fun + 1e-12 * max(1.0, abs(best.fun)):
            return
        if np.linalg.norm(gradient(candidate)) >= np.linalg.norm(g):
            return
        best.x, best.fun = candidate, value


def _gradient(f: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray] | None,
              x: np.ndarray) -> np.ndarray:
    if gradient is not None:
        return gradient(x)
    step = 1e-6
    return np.array([(f(x + step * e) - f(x - step * e)) / (2 * step) for e in np.eye(len(x))])


def _hessian(f: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray] | None,
             x: np.ndarray) -> np.ndarray:
    step = 1e-5
    n = len(x)
    hessian = np.zeros((n, n))
    for i in range(n):
        shift = np.zeros(n)
        shift[i] = step
        hessian[i] = (_gradient(f, gradient, x + shift) - _gradient(f, gradient, x - shift)) / (2 * step)
    return (hessian + hessian.T) / 2


class Model:
    """Shared behaviour of the fitted models: parameters by the papers' names, standard errors, a summary."""

    names: tuple[str, ...] = ()
    params_: dict[str, float]
    log_likelihood_: float
    standard_errors_: dict[str, float]

    def _finish(self, log_params: np.ndarray, negative_ll: float, inverse_hessian: np.ndarray) -> None:
        values = np.exp(log_params)
        self.params_ = dict(zip(self.names, (float(v) for v in values), strict=True))
        self.log_likelihood_ = -negative_ll
        # delta method from log space: se(θ) = θ · se(log θ)
        with np.errstate(invalid="ignore"):
            errors = values * np.sqrt(np.diag(inverse_hessian))
        self.standard_errors_ = dict(zip(self.names, (float(e) for e in errors), strict=True))

    @classmethod
    def from_params(cls, params: dict[str, float]) -> Model:
        """A model with known parameters (a saved fit), ready to predict."""
        from cherish.errors import InvalidInput

        missing = [n for n in cls.names if n not in params]
        if missing:
            raise InvalidInput(f"{cls.__name__} needs the parameters {', '.join(cls.names)}; "
                               f"missing {', '.join(missing)}")
        model = cls()
        model.params_ = {n: float(params[n]) for n in cls.names}
        return model

    def _require_fit(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise InvalidInput(f"{type(self).__name__} is not fitted yet: call fit(...) first")
        return self.params_

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}()"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}, log_likelihood={self.log_likelihood_:.2f})"
