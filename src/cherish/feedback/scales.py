"""The scales survey answers are given on: what intake accepts, what the metrics read, how pages show them."""

from __future__ import annotations

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
SCALE_TEXT = {kind: f"{low}–{high}" for kind, (low, high) in SCALES.items()}  # "0–10", as pages show a scale
