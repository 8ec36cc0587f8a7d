"""The contact log in the customer-row contract (`cherish.db.customer_rows`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.contact.models import Contact
from cherish.db.customer_rows import CustomerRows, Export, declare


def _contacts(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"at": c.decided_at, "purpose": c.purpose, "channel": c.channel, "topic": c.topic, "outcome": c.outcome,
             "reason": c.reason}
            for c in session.scalars(select(Contact).where(Contact.customer_id.in_(customer_ids))
                                     .order_by(Contact.id))]


declare(
    CustomerRows("contacts", merge="move", erase="delete", export=Export("contacts", _contacts),
                 why="a merged customer carries its contact history and caps together; the log says what was said "
                     "to the person, and waiting messages hold their words"),
    CustomerRows("contact_holds", merge="move", erase="delete",
                 why="a hold follows the case that placed it, and the case follows the customer"),
)
