"""`cherish keys`: write keys and API keys."""

from __future__ import annotations

import typer

from cherish.cli.common import MAX_ID, DbOption, StdoutConsole, err, friendly, settings_for, store_for

app = typer.Typer(help="Write keys and API keys.", no_args_is_help=True)


@app.command("create")
@friendly
def create(role: str = typer.Option(..., metavar="ROLE", help="write, viewer, agent, manager or admin."),
           name: str | None = typer.Option(None, metavar="NAME", help="A name to recognise the key by."),
           db: str | None = DbOption) -> None:
    """Create a key and print it, alone on standard output, once."""
    from cherish.access.service import audit, create_key

    store = store_for(settings_for(db))
    with store.write() as session:
        key, secret = create_key(session, role=role, name=name)
        audit(session, actor="cli", action="key_create", subject=str(key.id), details={"role": role})
    err.print(f"created {role} key {key.id} ({key.name}); it is shown only this once:")
    print(secret)


@app.command("list")
@friendly
def list_(db: str | None = DbOption) -> None:
    """List keys (never their secrets)."""
    from rich.table import Table

    from cherish.access.service import list_keys

    store = store_for(settings_for(db))
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    with store.read() as session:
        for key in list_keys(session):
            table.add_row(str(key.id), key.name, key.role, key.prefix + "…", key.created_at.strftime("%Y-%m-%d %H:%M"),
                          key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "")
    StdoutConsole().print(table)


@app.command("revoke")
@friendly
def revoke(key_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID,
                                        help="The key's id, from `cherish keys list`."),
           db: str | None = DbOption) -> None:
    """Revoke a key: it stops working at once."""
    from cherish.access.service import audit, revoke_key

    store = store_for(settings_for(db))
    with store.write() as session:
        revoke_key(session, key_id=key_id)
        audit(session, actor="cli", action="key_revoke", subject=str(key_id))
    err.print(f"key {key_id} revoked")
