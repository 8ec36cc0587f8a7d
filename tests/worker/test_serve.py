"""`cherish serve` runs the worker beside the server: an endpoint added while it runs receives what intake stores,
signed, without a restart."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cherish.events.writer import ADDRESS_VARIABLE
from tests.helpers import Receiver, free_port, wait_until_healthy


def test_a_served_store_delivers_webhooks_from_a_worker_beside_it(tmp_path: Path) -> None:
    env = {**os.environ, "CHERISH_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
           "CHERISH_WORKER_POLL_SECONDS": "0.05"}
    env.pop(ADDRESS_VARIABLE, None)

    def cherish(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "cherish", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    cherish("db", "upgrade")
    write_key = cherish("keys", "create", "--role", "write")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cherish", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    receiver = Receiver()
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", seconds=120)
        receiver.secret = cherish("webhooks", "add", receiver.url, "--events", "feedback.received")  # while it runs
        auth = base64.b64encode(f"{write_key}:".encode()).decode()
        sent = httpx.post(f"http://127.0.0.1:{port}/v1/track", headers={"Authorization": f"Basic {auth}"}, json={
            "userId": "u-1", "event": "Feedback Submitted", "messageId": "fb-served",
            "properties": {"score_type": "csat", "score": 2, "comment": "the parcel came late"}})
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) == 1 and receiver.received[0]["verified"] is not None
        assert receiver.received[0]["body"]["data"]["comment"] == "the parcel came late"
    finally:
        receiver.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
