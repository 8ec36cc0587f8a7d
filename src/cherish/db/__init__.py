"""The operational store: engine, sessions, table base and migrations."""

from cherish.db.base import Base, JSONType, UTCDateTime, new_id, utcnow
from cherish.db.engine import Store, open_store

__all__ = ["Base", "JSONType", "UTCDateTime", "Store", "new_id", "open_store", "utcnow"]
