"""The store's driver-level helpers, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from cherish.db.dialects import existing_values, raw_rows
from cherish.events.models import Event, Order
from cherish.events.service import ingest


def test_lookups_find_values_and_are_never_prepared(store, settings):
    """Look-ups by long value lists answer right, and on PostgreSQL are planned each time, through the driver or
    the ORM: a prepared statement may get a generic plan, made while the table was small, that searches the list
    value by value for every row (minutes on a bulk import)."""
    with store.write() as session:
        ingest(session, [{"type": "track", "event": "Seen", "userId": f"u{i}", "messageId": f"m-{i}"}
                         for i in range(30)], settings=settings)
    with store.read() as session:
        for _ in range(8):  # psycopg prepares what it runs five times
            found = existing_values(session, Event.__table__.c.message_id, [f"m-{i}" for i in range(0, 60, 2)])
            orders = session.scalars(select(Order).where(Order.order_id.in_(["A", "B", "C"]))).all()
        assert found == {f"m-{i}" for i in range(0, 30, 2)}
        assert orders == []
        if store.dialect == "postgresql":
            prepared = raw_rows(session, "SELECT count(*) FROM pg_prepared_statements", [])
            assert prepared == [(0,)]
