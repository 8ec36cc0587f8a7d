"""The intake writer process: server processes validate, one process stores (what `cherish serve` runs on SQLite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cherish.api.app import create_app
from cherish.errors import EngineError, Unavailable
from cherish.events import writer as writer_module
from cherish.events.models import Event
from cherish.events.writer import ADDRESS_VARIABLE, WriterClient, WriterProcess
from cherish.identity.models import Identifier
from tests.conftest import basic
from tests.helpers import free_port, identify, track, wait_until_healthy


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _batch(n: int) -> list[dict]:  # type: ignore[type-arg]
    good = [{"type": "identify", "userId": f"w{n}", "traits": {"email": f"w{n}@example.com", "name": f"Person {n}"},
             "messageId": f"w{n}-{i}"} for i in range(5)]
    return [*good[:2], {"type": "nope", "userId": "x"}, *good[2:], {"type": "track", "event": "No one"}]


def test_batches_from_many_threads_are_stored_by_the_writer_process(store, settings):
    """Requests sent at once share the writer's transactions; each is answered with its own rejects, only
    after its messages are committed, and identities are resolved as in-process intake resolves them."""
    with WriterProcess(settings) as process:
        client = WriterClient.from_environment(settings)
        assert client is not None and process.pid != os.getpid()
        with ThreadPoolExecutor(8) as pool:
            futures = list(pool.map(lambda n: client.submit(_batch(n), None, None), range(40)))
        results = [f.result(timeout=60) for f in futures]
    assert os.environ.get(ADDRESS_VARIABLE) is None  # removed with the writer
    assert not Path(process.address).exists()
    assert all([r["index"] for r in result.rejected] == [2, 6] for result in results)
    assert all(result.stored == 5 and len(set(result.customers)) == 1 for result in results)
    assert len({result.customers[0] for result in results}) == 40
    assert _count(store, Event) == 200
    assert _count(store, Identifier) == 80  # a user id and an email for each of the 40 people


def test_a_writer_that_stops_is_started_again_and_nothing_is_lost(store, settings, monkeypatch):
    """Requests waiting on a writer that dies answer 503 (Unavailable); `cherish serve` starts a new writer,
    the server process connects to it on the next request, and a batch sent again is deduplicated."""
    monkeypatch.setattr(writer_module, "CONNECT_SECONDS", 30.0)
    with WriterProcess(settings) as process:
        client = WriterClient.from_environment(settings)
        assert client.submit([track(user_id="before", messageId="m-before")], None, None).result(30).stored == 1
        first = process.pid
        os.kill(first, signal.SIGSTOP)  # hold it, so that a request is surely waiting on it when it dies
        waiting = client.submit([track(user_id="lost", messageId="m-lost")], None, None)
        time.sleep(0.2)
        os.kill(first, signal.SIGKILL)
        with pytest.raises(Unavailable, match="send the batch again"):
            waiting.result(timeout=30)
        retried = client.submit([track(user_id="lost", messageId="m-lost")], None, None).result(timeout=60)
        deadline = time.monotonic() + 30  # the new writer may answer before `cherish serve` has noted its pid
        while process.pid == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert retried.stored + retried.duplicates == 1 and process.pid != first
        again = client.submit([track(user_id="lost", messageId="m-lost")], None, None).result(timeout=30)
        assert again.duplicates == 1
    assert _count(store, Event) == 2


def test_intake_answers_503_when_no_writer_answers(store, settings, write_key, monkeypatch):
    """A server process whose writer is gone (and not back in time) answers 503 in the one error shape."""
    monkeypatch.setattr(writer_module, "CONNECT_SECONDS", 0.2)
    monkeypatch.setenv(ADDRESS_VARIABLE, f"{store.engine.url.database}.no-writer.sock {'00' * 32}")
    with TestClient(create_app(settings, store)) as client:
        response = client.post("/v1/batch", json={"batch": [track(user_id="u1")]}, headers=basic(write_key))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert _count(store, Event) == 0


def test_a_garbled_writer_address_is_one_clear_error(settings, monkeypatch):
    monkeypatch.setenv(ADDRESS_VARIABLE, "/tmp/somewhere not-hex")
    with pytest.raises(EngineError, match="set by `cherish serve`"):
        WriterClient.from_environment(settings)


def test_an_error_that_cannot_cross_arrives_as_its_text():
    class Local(Exception):
        def __reduce__(self):  # type: ignore[no-untyped-def]
            raise TypeError("cannot pickle")

    crossed = writer_module._portable(Local("the disk is full"))
    assert isinstance(crossed, EngineError) and "Local: the disk is full" in str(crossed)
    assert isinstance(writer_module._portable(Unavailable("x")), Unavailable)


def test_cherish_serve_on_sqlite_runs_the_writer_for_its_server_processes(tmp_path):
    """The real `cherish serve --workers 2`: both server processes send to one writer; a customer is found by
    its email as soon as the batch is acknowledged; stopping the server stops the writer and removes its socket."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**os.environ, "CHERISH_DATABASE_URL": url}
    env.pop(ADDRESS_VARIABLE, None)
    cli = [sys.executable, "-m", "cherish"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    key = subprocess.run([*cli, "keys", "create", "--role", "write"], env=env, check=True, capture_output=True,
                         text=True).stdout.strip()
    reader = subprocess.run([*cli, "keys", "create", "--role", "viewer"], env=env, check=True, capture_output=True,
                            text=True).stdout.strip()
    port = free_port()
    folders = set(Path(tempfile.gettempdir()).glob("cherish-intake-*"))
    # --db names the store: the server processes are told it, whatever their environment says
    elsewhere = {**env, "CHERISH_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"}
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2", "--db", url], env=elsewhere,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, seconds=120)  # a loaded machine starts two server processes slowly
        ours = set(Path(tempfile.gettempdir()).glob("cherish-intake-*")) - folders
        assert len(ours) == 1 and (next(iter(ours)) / "writer.sock").is_socket()
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 3  # the writer and two server processes (and multiprocessing's tracker)
        with httpx.Client(base_url=base, timeout=30) as http:
            for n in range(6):  # several connections, so both server processes are likely to take some
                batch = [identify(user_id=f"s{n}", traits={"email": f"S{n}@Example.com"}), track(user_id=f"s{n}")]
                with httpx.Client(base_url=base, auth=(key, ""), timeout=30) as fresh:
                    assert fresh.post("/v1/batch", json={"batch": batch}).json() == {"success": True}
                found = http.get("/api/customers/lookup", params={"email": f"s{n}@example.com"},
                                 headers={"Authorization": f"Bearer {reader}"})
                assert found.status_code == 200, found.text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
    assert not any(folder.exists() for folder in ours)  # the writer's socket and folder went with it
    for _ in range(50):  # and so did every process (multiprocessing's tracker leaves a moment later)
        alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []
