"""The store's driver-level helpers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from cherish.customers.models import Customer
from cherish.db.dialects import existing_values, raw_rows
from cherish.db.engine import open_store
from cherish.db.migrate import upgrade
from cherish.events.flows import ingest
from cherish.events.models import Event, Order
from cherish.identity.models import Identifier


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


def test_upgrade_moves_creation_back_to_the_oldest_sighting(db_url):
    """Revision 0006 repairs stores written before creation followed older history: a customer created after its
    oldest identifier was first seen is moved back to that sighting; the others are left as they were."""
    store = open_store(db_url)
    try:
        upgrade(store, "0005")
        with store.engine.begin() as conn:
            conn.execute(insert(Customer), [{"id": "cus_late", "created_at": datetime(2026, 3, 1, tzinfo=UTC)},
                                            {"id": "cus_right", "created_at": datetime(2025, 1, 1, tzinfo=UTC)}])
            conn.execute(insert(Identifier), [
                {"type": "email", "value": "a@example.com", "customer_id": "cus_late",
                 "first_seen": datetime(2024, 6, 30, 9, tzinfo=UTC), "last_seen": datetime(2026, 3, 1, tzinfo=UTC)},
                {"type": "user_id", "value": "a", "customer_id": "cus_late",
                 "first_seen": datetime(2026, 3, 1, tzinfo=UTC), "last_seen": datetime(2026, 3, 1, tzinfo=UTC)},
                {"type": "email", "value": "b@example.com", "customer_id": "cus_right",
                 "first_seen": datetime(2025, 2, 1, tzinfo=UTC), "last_seen": datetime(2025, 2, 1, tzinfo=UTC)}])
        upgrade(store)
        with store.read() as session:
            created = dict(session.execute(select(Customer.id, Customer.created_at)).all())
        assert created == {"cus_late": datetime(2024, 6, 30, 9, tzinfo=UTC),
                           "cus_right": datetime(2025, 1, 1, tzinfo=UTC)}
    finally:
        store.dispose()
