"""The `cherish` command line."""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from cherish.cli_text import ReadableGroup, closed_pipe, counts_text
from cherish.config import Settings, get_settings, reset_settings
from cherish.errors import CherishError

app = typer.Typer(help="cherish: remember every customer across every channel.", no_args_is_help=True,
                  cls=ReadableGroup, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The operational database.", no_args_is_help=True)
keys_app = typer.Typer(help="Write keys and API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
identity_app = typer.Typer(help="Identity: unmerge, probabilistic matching and its runs, file deduplication.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(identity_app, name="identity")

err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn cherish's own errors into one red line and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
            sys.stdout.flush()  # a reader gone away shows here, where it can end quietly, not at interpreter exit
            return result
        except BrokenPipeError:
            closed_pipe()
        except CherishError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except (OSError, ValueError) as exc:
            from pydantic import ValidationError

            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                name = "CHERISH_" + str(first["loc"][0]).upper() if first.get("loc") else "setting"
                err.print(f"[red]error:[/red] {name}: {first['msg']}", highlight=False, soft_wrap=True)
            else:
                err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


class StdoutConsole(Console):
    """Rich output for standard output: a closed pipe ends like one that `print` met, not with Rich's exit 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "standard output was closed")


def settings_for(db: str | None = None) -> Settings:
    if db:
        os.environ["CHERISH_DATABASE_URL"] = db
    reset_settings()
    return get_settings()


def store_for(settings: Settings, *, migrate: bool = False):  # type: ignore[no-untyped-def]
    from cherish.db.engine import check_connection, open_store
    from cherish.db.migrate import is_current, upgrade

    store = open_store(settings.database_url, pool_size=settings.pool_size)
    check_connection(store)
    if migrate:
        upgrade(store)
    elif not is_current(store):
        raise CherishError("the database schema is not up to date: run `cherish db upgrade` first")
    return store


MAX_ID = 2**31 - 1  # row ids are 32-bit integers on PostgreSQL: a larger one names nothing, on either engine
DbOption = typer.Option(None, "--db", metavar="URL", help="Database URL (default: CHERISH_DATABASE_URL).")


@db_app.command("upgrade")
@friendly
def db_upgrade(db: str | None = DbOption) -> None:
    """Create or migrate the schema to the newest revision."""
    settings = settings_for(db)
    store_for(settings, migrate=True)
    err.print(f"database is up to date ({settings.database_url.split('@')[-1]})")


@app.command()
@friendly
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          workers: int = typer.Option(1, min=1, help="Server processes (2 suits a 2-core machine under heavy intake)."),
          intake_writer: bool = typer.Option(True, help="On SQLite, store intake in a writer process of its own that "
                                                        "every server process sends to (it has one writer anyway)."),
          db: str | None = DbOption) -> None:
    """Serve intake, API and dashboard from the database CHERISH_DATABASE_URL names."""
    settings = settings_for(db)
    store = store_for(settings, migrate=True)
    dialect = store.dialect
    store.dispose()
    run_server(settings, dialect, host=host, port=port, workers=workers, intake_writer=intake_writer)


def run_server(settings: Settings, dialect: str, *, host: str, port: int, workers: int = 1,
               intake_writer: bool = True) -> None:
    """Serve the app until stopped; on SQLite with the intake writer process beside the server processes.
    Every process started here ends with it: on SIGTERM or Ctrl-C after a graceful shutdown, and by itself
    when this process is killed outright (``cherish.processes``)."""
    from contextlib import nullcontext

    import uvicorn

    from cherish.api.edge import configure_logging
    from cherish.events.writer import WriterProcess
    from cherish.processes import SERVER_PID_VARIABLE, Stopped, stop_on_signals

    configure_logging(settings.log_level, access=settings.access_log)
    # cherish writes its own access log (JSON, no query strings) and reads forwarded headers itself, from the
    # proxies CHERISH_FORWARDED_ALLOW_IPS names: uvicorn's copies of both are off
    server_options: dict[str, Any] = {"log_level": "warning", "access_log": False, "proxy_headers": False}

    writer = WriterProcess(settings) if intake_writer and dialect == "sqlite" else nullcontext()
    try:
        with stop_on_signals(), writer:
            err.print(f"cherish is serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
            if workers > 1:
                os.environ[SERVER_PID_VARIABLE] = str(os.getpid())
                uvicorn.run("cherish.api.asgi:app", host=host, port=port, workers=workers, **server_options)
            else:
                from cherish.api.app import create_app

                uvicorn.run(create_app(settings), host=host, port=port, **server_options)
    except Stopped as signal_name:
        err.print(f"cherish stopped ({signal_name})")
    finally:
        os.environ.pop(SERVER_PID_VARIABLE, None)


@keys_app.command("create")
@friendly
def keys_create(role: str = typer.Option(..., metavar="ROLE", help="write, viewer, agent, manager or admin."),
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


@keys_app.command("list")
@friendly
def keys_list(db: str | None = DbOption) -> None:
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


@keys_app.command("revoke")
@friendly
def keys_revoke(key_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID,
                                             help="The key's id, from `cherish keys list`."),
                db: str | None = DbOption) -> None:
    """Revoke a key: it stops working at once."""
    from cherish.access.service import audit, revoke_key

    store = store_for(settings_for(db))
    with store.write() as session:
        revoke_key(session, key_id=key_id)
        audit(session, actor="cli", action="key_revoke", subject=str(key_id))
    err.print(f"key {key_id} revoked")


PASSWORD_HELP = "Read from standard input or a prompt when not given."


def _password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("create")
@friendly
def users_create(username: str = typer.Argument(..., metavar="USERNAME", help="The name to log in with."),
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


@users_app.command("set-password")
@friendly
def users_set_password(username: str = typer.Argument(..., metavar="USERNAME", help="The user's login name."),
                       password: str | None = typer.Option(None, metavar="PASSWORD", help=PASSWORD_HELP),
                       db: str | None = DbOption) -> None:
    """Set a new password for a dashboard user."""
    from cherish.access.service import set_password

    store = store_for(settings_for(db))
    with store.write() as session:
        set_password(session, username=username, password=_password(password))
    err.print(f"password of {username} changed")


@app.command()
@friendly
def erase(customer: str = typer.Option(..., "--customer", metavar="ID", help="The customer's id."),
          db: str | None = DbOption) -> None:
    """Erase a customer's personal data from every table (privacy request)."""
    from cherish.customers.privacy import erase as erase_customer

    store = store_for(settings_for(db))
    with store.write() as session:
        counts = erase_customer(session, customer, actor="cli")
    store.forget_old_copies()
    err.print(f"erased {customer}: {counts_text(counts)}")


@app.command()
@friendly
def export(customer: str = typer.Option(..., "--customer", metavar="ID", help="The customer's id."),
           output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                              help="File to write (default: standard output)."),
           db: str | None = DbOption) -> None:
    """Export everything held about a customer as JSON (privacy request)."""
    from cherish.customers.privacy import export as export_customer
    from cherish.customers.service import find
    from cherish.errors import NotFound

    store = store_for(settings_for(db))
    with store.read() as session:
        found, survivor = find(session, customer)
        if survivor:
            found, _ = find(session, survivor)
        if found is None:
            raise NotFound(f"no customer {customer}")
        text = json.dumps(export_customer(session, found), indent=2, default=str, ensure_ascii=False)
    if output:
        output.write_text(text + "\n")
    else:
        print(text)


@identity_app.command("unmerge")
@friendly
def identity_unmerge(customer: str = typer.Option(..., "--customer", metavar="ID", help="The customer's id."),
                     identifier: str = typer.Option(..., "--identifier", metavar="TYPE:VALUE",
                                                    help="The identifier to split off."),
                     db: str | None = DbOption) -> None:
    """Split an identifier, and the events that carried it, into a customer of its own."""
    from cherish.identity.service import unmerge

    settings = settings_for(db)
    store = store_for(settings)
    with store.write() as session:
        new_id = unmerge(session, settings, customer_id=customer, identifier=identifier, actor="cli")
    err.print(f"{identifier.partition(':')[0]} split off {customer} into a new customer:")
    print(new_id)


from cherish import cli_data  # noqa: E402,F401  (registers demo, import, identity match/dedupe)
from cherish.analytics import cli as analytics_cli  # noqa: E402,F401  (registers analyze)
from cherish.analytics import clv_cli  # noqa: E402,F401  (registers clv fit/predict)


def main() -> None:  # pragma: no cover
    app()
