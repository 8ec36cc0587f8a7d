"""What the HTTP benchmarks share: the cherish CLI, a key, and `cherish serve` started and awaited."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

CLI = [sys.executable, "-m", "cherish"]


def create_key(env: dict[str, str], role: str) -> str:
    return subprocess.run([*CLI, "keys", "create", "--role", role], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@contextmanager
def serving(env: dict[str, str], port: int, workers: int = 1) -> Iterator[str]:
    """`cherish serve` in its own process until the block ends; yields its URL once /health answers."""
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
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
