"""Sentiment of a text: a score from -1 to 1 and a label (``negative``, ``neutral``, ``positive``).

Two scorers: ``lexicon`` is VADER (Hutto & Gilbert 2014; the ``vaderSentiment`` package, its lexicon inside):
rules over a human-rated word list, fast. ``default`` is the trained model of ``cherish.feedback.text.model``.
Both run offline on the CPU; their accuracy on human-rated review snippets is in ``docs/benchmarks.md``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np

from cherish.errors import InvalidInput

LABELS = ("negative", "neutral", "positive")
MODELS = ("default", "lexicon")


class Scorer(Protocol):
    version: str

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """A score in [-1, 1] and a label for each text."""
        ...

    def label_of(self, score: float) -> str:
        """The label of a score (of a sentence, or an average of them)."""
        ...


class Lexicon:
    """VADER's compound score; neutral within ±0.05, as VADER's authors read it."""

    version = "lexicon:vader-3.3.2"
    NEUTRAL = 0.05

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        scores = np.array([self.analyzer.polarity_scores(text)["compound"] for text in texts], dtype=float)
        return scores, [self.label_of(s) for s in scores]

    def label_of(self, score: float) -> str:
        return "positive" if score > self.NEUTRAL else "negative" if score < -self.NEUTRAL else "neutral"


@cache
def scorer_named(name: str) -> Any:
    """The scorer called ``name`` (loaded once per process)."""
    if name == "lexicon":
        return Lexicon()
    if name == "default":
        from cherish.feedback.text.model import Trained

        return Trained.packaged()
    raise InvalidInput(f"unknown sentiment model {name!r}: use {' or '.join(MODELS)}")
