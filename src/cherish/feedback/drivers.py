"""Key-driver analysis: which drivers (attribute ratings, or 0/1 mentions of an aspect) move a score (NPS's 0–10, a
CSAT rating), crossed with how each performs, into what to improve, continue, stop and monitor.

Importance is Johnson's relative weights (Johnson 2000, "A heuristic method for estimating the relative weight of
predictor variables in multiple regression"): the drivers are replaced by their closest orthogonal counterparts,
the score is regressed on those, and each driver's share of R² is read back through the correlations between
drivers and counterparts. Unlike regression coefficients, the weights split the explained variance among
correlated drivers instead of handing it to whichever came first, and they sum to R². They are reported as shares
of R² (summing to 1), with percentile intervals from a bootstrap over respondents. ``shapley_weights`` decomposes R²
exactly over every subset of drivers (the LMG measure); the two agree closely, and the tests hold them to it.

Performance is on a 0–1 scale so that drivers of different scales compare: for a rating, where its mean lies
between the lowest and highest rating given; for a 0/1 mention, where the score of those who mention it lies
between the lowest and highest score given (a driver mentioned by unhappy customers performs badly).

Quadrants: important means a share of R² at least the average share (1 / number of drivers); performing below
the rest means a performance below the mean performance of the other drivers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cherish.errors import InvalidInput

QUADRANTS = ("improve", "continue", "stop", "monitor")
MIN_ROWS = 30  # fewer respondents than this say nothing about drivers
SHAPLEY_MAX = 12  # 2**12 regressions: the exact decomposition stops here
_ADVICE = {"improve": "important and below the rest — improve",
           "continue": "important and performing well — continue",
           "stop": "unimportant and performing well — effort that does not move the score: stop",
           "monitor": "unimportant and below the rest — monitor"}


@dataclass
class Driver:
    name: str
    importance: float
    ci: tuple[float, float]
    performance: float
    quadrant: str
    mentions: int | None = None  # for a 0/1 driver, how many respondents mention it

    @property
    def sentence(self) -> str:
        return f"{self.name}: {_ADVICE[self.quadrant]}"

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "importance": round(self.importance, 4),
                                 "ci": [None if math.isnan(v) else round(v, 4) for v in self.ci],
                                 "performance": round(self.performance, 4), "quadrant": self.quadrant,
                                 "sentence": self.sentence}
        if self.mentions is not None:
            found["mentions"] = self.mentions
        return found


@dataclass
class Analysis:
    score: str
    respondents: int
    r2: float
    drivers: list[Driver]
    method: str = "relative weights"

    def as_json(self) -> dict[str, Any]:
        return {"score": self.score, "respondents": self.respondents, "r2": round(self.r2, 4), "method": self.method,
                "drivers": [d.as_json() for d in self.drivers]}


def relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's raw relative weights of the columns of ``x`` for ``y`` (they sum to R²), and R²."""
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    values = np.clip(values, 1e-12, None)
    lam = vectors @ np.diag(np.sqrt(values)) @ vectors.T  # correlations of the drivers with their counterparts
    beta = np.linalg.solve(lam, rxy)  # the score regressed on the orthogonal counterparts
    raw = (lam ** 2) @ (beta ** 2)
    return raw, float(raw.sum())


def shapley_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The exact Shapley decomposition of R² among the columns of ``x`` (LMG): each driver's R² gain averaged over
    every order the drivers could enter the regression in. 2**p regressions: for at most ``SHAPLEY_MAX`` drivers."""
    p = x.shape[1]
    if p > SHAPLEY_MAX:
        raise InvalidInput(f"the Shapley decomposition takes at most {SHAPLEY_MAX} drivers ({p} given)")
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]

    def r2(subset: tuple[int, ...]) -> float:
        if not subset:
            return 0.0
        index = list(subset)
        return float(rxy[index] @ np.linalg.lstsq(rxx[np.ix_(index, index)], rxy[index], rcond=None)[0])

    explained = {subset: r2(subset) for k in range(p + 1) for subset in itertools.combinations(range(p), k)}
    weights = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            share = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            for subset in itertools.combinations(others, k):
                weights[j] += share * (explained[tuple(sorted((*subset, j)))] - explained[subset])
    return weights, explained[tuple(range(p))]


def analyze_drivers(score: np.ndarray, drivers: dict[str, np.ndarray], *, score_name: str = "score",
                    method: str = "relative-weights", bootstrap: int = 500, seed: int = 7,
                    level: float = 0.95) -> Analysis:
    """Importance with bootstrap intervals, performance and quadrant of each driver; rows with a missing value in
    the score or any driver are left out."""
    if method not in ("relative-weights", "shapley"):
        raise InvalidInput(f"unknown method {method!r}: use relative-weights or shapley")
    if not drivers:
        raise InvalidInput("name at least two driver columns")
    if len(drivers) < 2:
        raise InvalidInput("name at least two driver columns: one driver explains all there is to explain")
    names = list(drivers)
    x = np.column_stack([np.asarray(drivers[name], dtype=float) for name in names])
    y = np.asarray(score, dtype=float)
    keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
    x, y = x[keep], y[keep]
    if len(y) < MIN_ROWS:
        raise InvalidInput(f"{len(y)} complete rows: driver analysis needs at least {MIN_ROWS}")
    constant = [name for name, column in zip(names, x.T, strict=True) if np.ptp(column) == 0]
    if np.ptp(y) == 0:
        raise InvalidInput(f"{score_name} has the same value in every row: there is nothing to explain")
    if constant:
        raise InvalidInput(f"{constant[0]} has the same value in every row: leave it out")
    weigh = relative_weights if method == "relative-weights" else shapley_weights
    raw, r2 = weigh(x, y)
    if r2 <= 1e-9:
        raise InvalidInput("the drivers explain none of the score")
    shares = raw / r2
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(bootstrap):
        pick = rng.integers(0, len(y), len(y))
        xs, ys = x[pick], y[pick]
        if np.ptp(ys) == 0 or (np.ptp(xs, axis=0) == 0).any():
            continue  # a resample where a driver or the score never varies says nothing
        weights, explained = weigh(xs, ys)
        if explained > 1e-9:
            samples.append(weights / explained)
    tail = (1 - level) / 2 * 100
    low, high = (np.percentile(samples, [tail, 100 - tail], axis=0) if samples
                 else (np.full(len(names), np.nan), np.full(len(names), np.nan)))
    performance, mentions = _performance(x, y)
    found = []
    for j, name in enumerate(names):
        rest = np.delete(performance, j).mean()
        important = shares[j] >= 1 / len(names)
        well = performance[j] >= rest
        quadrant = ("continue" if well else "improve") if important else ("stop" if well else "monitor")
        found.append(Driver(name, float(shares[j]), (float(low[j]), float(high[j])), float(performance[j]), quadrant,
                            mentions[j]))
    found.sort(key=lambda d: -d.importance)
    return Analysis(score_name, int(len(y)), r2, found, method.replace("-", " "))


def _performance(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[int | None]]:
    lowest, highest = float(y.min()), float(y.max())
    performance: list[float] = []
    mentions: list[int | None] = []
    for column in x.T:
        if set(np.unique(column)) <= {0.0, 1.0}:  # a mention: how those who mention it score
            said = column == 1
            mentions.append(int(said.sum()))
            performance.append((float(y[said].mean()) - lowest) / (highest - lowest))
        else:  # a rating: where its mean lies on the range given
            mentions.append(None)
            performance.append((float(column.mean()) - float(column.min())) / float(np.ptp(column)))
    return np.array(performance), mentions


def drivers_from_table(table: Any, *, score_column: str, driver_columns: list[str], **options: Any) -> Analysis:
    """The analysis of a file's columns (an Arrow table): numbers, or text that reads as numbers; empty cells are
    missing values."""
    import pyarrow.compute as pc

    missing = [c for c in [score_column, *driver_columns] if c not in table.column_names]
    if missing:
        raise InvalidInput(f"no column {missing[0]!r} in the file; it has {', '.join(table.column_names[:20])}")
    if len(set(driver_columns)) != len(driver_columns) or score_column in driver_columns:
        raise InvalidInput("name each driver column once, and not the score column")

    def numbers(name: str) -> np.ndarray:
        column = table.column(name)
        try:
            if column.type == "string" or str(column.type) in ("string", "large_string"):
                column = pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), None, column)
                column = pc.cast(pc.utf8_trim_whitespace(column), "float64")
            return np.asarray(pc.cast(column, "float64").to_numpy(zero_copy_only=False), dtype=float)
        except Exception:  # noqa: BLE001 — any cell that is not a number
            raise InvalidInput(f"column {name!r} holds values that are not numbers") from None

    return analyze_drivers(numbers(score_column), {name: numbers(name) for name in driver_columns},
                           score_name=score_column, **options)
