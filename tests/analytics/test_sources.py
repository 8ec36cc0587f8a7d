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
