"""Stitching quality on the demo company's ground truth: pairwise precision, recall and F1 over identifiers.

Usage: python benchmarks/stitching.py --db sqlite:///cherish-data/cherish.db --truth cherish-data/demo-truth.csv
Two identifiers form a true pair when the same simulated person used them, a predicted pair when cherish put
them on the same customer.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter

from sqlalchemy import select

from cherish.db.engine import open_store
from cherish.identity.models import Identifier


def pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def score(db: str, truth_path: str) -> dict[str, float]:
    truth: dict[tuple[str, str], str] = {}
    with open(truth_path, newline="") as handle:
        for row in csv.DictReader(handle):
            truth[(row["type"], row["value"])] = row["person"]
    store = open_store(db)
    with store.read() as session:
        owner = {(t, v): c for t, v, c in session.execute(
            select(Identifier.type, Identifier.value, Identifier.customer_id))}
    store.dispose()
    known = [k for k in truth if k in owner]
    true_pairs = pairs(Counter(truth[k] for k in known))
    predicted = pairs(Counter(owner[k] for k in known))
    both = pairs(Counter((truth[k], owner[k]) for k in known))
    precision = both / predicted if predicted else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"identifiers": len(known), "missing": len(truth) - len(known), "precision": precision,
            "recall": recall, "f1": f1, "people": len(set(truth.values())),
            "customers": len(set(owner[k] for k in known))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--truth", required=True)
    args = parser.parse_args()
    for name, value in score(args.db, args.truth).items():
        print(f"{name:12} {value:.4f}" if isinstance(value, float) else f"{name:12} {value}")
