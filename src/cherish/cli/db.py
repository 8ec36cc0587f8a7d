"""`cherish db`: the operational database's schema."""

from __future__ import annotations

import typer

from cherish.cli.common import DbOption, err, friendly, settings_for, store_for

app = typer.Typer(help="The operational database.", no_args_is_help=True)


@app.command("upgrade")
@friendly
def upgrade(db: str | None = DbOption) -> None:
    """Create or migrate the schema to the newest revision."""
    settings = settings_for(db)
    store_for(settings, migrate=True)
    err.print(f"database is up to date ({settings.database_url.split('@')[-1]})")
