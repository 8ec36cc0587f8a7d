"""Intake's writer alone: what the SQLite writer process does per event, without HTTP or other processes.

Usage: python benchmarks/intake_writer.py [--batches 3000] [--group 2]
Parses the ingestion benchmark's batches of 100 up front (the server processes' part), then, timed, loads each
as the writer process receives it (pickled) and stores them `--group` batches per transaction with the writer's
own routine (group commit as under load: 4 concurrent clients give groups of about two batches). Prints wall
and CPU microseconds per event. Steadier than the HTTP benchmark for comparing two versions of the writer.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from ingest_http import make_batch

from cherish.config import Settings
from cherish.db.engine import open_store, paused_gc
from cherish.db.migrate import upgrade
from cherish.events.committer import commit_group
from cherish.events.service import parse_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=3000)
    parser.add_argument("--group", type=int, default=2, help="batches per transaction")
    parser.add_argument("--feedback", type=float, default=0.0,
                        help="share of survey answers and consent changes (domain events follow them)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-writer-"))
    try:
        settings = Settings(database_url=f"sqlite:///{folder / 'writer.db'}", _env_file=None)  # type: ignore[call-arg]
        store = open_store(settings.database_url)
        upgrade(store)
        sent = []
        for seed in range(args.batches):
            parsed = parse_batch(json.loads(make_batch(seed, feedback=args.feedback))["batch"],
                                 settings=settings)
            for message in parsed.messages:  # as the server processes send them
                message.payload = message.properties = {}
            sent.append(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
        gc.freeze()
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(sent), args.group):
            with paused_gc():
                commit_group(store, settings, [pickle.loads(data) for data in sent[start : start + args.group]])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        events = args.batches * 100
        store.dispose()
        print(json.dumps({"events": events, "batches_per_transaction": args.group, "seconds": round(wall, 2),
                          "events_per_second": round(events / wall), "wall_us_per_event": round(wall / events * 1e6, 1),
                          "cpu_us_per_event": round(cpu / events * 1e6, 1)}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
