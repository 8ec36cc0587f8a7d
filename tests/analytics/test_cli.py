"""`cherish analyze` and `cherish report` through the CLI runner: what they print and where they write."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.config import reset_settings


@pytest.fixture
def run(loaded, settings, monkeypatch):
    monkeypatch.setenv("CHERISH_DATABASE_URL", settings.database_url)
    reset_settings()
    yield lambda *args: CliRunner().invoke(app, list(args))
    reset_settings()


def test_analyze_prints_scores_as_the_overview_shows_them(run, tmp_path):
    out = tmp_path / "metrics.json"
    result = run("analyze", "--as-of", "2026-04-30", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "4 customers with a purchase; repeat-customer rate 50.0%" in result.stderr
    assert "CSAT 66.7% (n=3, 20.8–93.9)" in result.stderr  # as on the overview page, not 0.67
    assert result.stdout == "" and json.loads(out.read_text())["customers"] == 4


def test_output_and_its_older_spellings(run, tmp_path):
    older = tmp_path / "older.json"
    assert run("analyze", "--as-of", "2026-04-30", "--json", str(older)).exit_code == 0
    assert json.loads(older.read_text())["customers"] == 4
    both = run("analyze", "--as-of", "2026-04-30", "--json", str(older), "--output", str(tmp_path / "x.json"))
    assert both.exit_code == 1 and both.stderr.strip().splitlines() == [
        "error: give --output or its older spelling --json, not both"]
    for flag in ("--output", "-o", "--html"):
        report = tmp_path / f"report{flag}.html"
        result = run("report", flag, str(report))
        assert result.exit_code == 0, result.stderr
        assert report.read_text().lstrip().lower().startswith("<!doctype html")
    nowhere = run("report")
    assert nowhere.exit_code == 1 and "--output FILE.html" in nowhere.stderr
