"""The outbox in the customer-row contract (`cherish.db.customer_rows`): messages about or to a customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.db.customer_rows import CustomerRows, Export, declare
from cherish.outbox.models import OutboxMessage


def _messages(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"type": m.type, "kind": m.kind, "status": m.status, "created_at": m.created_at,
             "delivered_at": m.delivered_at}
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id.in_(customer_ids))
                                     .order_by(OutboxMessage.id))]


declare(
    CustomerRows("outbox_messages", merge="move", erase="delete", export=Export("messages", _messages),
                 why="what was sent about or to the person; their words may be in a body; nothing more goes out "
                     "for someone erased"),
)
