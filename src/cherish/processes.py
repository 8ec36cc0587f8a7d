"""Processes that `cherish serve` starts end with it: however the server stops, kill -9 included.

A child that outlived its server would hold the store open and go on polling (an intake writer nobody sends to,
a server process on a port nobody manages). A child cannot be told when its parent is killed with SIGKILL, so
each watches its parent's pid and stops itself, as SIGTERM would stop it, once the parent is gone.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SERVER_PID_VARIABLE = "CHERISH_SERVER_PID"  # set by `cherish serve` for the server processes it starts
POLL_SECONDS = 0.5


def exit_with_parent(parent: int) -> None:
    """Stop this process (SIGTERM to itself) as soon as ``parent`` is no longer its parent process."""
    if os.getppid() != parent:  # gone before we looked
        os.kill(os.getpid(), signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="cherish-parent-watch", daemon=True).start()


def exit_with_server() -> None:
    """In a server process started by `cherish serve --workers N`: end when that server is gone."""
    parent = os.environ.get(SERVER_PID_VARIABLE, "")
    if parent.isdigit() and int(parent) != os.getpid():  # (never in the server itself)
        exit_with_parent(int(parent))


class Stopped(Exception):
    """SIGTERM or SIGINT arrived: unwind, so that every child is stopped on the way out."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`Stopped` (and ignore repeats while unwinding).

    Uvicorn answers a signal by shutting down gracefully, then raises it again with the handler it found: the
    default SIGTERM handler would end the process on the spot, before any ``finally`` or ``__exit__`` ran."""
    signals = (signal.SIGTERM, signal.SIGINT)

    def stop(signum: int, frame: object) -> None:
        for each in signals:
            signal.signal(each, signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    previous = {each: signal.signal(each, stop) for each in signals}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
