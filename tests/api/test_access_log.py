"""`cherish serve` logs each request as one JSON line, without query strings, paths or bodies (they carry emails)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from tests.helpers import free_port, wait_until_healthy


def test_cherish_serve_writes_an_access_log_without_personal_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**os.environ, "CHERISH_DATABASE_URL": url}
    cli = [sys.executable, "-m", "cherish"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    reader = subprocess.run([*cli, "keys", "create", "--role", "viewer", "--name", "crm sync"], env=env, check=True,
                            capture_output=True, text=True).stdout.strip()
    port = free_port()
    log_file = tmp_path / "stderr.log"
    with log_file.open("w") as stderr:
        server = subprocess.Popen([*cli, "serve", "--port", str(port), "--no-intake-writer"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base)
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {reader}"}) as http:
                missing = http.get("/api/customers/lookup", params={"email": "secret.person@example.com"})
                assert missing.status_code == 404
                assert http.get("/api/customers/cus_nobody").status_code == 404
                assert http.post("/v1/batch", json={"batch": []}, headers={"Authorization": "Bearer nope"}
                                 ).status_code == 401
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    text = log_file.read_text()
    assert "secret.person" not in text and "cus_nobody" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "cherish.access"]
    lookup = next(line for line in access if line["route"] == "/api/customers/lookup")
    assert lookup["method"] == "GET" and lookup["status"] == 404 and lookup["principal"] == "key:crm sync"
    assert lookup["request_id"] == missing.json()["error"]["request_id"] == missing.headers["x-request-id"]
    assert isinstance(lookup["latency_ms"], float) and lookup["time"].endswith("Z")
    assert any(line["route"] == "/api/customers/{customer_id}" and line["status"] == 404 for line in access)
    assert any(line["route"] == "/v1/batch" and line["status"] == 401 and line["principal"] is None
               for line in access)
    assert "GET /api" not in text  # uvicorn's own access log (with query strings) stays off
