"""`cherish demo` into a fresh SQLite store: wall clock and peak memory of the whole process tree.

Usage: python benchmarks/demo_build.py --customers 1000000 [--workers 2 --workers 1]
Each --workers value is one run (default: the CLI's own choice, one worker per core); `--workers 1` is the
single-process build, the peer of the parallel one. Memory is the sum of the resident sizes of the CLI and its
worker processes, sampled twice a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from serving import CLI


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, read from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def run(customers: int, workers: int | None, folder: Path) -> dict[str, object]:
    db = folder / f"demo-{workers or 'default'}.db"
    command = [*CLI, "demo", "--customers", str(customers), "--no-serve", "--no-match", "--no-analyze",
               "--db", f"sqlite:///{db}",
               "--truth", str(folder / "truth.csv")]
    if workers is not None:
        command += ["--workers", str(workers)]
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"cherish demo failed: {stderr.strip().splitlines()[-1]}")
    built = next(line for line in stderr.splitlines() if line.startswith("built "))
    events = int(built.split(", ")[1].split()[0])
    size = db.stat().st_size
    for path in folder.glob(f"{db.name}*"):
        path.unlink()
    return {"customers": customers, "workers": workers or os.cpu_count(), "seconds": round(seconds, 1),
            "minutes": f"{int(seconds // 60)} min {round(seconds % 60)} s", "events": events,
            "events_per_second": round(events / seconds), "peak_memory_mb": peak >> 20,
            "store_mb": size >> 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, action="append")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cherish-demo-bench-"))
    try:
        for workers in args.workers or [None]:
            print(json.dumps(run(args.customers, workers, folder)), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
