"""The demo built by worker processes (scratch stores moved into the store) equals the demo built in process."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from cherish.config import Settings
from cherish.db.engine import Store, open_store
from cherish.db.migrate import upgrade
from cherish.db.transfer import copy_store
from cherish.demo import build
from cherish.demo.build import build_demo
from cherish.errors import Conflict
from cherish.events.flows import ingest

END = datetime(2026, 6, 1, tzinfo=UTC)


def _rows(store: Store, sql: str) -> list[tuple]:
    with store.read() as session:
        return [tuple(row) for row in session.execute(text(sql))]


def _plain(value: object, is_json: bool, sqlite: bool) -> str:
    """A value as text the same way from either engine (PostgreSQL gives JSON parsed and times as datetimes)."""
    if is_json:
        return json.dumps(json.loads(value) if sqlite else value, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat(" ", "microseconds")
    return str(value)


def _canonical(store: Store) -> dict[str, list[tuple]]:
    """Every table the demo writes, with customer ids (random per build) and integer ids (drawn per store)
    replaced by what they stand for: a customer by its first message, a line's order by the order's number."""
    first_message = dict(_rows(store, "SELECT customer_id, MIN(message_id) FROM events GROUP BY customer_id"))
    survivor = dict(_rows(store, "SELECT id, merged_into FROM customers WHERE merged_into IS NOT NULL"))

    def who(customer_id: str | None) -> str | None:
        if customer_id is None:
            return None
        if customer_id in first_message:
            return first_message[customer_id]
        return "merged into " + str(who(survivor[customer_id]))

    sqlite = store.dialect == "sqlite"

    def table(sql: str, *customer_columns: int, json_columns: tuple[int, ...] = ()) -> list[tuple]:
        out = []
        for row in _rows(store, sql):
            values = list(row)
            for i in customer_columns:
                values[i] = who(values[i])
            out.append(tuple(_plain(v, i in json_columns, sqlite) for i, v in enumerate(values)))
        return sorted(out)

    return {
        "customers": table("SELECT id, created_at, merged_into, name FROM customers", 0, 2),
        "identifiers": table("SELECT customer_id, type, value, first_seen, last_seen FROM identifiers", 0),
        "traits": table("SELECT customer_id, name, value, source, updated_at FROM traits", 0, json_columns=(2,)),
        "consent": table("SELECT customer_id, purpose, channel, status, at, source FROM consent", 0),
        "events": table("SELECT customer_id, message_id, type, event, channel, timestamp, received_at, identifiers, "
                        "payload FROM events", 0, json_columns=(7, 8)),
        "orders": table("SELECT customer_id, order_id, status, value, refunded, currency, channel, branch, employee, "
                        "placed_at, promised_delivery_date, shipped_at, delivered_at FROM orders", 0),
        "order_lines": table("SELECT o.order_id, l.product_id, l.sku, l.name, l.category, l.price, l.quantity "
                             "FROM order_lines l JOIN orders o ON o.id = l.order_pk"),
        "answers": table("SELECT customer_id, source, score_type, score, comment, survey, channel, branch, employee, "
                         "answered_at FROM feedback_answers", 0),
        "merges": table("SELECT survivor_id, merged_id, identifier_type, identifier_value, message_id, reason "
                        "FROM merges", 0, 1),
        "reviews": table("SELECT customer_a, customer_b, reason, status, evidence FROM identity_reviews", 0, 1,
                         json_columns=(4,)),
    }


def test_workers_build_the_same_company_as_one_process(store: Store, settings: Settings, tmp_path: Path,
                                                        monkeypatch) -> None:
    monkeypatch.setattr(build, "PEOPLE_PER_CHUNK", 150)  # several chunks, more than the workers
    reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(reference)
    try:
        alone = build_demo(reference, settings, people=700, seed=3, end=END, workers=1,
                           truth_path=tmp_path / "alone.csv")
        advanced: list[int] = []
        together = build_demo(store, settings, people=700, seed=3, end=END, workers=2,
                              truth_path=tmp_path / "together.csv", progress=advanced.append)
        assert (together.messages, together.customers) == (alone.messages, alone.customers)
        assert sum(advanced) == 700 and len(advanced) == 5
        assert (tmp_path / "alone.csv").read_text() == (tmp_path / "together.csv").read_text()
        with (tmp_path / "together.csv").open() as f:
            assert len({row["person"] for row in csv.DictReader(f)}) > 600  # some people never showed up
        expected, built = _canonical(reference), _canonical(store)
        for name, rows in expected.items():
            assert rows or name in ("merges", "reviews"), f"the demo wrote no {name}"  # merges are rare
            assert built[name] == rows, f"{name} differ"
        assert len(expected["order_lines"]) > len(expected["orders"])
    finally:
        reference.dispose()


def test_the_store_goes_on_drawing_ids_after_the_moved_rows(store: Store, settings: Settings, monkeypatch) -> None:
    """Moved orders take ids the store drew (PostgreSQL: from its sequence), so later orders do not collide."""
    monkeypatch.setattr(build, "PEOPLE_PER_CHUNK", 100)
    build_demo(store, settings, people=300, seed=5, end=END, workers=2)
    before = _rows(store, "SELECT COUNT(*), COUNT(DISTINCT id), MAX(id) FROM orders")[0]
    assert before[0] == before[1] > 0
    with store.write() as session:
        result = ingest(session, [{
            "type": "track", "userId": "after-the-demo", "event": "Order Completed", "messageId": "after-1",
            "properties": {"order_id": "AFTER-1", "products": [{"sku": "S-1", "price": 5, "quantity": 2}]},
        }], settings=settings)
    assert result.stored == 1
    new_order = _rows(store, "SELECT o.id, COUNT(l.id) FROM orders o JOIN order_lines l ON l.order_pk = o.id "
                             "WHERE o.order_id = 'AFTER-1' GROUP BY o.id")
    assert new_order[0][0] > before[2] and new_order[0][1] == 1


def test_rows_that_collide_with_the_store_are_refused_whole(store: Store, settings: Settings, tmp_path: Path,
                                                           monkeypatch) -> None:
    """Chunks must not share identifiers; if a scratch store's rows meet the store's, none of them land."""
    monkeypatch.setattr(build, "PEOPLE_PER_CHUNK", 100)
    build_demo(store, settings, people=200, seed=4, end=END, workers=2)
    counts = {t: _rows(store, f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("customers", "events", "identifiers")}
    scratch = open_store(f"sqlite:///{tmp_path / 'again.db'}", scratch=True)
    upgrade(scratch)
    build_demo(scratch, settings, people=150, seed=4, end=END, workers=1)  # people the store already has
    scratch.dispose()
    with pytest.raises(Conflict, match="collide"):
        copy_store(store, tmp_path / "again.db")
    assert {t: _rows(store, f"SELECT COUNT(*) FROM {t}")[0][0] for t in counts} == counts


def test_the_cli_builds_with_workers_and_refuses_none(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from cherish.cli import app

    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo", "--customers", "1100", "--workers", "2", "--no-serve", "--no-match",
                                      "--no-analyze", "--db", db])
    assert result.exit_code == 0, result.output
    assert "built 1100 people" in result.stderr
    built = open_store(db)
    try:
        assert _rows(built, "SELECT COUNT(DISTINCT customer_id) > 1000 FROM events") == [(1,)]
    finally:
        built.dispose()
    refused = CliRunner().invoke(app, ["demo", "--workers", "0", "--no-serve", "--db", db])
    assert refused.exit_code != 0 and "--workers" in refused.output


def test_build_match_and_analyze_in_one_process(tmp_path: Path) -> None:
    """The reproduction of a crash: this company, built, matched and analysed by one `cherish demo` process,
    died with SIGBUS in the write-back after the analytics read the store through a second copy of SQLite."""
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run([sys.executable, "-m", "cherish", "demo", "--customers", "5000", "--seed", "3",
                           "--no-serve", "--db", db], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    built = open_store(db)
    try:
        assert _rows(built, "PRAGMA integrity_check") == [("ok",)]
        assert _rows(built, "SELECT COUNT(*) > 1000 FROM customer_scores") == [(1,)]
        # the recovery work: open, breached and resolved cases; kept and broken promises; an incident's apologies
        from cherish.cases.recovery import recovery_rates

        states = dict(_rows(built, "SELECT status, COUNT(*) FROM recovery_cases GROUP BY status"))
        assert states.get("new") and states.get("resolved") and states.get("closed"), states
        assert _rows(built, "SELECT COUNT(*) > 0 FROM recovery_cases WHERE breached IS NOT NULL") == [(1,)]
        kept = dict(_rows(built, "SELECT status, COUNT(*) FROM promises GROUP BY status"))
        assert kept["kept"] > kept["broken"] > 0, kept
        assert _rows(built, "SELECT COUNT(*) FROM incidents") == [(1,)]
        assert _rows(built, "SELECT COUNT(*) > 0 FROM incident_customers WHERE contact_key IS NOT NULL") == [(1,)]
        with built.read() as session:
            rates = recovery_rates(session)
        assert rates["with_case"]["n"] > 0 and rates["before_cases"]["n"] > 0, rates
    finally:
        built.dispose()
