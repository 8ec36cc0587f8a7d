"""What the benchmarks share: the cherish CLI, a fresh database, a key, and `cherish serve` started and awaited."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "cherish"]


@contextmanager
def fresh_database(url: str | None, folder: Path) -> Iterator[str]:
    """The URL of an empty database for one run: a SQLite file in ``folder`` by default, or a schema of its own
    on the PostgreSQL server that ``url`` names, dropped afterwards."""
    if url is None or not url.startswith("postgresql"):
        yield url or f"sqlite:///{folder / 'bench.db'}"
        return
    import sqlalchemy

    schema = folder.name.replace("-", "_")
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def create_key(env: dict[str, str], role: str) -> str:
    return subprocess.run([*CLI, "keys", "create", "--role", role], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], port: int | None = None, workers: int = 1,
            options: tuple[str, ...] = ()) -> Iterator[str]:
    """`cherish serve` in its own process (on a free port unless given) until the block ends; yields its URL once
    /health answers. A server left over on the same port is refused, never measured in place of this one."""
    port = port or free_port()
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken (a server left over from an earlier run?)")
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", str(workers), *options], env=env,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.poll() is not None:
                raise SystemExit(f"the server stopped with exit code {server.returncode}")
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield url
    finally:
        server.terminate()
        server.wait()
