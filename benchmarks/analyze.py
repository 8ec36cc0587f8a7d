"""`cherish analyze` end to end on a store: wall clock and peak memory of the whole CLI process.

Usage:
    cherish demo --customers 1000000 --no-serve --no-match --no-analyze --db sqlite:///demo1m.db
    python benchmarks/analyze.py --db sqlite:///demo1m.db [--engine duckdb|spark]

Reading the store, every metric, the per-customer scores (RFM, P(alive), CLV, stage, health) and writing them
back are all inside the measured process. Peak memory is the largest resident set among the process and the
processes it started (with Spark, that includes the JVM of local mode).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text


def _counts(db: str) -> dict[str, int]:
    engine = create_engine(db)
    with engine.connect() as conn:
        counts = {name: conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("customers", "events", "orders", "feedback_answers")}
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--engine", default="duckdb")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="cherish-analyze-")) / "metrics.json"
    cli = [sys.executable, "-m", "cherish", "analyze", "--engine", args.engine, "--db", args.db, "--json", str(out)]
    start = time.perf_counter()
    done = subprocess.run(cli, env=os.environ.copy(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"cherish analyze failed: {done.stderr.strip().splitlines()[-1]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    metrics = json.loads(out.read_text())
    print(json.dumps({
        "engine": args.engine, "store": args.db.split("://")[0], **_counts(args.db),
        "customers_with_a_purchase": metrics["customers"], "seconds": round(seconds, 1),
        "peak_memory_mb": round(peak_kb / 1024), "repeat_customer_rate": metrics["repeat_customer_rate"],
    }, indent=2))


if __name__ == "__main__":
    main()
