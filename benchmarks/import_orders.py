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
from typing import Any

from serving import CLI, fresh_database


def write_orders_csv(source: Path, rows: int) -> int:
    """An orders file of ``rows`` order lines (one to three per order, a customer per eight lines); its orders."""
    rng = random.Random(3)
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "email", "timestamp", "sku", "product_name", "category", "price", "quantity",
                         "channel", "branch"])
        row = order = 0
        while row < rows:
            order += 1
            customer = rng.randrange(max(rows // 8, 1))
            day = f"2025-{1 + order % 12:02d}-{1 + order % 28:02d}"
            for line in range(min(rng.choice((1, 1, 2, 3)), rows - row)):
                writer.writerow([f"O{order}", f"c{customer}@example.com", day, f"SKU{line}", f"Product {line}",
                                 "Coffee", f"{5 + line * 3.5:.2f}", 1 + line % 2, "store", "Portland"])
                row += 1
    return order


def measure_import(source: Path, rows: int, folder: Path, *, db: str | None = None) -> dict[str, Any]:
    """`cherish import` of ``source`` (``rows`` lines) into a fresh database, timed as a whole process; a SQLite
    store is left in ``folder`` (``bench.db``)."""
    with fresh_database(db, folder) as url:
        env = {**os.environ, "CHERISH_DATABASE_URL": url}
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        done = subprocess.run([*CLI, "import", str(source)], env=env, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds),
            "database": url.split("://")[0], "summary": done.stderr.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-import-"))
    try:
        source = folder / "orders.csv"
        orders = write_orders_csv(source, args.rows)
        result = measure_import(source, args.rows, folder, db=args.db)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"rows": result.pop("rows"), "orders": orders, **result}))


if __name__ == "__main__":
    main()
