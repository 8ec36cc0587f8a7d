"""BG/NBD fit on simulated customers, cherish beside lifetimes 0.11.3 (benchmark-only, its own environment).

Usage: python benchmarks/clv_fit.py --customers 1000000 --peer-python /tmp/rlenv/bin/python
The customers are simulated from a BG/NBD process (r=0.25, α=4, a=0.8, b=2.5, in weeks) over up to two years of
whole days; recency and T are days/7. Both libraries fit the same arrays: once as one row per customer, once
compressed to unique (frequency, recency, T) rows with weights.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from cherish.analytics.clv import BetaGeo, compress

HERE = Path(__file__).resolve().parent


def simulate(n: int, seed: int = 1, r: float = 0.25, alpha: float = 4.0, a: float = 0.8, b: float = 2.5):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    big_t = rng.integers(7, 730, n)  # days each customer has been known
    rate = rng.gamma(r, 1 / alpha, n) / 7  # purchases per day
    drop = rng.beta(a, b, n)
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    now = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1 / np.maximum(rate[idx], 1e-12))
        day = np.ceil(now[idx]).astype(np.int64)
        inside = day <= big_t[idx]
        done = idx[~inside]
        active[done] = False
        buy = idx[inside]
        new_day = day[inside] > last[buy]  # purchases on one day count once
        x[buy[new_day]] += 1
        last[buy] = np.maximum(last[buy], day[inside])
        active[buy[rng.random(len(buy)) < drop[buy]]] = False
    return x.astype(float), last / 7.0, big_t / 7.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--peer-python", required=True)
    args = parser.parse_args()
    x, t_x, big_t = simulate(args.customers)
    t_x = np.where(x > 0, t_x, 0.0)
    (cx, ct_x, c_t), weights = compress(x, t_x, big_t)
    result: dict = {"customers": args.customers, "unique_rows": int(len(cx))}
    start = time.perf_counter()
    plain = BetaGeo().fit(x, t_x, big_t)
    result["cherish_uncompressed"] = {"seconds": round(time.perf_counter() - start, 3), "params": plain.params_}
    start = time.perf_counter()
    weighted = BetaGeo().fit(cx, ct_x, c_t, weights=weights)
    result["cherish_compressed"] = {"seconds": round(time.perf_counter() - start, 3), "params": weighted.params_}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        np.savez(path, x=x, t_x=t_x, T=big_t, cx=cx, ct_x=ct_x, cT=c_t, cw=weights)
        peer = json.loads(subprocess.run([args.peer_python, str(HERE / "clv_peer.py"), str(path)], check=True,
                                         capture_output=True, text=True).stdout)
    result["lifetimes_uncompressed"] = peer["uncompressed"]
    result["lifetimes_compressed"] = peer["compressed"]
    result["speedup_uncompressed"] = round(
        peer["uncompressed"]["seconds"] / result["cherish_uncompressed"]["seconds"], 1)
    result["speedup_compressed"] = round(peer["compressed"]["seconds"] / result["cherish_compressed"]["seconds"], 1)
    result["same_to_4_significant_digits"] = all(
        float(f"{plain.params_[k]:.4g}") == float(f"{peer['uncompressed']['params'][k]:.4g}") for k in plain.params_)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
