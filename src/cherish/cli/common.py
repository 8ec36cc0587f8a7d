"""What every command shares: one-line errors, settings from `--db`, the store, progress on standard error."""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, overload

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cherish.cli.text import closed_pipe
from cherish.config import Settings, get_settings, reset_settings
from cherish.errors import CherishError, InvalidInput

if TYPE_CHECKING:
    from cherish.db.engine import Store

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

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature F promises


class StdoutConsole(Console):
    """Rich output for standard output: a closed pipe ends like one that `print` met, not with Rich's exit 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "standard output was closed")


def settings_for(db: str | None = None) -> Settings:
    """The settings of this command: CHERISH_* variables (read afresh) and `.env`, with ``--db`` over the
    database URL. The process's environment is left as it is; a command that starts other processes hands
    them the settings itself."""
    reset_settings()
    settings = get_settings()
    return settings.model_copy(update={"database_url": db}) if db else settings


def store_for(settings: Settings, *, migrate: bool = False) -> Store:
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




def progress_bar(*, remaining: bool = False) -> Progress:
    """A progress bar on standard error; with ``remaining``, the time left is estimated too."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err, transient=False)


@overload
def parse_date(text: str, flag: str) -> date: ...
@overload
def parse_date(text: None, flag: str) -> None: ...
@overload
def parse_date(text: str | None, flag: str) -> date | None: ...


def parse_date(text: str | None, flag: str) -> date | None:
    """A day given as YYYY-MM-DD to ``flag``, or None when the flag was not given."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def pairs(texts: list[str], flag: str, form: str) -> dict[str, str]:
    """``name=value`` pairs given to a repeatable flag (``--map order_id=OrderNo``)."""
    found = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"{flag} {text!r} is not of the form {form}")
        found[name.strip()] = value.strip()
    return found
