"""The worker process `cherish serve` starts beside the server (unless ``--no-worker``), started again if it stops,
and ended with the server however the server ends (``cherish.processes``)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from cherish.config import Settings

log = logging.getLogger("cherish.worker")
ELSEWHERE = 3  # the exit status of a worker that found another serving its store


def worker_main(settings: Settings, server: int | None = None) -> None:
    """The worker's entry point in a process of its own: SIGTERM (or the server gone) ends it after its round."""
    from cherish.db.engine import open_store
    from cherish.processes import exit_with_parent
    from cherish.worker.loop import run_worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which then stops this
    if server is not None:
        exit_with_parent(server)
    from cherish.errors import Conflict

    store = open_store(settings.database_url, pool_size=settings.pool_size)
    try:
        run_worker(store, settings, stop)
    except Conflict as exc:  # a `cherish worker` of its own serves this store: leave it the work
        log.warning("%s: the server runs without a worker of its own", exc.message)
        raise SystemExit(ELSEWHERE) from None
    finally:
        store.dispose()


class WorkerProcess:
    """The worker beside one `cherish serve`, as a context manager around the server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> WorkerProcess:
        self._start()
        self._watcher = threading.Thread(target=self._watch, name="cherish-worker-watch", daemon=True)
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()

    def _start(self) -> None:
        self._process = self._context.Process(target=worker_main, args=(self.settings, os.getpid()),
                                              name="cherish-worker", daemon=True)
        self._process.start()

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            if self._process.is_alive():
                continue
            if self._process.exitcode == ELSEWHERE:
                return
            log.warning("the worker process stopped (exit code %s); starting a new one", self._process.exitcode)
            try:
                self._start()
            except Exception as exc:  # noqa: BLE001 — keep watching: the next round tries again
                log.error("the worker process could not be started again (%s); retrying", exc)
