"""Alembic, driven from code: `cherish db upgrade` and the test fixtures call these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cherish.db.engine import Store

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["store"] = store
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the store's schema to ``revision`` (the newest by default)."""
    with store.engine.begin() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(store: Store, revision: str = "base") -> None:
    """Take the store's schema back to ``revision``: to ``base``, every table and all it held is gone."""
    with store.engine.begin() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def is_current(store: Store) -> bool:
    """Whether the store's schema is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config(store)).get_current_head()
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
