"""The in-process part of benchmarks/lookup.py alone, with finer figures (µs, one decimal) and more lookups, timing
its three calls (lookup, find, profile) separately: lookup.py prints p50 rounded to 0.01 ms (about 3% of a
0.33 ms lookup), too coarse for a before/after comparison. Run it on a store lookup.py kept (--keep DIR).

Usage: python lookup_inprocess.py --db sqlite:////work/bench/lookup100k/lookup.db --customers 100000 [--lookups 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    args = parser.parse_args()

    from cherish.config import Settings
    from cherish.customers import service as customers
    from cherish.db.engine import open_store

    try:
        from cherish.profiles import service as profiles
    except ImportError:  # code before the customer 360 moved to cherish.profiles (397555d and older)
        profiles = customers  # type: ignore[assignment]

    rng = random.Random(1)
    emails = [f"person{rng.randrange(args.customers)}@example.com" for _ in range(args.lookups)]
    settings = Settings(database_url=args.db)
    store = open_store(args.db)
    for email in emails[:200]:  # warm up
        with store.read() as session:
            profiles.profile(session, customers.find(session, profiles.lookup(session, settings, kind="email",
                                                                              value=email))[0])
    total, parts = [], {"lookup": [], "find": [], "profile": []}
    for email in emails:
        t0 = time.perf_counter()
        with store.read() as session:
            customer_id = profiles.lookup(session, settings, kind="email", value=email)
            t1 = time.perf_counter()
            customer, _ = customers.find(session, customer_id)
            t2 = time.perf_counter()
            profiles.profile(session, customer)
            t3 = time.perf_counter()
        t4 = time.perf_counter()
        total.append((t4 - t0) * 1e6)
        parts["lookup"].append((t1 - t0) * 1e6)
        parts["find"].append((t2 - t1) * 1e6)
        parts["profile"].append((t3 - t2) * 1e6)
    print(json.dumps({
        "lookups": args.lookups, "module": profiles.__name__,
        "us": {"p50": round(pct(total, 50), 1), "p99": round(pct(total, 99), 1),
               "mean": round(statistics.mean(total), 1)},
        "p50_us_by_call": {name: round(pct(values, 50), 1) for name, values in parts.items()},
    }))


if __name__ == "__main__":
    main()
