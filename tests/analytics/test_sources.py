"""Reading the store's purchases into Arrow for the engines, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from cherish.analytics.engines import _PURCHASES, _arrow
from cherish.customers.models import Customer
from cherish.events.models import Order


def test_purchases_read_whole_whatever_their_first_rows_hold(store):
    """SQLite's rows reach Arrow through a driver that guesses each column's type from its first rows: a text
    column that starts with more NULLs than it looks at (store orders have no branch) must still come whole."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.write() as session:
        session.execute(insert(Customer), [{"id": "cus_a", "created_at": start}])
        session.execute(insert(Order), [
            {"order_id": f"O-{i}", "customer_id": "cus_a", "status": "completed", "value": 10.0 + i, "refunded": 0.0,
             "currency": "USD", "channel": "web" if i < 3000 else "store",
             "branch": None if i < 3000 else "Portland", "placed_at": start + timedelta(minutes=i),
             "updated_at": start} for i in range(3100)])
    table = _arrow(store, _PURCHASES).sort_by("placed_at")
    assert table.num_rows == 3100
    assert table.column("branch").null_count == 3000 and table.column("branch")[3099].as_py() == "Portland"
    assert table.column("channel")[0].as_py() == "web" and table.column("value")[5].as_py() == 15.0
    assert table.column("placed_at")[1].as_py() == datetime(2026, 1, 1, 0, 1)  # naive UTC
    assert str(table.schema.field("placed_at").type) == "timestamp[us]"


def test_no_purchases_is_an_empty_typed_table(store):
    table = _arrow(store, _PURCHASES)
    assert table.num_rows == 0 and str(table.schema.field("value").type) == "double"


def _sqlite_libraries() -> set[str]:
    """The shared objects of this process that carry a copy of SQLite (Python's own, the ADBC driver's)."""
    with open("/proc/self/maps") as maps:
        return {line.split()[-1] for line in maps if "sqlite" in line.rsplit("/", 1)[-1].lower()}


def test_the_store_is_never_opened_through_two_sqlite_libraries(store, settings):
    """Two copies of SQLite on one file in one process break each other's locks (a SIGBUS in the write-back of
    `cherish analyze` after the ADBC driver had read the store): the driver reads in a child process only."""
    if store.dialect != "sqlite":
        return
    from cherish.analytics.engines import open_engine

    with store.write() as session:
        session.execute(insert(Customer), [{"id": "cus_a", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}])
    before = _sqlite_libraries()
    with open_engine("duckdb", store, settings) as engine:
        assert engine.purchases.count().execute() == 0
    assert not any("adbc" in path for path in _sqlite_libraries() - before)


def test_a_failed_read_says_so_with_its_query(tmp_path):
    import pytest

    from cherish.db.sqlite_reader import read_sqlite
    from cherish.errors import EngineError

    folder = tmp_path / "a #folder?"
    folder.mkdir()
    import sqlite3

    with sqlite3.connect(folder / "s.db") as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
    assert read_sqlite(str(folder / "s.db"), "SELECT x FROM t").column("x").to_pylist() == [1, 2]
    with pytest.raises(EngineError, match="no such table: missing.*SELECT x FROM missing"):
        read_sqlite(str(folder / "s.db"), "SELECT x FROM missing")
