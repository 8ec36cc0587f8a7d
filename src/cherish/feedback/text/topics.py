"""Emerging topics: what customers write about that no aspect of the taxonomy explains, found by clustering those
comments (TF-IDF over words, k-means with a fixed seed and as many clusters as stand apart best), each named by
its most telling words and shown with the comments nearest its centre."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEWEST = 20  # fewer unexplained comments than this make no topics
MOST_TOPICS = 8


@dataclass
class Topic:
    name: str
    words: list[str]
    size: int
    examples: list[str]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "words": self.words, "size": self.size, "examples": self.examples}


def emerging_topics(texts: Sequence[str], *, topics: int | None = None, examples: int = 3,
                    seed: int = 7) -> list[Topic]:
    """Topics among ``texts`` (the comments no aspect explains), largest first; none when there are too few."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [t for t in texts if t and t.strip()]
    if len(texts) < FEWEST:
        return []
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 1), min_df=2, max_df=0.5,
                                 sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words and one-off words
        return []
    model = _clustered(matrix, topics, seed)
    count = model.n_clusters
    terms = np.array(vectorizer.get_feature_names_out())
    found = []
    for cluster in range(count):
        members = np.flatnonzero(model.labels_ == cluster)
        if len(members) < 2:
            continue
        centre = model.cluster_centers_[cluster]
        words = _telling([str(w) for w in terms[np.argsort(centre)[::-1][:12]]])
        # squared distances without a dense copy: the rows are unit vectors, so |x - c|² = 1 - 2 x·c + |c|²
        distances = 1 - 2 * np.asarray(matrix[members] @ centre).ravel() + float(centre @ centre)
        shown = list(dict.fromkeys(texts[i].strip() for i in members[np.argsort(distances)]))[:examples]
        found.append(Topic(", ".join(words[:3]), words, int(len(members)), shown))
    return sorted(found, key=lambda t: -t.size)


def _clustered(matrix: Any, topics: int | None, seed: int) -> Any:
    """k-means with ``topics`` clusters, or with the number (2 to MOST_TOPICS) whose clusters stand apart best
    (the silhouette on cosine distance, on at most 2,000 comments)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if topics:
        return KMeans(n_clusters=min(topics, matrix.shape[0]), n_init=4, random_state=seed).fit(matrix)
    best, best_score = None, -2.0
    for count in range(2, min(MOST_TOPICS, matrix.shape[0] // 5) + 1):
        model = KMeans(n_clusters=count, n_init=4, random_state=seed).fit(matrix)
        if len(set(model.labels_)) < 2:
            continue
        score = silhouette_score(matrix, model.labels_, metric="cosine", sample_size=min(2000, matrix.shape[0]),
                                 random_state=seed)
        if score > best_score:
            best, best_score = model, score
    return best or KMeans(n_clusters=2, n_init=4, random_state=seed).fit(matrix)


def _telling(terms: list[str], most: int = 5) -> list[str]:
    """The strongest terms, a word pair standing for the words in it ("oat milk", not "oat", "oat milk", "milk")."""
    chosen: list[str] = []
    for term in terms:
        words = set(term.split())
        if any(words <= set(c.split()) for c in chosen):
            continue
        chosen = [c for c in chosen if not set(c.split()) <= words] + [term]
        if len(chosen) == most:
            break
    return chosen
