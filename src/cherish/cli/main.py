"""Every command of `cherish`, registered here and nowhere else: one module per command group."""

from __future__ import annotations

import typer

from cherish.cli import (
    analyze,
    clv,
    db,
    demo,
    feedback,
    identity,
    imports,
    keys,
    privacy,
    report,
    serve,
    text_analytics,
    users,
    webhooks,
    worker,
)
from cherish.cli.text import ReadableGroup

app = typer.Typer(help="cherish: remember every customer across every channel.", no_args_is_help=True,
                  cls=ReadableGroup, pretty_exceptions_enable=False)

# in the order `cherish --help` lists them
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("erase")(privacy.erase)
app.command("export")(privacy.export)
app.command("demo")(demo.demo)
app.command("import")(imports.import_file)
app.command("analyze")(analyze.analyze)
app.command("report")(report.report)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(identity.app, name="identity")
app.add_typer(clv.app, name="clv")
app.add_typer(feedback.app, name="feedback")
app.add_typer(text_analytics.app, name="text")
app.add_typer(worker.jobs_app, name="jobs")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(webhooks.outbox_app, name="outbox")


def main() -> None:  # pragma: no cover
    app()
