"""Sentiment: accuracy on human-rated review snippets and throughput, for cherish's model and plain VADER.

Usage: python benchmarks/sentiment.py [--folds 5] [--jobs 2] [--c 1.0] [--movie-weight 0.03] [--no-throughput]
       [--write-model]

Accuracy is measured only on sentences the model did not see: stratified k-fold cross-validation over the Amazon
snippets of Hutto & Gilbert (2014) (seed 42); each training fold also takes the movie snippets at
--movie-weight. Labels: positive above 0.5, negative below -0.5, neutral between. Reported: accuracy on positive
vs negative (the sign of the score, on sentences whose truth is positive or negative), three-class macro-F1, and
Pearson r of the score with the mean human rating. Targets (issue 15): accuracy at least 0.80; macro-F1 at least
VADER's + 0.10. Throughput: comments per second, end to end from text to label, on 3,000 snippets.
--write-model trains on all the snippets and writes the model that ships in the package.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "vader"


def metrics(scores: np.ndarray, labels: list[str], truth: list[str], ratings: list[float]) -> dict[str, float]:
    from sklearn.metrics import f1_score

    polar = [i for i, t in enumerate(truth) if t != "neutral"]
    right = sum((scores[i] > 0) == (truth[i] == "positive") for i in polar)
    return {"pos_neg_accuracy": round(right / len(polar), 4),
            "macro_f1": round(float(f1_score(truth, labels, average="macro")), 4),
            "pearson": round(float(np.corrcoef(scores, ratings)[0, 1]), 4)}


def one_fold(train: list[int], test: list[int], c: float, movie_weight: float) -> dict[str, float]:
    """Fit on ``train`` (with the movie snippets, weighted) and measure on ``test``."""
    from cherish.feedback.text.model import Trained, snippets

    texts, truth, ratings = snippets(DATA / "amazonReviewSnippets_GroundTruth.txt")
    movie_texts, movie_truth, _ = snippets(DATA / "movieReviewSnippets_GroundTruth.txt")
    model = Trained.fit([texts[i] for i in train] + movie_texts, [truth[i] for i in train] + movie_truth,
                        weights=[1.0] * len(train) + [movie_weight] * len(movie_texts), c=c)
    scores, labels = model.score([texts[i] for i in test])
    return metrics(scores, labels, [truth[i] for i in test], [ratings[i] for i in test])


def cross_validated(folds: int, c: float, movie_weight: float, jobs: int = 1) -> dict[str, object]:
    from concurrent.futures import ProcessPoolExecutor

    from sklearn.model_selection import StratifiedKFold

    from cherish.feedback.text.model import snippets

    texts, truth, _ = snippets(DATA / "amazonReviewSnippets_GroundTruth.txt")
    splits = [(list(map(int, a)), list(map(int, b)))
              for a, b in StratifiedKFold(n_splits=folds, shuffle=True, random_state=42).split(texts, truth)]
    if jobs > 1:  # the same folds, fitted side by side: the same figures
        with ProcessPoolExecutor(jobs) as pool:
            per_fold = list(pool.map(one_fold, *zip(*splits, strict=True), [c] * folds, [movie_weight] * folds))
    else:
        per_fold = [one_fold(train, test, c, movie_weight) for train, test in splits]
    summary: dict[str, object] = {name: round(float(np.mean([f[name] for f in per_fold])), 4)
                                  for name in per_fold[0]}
    summary["folds"] = per_fold
    return summary


def vader_alone() -> dict[str, float]:
    from cherish.feedback.text.model import snippets
    from cherish.feedback.text.sentiment import Lexicon

    texts, truth, ratings = snippets(DATA / "amazonReviewSnippets_GroundTruth.txt")
    scores, labels = Lexicon().score(texts)
    return metrics(scores, labels, truth, ratings)


def throughput(model: str, n: int = 3000) -> float:
    from cherish.feedback.text.model import snippets
    from cherish.feedback.text.sentiment import scorer_named

    texts = snippets(DATA / "amazonReviewSnippets_GroundTruth.txt")[0][:n]
    scorer = scorer_named(model)
    scorer.score(texts[:50])  # loaded and warm
    started = time.perf_counter()
    scorer.score(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--movie-weight", type=float, default=0.03)
    parser.add_argument("--write-model", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted side by side (processes)")
    parser.add_argument("--no-throughput", action="store_true", help="the quality figures alone")
    args = parser.parse_args()
    if args.write_model:
        from cherish.feedback.text.model import PACKAGED, Trained, snippets

        texts, truth, _ = snippets(DATA / "amazonReviewSnippets_GroundTruth.txt")
        movie_texts, movie_truth, _ = snippets(DATA / "movieReviewSnippets_GroundTruth.txt")
        Trained.fit(texts + movie_texts, truth + movie_truth,
                    weights=[1.0] * len(texts) + [args.movie_weight] * len(movie_texts), c=args.c).save(PACKAGED)
        print(json.dumps({"wrote": str(PACKAGED), "bytes": PACKAGED.stat().st_size}))
        return
    result = {"default": cross_validated(args.folds, args.c, args.movie_weight, args.jobs), "vader": vader_alone(),
              "c": args.c, "movie_weight": args.movie_weight, "folds": args.folds}
    if not args.no_throughput:
        result["comments_per_s"] = {"default": throughput("default"), "lexicon": throughput("lexicon")}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
