"""`cherish erase` and `cherish export`: a customer's privacy requests."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cherish.cli.common import DbOption, err, friendly, settings_for, store_for
from cherish.cli.text import counts_text

CustomerOption = typer.Option(..., "--customer", metavar="ID", help="The customer's id.")


@friendly
def erase(customer: str = CustomerOption, db: str | None = DbOption) -> None:
    """Erase a customer's personal data from every table (privacy request)."""
    from cherish.profiles import flows as privacy

    store = store_for(settings_for(db))
    with store.write() as session:
        counts = privacy.erase(session, customer, actor="cli")
    store.forget_old_copies()
    err.print(f"erased {customer}: {counts_text(counts)}")


@friendly
def export(customer: str = CustomerOption,
           output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                              help="File to write (default: standard output)."),
           db: str | None = DbOption) -> None:
    """Export everything held about a customer as JSON (privacy request)."""
    from cherish.profiles import flows as privacy

    store = store_for(settings_for(db))
    with store.read() as session:
        text = json.dumps(privacy.export_by_id(session, customer), indent=2, default=str, ensure_ascii=False)
    if output:
        output.write_text(text + "\n")
    else:
        print(text)
