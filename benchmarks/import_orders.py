"""`cherish import` of an orders CSV (one row per order line): rows per second, on a fresh SQLite store.

Usage: python benchmarks/import_orders.py --rows 200000 [--db postgresql+psycopg://…]
(on PostgreSQL the run gets a schema of its own, dropped afterwards)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from serving import CLI, fresh_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-import-"))
    source = folder / "orders.csv"
    rng = random.Random(3)
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "email", "timestamp", "sku", "product_name", "category", "price", "quantity",
                         "channel", "branch"])
        row = order = 0
        while row < args.rows:
            order += 1
            customer = rng.randrange(max(args.rows // 8, 1))
            day = f"2025-{1 + order % 12:02d}-{1 + order % 28:02d}"
            for line in range(min(rng.choice((1, 1, 2, 3)), args.rows - row)):
                writer.writerow([f"O{order}", f"c{customer}@example.com", day, f"SKU{line}", f"Product {line}",
                                 "Coffee", f"{5 + line * 3.5:.2f}", 1 + line % 2, "store", "Portland"])
                row += 1
    with fresh_database(args.db, folder) as db:
        env = {**os.environ, "CHERISH_DATABASE_URL": db}
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        done = subprocess.run([*CLI, "import", str(source)], env=env, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"rows": args.rows, "orders": order, "seconds": round(seconds, 1),
                      "rows_per_second": round(args.rows / seconds), "database": db.split("://")[0],
                      "summary": done.stderr.strip().splitlines()[-1]}))


if __name__ == "__main__":
    main()
