"""Peer for benchmarks/summary.py: lifetimes' summary_data_from_transaction_data on a Parquet file."""

import json
import sys
import time

import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data

frame = pd.read_parquet(sys.argv[1])
start = time.perf_counter()
summary = summary_data_from_transaction_data(frame, "customer", "day", monetary_value_col="amount",
                                             observation_period_end=sys.argv[2], freq="D")
print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "customers": len(summary),
                  "frequency_sum": float(summary["frequency"].sum())}))
