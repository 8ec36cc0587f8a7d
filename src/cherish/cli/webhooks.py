"""`cherish webhooks` and `cherish outbox`: where messages go, and what became of them."""

from __future__ import annotations

import typer

from cherish.cli.common import MAX_ID, DbOption, err, friendly, settings_for, store_for

app = typer.Typer(help="Webhook endpoints that receive signed domain events (Standard Webhooks).",
                  no_args_is_help=True)
outbox_app = typer.Typer(help="Outgoing messages: the delivery log and dead letters.", no_args_is_help=True)


@app.command("add")
@friendly
def add(url: str = typer.Argument(..., metavar="URL", help="Where to POST (http or https)."),
        events: str = typer.Option(..., "--events", metavar="TYPES",
                                   help="Comma-separated event types (feedback.received,consent.changed) or *."),
        kind: str = typer.Option("webhook", "--kind", metavar="KIND",
                                 help="webhook (signed JSON), slack (an incoming webhook) or sender (your own SMS or "
                                      "push sender)."),
        description: str | None = typer.Option(None, "--description", metavar="TEXT", help="What it is for."),
        db: str | None = DbOption) -> None:
    """Add an endpoint and print its signing secret, alone on standard output, once."""
    from cherish.access.service import audit
    from cherish.outbox.service import add_endpoint

    store = store_for(settings_for(db))
    with store.write() as session:
        endpoint = add_endpoint(session, url, events.split(","), kind=kind, description=description)
        audit(session, actor="cli", action="webhook_add", subject=endpoint.id, details={"events": endpoint.events})
        endpoint_id, secret, wanted = endpoint.id, endpoint.secret, ", ".join(endpoint.events)
    err.print(f"added endpoint {endpoint_id} for {wanted}; its signing secret is shown only this once:")
    print(secret)


@app.command("list")
@friendly
def list_(db: str | None = DbOption) -> None:
    """List endpoints, one per line, tab-separated (never their secrets)."""
    from cherish.outbox.service import endpoints, shown_url

    store = store_for(settings_for(db))
    with store.read() as session:
        print("id\tkind\turl\tevents\tcreated\tdescription")
        for e in endpoints(session):
            print(f"{e.id}\t{e.kind}\t{shown_url(e)}\t{','.join(e.events)}\t{e.created_at:%Y-%m-%d %H:%M}\t"
                  f"{_one_line(e.description)}")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


@app.command("remove")
@friendly
def remove(endpoint_id: str = typer.Argument(..., metavar="ID", help="The id `cherish webhooks list` shows."),
           db: str | None = DbOption) -> None:
    """Remove an endpoint; what still waits for it is not sent."""
    from cherish.access.service import audit
    from cherish.outbox.service import remove_endpoint

    store = store_for(settings_for(db))
    with store.write() as session:
        remove_endpoint(session, endpoint_id)
        audit(session, actor="cli", action="webhook_remove", subject=endpoint_id)
    err.print(f"endpoint {endpoint_id} removed")


@app.command("test")
@friendly
def test(endpoint_id: str = typer.Argument(..., metavar="ID", help="The endpoint's id."),
         db: str | None = DbOption) -> None:
    """Send a signed ping now and say how the receiver answered."""
    from cherish.errors import CherishError
    from cherish.outbox.flows import ping

    settings = settings_for(db)
    answer = ping(store_for(settings), settings, endpoint_id)
    if not answer.ok:
        raise CherishError(f"the ping to {endpoint_id} failed: {answer.error} (the worker will try again)")
    err.print(f"ping delivered to {endpoint_id}: HTTP {answer.status_code} in {answer.latency_ms:.0f} ms")


@outbox_app.command("list")
@friendly
def list_messages(status: str | None = typer.Option(None, "--status", metavar="STATUS",
                                                    help="pending, delivered, dead or discarded."),
                  limit: int = typer.Option(50, min=1, max=500, metavar="N", help="How many, newest first."),
                  db: str | None = DbOption) -> None:
    """The delivery log, newest first, one message per line, tab-separated."""
    from cherish.errors import InvalidInput
    from cherish.outbox.service import STATUSES, messages

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    store = store_for(settings_for(db))
    with store.read() as session:
        rows, total = messages(session, status=status, limit=limit)
        print("id\ttype\tendpoint\tstatus\tattempts\tcreated_at\tlast_error")
        for m in rows:
            print(f"{m.id}\t{m.type}\t{m.endpoint_id or ''}\t{m.status}\t{m.attempts}\t"
                  f"{m.created_at:%Y-%m-%d %H:%M:%S}\t{_one_line(m.last_error)[:200]}")
    err.print(f"{len(rows)} of {total}")


def _settle(action: str, message_id: int, db: str | None) -> None:
    from cherish.access.service import audit
    from cherish.outbox import service as outbox

    store = store_for(settings_for(db))
    with store.write() as session:
        (outbox.retry if action == "retry" else outbox.discard)(session, message_id)
        audit(session, actor="cli", action=f"outbox_{action}", subject=str(message_id))


@outbox_app.command("retry")
@friendly
def retry(message_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="A dead letter's id."),
          db: str | None = DbOption) -> None:
    """Send a dead letter again: a fresh round of attempts, the same webhook-id."""
    _settle("retry", message_id, db)
    err.print(f"message {message_id} goes out again")


@outbox_app.command("discard")
@friendly
def discard(message_id: int = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="A dead letter's id."),
            db: str | None = DbOption) -> None:
    """Give up on a dead letter."""
    _settle("discard", message_id, db)
    err.print(f"message {message_id} discarded")
