"""The `cherish` command line, through its runner, on real databases."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.config import reset_settings


@pytest.fixture
def run(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHERISH_DATABASE_URL", db_url)
    reset_settings()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    yield invoke
    reset_settings()


def test_db_upgrade_then_keys(run):
    assert run("db", "upgrade").exit_code == 0
    created = run("keys", "create", "--role", "write", "--name", "shop")
    assert created.exit_code == 0
    assert created.stdout.strip().startswith("wk_") and len(created.stdout.strip().splitlines()) == 1
    listed = run("keys", "list")
    assert "shop" in listed.stdout and created.stdout.strip() not in listed.stdout
    assert run("keys", "revoke", "1").exit_code == 0
    assert "revoked" in run("keys", "list").stdout or run("keys", "list").exit_code == 0


def test_user_errors_are_one_line_without_traceback(run):
    run("db", "upgrade")
    bad = run("keys", "create", "--role", "emperor")
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == ["error: unknown role 'emperor'; choose one of write, viewer, agent, "
                                               "manager, admin"]
    missing = run("keys", "revoke", "99")
    assert missing.exit_code == 1 and "no key with id 99" in missing.stderr and "Traceback" not in missing.stderr
    short = run("users", "create", "bob", "--role", "agent", "--password", "short")
    assert short.exit_code == 1 and "at least 8" in short.stderr


def test_ids_too_large_for_any_row_are_refused_before_the_store(run):
    """A key or run id beyond what the store can hold raised the driver's OverflowError as a traceback."""
    assert run("db", "upgrade").exit_code == 0
    for args in (("keys", "revoke", str(2**64)), ("identity", "undo", str(2**64)), ("identity", "undo", "0")):
        result = run(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert "Invalid value" in result.output


def test_bad_database_url_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("CHERISH_DATABASE_URL", "mysql://nope")
    reset_settings()
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "unsupported database" in result.stderr
    reset_settings()


def test_users_and_passwords(run):
    run("db", "upgrade")
    assert run("users", "create", "carol", "--role", "manager", "--password", "long enough pw").exit_code == 0
    assert run("users", "create", "carol", "--password", "long enough pw").exit_code == 1
    assert run("users", "set-password", "carol", input="another long one\n").exit_code == 0


def test_demo_keeps_its_ground_truth_beside_a_sqlite_store(tmp_path):
    store = tmp_path / "elsewhere" / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--customers", "20", "--no-serve", "--no-match", "--no-analyze", "--db",
                                      f"sqlite:///{store}"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "elsewhere" / "demo-truth.csv").read_text().startswith("type,value,person")


def test_demo_unmerge_export_erase(run, tmp_path):
    truth = tmp_path / "truth.csv"
    result = run("demo", "--customers", "60", "--seed", "3", "--no-serve", "--truth", str(truth))
    assert result.exit_code == 0, result.stderr
    assert "write key: wk_" in result.stdout and "login:     admin / " in result.stdout
    assert "analyzed: " in result.stderr  # the overview has figures from the first run
    assert truth.read_text().startswith("type,value,person")
    again = run("demo", "--customers", "60", "--no-serve", "--truth", str(truth))
    assert "already built" in again.stderr and "first run" in again.stdout  # kept between runs

    from sqlalchemy import func, select

    from cherish.analytics.models import MetricsSnapshot
    from cherish.config import get_settings
    from cherish.db.engine import open_store
    from cherish.identity.models import Identifier

    store = open_store(get_settings().database_url)
    with store.read() as session:
        customer, count = session.execute(
            select(Identifier.customer_id, func.count()).where(Identifier.type == "phone")
            .group_by(Identifier.customer_id).order_by(func.count().desc())).first()
        phone = session.scalar(select(Identifier.value).where(Identifier.customer_id == customer,
                                                              Identifier.type == "phone"))
        identifiers = session.scalar(select(func.count()).select_from(Identifier)
                                     .where(Identifier.customer_id == customer))
        assert session.scalar(select(func.count()).select_from(MetricsSnapshot)) == 1
    store.dispose()
    exported = run("export", "--customer", customer)
    assert exported.exit_code == 0 and json.loads(exported.stdout)["id"] == customer
    if identifiers > 1:
        split = run("identity", "unmerge", "--customer", customer, "--identifier", f"phone:{phone}")
        if split.exit_code == 0:
            assert split.stdout.strip().startswith("cus_")
        else:  # every event of that customer carried the phone: nothing to split it from
            assert "nothing to split" in split.stderr
    bad = run("identity", "unmerge", "--customer", customer, "--identifier", "phone")
    assert bad.exit_code == 1 and "TYPE:VALUE" in bad.stderr
    erased = run("erase", "--customer", customer)
    assert erased.exit_code == 0 and "erased" in erased.stderr
    assert run("export", "--customer", customer).exit_code == 1


def test_demo_prints_the_same_write_key_on_every_start(tmp_path, monkeypatch):
    import re
    import stat

    from sqlalchemy import func, select

    from cherish.access.models import ApiKey
    from cherish.db.engine import open_store

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("CHERISH_DATABASE_URL", "sqlite:///nowhere/else.db")  # --db wins, and leaves it as it is
    args = ["demo", "--customers", "1", "--no-serve", "--no-match", "--no-analyze", "--db", url]
    first = CliRunner().invoke(app, args, catch_exceptions=False)
    assert first.exit_code == 0, first.stderr
    assert "built 1 person, " in first.stderr  # not "1 people"
    assert os.environ["CHERISH_DATABASE_URL"] == "sqlite:///nowhere/else.db"
    key = re.search(r"write key: (wk_\S+)", first.stdout).group(1)
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert "already built" in again.stderr and f"write key: {key}" in again.stdout
    kept = tmp_path / "demo-write-key"
    assert kept.read_text().strip() == key and stat.S_IMODE(kept.stat().st_mode) == 0o600
    store = open_store(url)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    store.dispose()
    reset_settings()
    assert CliRunner().invoke(app, ["keys", "revoke", "1", "--db", url]).exit_code == 0
    renewed = CliRunner().invoke(app, args, catch_exceptions=False)  # a revoked key would not work: a new one
    new_key = re.search(r"write key: (wk_\S+)", renewed.stdout).group(1)
    assert new_key != key and kept.read_text().strip() == new_key


def test_a_pipe_closed_early_ends_quietly(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import select

    import cherish
    from cherish.customers.models import Customer
    from cherish.db.engine import open_store

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("CHERISH_DATABASE_URL", url)
    built = CliRunner().invoke(app, ["demo", "--customers", "1", "--no-serve", "--no-match", "--no-analyze",
                                     "--db", url])
    assert built.exit_code == 0, built.stderr
    store = open_store(url)
    with store.read() as session:
        customer = session.scalar(select(Customer.id).limit(1))
    store.dispose()
    env = {**os.environ, "CHERISH_DATABASE_URL": url, "PYTHONPATH": str(Path(cherish.__file__).parents[1])}
    for command in (["keys", "list"], ["identity", "runs"], ["export", "--customer", customer]):
        child = subprocess.Popen([sys.executable, "-m", "cherish", *command], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        child.stdout.close()  # the reader is gone before the command writes a byte, as `| head -0` would be
        stderr = child.stderr.read().decode()
        assert child.wait(timeout=120) in (0, 141), (command, stderr)
        assert stderr == "", (command, stderr)  # no traceback, no "error: Broken pipe"


def test_help_into_a_pipe_closed_early_ends_quietly():
    import os
    import subprocess
    import sys
    from pathlib import Path

    import cherish

    env = {**os.environ, "PYTHONPATH": str(Path(cherish.__file__).parents[1])}
    for command in (["--help"], ["identity", "--help"], ["identity", "match", "--help"], ["analyze", "--help"]):
        child = subprocess.Popen([sys.executable, "-m", "cherish", *command], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        child.stdout.close()  # `cherish --help | head -0`: Rich's own console would end such help with status 1
        stderr = child.stderr.read().decode()
        assert child.wait(timeout=60) == 141, (command, stderr)
        assert stderr == "", (command, stderr)
    shown = subprocess.run([sys.executable, "-m", "cherish", "identity", "match", "--help"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Usage: cherish identity match" in shown.stdout and "--dry-run" in shown.stdout
