"""Lookup by email with many customers: p50 and p99, in-process and over HTTP.

Usage: python benchmarks/lookup.py --customers 1000000 [--keep DIR]
Builds the store with `cherish import` of a customers CSV (timed too), then looks up random customers by email:
in-process through the service layer (lookup + the whole customer-360 JSON) and over HTTP against `cherish serve`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from serving import CLI, create_key, serving


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the store in")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="cherish-lookup-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / 'lookup.db'}"
    env = {**os.environ, "CHERISH_DATABASE_URL": db}
    cli = CLI
    result: dict = {"customers": args.customers}
    if not (folder / "lookup.db").exists():
        source = folder / "customers.csv"
        with source.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "email", "phone", "first_name", "last_name", "tier"])
            for i in range(args.customers):
                writer.writerow([f"u{i}", f"person{i}@example.com", f"+1415{i:07d}", f"First{i % 997}",
                                 f"Last{i % 1009}", ("gold", "silver", "bronze")[i % 3]])
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([*cli, "import", str(source), "--kind", "customers"], env=env, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        result["import_seconds"] = round(seconds, 1)
        result["import_rows_per_second"] = round(args.customers / seconds)
    rng = random.Random(1)
    emails = [f"person{rng.randrange(args.customers)}@example.com" for _ in range(args.lookups)]

    from cherish.config import Settings
    from cherish.customers import service as customers
    from cherish.db.engine import open_store
    from cherish.profiles import service as profiles

    settings = Settings(database_url=db)
    store = open_store(db)
    timings = []
    for email in emails:
        start = time.perf_counter()
        with store.read() as session:
            customer_id = profiles.lookup(session, settings, kind="email", value=email)
            customer, _ = customers.find(session, customer_id)
            profiles.profile(session, customer)
        timings.append((time.perf_counter() - start) * 1000)
    result["in_process_ms"] = {"p50": round(percentile(timings, 50), 2), "p99": round(percentile(timings, 99), 2)}
    key = create_key(env, "viewer")
    with serving(env, args.port) as url:
        timings = []
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as http:
            for email in emails[:50]:  # warm up
                http.get(f"{url}/api/customers/lookup", params={"email": email})
            for email in emails:
                start = time.perf_counter()
                response = http.get(f"{url}/api/customers/lookup", params={"email": email})
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
        result["http_ms"] = {"p50": round(percentile(timings, 50), 2), "p99": round(percentile(timings, 99), 2),
                             "mean": round(statistics.mean(timings), 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
