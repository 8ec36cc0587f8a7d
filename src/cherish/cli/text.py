"""How the command line reads: help without type noise, counts in words, scores as the dashboard shows them."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

# What an option's value is, when the option does not say better with a metavar of its own.
_TYPE_METAVARS: dict[Any, str] = {int: "N", float: "NUMBER", Path: "FILE", str: "TEXT"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``; ``many`` for the words that do not just take an s (person, people)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def counts_text(counts: dict[str, int]) -> str:
    """``{"customers": 1, "other_events": 2}`` as ``1 customer, 2 other events``: keys are plural table names."""
    words = []
    for key, count in counts.items():
        many = key.replace("_", " ")
        words.append(plural(count, many[:-1] if many.endswith("s") else many, many))
    return ", ".join(words)


def score_text(kind: str, value: float | None, *, n: int | None = None, low: float | None = None,
               high: float | None = None) -> str:
    """A score as the overview page shows it: CSAT in percent, NPS and CES on their own scale, one decimal."""
    factor, unit = (100, "%") if kind == "csat" else (1, "")
    if value is None:
        return f"{kind.upper()} —"
    text = f"{kind.upper()} {value * factor:.1f}{unit}"
    details = [f"n={n}"] if n is not None else []
    if low is not None and high is not None:
        details.append(f"{low * factor:.1f}–{high * factor:.1f}")
    return text + (f" ({', '.join(details)})" if details else "")


def rate_text(rate: float | None) -> str:
    """A rate in percent with one decimal, as the overview's repeat-customer rate; a dash when there is none."""
    return "—" if rate is None else f"{100 * rate:.1f}%"


def closed_pipe() -> NoReturn:
    """The reader of standard output went away (``| head -1``): stop quietly, with the status a shell gives a
    process that SIGPIPE ended. Standard output goes to /dev/null so that the final flush cannot fail again
    (Python's documentation, "Note on SIGPIPE"); SIGPIPE itself stays ignored, since `serve` writes to sockets."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # standard output is no file (a test runner's buffer): nothing to silence
        pass
    raise typer.Exit(141)


def _show_help(ctx: Any, param: Any, value: bool) -> None:
    """``--help`` that ends quietly in a closed pipe (``cherish --help | head -1``), as every command does.

    Typer prints help through a Rich console of its own, which answers a closed pipe with exit status 1, and
    click then echoes one more line, which fails the same way. Into a pipe, the help is rendered into a buffer
    (a pipe has no colours or width of its own either) and written once, where a closed pipe can be caught."""
    if not value or ctx.resilient_parsing:
        return
    if sys.stdout.isatty():
        text = ctx.get_help()
    else:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            text = ctx.get_help()
        text = buffer.getvalue() + text
    try:
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        closed_pipe()
    ctx.exit()


def tidy_help(command: Any) -> None:
    """Give every parameter of a command (and of its subcommands) a metavar that says what to type.

    Typer shows each parameter's Python type (``<bool>``, ``<str>``) in a column of its own; a flag takes
    no value at all, and ``URL`` or ``DATE`` tells a person more than ``<str>``. A metavar set on the option
    itself wins; the rest get one from their type. Each command's help also learns to end quietly in a closed pipe.
    """
    for param in command.params:
        _tidy_param(param)
    help_option = command.get_help_option(command.context_class(command))
    if help_option is not None:
        _tidy_param(help_option)
        help_option.callback = _show_help
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


def _tidy_param(param: Any) -> None:
    if getattr(param, "is_flag", False):
        param.metavar = ""
        return
    if param.metavar is None and param.param_type_name == "argument":
        param.metavar = param.name.upper()  # an argument's name says what it is better than its type
    elif param.metavar is None:
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        if getattr(annotation, "__origin__", None) is list:  # a repeatable option: each use takes one value
            annotation = getattr(annotation, "__args__", (str,))[0]
        if annotation is None:  # a Typer before 0.29 has click's types only
            click_type = getattr(getattr(param, "type", None), "name", "")
            annotation = {"integer": int, "float": float, "path": Path}.get(click_type, str)
        param.metavar = _TYPE_METAVARS.get(annotation, "TEXT")
    if param.param_type_name == "argument":
        # An argument's name column already shows its metavar; the type column would only repeat the type.
        param.display_type_rich = lambda ctx: None


class ReadableGroup(TyperGroup):
    """The root command group: tidies the help of every command once the whole tree is built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy_help(self)

    def get_params(self, ctx: Any) -> list[Any]:
        # Typer appends --install-completion and --show-completion to the root after building it.
        params = super().get_params(ctx)
        for param in params:
            _tidy_param(param)
        return params
