"""The per-customer summary (frequency, recency, T, monetary value) from many transactions, beside lifetimes.

Usage: python benchmarks/summary.py --transactions 20000000 [--peer-python /tmp/rlenv/bin/python] [--peer-max N]
Transactions are synthetic (customers with heterogeneous rates over two years), written to Parquet; cherish
summarises them with DuckDB (`summary_from_transactions`), lifetimes with pandas
(`summary_data_from_transaction_data`), timed from the table in memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cherish.analytics.clv import summary_from_transactions

HERE = Path(__file__).resolve().parent


def transactions(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    customers = max(n // 20, 1)
    weights = rng.gamma(0.6, 1.0, customers)
    who = rng.choice(customers, size=n, p=weights / weights.sum())
    start = np.datetime64("2024-01-01")
    days = rng.integers(0, 730, n)
    return pa.table({"customer": pa.array(who.astype(str)), "day": pa.array(start + days.astype("timedelta64[D]")),
                     "amount": pa.array(np.round(rng.gamma(2.0, 15.0, n), 2))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=20_000_000)
    parser.add_argument("--peer-python", default=None)
    parser.add_argument("--peer-max", type=int, default=20_000_000, help="largest size to hand to the peer")
    args = parser.parse_args()
    end = date(2025, 12, 31)
    table = transactions(args.transactions)
    start = time.perf_counter()
    summary = summary_from_transactions(table, customer="customer", when="day", amount="amount",
                                        calibration_end=end, period="day")
    result = {"transactions": args.transactions, "customers": int(len(summary.frequency)),
              "cherish_seconds": round(time.perf_counter() - start, 2),
              "cherish_frequency_sum": float(summary.frequency.sum())}
    if args.peer_python and args.transactions <= args.peer_max:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "tx.parquet"
            pq.write_table(table, path)
            peer = json.loads(subprocess.run([args.peer_python, str(HERE / "summary_peer.py"), str(path),
                                              end.isoformat()], check=True, capture_output=True, text=True).stdout)
        result["lifetimes_seconds"] = peer["seconds"]
        result["lifetimes_frequency_sum"] = peer["frequency_sum"]
        result["ratio"] = round(peer["seconds"] / result["cherish_seconds"], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
