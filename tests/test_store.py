"""The store's driver-level helpers, on SQLite and PostgreSQL."""

from __future__ import annotations

from cherish.db.dialects import existing_values, raw_rows
from cherish.events.models import Event
from cherish.events.service import ingest


def test_bulk_lookups_find_values_and_are_never_prepared(store, settings):
    """Look-ups by long value lists answer right, and on PostgreSQL are planned each time: a prepared statement
    may get a generic plan that searches the list value by value for every row (minutes on a bulk import)."""
    with store.write() as session:
        ingest(session, [{"type": "track", "event": "Seen", "userId": f"u{i}", "messageId": f"m-{i}"}
                         for i in range(30)], settings=settings)
    with store.read() as session:
        for _ in range(8):  # psycopg prepares what it runs five times
            found = existing_values(session, Event.__table__.c.message_id, [f"m-{i}" for i in range(0, 60, 2)])
        assert found == {f"m-{i}" for i in range(0, 30, 2)}
        if store.dialect == "postgresql":
            prepared = raw_rows(session, "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?",
                                ["%message_id%"])
            assert prepared == [(0,)]
