"""Experience scores and their intervals from aggregated counts (plain arithmetic, the same for every engine)."""

from __future__ import annotations

import math
from typing import Any

from scipy import stats

from cherish.feedback.scales import SCALES  # the answers' own scales, as intake checks them

Z = 1.959963984540054
CES_SCALE = SCALES["ces"]
FEW_ANSWERS = 30  # below this many answers a point is shown as resting on few answers


def nps(n: int, promoters: int, detractors: int) -> dict[str, Any]:
    """NPS = 100·(p₊ − p₋), with the 95% interval from the variance (p₊ + p₋ − (p₊ − p₋)²)/n."""
    if n == 0:
        return {"n": 0, "value": None, "low": None, "high": None}
    plus, minus = promoters / n, detractors / n
    half = Z * math.sqrt(max(plus + minus - (plus - minus) ** 2, 0.0) / n)
    value = plus - minus
    # the normal interval can pass ±100 on few answers: clamped to the scale (a value beyond it cannot be)
    return {"n": n, "value": 100 * value, "low": 100 * max(value - half, -1.0), "high": 100 * min(value + half, 1.0),
            "promoters": plus, "detractors": minus}


def csat(n: int, satisfied: int) -> dict[str, Any]:
    """CSAT: the share answering 4–5, with a Wilson 95% interval."""
    return share(n, satisfied)


def share(n: int, hits: int) -> dict[str, Any]:
    """The share ``hits / n`` with its Wilson 95% interval (sound on few cases and near 0 or 1)."""
    if n == 0:
        return {"n": 0, "value": None, "low": None, "high": None}
    value = hits / n
    centre = (value + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(value * (1 - value) / n + Z**2 / (4 * n * n)) / (1 + Z**2 / n)
    return {"n": n, "value": value, "low": centre - half, "high": centre + half}


def ces(n: int, mean: float | None, sd: float | None, high_effort: int) -> dict[str, Any]:
    """CES on 1–7 (7 easiest): the mean with a t interval, and the share answering 1–3 (high effort)."""
    if n == 0 or mean is None:
        return {"n": 0, "value": None, "low": None, "high": None, "high_effort": None}
    if n < 2 or sd is None:
        return {"n": n, "value": mean, "low": None, "high": None, "high_effort": high_effort / n}
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "value": mean, "low": max(mean - half, CES_SCALE[0]), "high": min(mean + half, CES_SCALE[1]),
            "high_effort": high_effort / n}  # the t interval clamped to the 1–7 scale


def score_of(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["score_type"]
    n = int(row["n"])
    if kind == "nps":
        return nps(n, int(row["promoters"]), int(row["detractors"]))
    if kind == "csat":
        return csat(n, int(row["satisfied"]))
    return ces(n, row["mean"], row["sd"], int(row["high_effort"]))
