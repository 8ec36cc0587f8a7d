"""Fixtures: real stores on a temporary SQLite file and on the PostgreSQL server, the app through a test client."""

from __future__ import annotations

import base64
import email
import email.policy
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from cherish.access.service import create_key, create_user
from cherish.api.app import create_app
from cherish.config import Settings
from cherish.db.engine import Store, open_store
from cherish.db.migrate import upgrade

PG_URL = os.environ.get("CHERISH_TEST_DATABASE_URL")
PG_SKIP = "CHERISH_TEST_DATABASE_URL is not set: PostgreSQL tests need a server (.ci/run sets it)"


def _postgres_schema_url(base: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the variable is set, so the server must be there: fail loudly
        pytest.fail(f"PostgreSQL at CHERISH_TEST_DATABASE_URL is unreachable: {exc}")
    finally:
        engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a temporary SQLite file, or a new schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cherish.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    url, schema = _postgres_schema_url(PG_URL)
    yield url
    _drop_schema(PG_URL, schema)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings.database_url)
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture
def app(settings: Settings, store: Store):  # type: ignore[no-untyped-def]
    return create_app(settings, store)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


def _key(store: Store, role: str) -> str:
    with store.write() as session:
        return create_key(session, role=role, name=f"test {role}")[1]


@pytest.fixture
def write_key(store: Store) -> str:
    return _key(store, "write")


@pytest.fixture
def keys(store: Store) -> dict[str, str]:
    """One key per role."""
    return {role: _key(store, role) for role in ("write", "viewer", "agent", "manager", "admin")}


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin_user(store: Store) -> tuple[str, str]:
    with store.write() as session:
        create_user(session, username="ada", password="correct horse battery", role="admin")
    return "ada", "correct horse battery"


@pytest.fixture
def loaded(store: Store, settings: Settings) -> Store:
    """The store holding ``tests.helpers.MESSAGES``: metrics known by hand as of ``AS_OF``."""
    from cherish.events.flows import ingest
    from tests.helpers import MESSAGES

    with store.write() as session:
        result = ingest(session, MESSAGES, settings=settings)
    assert result.rejected == []
    return store


@pytest.fixture(params=["duckdb", "database"])
def engine(request: pytest.FixtureRequest, db_url: str) -> str:
    """Each analytics engine that reads the store: DuckDB on both stores, the operational database on PostgreSQL
    (Spark has its own suite)."""
    if request.param == "database" and not db_url.startswith("postgresql"):
        pytest.skip("the database engine runs on PostgreSQL only")
    return str(request.param)


@pytest.fixture
def live_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served over real HTTP (uvicorn in a thread) on a free port."""
    import threading

    import uvicorn

    from tests.helpers import free_port, wait_until_healthy

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, seconds=10)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = shutil.which("chromium")


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium through Playwright (skipped without it, unless CHERISH_REQUIRE_BROWSER is set)."""
    if CHROMIUM is None:
        if os.environ.get("CHERISH_REQUIRE_BROWSER"):
            pytest.fail("Debian's chromium is missing (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The command line through its runner on a migrated store: (invoke(*args), store)."""
    from typer.testing import CliRunner

    from cherish.cli import app
    from cherish.config import reset_settings

    monkeypatch.setenv("CHERISH_DATABASE_URL", db_url)
    reset_settings()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    store = open_store(db_url)
    yield (lambda *args: runner.invoke(app, list(args))), store
    store.dispose()
    reset_settings()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox():  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on a free port, and the messages it received."""
    from aiosmtpd.controller import Controller

    from tests.helpers import free_port

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()
