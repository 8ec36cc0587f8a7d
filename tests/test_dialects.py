"""`cherish.db.dialects`, directly, on SQLite and PostgreSQL: the fast paths write and read what the ORM would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cherish.customers.models import Customer, Trait
from cherish.db.dialects import (
    bulk_insert_columns,
    existing_values,
    fetch_columns,
    insert_ignore,
    raw_rows,
    read_json,
    read_time,
    reserve_ids,
    upsert,
)
from cherish.events.models import Order

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _customers(store, *ids: str) -> None:  # type: ignore[no-untyped-def]
    with store.write() as session:
        for cid in ids:
            session.add(Customer(id=cid, created_at=T0))


def test_upsert_keeps_the_newest_and_reads_back_as_the_orm_wrote(store):
    _customers(store, "cus_a")
    rows = [{"customer_id": "cus_a", "name": "plan", "value": {"tier": "gold", "n": 2}, "source": "identify",
             "updated_at": T0}]
    with store.write() as session:
        upsert(session, Trait, rows, index=("customer_id", "name"), update=("value", "source", "updated_at"),
               newer_than="updated_at")
    older = [{**rows[0], "value": "silver", "updated_at": T0 - timedelta(days=1)}]
    newer = [{**rows[0], "value": ["x", 1], "updated_at": T0 + timedelta(hours=1)}]
    with store.write() as session:
        upsert(session, Trait, older, index=("customer_id", "name"), update=("value", "source", "updated_at"),
               newer_than="updated_at")
    with store.read() as session:
        assert session.scalar(select(Trait.value)) == {"tier": "gold", "n": 2}  # an older value does not win
    with store.write() as session:
        upsert(session, Trait.__table__, newer, index=("customer_id", "name"),
               update=("value", "source", "updated_at"), newer_than="updated_at")
    with store.read() as session:
        trait = session.scalar(select(Trait))
        assert trait.value == ["x", 1] and trait.updated_at == T0 + timedelta(hours=1)


def test_insert_ignore_skips_what_exists(store):
    _customers(store, "cus_a")
    row = {"customer_id": "cus_a", "name": "plan", "value": "gold", "source": "api", "updated_at": T0}
    with store.write() as session:
        insert_ignore(session, Trait, [row], index=("customer_id", "name"))
        insert_ignore(session, Trait, [{**row, "value": "silver"}], index=("customer_id", "name"))
    with store.read() as session:
        assert session.scalars(select(Trait.value)).all() == ["gold"]


def test_bulk_insert_stores_times_as_naive_utc_and_dates_as_dates(store):
    _customers(store, "cus_a")
    east = timezone(timedelta(hours=5))
    placed = [T0, datetime(2026, 3, 1, 17, 0, tzinfo=east), None]
    with store.write() as session:
        pks = reserve_ids(session, Order.__table__, 3)
        bulk_insert_columns(session, Order.__table__, {
            "id": pks, "order_id": ["O-1", "O-2", "O-3"], "customer_id": ["cus_a"] * 3,
            "status": ["completed"] * 3, "value": [1.5, 2.0, 0.0], "refunded": [0.0] * 3,
            "currency": ["USD"] * 3, "placed_at": [p or T0 for p in placed], "updated_at": [T0] * 3,
            "promised_delivery_date": [date(2026, 3, 4), None, date(2026, 3, 5)]})
    with store.read() as session:
        orders = session.scalars(select(Order).order_by(Order.order_id)).all()
        assert [o.placed_at for o in orders] == [T0, T0, T0]  # 17:00 at +05:00 is 12:00 UTC
        assert [o.promised_delivery_date for o in orders] == [date(2026, 3, 4), None, date(2026, 3, 5)]
        assert sorted(o.id for o in orders) == pks
        ids, values = fetch_columns(session, "SELECT order_id, value FROM orders ORDER BY order_id")
        assert ids == ("O-1", "O-2", "O-3") and values == (1.5, 2.0, 0.0)
        assert existing_values(session, Order.__table__.c.order_id, ["O-2", "O-9", "O-2"], chunk=1) == {"O-2"}
        (stored,), = raw_rows(session, "SELECT placed_at FROM orders WHERE order_id = ?", ["O-2"])
        assert read_time(stored) == T0
    with store.write() as session:
        assert reserve_ids(session, Order.__table__, 2)[0] > max(pks)
        assert reserve_ids(session, Order.__table__, 0) == []


def test_fetch_columns_of_nothing_has_one_empty_column_per_selected_column(store):
    with store.read() as session:
        assert fetch_columns(session, "SELECT id, created_at FROM customers") == [(), ()]


@pytest.mark.parametrize("value", [None, "2026-03-01 12:00:00.000000", datetime(2026, 3, 1, 12, 0),
                                   datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))])
def test_read_time_gives_aware_utc(value):
    assert read_time(value) == (None if value is None else T0)


def test_read_json_parses_sqlite_text_and_passes_parsed_values():
    assert read_json('{"a": [1, 2]}', True) == {"a": [1, 2]}
    assert read_json({"a": [1, 2]}, False) == {"a": [1, 2]}
    assert read_json(None, True) is None


def test_the_dialect_is_named_only_in_db():
    """Code outside ``db/`` asks the store what it can do (``one_writer``, ``has_quantiles``), never which database
    it is: a third database then means editing ``db/`` alone."""
    import re
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "src" / "cherish"
    branching = re.compile(r"dialect(\.name)?\s*(==|!=|in\b)|[\"'](sqlite|postgresql)[\"']\s*(==|!=|in\b)|"
                           r"(==|!=)\s*[\"'](sqlite|postgresql)[\"']")
    found = [f"{path.relative_to(source)}:{n}" for path in source.rglob("*.py") if path.parent.name != "db"
             and "migrations" not in path.parts
             for n, line in enumerate(path.read_text().splitlines(), 1) if branching.search(line)]
    assert found == []
