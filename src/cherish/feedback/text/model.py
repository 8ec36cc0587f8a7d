"""cherish's sentiment model: a multinomial logistic regression over TF-IDF of words (1–2 grams) and of characters
within words (2–5 grams), beside 13 features read off VADER's lexicon and rules. Trained on human-rated review
snippets (Hutto & Gilbert 2014: the Amazon snippets, and the movie snippets at a small weight, since they hold
few neutral sentences), balanced over the three classes. The fitted vocabularies, IDF weights, scaler and
coefficients ship inside the package (``sentiment_model.npz``, about 2 MB): nothing is fetched at run time.

The score is P(positive) − P(negative), from −1 to 1; the label the most likely class.
``benchmarks/sentiment.py`` evaluates it by cross-validation and writes the packaged file."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")
PACKAGED = Path(__file__).with_name("sentiment_model.npz")
VERSION = "default:tfidf-vader-lr-1"
_TOKEN = re.compile(r"[a-z']+")
_NEGATIONS = {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "without", "hardly",
              "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "wont", "wouldnt", "shouldnt"}
WORDS = {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}
CHARACTERS = {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True}


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's scores (compound, positive, neutral, negative), how many of the words its lexicon rates positive
    and negative and their summed ratings, negations, length, exclamation and question marks, and whether VADER
    found nothing to rate."""
    analyzer = _vader()
    lexicon = analyzer.lexicon
    rows = []
    for text in texts:
        scores = analyzer.polarity_scores(text)
        tokens = _TOKEN.findall(text.lower())
        rated = [lexicon[t] for t in tokens if t in lexicon]
        rows.append([scores["compound"], scores["pos"], scores["neu"], scores["neg"],
                     sum(1 for r in rated if r > 0), sum(1 for r in rated if r < 0),
                     sum(r for r in rated if r > 0), sum(r for r in rated if r < 0),
                     sum(1 for t in tokens if t in _NEGATIONS or t.endswith("n't")),
                     math.log1p(len(tokens)), text.count("!"), text.count("?"), float(scores["compound"] == 0)])
    return np.array(rows, dtype=float).reshape(len(texts), 13)


def _vectorizer(options: dict[str, Any], terms: Sequence[str] | None = None, idf: np.ndarray | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if terms is None:
        return TfidfVectorizer(**options)
    vectorizer = TfidfVectorizer(**{k: v for k, v in options.items() if k != "min_df"},
                                 vocabulary={t: i for i, t in enumerate(terms)})
    vectorizer.idf_ = idf  # a fitted vectorizer, as the training left it
    return vectorizer


@dataclass
class Trained:
    """The fitted model: two vectorizers, the lexicon features' scaler, and the regression."""

    words: Any
    characters: Any
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (3, features): negative, neutral, positive
    intercept: np.ndarray
    version: str = VERSION

    def features(self, texts: Sequence[str]) -> Any:
        import scipy.sparse as sp

        lexical = (lexicon_features(texts) - self.mean) / self.scale / math.sqrt(13)
        return sp.hstack([self.words.transform(texts), self.characters.transform(texts),
                          sp.csr_matrix(lexical)]).tocsr()

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 3))
        logits = self.features(texts) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return np.asarray(odds / odds.sum(axis=1, keepdims=True))

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """P(positive) − P(negative) and the most likely label of each text."""
        p = self.probabilities(texts)
        return p[:, 2] - p[:, 0], [LABELS[i] for i in p.argmax(axis=1)]

    def label_of(self, score: float) -> str:
        """The label of a score alone (an aspect's, averaged over sentences): neutral within ±0.2."""
        return "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], *, weights: Sequence[float] | None = None,
            c: float = 1.0) -> Trained:
        """Train on ``texts`` with their labels (negative, neutral, positive), each with its weight."""
        import scipy.sparse as sp
        from sklearn.linear_model import LogisticRegression

        words, characters = _vectorizer(WORDS), _vectorizer(CHARACTERS)
        lexical = lexicon_features(texts)
        mean, scale = lexical.mean(axis=0), lexical.std(axis=0)
        scale[scale == 0] = 1.0
        matrix = sp.hstack([words.fit_transform(texts), characters.fit_transform(texts),
                            sp.csr_matrix((lexical - mean) / scale / math.sqrt(13))]).tocsr()
        y = np.array([LABELS.index(label) for label in labels])
        regression = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        regression.fit(matrix, y, sample_weight=None if weights is None else np.asarray(weights, dtype=float))
        return cls(words, characters, mean, scale, regression.coef_, regression.intercept_)

    def save(self, path: Path) -> None:
        def terms(vectorizer: Any) -> np.ndarray:
            return np.array(vectorizer.get_feature_names_out().tolist(), dtype=str)  # text, not objects

        np.savez_compressed(
            path, word_terms=terms(self.words), word_idf=self.words.idf_,
            char_terms=terms(self.characters), char_idf=self.characters.idf_,
            mean=self.mean, scale=self.scale, coef=self.coef.astype(np.float32), intercept=self.intercept,
            version=np.array(self.version))

    @classmethod
    def load(cls, path: Path) -> Trained:
        with np.load(path, allow_pickle=False) as saved:
            return cls(_vectorizer(WORDS, saved["word_terms"].tolist(), saved["word_idf"]),
                       _vectorizer(CHARACTERS, saved["char_terms"].tolist(), saved["char_idf"]),
                       saved["mean"], saved["scale"], saved["coef"].astype(float), saved["intercept"],
                       str(saved["version"]))

    @classmethod
    def packaged(cls) -> Trained:
        if not PACKAGED.is_file():
            raise FileNotFoundError(f"the packaged sentiment model is missing ({PACKAGED.name}): reinstall cherish, "
                                    "or run python benchmarks/sentiment.py --write-model")
        return cls.load(PACKAGED)


def snippets(path: Path) -> tuple[list[str], list[str], list[float]]:
    """A VADER ground-truth file: texts, labels (positive above 0.5, negative below −0.5, neutral between) and the
    mean human rating of each."""
    texts, labels, ratings = [], [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        rating = float(parts[1])
        texts.append(parts[2])
        ratings.append(rating)
        labels.append("positive" if rating > 0.5 else "negative" if rating < -0.5 else "neutral")
    return texts, labels, ratings
