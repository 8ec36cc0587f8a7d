"""Ingestion and import as ratios to SQLite's own floor for the rows they stored, measured in the same run, so
that the machine's speed cancels out (issue 12, point 10).

Usage: python benchmarks/ratio_to_floor.py [--events 1000000 --clients 4] [--rows 200000] [--only ingest|import]

The floor for a run: every row that run stored (every table that got rows), stored again into a freshly migrated
store with cherish's own connection settings (`open_store`: WAL, synchronous=NORMAL, foreign keys on, …) by plain
SQL and no Python per row — the run's store attached, `INSERT INTO t SELECT … FROM src.t WHERE rowid > ? AND
rowid <= ?` — in as many transactions as the target names: ingestion, one per 100 events; import, one per chunk
the import commits (`cherish.events.importer`). Every table is cut into that many slices of equal row counts and
slice i of every table goes in transaction i, parents first; a parent's slice reaches as far as its children's
slices up to i point, so that foreign keys hold at every commit.

Order, to cancel drift: a measured run (its rows give the first floor), the floor, the measured run the ratio is
for, the floor on its rows. Ratio = that run's rate / the mean of the two floors' rates; the spread of the two
floors and the first run's rate are printed too. One JSON line per target. For the import, also the driver's
floor (the same rows handed to Python's `sqlite3` ready-made, `executemany` in the same transactions), the
start-up of `cherish import` on a one-line file, and the ceiling they set: the floor's seconds over theirs, the
best ratio any Python program storing these rows through this driver could reach.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from import_orders import measure_import, write_orders_csv
from ingest_http import measure_ingest
from serving import CLI

from cherish import models  # noqa: F401  (every table in the metadata)
from cherish.db.base import Base
from cherish.db.engine import open_store

TARGETS = {"ingest": 0.30, "import": 0.50}
EVENTS_PER_TRANSACTION = 100  # the target's floor: plain SQL in transactions of 100 events
# Rows made before the run, not stored by it: the write key, its audit record, the server's secret key.
SET_UP = {"api_keys", "audit_log", "instance_settings"}


def _slices(source: Any, transactions: int) -> tuple[list[str], dict[str, list[int]]]:
    """The tables that got rows, parents first, and for each the rowid that ends each of its slices."""
    tables = [t for t in Base.metadata.sorted_tables if t.name not in SET_UP
              and source.execute(f'SELECT 1 FROM src."{t.name}" LIMIT 1').fetchone()]
    ends: dict[str, list[int]] = {}
    for table in tables:
        rowids = [r for (r,) in source.execute(f'SELECT rowid FROM src."{table.name}" ORDER BY rowid')]
        ends[table.name] = [rowids[len(rowids) * (i + 1) // transactions - 1] if len(rowids) * (i + 1) >= transactions
                            else 0 for i in range(transactions)]
    for child in reversed(tables):  # children's slices are final before their parents' are stretched
        for column in child.columns:
            for key in column.foreign_keys:
                parent = key.column.table.name
                if parent not in ends or parent == child.name:
                    continue
                need = [0] * transactions
                for child_rowid, parent_rowid in source.execute(
                        f'SELECT c.rowid, p.rowid FROM src."{child.name}" c JOIN src."{parent}" p '
                        f'ON p."{key.column.name}" = c."{column.name}"'):
                    i = bisect.bisect_left(ends[child.name], child_rowid)
                    need[i] = max(need[i], parent_rowid)
                reach = 0
                for i in range(transactions):
                    reach = max(reach, need[i], ends[parent][i])
                    ends[parent][i] = reach
    return [t.name for t in tables], ends


def sqlite_floor(source: Path, transactions: int, folder: Path, *, with_close: bool,
                 by_driver: bool = False) -> dict[str, Any]:
    """Store the rows of the SQLite store at ``source`` again, in ``transactions`` transactions, into a freshly
    migrated store in ``folder``; seconds from the first BEGIN to the last COMMIT (and the close, which folds the
    log into the file, when ``with_close``: an import's time includes it, a server's answers do not).

    ``by_driver``: the floor of any Python program on this driver instead. Every row is first read into Python
    tuples (not timed), then handed to ``executemany`` in the same transactions: what storing those rows costs
    once they exist, with no reading, parsing or deciding at all."""
    target = folder / "floor.db"
    url = f"sqlite:///{target}"
    subprocess.run([*CLI, "db", "upgrade"], env={**os.environ, "CHERISH_DATABASE_URL": url}, check=True,
                   capture_output=True)
    store = open_store(url)
    try:
        with store.writer_connection() as connection:
            connection.execute("ATTACH DATABASE ? AS src", (str(source),))
            names, ends = _slices(connection, transactions)
            statements, selects, inserts = {}, {}, {}
            for name in names:
                table_columns = Base.metadata.tables[name].columns
                columns = ", ".join(f'"{c.name}"' for c in table_columns)
                selects[name] = f'SELECT {columns} FROM src."{name}" WHERE rowid > ? AND rowid <= ?'
                statements[name] = f'INSERT INTO main."{name}" ({columns}) {selects[name]}'
                inserts[name] = f'INSERT INTO main."{name}" ({columns}) VALUES ({", ".join("?" * len(table_columns))})'
            rows = dict.fromkeys(names, 0)
            held: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
            if by_driver:
                for i in range(transactions):
                    for name in names:
                        low = ends[name][i - 1] if i else 0
                        held[(i, name)] = (connection.execute(selects[name], (low, ends[name][i])).fetchall()
                                           if ends[name][i] > low else [])
            start = time.perf_counter()
            for i in range(transactions):
                connection.execute("BEGIN IMMEDIATE")
                for name in names:
                    low = ends[name][i - 1] if i else 0
                    if by_driver and held[(i, name)]:
                        rows[name] += connection.executemany(inserts[name], held.pop((i, name))).rowcount
                    elif not by_driver and ends[name][i] > low:
                        rows[name] += connection.execute(statements[name], (low, ends[name][i])).rowcount
                connection.execute("COMMIT")
            committed = time.perf_counter()
            connection.execute("DETACH DATABASE src")
    finally:
        store.dispose()  # the last connection closes: the log is folded into the file
    closed = time.perf_counter()
    megabytes = target.stat().st_size >> 20
    target.unlink()
    for leftover in folder.glob("floor.db*"):
        leftover.unlink()
    seconds = (closed if with_close else committed) - start
    return {"transactions": transactions, "rows": rows, "commits_seconds": round(committed - start, 2),
            "close_seconds": round(closed - committed, 2), "seconds": round(seconds, 2), "megabytes": megabytes,
            "load": os.getloadavg()[0]}


def _ratio(unit: str, amount: int, first: dict[str, Any], floors: list[dict[str, Any]],
           measured: dict[str, Any], target: float) -> dict[str, Any]:
    for floor in floors:
        floor[f"{unit}_per_second"] = round(amount / floor["seconds"])
    mean = sum(amount / f["seconds"] for f in floors) / len(floors)
    rates = [amount / f["seconds"] for f in floors]
    ratio = measured[f"{unit}_per_second"] / mean
    return {"measured": measured, "floors": floors, f"floor_{unit}_per_second": round(mean),
            "floor_spread": round((max(rates) - min(rates)) / mean, 3), "ratio": round(ratio, 3),
            "first_run": first, "first_run_ratio_to_first_floor": round(first[f"{unit}_per_second"] / rates[0], 3),
            "target": target, "met": ratio >= target}


def ingest_ratio(folder: Path, events: int, clients: int, workers: int) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    for name in ("a", "b"):
        run = folder / name
        run.mkdir()
        runs.append({**measure_ingest(run, events=events, clients=clients, workers=workers),
                     "load": os.getloadavg()[0]})
        if runs[-1]["failed_batches"]:
            raise SystemExit(f"{runs[-1]['failed_batches']} batches failed: {runs[-1]}")
        floors.append(sqlite_floor(run / "bench.db", runs[-1]["events"] // EVENTS_PER_TRANSACTION, folder,
                                   with_close=False))
        if name == "b":
            shutil.rmtree(folder / "a")
    return {"what": "ingest", "events": events, "clients": clients, "workers": workers,
            **_ratio("events", runs[1]["events"], runs[0], floors, runs[1], TARGETS["ingest"])}


def import_ratio(folder: Path, rows: int) -> dict[str, Any]:
    from cherish.events.importer import _order_chunks

    source = folder / "orders.csv"
    orders = write_orders_csv(source, rows)
    chunks = sum(1 for _ in _order_chunks(source, "order_id", None))  # the transactions the import commits
    runs: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    for name in ("a", "b"):
        run = folder / name
        run.mkdir()
        runs.append({**measure_import(source, rows, run), "load": os.getloadavg()[0]})
        floors.append(sqlite_floor(run / "bench.db", chunks, folder, with_close=True))
        if name == "b":
            shutil.rmtree(folder / "a")
    result = _ratio("rows", rows, runs[0], floors, runs[1], TARGETS["import"])
    # What any Python program could reach: the same rows handed to the driver ready-made, plus what starting
    # `cherish import` costs (a file of one order line, timed the same way as the run).
    driver = sqlite_floor(folder / "b" / "bench.db", chunks, folder, with_close=True, by_driver=True)
    tiny = folder / "one-line.csv"
    tiny.write_text(source.open().readline() + source.open().readlines()[1])
    (folder / "start").mkdir()
    startup = measure_import(tiny, 1, folder / "start")["seconds"]
    floor_seconds = rows / result["floor_rows_per_second"]
    return {"what": "import", "lines": rows, "orders": orders, "chunks": chunks, **result,
            "driver_floor": driver, "startup_seconds": startup,
            "ceiling": round(floor_seconds / (driver["seconds"] + startup), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="server processes, as the ingestion target uses")
    parser.add_argument("--rows", type=int, default=200_000, help="order lines in the imported CSV")
    parser.add_argument("--only", choices=("ingest", "import"))
    args = parser.parse_args()
    for what in ("ingest", "import"):
        if args.only not in (None, what):
            continue
        folder = Path(tempfile.mkdtemp(prefix=f"cherish-ratio-{what}-"))
        try:
            started = os.getloadavg()[0]
            result = (ingest_ratio(folder, args.events, args.clients, args.workers) if what == "ingest"
                      else import_ratio(folder, args.rows))
            print(json.dumps({**result, "load_at_start": started,
                              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}), flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
