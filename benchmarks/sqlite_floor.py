"""SQLite's own cost of storing an imported orders file, with no Python per row: the floor under `cherish import`.

Usage: python benchmarks/sqlite_floor.py [--orders 571359 --lines 998264] [--per-table]
Writes the rows that importing 1,000,000 order lines stores (orders, their events, their lines) with plain
`WITH RECURSIVE … INSERT … SELECT` statements into a freshly migrated SQLite store, pragmas as cherish sets them
(customers and identifiers are not written, so foreign keys are not checked), then commits and closes. Also
measures a slimmer layout: order lines as JSON on the order row and a compact event payload, no line rows;
with --per-table, each table alone too (orders; events with and without their payload; order lines).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from serving import CLI

PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=OFF", "cache_size=-65536",
           "mmap_size=8589934592", "wal_autocheckpoint=10000")


def _run(template: Path, target: Path, statements: list[str], label: str) -> dict[str, object]:
    shutil.copy(template, target)
    connection = sqlite3.connect(target, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    connection.execute("BEGIN")
    for statement in statements:
        connection.execute(statement)
    inserted = time.perf_counter()
    connection.execute("COMMIT")
    committed = time.perf_counter()
    connection.close()
    closed = time.perf_counter()
    return {"layout": label, "inserts": round(inserted - start, 2), "commit": round(committed - inserted, 2),
            "close": round(closed - committed, 2), "seconds": round(closed - start, 2),
            "megabytes": target.stat().st_size >> 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=571_359)
    parser.add_argument("--lines", type=int, default=998_264)
    parser.add_argument("--customers", type=int, default=125_000)
    parser.add_argument("--per-table", action="store_true", help="also write each table alone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-floor-"))
    try:
        template = folder / "template.db"
        env = {**os.environ, "CHERISH_DATABASE_URL": f"sqlite:///{template}"}
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        series = f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {args.orders - 1}) "
        customer = f"'cus_' || printf('%016x', (i * 2654435761) % {args.customers})"
        day = "'2025-01-01 00:00:00.000000'"
        orders = (series + "INSERT INTO orders (id, order_id, customer_id, status, value, refunded, currency, "
                  "discount, coupon, channel, branch, employee, placed_at, promised_delivery_date, "
                  "updated_at{extra}) SELECT "
                  f"i + 1, 'O' || i, {customer}, 'completed', 12.0, 0.0, 'USD', NULL, NULL, 'store', 'Portland', NULL, "
                  f"{day}, NULL, {day}{{value}} FROM s")
        events = (series + "INSERT INTO events (message_id, customer_id, type, event, channel, timestamp, received_at, "
                  f"identifiers, payload) SELECT 'import-order-O' || i, {customer}, 'track', 'Order Completed', "
                  f"'store', {day}, {day}, '[\"anonymous_id:import-0123456789abcdef0123\",\"email:c1@example.com\"]', "
                  "printf('%.{size}c', 'x') FROM s")
        lines = (f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {args.lines - 1}) "
                 "INSERT INTO order_lines (order_pk, product_id, sku, name, category, price, quantity) SELECT "
                 f"i * {args.orders} / {args.lines} + 1, NULL, 'SKU' || (i % 3), 'Product ' || (i % 3), 'Coffee', "
                 "5.0, 1.0 FROM s")
        results = [_run(template, folder / "current.db",
                        [orders.format(extra="", value=""), events.format(size=560), lines],
                        "current: orders, events with the whole message (560 bytes), a row per line")]
        slim = folder / "slim-template.db"
        shutil.copy(template, slim)
        connection = sqlite3.connect(slim, isolation_level=None)
        connection.execute("ALTER TABLE orders ADD COLUMN lines JSON")
        connection.close()  # the last connection to close folds the log into the file that is copied
        results.append(_run(slim, folder / "slim.db",
                            [orders.format(extra=", lines", value=", printf('%.140c', 'y')"), events.format(size=200)],
                            "slimmer: lines as JSON on the order row, events with a 200-byte payload"))
        if args.per_table:
            for statements, label in (([orders.format(extra="", value="")], "orders alone"),
                                      ([events.format(size=560)], "events alone, 560-byte payload"),
                                      ([events.format(size=2)], "events alone, 2-byte payload"),
                                      ([lines], "order lines alone")):
                results.append(_run(template, folder / "table.db", statements, label))
        for result in results:
            print(json.dumps({"orders": args.orders, "lines": args.lines, **result}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
