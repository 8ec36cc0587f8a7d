"""CLI commands that move data: the demo company, file import, identity matching and file deduplication."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cherish.cli import (
    MAX_ID,
    DbOption,
    StdoutConsole,
    app,
    err,
    friendly,
    run_server,
    settings_for,
    store_for,
)
from cherish.cli_text import plural, rate_text
from cherish.config import DEFAULT_DATABASE_URL

out = StdoutConsole(soft_wrap=True)  # the login and the curl line must stay copyable
DEMO_KEY_FILE = "demo-write-key"  # kept beside the ground truth: the demo's own files stay together


def progress_bar(*, remaining: bool = False) -> Progress:
    """A progress bar on standard error; with ``remaining``, the time left is estimated too."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err, transient=False)


def _reset(store) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from cherish.db.migrate import alembic_config

    with store.engine.begin() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")


@app.command()
@friendly
def demo(
    customers: int = typer.Option(20_000, "--customers", metavar="N", help="How many people the demo company has."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same company (relative to today)."),
    db: str | None = DbOption,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard and API afterwards."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Throw the existing demo away and build it again."),
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS", help="Interface to serve on."),
    port: int = typer.Option(8000, help="Port to serve on."),
    truth: Path | None = typer.Option(None, help="Where to keep who-is-who (ground truth); default: demo-truth.csv "
                                                 "beside a SQLite store, else in cherish-data/."),
    match: bool = typer.Option(True, "--match/--no-match", help="Run `cherish identity match` after building."),
    analyze: bool = typer.Option(True, "--analyze/--no-analyze",
                                 help="Run `cherish analyze` after building, so the overview and scores are there."),
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="Processes that simulate and ingest people side by side (default: one "
                                            "per core; 1 builds in this process)."),
) -> None:
    """Build the demo company (once; --rebuild to start over), print how to log in, and serve it."""
    from sqlalchemy import func, select

    from cherish.access.models import User
    from cherish.access.service import create_user
    from cherish.customers.models import Customer
    from cherish.demo.build import build_demo

    settings = settings_for(db or None)
    if db is None and settings.database_url == DEFAULT_DATABASE_URL:
        Path("cherish-data").mkdir(exist_ok=True)
    truth = truth or _beside_store(settings.database_url, "demo-truth.csv")
    store = store_for(settings, migrate=True)
    if rebuild:
        _reset(store)
        store = store_for(settings, migrate=True)
    with store.read() as session:
        existing = session.scalar(select(func.count()).select_from(Customer))
    if existing and not rebuild:
        err.print(f"the demo company is already built ({plural(existing, 'customer record')}); "
                  "--rebuild to start over")
    else:
        with progress_bar() as bar:
            task = bar.add_task("building the demo company", total=customers)
            summary = build_demo(store, settings, people=customers, seed=seed, truth_path=truth,
                                 progress=lambda n: bar.advance(task, n), workers=workers)
        err.print(f"built {plural(summary.people, 'person', 'people')}, {plural(summary.messages, 'event')}; "
                  f"ground truth in {truth}")
        if match:
            from cherish.identity.match_store import run_match

            with err.status("matching customers who share no identifier…"):
                matched = run_match(store, settings, actor="demo")
            err.print(f"identity match (run {matched.run_id}): {matched.merged} merged, {matched.reviews} waiting for "
                      "review")
        if analyze:
            from datetime import UTC, datetime

            from cherish.analytics.service import analyze_store

            with err.status("measuring the relationship (cherish analyze)…") as status:
                result = analyze_store(store, settings, datetime.now(UTC).astimezone(settings.zone).date(),
                                       progress=lambda text: status.update(f"cherish analyze: {text}…"))
            rate = result["repeat_customer_rate"]
            err.print(f"analyzed: {plural(result['customers'], 'customer')} with a purchase, repeat-customer "
                      f"rate {rate_text(rate)}")
    password = None
    with store.write() as session:
        if session.scalar(select(User).where(User.username == "admin")) is None:
            password = secrets.token_urlsafe(12)
            create_user(session, username="admin", password=password, role="admin")
        write_key = _demo_write_key(session, truth.parent / DEMO_KEY_FILE)
    url = f"http://{host}:{port}"
    if serve:
        out.print(f"\n[bold]cherish demo[/bold] at [link={url}]{url}[/link]")
    else:
        from sqlalchemy.engine import make_url

        where = f" --db {make_url(db).render_as_string(hide_password=True)}" if db else ""  # no password on screen
        out.print(f"\n[bold]cherish demo[/bold] is built; `cherish serve{where} --port {port}` serves it at {url}")
    if password:
        out.print(f"  login:     admin / {password}   (shown once; reset with `cherish users set-password admin`)")
    else:
        out.print("  login:     admin / the password shown on the first run (`cherish users set-password admin` resets it)")
    out.print(f"  write key: {write_key}")
    out.print(f"  try:       curl -u {write_key}: {url}/v1/track -H 'Content-Type: application/json' "
              "-d '{\"userId\": \"u1\", \"event\": \"Hello\"}'\n")
    dialect = store.dialect
    store.dispose()
    if serve:
        run_server(settings, dialect, host=host, port=port)


def _demo_write_key(session, path: Path) -> str:  # type: ignore[no-untyped-def]
    """The demo's write key, the same on every start so that what was set up with it keeps working.

    The store keeps only a key's SHA-256, so the secret itself is kept in a file beside the demo's ground truth
    (beside a SQLite store, or in cherish-data/) that only its owner can read; a new key is made when that file
    is missing or its key no longer works (revoked, --rebuild).
    """
    from cherish.access.service import create_key, principal_for_key

    try:
        kept = path.read_text().strip()
    except OSError:
        kept = ""
    if kept and principal_for_key(session, kept) is not None:
        return kept
    _, secret = create_key(session, role="write", name="demo write key")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)  # an existing file keeps its mode through open()
    with os.fdopen(handle, "w") as file:
        file.write(secret + "\n")
    return secret


def _beside_store(url: str, name: str) -> Path:
    """A file kept beside a SQLite store (in cherish-data/ for any other database)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:":
        return Path(database).expanduser().parent / name
    return Path("cherish-data") / name


identity_app = next(g.typer_instance for g in app.registered_groups if g.name == "identity")


@identity_app.command("match")
@friendly
def identity_match(
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
        err.print(f"dry run ({model}): {plural(summary.candidates, 'customer')} compared, {summary.merged} would be merged, "
                  f"{summary.reviews} sent to review; nothing was stored", soft_wrap=True)
        return
    err.print(f"run {summary.run_id} ({'newly trained ' if summary.trained else 'kept '}model {summary.model_id}): "
              f"{plural(summary.candidates, 'customer')} compared: {plural(summary.pairs, 'likely pair')}, {summary.merged} merged "
              f"(probability ≥ {settings.auto_merge_threshold}), {summary.reviews} sent to review "
              f"(≥ {settings.review_threshold}); `cherish identity undo {summary.run_id}` takes its merges back", soft_wrap=True)


@identity_app.command("runs")
@friendly
def identity_runs(limit: int = typer.Option(20, "--limit", min=1, help="How many of the latest runs."),
                  db: str | None = DbOption) -> None:
    """The latest runs of `cherish identity match`: when, with which model, what they merged and queued."""
    from cherish.identity.match_runs import runs

    store = store_for(settings_for(db))
    with store.read() as session:
        print("run\tstarted_at\tmodel\tretrained\tmerged\treviews\tstatus\tnote")
        for run in runs(session, limit=limit):
            print(f"{run.id}\t{run.started_at:%Y-%m-%d %H:%M:%S}\t{run.model_id or ''}\t{'yes' if run.retrained else 'no'}"
                  f"\t{run.merged}\t{run.reviews}\t{run.status}\t{run.note or ''}")


@identity_app.command("undo")
@friendly
def identity_undo(run: int = typer.Argument(..., metavar="RUN", min=1, max=MAX_ID,
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
    err.print(f"run {run} undone: {plural(len(outcome.undone), 'merge')} taken back, {len(outcome.not_undone)} could not be; "
              "the pairs taken back wait for review", soft_wrap=True)


@identity_app.command("dedupe")
@friendly
def identity_dedupe(
    input: Path = typer.Argument(..., help="CSV file with one record per row.", exists=False),
    id_column: str = typer.Option(..., "--id-column", help="The column that identifies each row."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write id,cluster_id."),
    threshold: float = typer.Option(0.99, "--threshold", help="Match probability at which two rows are one."),
    column: list[str] = typer.Option([], "--column", help="role=COLUMN, when a header name is not recognised."),
) -> None:
    """Find the rows of a file that are the same person, with the same matcher as `cherish identity match`."""
    from pyarrow import csv as pacsv

    from cherish.errors import InvalidInput
    from cherish.identity.matching import infer_roles, match_records
    from cherish.spreadsheets import csv_writer

    if not input.is_file():
        raise InvalidInput(f"no such file: {input}")
    given = {}
    for text in column:
        role, sep, name = text.partition("=")
        if not sep or not role or not name:
            raise InvalidInput(f"--column {text!r} is not of the form role=COLUMN")
        given[role.strip()] = name.strip()
    try:
        header = pacsv.read_csv(input, read_options=pacsv.ReadOptions(skip_rows_after_names=0, block_size=1 << 20),
                                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                                convert_options=pacsv.ConvertOptions(include_columns=[])).column_names
    except Exception as exc:  # noqa: BLE001
        raise InvalidInput(f"cannot read {input} as CSV: {exc}") from None
    if id_column not in header:
        raise InvalidInput(f"the file has no column {id_column!r}; its columns: {', '.join(header)}")
    table = pacsv.read_csv(input, convert_options=pacsv.ConvertOptions(
        column_types={name: "string" for name in header}, strings_can_be_null=True))
    table = table.rename_columns([name.strip() for name in table.column_names])
    roles = infer_roles(table.column_names, id_column.strip(), given)
    err.print("matching on " + ", ".join(f"{role}={col}" for role, col in roles.items()))
    with err.status(f"matching {table.num_rows} rows (Splink on DuckDB)…"):
        result = match_records(table, id_column=id_column.strip(), roles=roles, threshold=threshold, explain=False)
    if result.note:
        err.print(result.note, soft_wrap=True)
    ids = [str(v) for v in table.column(id_column.strip()).to_pylist()]
    with output.open("w", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(["id", "cluster_id"])
        for record_id in ids:
            writer.writerow([record_id, result.clusters.get(record_id, record_id)])
    clusters = len(set(result.clusters.get(i, i) for i in ids))
    err.print(f"{plural(len(ids), 'row')}, {plural(clusters, 'distinct person', 'distinct people')}; written to {output}")


@app.command("import")
@friendly
def import_file(
    path: Path = typer.Argument(..., help="A .csv, .tsv, .jsonl or .parquet file."),
    kind: str | None = typer.Option(None, "--kind", metavar="KIND", help="customers, orders (one row per order line) or interactions; "
                                                          "inferred from the columns when not given."),
    map_: list[str] = typer.Option([], "--map", metavar="FIELD=COLUMN", help="field=COLUMN, e.g. --map order_id=OrderNo (repeatable)."),
    mapping: Path | None = typer.Option(None, "--mapping", help="YAML file: kind, date_format, delimiter, decimal_comma and columns: {field: COLUMN}."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT", help="strftime format of the timestamps, e.g. %Y%m%d."),
    strict: bool = typer.Option(False, "--strict", help="Store nothing at all if any row is invalid."),
    delimiter: str | None = typer.Option(None, "--delimiter", metavar="CHAR", help="A CSV's delimiter (default: sniffed from its "
                                                                  "header: comma, semicolon, tab or bar)."),
    decimal_comma: bool = typer.Option(False, "--decimal-comma", help="Numbers are written 1.234,50 (as where the "
                                                                      "decimal mark is a comma)."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where to write the reject report (row,reason)."),
    match: bool = typer.Option(False, "--match", help="Run `cherish identity match` after the import."),
    db: str | None = DbOption,
) -> None:
    """Load customers, orders or interactions from a file, through the same identity resolution as live events.

    The exit status is 1 when any row was rejected (the reject report says which and why), 0 otherwise."""
    import yaml

    from cherish.errors import InvalidInput
    from cherish.events.files import count_rows
    from cherish.events.importer import run_import
    from cherish.spreadsheets import csv_writer

    columns: dict[str, str] = {}
    if mapping is not None:
        try:
            spec = yaml.safe_load(mapping.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot read the mapping {mapping}: {str(exc).splitlines()[0]}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("columns", {}), dict):
            raise InvalidInput("the mapping file holds kind, date_format, delimiter, decimal_comma and columns: {field: COLUMN}")
        kind = kind or spec.get("kind")
        date_format = date_format or spec.get("date_format")
        delimiter = delimiter or spec.get("delimiter")
        decimal_comma = decimal_comma or bool(spec.get("decimal_comma"))
        columns.update({str(k): str(v) for k, v in (spec.get("columns") or {}).items()})
    if delimiter in ("\\t", "tab", "TAB"):  # a tab is hard to type in a shell
        delimiter = "\t"
    for text in map_:
        name, sep, column = text.partition("=")
        if not sep or not name or not column:
            raise InvalidInput(f"--map {text!r} is not of the form field=COLUMN")
        columns[name.strip()] = column.strip()
    settings = settings_for(db)
    store = store_for(settings)
    with progress_bar(remaining=True) as bar:
        task = bar.add_task(f"importing {path.name}", total=count_rows(path) if path.is_file() else None)
        report = run_import(store, settings, path, kind=kind, mapping=columns, date_format=date_format,
                            strict=strict, progress=lambda n: bar.advance(task, n), delimiter=delimiter,
                            decimal_comma=decimal_comma)
        bar.update(task, total=report.rows, completed=report.rows)  # the count was an estimate for text files
    target = rejects or path.with_name(path.name + ".rejects.csv")
    if report.rejected:  # this run's report replaces an earlier run's
        with target.open("w", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow(["row", "reason"])
            writer.writerows(report.rejected)
        err.print(f"{plural(len(report.rejected), 'row')} rejected; reasons in {target}")
    elif _is_reject_report(target):  # an earlier run's report no longer says anything true
        target.unlink()
        err.print(f"no row rejected: the reject report of an earlier run, {target}, was removed")
    if strict and report.rejected:
        raise InvalidInput(f"--strict: nothing was stored: {len(report.rejected)} of {plural(report.rows, 'row')} invalid "
                           f"(first: row {report.rejected[0][0]}: {report.rejected[0][1]})")
    err.print(f"{plural(report.rows, 'row')}: {report.stored} stored, {report.already} already stored (imported before), "
              f"{len(report.rejected)} rejected")
    if match:
        from cherish.identity.match_store import run_match

        with err.status("matching customers (Splink on DuckDB)…"):
            summary = run_match(store, settings, actor="cli")
        err.print(f"identity match (run {summary.run_id}, `cherish identity undo {summary.run_id}` takes it back): "
                  f"{summary.merged} merged, {summary.reviews} sent to review", soft_wrap=True)
    if report.rejected:  # a script or a scheduler learns that some rows need fixing
        raise typer.Exit(1)


def _is_reject_report(path: Path) -> bool:
    """Whether ``path`` is a reject report `cherish import` wrote (never remove anything else)."""
    try:
        with path.open(newline="") as handle:
            return handle.readline().strip() == "row,reason"
    except (OSError, UnicodeDecodeError):
        return False
