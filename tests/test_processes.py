"""`cherish serve` leaves no process behind: its children (the intake writer, the worker, server processes) end on
SIGTERM, on Ctrl-C and when it is killed -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cherish.events.writer import ADDRESS_VARIABLE
from tests.helpers import free_port, wait_until_healthy


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid``, read from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != "Z":  # a zombie has ended; only its parent's wait is missing
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, set[int]]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**os.environ, "CHERISH_DATABASE_URL": url}
    env.pop(ADDRESS_VARIABLE, None)
    subprocess.run([sys.executable, "-m", "cherish", "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cherish", "serve", "--port", str(port), *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", seconds=120)
    except BaseException:
        os.killpg(server.pid, signal.SIGKILL)  # its own session: the whole group goes
        server.wait()
        raise
    children = _descendants(server.pid)
    return server, children


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


@pytest.mark.parametrize(("how", "workers"), [("SIGTERM", "1"), ("SIGINT", "1"), ("SIGKILL", "1"),
                                              ("SIGTERM", "2"), ("SIGKILL", "2")])
def test_every_child_ends_with_the_server(tmp_path: Path, how: str, workers: str) -> None:
    """Only the server gets the signal (not its process group, as a supervisor or `kill PID` would send it)."""
    server, children = _serve(tmp_path, "--workers", workers)
    try:
        assert children, "the writer (and with --workers, the server processes) run beside the server"
        spawned = [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(spawned) >= 2, "the intake writer and the worker run beside the server"
        server.send_signal(getattr(signal, how))
        server.wait(30)
        left = _gone_within(children, 10)
        assert not left, f"left running after {how}: {sorted(left)}"
        if how != "SIGKILL":  # a graceful stop says so, and the traceback of a signal is never shown
            assert "Traceback" not in server.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        for pid in _alive(children | {server.pid}):
            os.kill(pid, signal.SIGKILL)
        if server.stderr:
            server.stderr.close()
