"""`cherish identity`: unmerge, probabilistic matching and its runs, file deduplication."""

from __future__ import annotations

from pathlib import Path

import typer

from cherish.cli.common import MAX_ID, DbOption, err, friendly, pairs, settings_for, store_for
from cherish.cli.text import plural
from cherish.errors import InvalidInput

app = typer.Typer(help="Identity: unmerge, probabilistic matching and its runs, file deduplication.",
                  no_args_is_help=True)


@app.command("unmerge")
@friendly
def unmerge(customer: str = typer.Option(..., "--customer", metavar="ID", help="The customer's id."),
            identifier: str = typer.Option(..., "--identifier", metavar="TYPE:VALUE",
                                           help="The identifier to split off."),
            db: str | None = DbOption) -> None:
    """Split an identifier, and the events that carried it, into a customer of its own."""
    from cherish.identity import service

    settings = settings_for(db)
    store = store_for(settings)
    with store.write() as session:
        new_id = service.unmerge(session, settings, customer_id=customer, identifier=identifier, actor="cli")
    err.print(f"{identifier.partition(':')[0]} split off {customer} into a new customer:")
    print(new_id)


@app.command("match")
@friendly
def match(
    retrain: bool = typer.Option(False, "--retrain", help="Train the model again instead of reusing the kept one; "
                                                          "refused if it scores worse on the pairs people decided."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what the run would merge and queue; store nothing."),
    db: str | None = DbOption,
) -> None:
    """Match customers who share no identifier (name, birthday, address): merge the sure, queue the likely."""
    from cherish.identity.match_store import run_match

    settings = settings_for(db)
    store = store_for(settings)
    with err.status("matching customers (Splink on DuckDB)…"):
        summary = run_match(store, settings, actor="cli", retrain=retrain, dry_run=dry_run)
    if summary.note:
        err.print(summary.note, soft_wrap=True)
    model = ("a model trained now" if summary.trained else
             f"kept model {summary.model_id}" if summary.model_id is not None else "no model: too few customers")
    if dry_run:
        for step in summary.plan:
            print(f"{step['action']}\t{step['customer_a']}\t{step['customer_b']}\t{step['probability']}")
        err.print(f"dry run ({model}): {plural(summary.candidates, 'customer')} compared, {summary.merged} would be "
                  f"merged, {summary.reviews} sent to review; nothing was stored", soft_wrap=True)
        return
    err.print(f"run {summary.run_id} ({'newly trained ' if summary.trained else 'kept '}model {summary.model_id}): "
              f"{plural(summary.candidates, 'customer')} compared: {plural(summary.pairs, 'likely pair')}, "
              f"{summary.merged} merged (probability ≥ {settings.auto_merge_threshold}), {summary.reviews} sent to "
              f"review (≥ {settings.review_threshold}); `cherish identity undo {summary.run_id}` takes its merges back",
              soft_wrap=True)


@app.command("runs")
@friendly
def runs(limit: int = typer.Option(20, "--limit", min=1, help="How many of the latest runs."),
         db: str | None = DbOption) -> None:
    """The latest runs of `cherish identity match`: when, with which model, what they merged and queued."""
    from cherish.identity import match_runs

    store = store_for(settings_for(db))
    with store.read() as session:
        print("run\tstarted_at\tmodel\tretrained\tmerged\treviews\tstatus\tnote")
        for run in match_runs.runs(session, limit=limit):
            print(f"{run.id}\t{run.started_at:%Y-%m-%d %H:%M:%S}\t{run.model_id or ''}\t"
                  f"{'yes' if run.retrained else 'no'}\t{run.merged}\t{run.reviews}\t{run.status}\t{run.note or ''}")


@app.command("undo")
@friendly
def undo(run: int = typer.Argument(..., metavar="RUN", min=1, max=MAX_ID,
                                   help="The run's number (see `cherish identity runs`)."),
         db: str | None = DbOption) -> None:
    """Undo every merge a run made, newest first; each undone pair waits for review."""
    from cherish.identity.match_runs import undo_run

    settings = settings_for(db)
    store = store_for(settings)
    with store.write() as session:
        outcome = undo_run(session, settings, run_id=run, actor="cli")
    for item in outcome.not_undone:
        err.print(f"not undone: {item.merged_id} stays in {item.survivor_id}: {item.undo_note}", soft_wrap=True)
    err.print(f"run {run} undone: {plural(len(outcome.undone), 'merge')} taken back, {len(outcome.not_undone)} could "
              "not be; the pairs taken back wait for review", soft_wrap=True)


@app.command("dedupe")
@friendly
def dedupe(
    input: Path = typer.Argument(..., help="CSV file with one record per row.", exists=False),
    id_column: str = typer.Option(..., "--id-column", help="The column that identifies each row."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write id,cluster_id."),
    threshold: float = typer.Option(0.99, "--threshold", help="Match probability at which two rows are one."),
    column: list[str] = typer.Option([], "--column", help="role=COLUMN, when a header name is not recognised."),
) -> None:
    """Find the rows of a file that are the same person, with the same matcher as `cherish identity match`."""
    from cherish.identity.dedupe import dedupe_file

    if not input.is_file():
        raise InvalidInput(f"no such file: {input}")
    given = pairs(column, "--column", "role=COLUMN")
    with err.status(f"matching the rows of {input.name} (Splink on DuckDB)…"):
        result = dedupe_file(input, output, id_column=id_column, columns=given, threshold=threshold, say=err.print)
    if result.note:
        err.print(result.note, soft_wrap=True)
    err.print(f"{plural(result.rows, 'row')}, {plural(result.people, 'distinct person', 'distinct people')}; "
              f"written to {output}")
