"""Outbox work that sends at once, outside the worker: a signed ping to test an endpoint."""

from __future__ import annotations

from typing import Any

from cherish.config import Settings
from cherish.db.base import utcnow
from cherish.db.engine import Store
from cherish.outbox import service as outbox
from cherish.outbox import slack
from cherish.outbox.delivery import Answer, courier_for, lease_for, parcel_of, record


def ping(store: Store, settings: Settings, endpoint_id: str) -> Answer:
    """Send a signed ``ping`` to the endpoint now and say how the receiver answered (the attempt is logged like
    any other; a failed ping is retried by the worker like any message)."""
    with store.write() as session:
        endpoint = outbox.endpoint(session, endpoint_id)
        data: dict[str, Any] = {"endpoint_id": endpoint.id, "text": "cherish says hello"}
        body = slack.message("ping", data) if endpoint.kind == "slack" else outbox.envelope("ping", data)
        message = outbox.enqueue(session, kind=endpoint.kind, type="ping", endpoint_id=endpoint.id, body=body)
        message.leased_until = utcnow() + lease_for(settings)  # this process sends it: no worker takes it meanwhile
        session.flush()
        parcel = parcel_of(message, endpoint)
    assert parcel is not None
    with courier_for(settings) as courier:
        answer = courier.send(parcel)
    record(store, settings, [answer])
    return answer
