"""Every comment analysed the same way, one at a time or a hundred thousand at once: its language, and for a comment
in English its sentiment, the aspects it speaks of with the sentiment of the sentences that name each, and its
urgency signals. A comment in another language is flagged with its language and not scored: an English model
would score it wrongly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cherish.feedback.text.aspects import DEFAULT, Taxonomy
from cherish.feedback.text.language import language_of
from cherish.feedback.text.sentiment import Scorer, scorer_named
from cherish.feedback.text.urgency import signals_in

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+(?:but|however|although|though)\s+", re.I)
LONGEST = 5000  # characters of a comment that are read (a longer one is cut there)


@dataclass
class Aspect:
    name: str
    sentiment: float
    label: str


@dataclass
class TextAnalysis:
    language: str
    sentiment: float | None = None
    label: str | None = None
    aspects: list[Aspect] = field(default_factory=list)
    urgency: list[str] = field(default_factory=list)
    model: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"language": self.language,
                "sentiment": None if self.sentiment is None else round(self.sentiment, 4), "label": self.label,
                "aspects": [{"name": a.name, "sentiment": round(a.sentiment, 4), "label": a.label}
                            for a in self.aspects],
                "urgency": self.urgency, "model": self.model}


def sentences_of(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text) if part and part.strip()]


def analyze(texts: Sequence[str], *, model: str | Scorer = "default", taxonomy: Taxonomy = DEFAULT
            ) -> list[TextAnalysis]:
    """The analysis of each text, in order. Sentences of every English text are scored in one batch."""
    scorer = scorer_named(model) if isinstance(model, str) else model
    results: list[TextAnalysis] = []
    english: list[tuple[int, str, list[str]]] = []
    for index, raw in enumerate(texts):
        text = (raw or "")[:LONGEST].strip()
        if not text:
            results.append(TextAnalysis(language="und", model=scorer.version))
            continue
        language = language_of(text)
        results.append(TextAnalysis(language=language, model=scorer.version))
        if language == "en":
            english.append((index, text, sentences_of(text)))
    whole = [text for _, text, _ in english]
    parts = [sentence for _, _, sentences in english for sentence in sentences]
    scores, labels = scorer.score(whole + parts)
    at = len(whole)
    for n, (index, text, sentences) in enumerate(english):
        result = results[index]
        result.sentiment, result.label = float(scores[n]), labels[n]
        lowered = text.lower()
        result.urgency = signals_in(lowered)
        named: dict[str, list[float]] = {}
        for offset, sentence in enumerate(sentences):
            for aspect in taxonomy.found_in(sentence.lower()):
                named.setdefault(aspect, []).append(float(scores[at + offset]))
        at += len(sentences)
        for aspect in taxonomy.found_in(lowered):  # a pattern that spans sentences still names its aspect
            named.setdefault(aspect, [result.sentiment])
        result.aspects = [Aspect(name, sum(values) / len(values), scorer.label_of(sum(values) / len(values)))
                          for name, values in sorted(named.items(), key=lambda item: list(taxonomy.patterns)
                                                     .index(item[0]))]
    return results
