"""`cherish serve`: intake, API and dashboard, with the intake writer beside them on SQLite and the worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import typer

from cherish.cli.common import DbOption, err, friendly, settings_for, store_for
from cherish.config import Settings


@friendly
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          workers: int = typer.Option(1, min=1, help="Server processes (2 suits a 2-core machine under heavy intake)."),
          intake_writer: bool = typer.Option(True, help="On SQLite, store intake in a writer process of its own that "
                                                        "every server process sends to (it has one writer anyway)."),
          worker: bool = typer.Option(True, help="Run the worker (jobs, webhooks, outbox delivery) in a process beside "
                                                 "the server; --no-worker when `cherish worker` runs elsewhere."),
          db: str | None = DbOption) -> None:
    """Serve intake, API and dashboard from the database CHERISH_DATABASE_URL names."""
    settings = settings_for(db)
    store = store_for(settings, migrate=True)
    one_writer = store.one_writer
    store.dispose()
    run_server(settings, one_writer, host=host, port=port, workers=workers, intake_writer=intake_writer,
               worker=worker)


def run_server(settings: Settings, one_writer: bool, *, host: str, port: int, workers: int = 1,
               intake_writer: bool = True, worker: bool = True) -> None:
    """Serve the app until stopped; with the intake writer process beside the server processes on a store that
    takes one writer at a time (SQLite), and the worker process unless ``worker`` is false.
    Every process started here ends with it: on SIGTERM or Ctrl-C after a graceful shutdown, and by itself
    when this process is killed outright (``cherish.processes``)."""
    import uvicorn

    from cherish.api.edge import configure_logging
    from cherish.events.writer import WriterProcess
    from cherish.processes import SERVER_PID_VARIABLE, Stopped, stop_on_signals
    from cherish.worker.process import WorkerProcess

    configure_logging(settings.log_level, access=settings.access_log)
    # cherish writes its own access log (JSON, no query strings) and reads forwarded headers itself, from the
    # proxies CHERISH_FORWARDED_ALLOW_IPS names: uvicorn's copies of both are off
    server_options: dict[str, Any] = {"log_level": "warning", "access_log": False, "proxy_headers": False}

    writer = WriterProcess(settings) if intake_writer and one_writer else nullcontext()
    beside = WorkerProcess(settings) if worker else nullcontext()
    try:
        with stop_on_signals(), writer, beside:
            err.print(f"cherish is serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
            if workers > 1:
                # server processes start afresh and read their settings from the environment they inherit
                with _inherited({SERVER_PID_VARIABLE: str(os.getpid()), "CHERISH_DATABASE_URL": settings.database_url}):
                    uvicorn.run("cherish.api.asgi:app", host=host, port=port, workers=workers, **server_options)
            else:
                from cherish.api.app import create_app

                uvicorn.run(create_app(settings), host=host, port=port, **server_options)
    except Stopped as signal_name:
        err.print(f"cherish stopped ({signal_name})")


@contextmanager
def _inherited(values: dict[str, str]) -> Iterator[None]:
    """Environment variables the processes started inside inherit; what was there before is put back."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
