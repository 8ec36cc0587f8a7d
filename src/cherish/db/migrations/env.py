"""Alembic environment: runs on the connection handed over by cherish.db.migrate."""

from alembic import context

import cherish.models  # noqa: F401  (registers every table)
from cherish.db.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # autogenerate from the command line: alembic -x url=...
    from cherish.db.engine import open_store

    store = open_store(context.get_x_argument(as_dictionary=True)["url"])
    connection = store.engine.connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
