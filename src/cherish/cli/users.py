"""`cherish users`: dashboard users."""

from __future__ import annotations

import sys

import typer

from cherish.cli.common import DbOption, err, friendly, settings_for, store_for

app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
PASSWORD_HELP = "Read from standard input or a prompt when not given."


def _password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("create")
@friendly
def create(username: str = typer.Argument(..., metavar="USERNAME", help="The name to log in with."),
           role: str = typer.Option("viewer", metavar="ROLE", help="viewer, agent, manager or admin."),
           password: str | None = typer.Option(None, metavar="PASSWORD", help=PASSWORD_HELP),
           db: str | None = DbOption) -> None:
    """Create a dashboard user."""
    from cherish.access.service import audit, create_user

    store = store_for(settings_for(db))
    with store.write() as session:
        create_user(session, username=username, password=_password(password), role=role)
        audit(session, actor="cli", action="user_create", details={"role": role})
    err.print(f"user {username} created with role {role}")


@app.command("set-password")
@friendly
def set_password(username: str = typer.Argument(..., metavar="USERNAME", help="The user's login name."),
                 password: str | None = typer.Option(None, metavar="PASSWORD", help=PASSWORD_HELP),
                 db: str | None = DbOption) -> None:
    """Set a new password for a dashboard user."""
    from cherish.access import service

    store = store_for(settings_for(db))
    with store.write() as session:
        service.set_password(session, username=username, password=_password(password))
    err.print(f"password of {username} changed")
