"""Consistency of the experience across units (channels, branches, employees), from per-unit score moments.

The consistency index is 1 − ICC(1), from the one-way random-effects decomposition of individual scores by unit:
1 means every unit gives the same experience. A unit is flagged when its empirical-Bayes shrunken mean has a 95%
interval that excludes the overall mean, so a branch with three answers is not flagged by chance.
"""

from __future__ import annotations

import math
from typing import Any

Z = 1.959963984540054


def consistency(units: list[dict[str, Any]], key: str,
                scale: tuple[float, float] | None = None) -> dict[str, Any]:
    """``units``: rows with n, total (sum of scores) and squares (sum of squared scores), one per unit;
    ``scale``, the answers' range, bounds each interval."""
    units = [u for u in units if int(u["n"]) > 0]
    k = len(units)
    total_n = sum(int(u["n"]) for u in units)
    if k < 2 or total_n <= k:
        return {"units": k, "answers": total_n, "icc1": None, "index": None, "mean": None, "flagged": [],
                "by_unit": {}}
    grand = sum(float(u["total"]) for u in units) / total_n
    ss_between = sum(int(u["n"]) * (float(u["total"]) / int(u["n"]) - grand) ** 2 for u in units)
    ss_within = sum(float(u["squares"]) - float(u["total"]) ** 2 / int(u["n"]) for u in units)
    ms_between = ss_between / (k - 1)
    ms_within = max(ss_within / (total_n - k), 0.0)
    n0 = (total_n - sum(int(u["n"]) ** 2 for u in units) / total_n) / (k - 1)
    denominator = ms_between + (n0 - 1) * ms_within
    icc1 = (ms_between - ms_within) / denominator if denominator > 0 else 0.0
    tau2 = max((ms_between - ms_within) / n0, 0.0)  # variance of the true unit means
    by_unit, flagged = {}, []
    for unit in units:
        n = int(unit["n"])
        mean = float(unit["total"]) / n
        noise = ms_within / n
        weight = tau2 / (tau2 + noise) if tau2 + noise > 0 else 0.0
        shrunk = grand + weight * (mean - grand)
        half = Z * math.sqrt(weight * noise) if weight > 0 else 0.0
        flag = weight > 0 and (shrunk - half > grand or shrunk + half < grand)
        name = str(unit[key])
        low, high = shrunk - half, shrunk + half
        if scale:
            low, high = max(low, scale[0]), min(high, scale[1])
        by_unit[name] = {"n": n, "mean": mean, "shrunk_mean": shrunk, "low": low, "high": high, "flagged": flag,
                         # which way the unit differs from the overall mean, where it clearly does
                         "direction": ("above" if shrunk > grand else "below") if flag else None}
        if flag:
            flagged.append(name)
    return {"units": k, "answers": total_n, "icc1": icc1, "index": 1 - max(icc1, 0.0), "mean": grand,
            "flagged": sorted(flagged), "by_unit": by_unit}
