"""The contact log in the customer-row contract (`cherish.db.customer_rows`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cherish.contact.models import Contact, Hold
from cherish.db.customer_rows import CustomerRows, Export, Merging, declare


def _contacts(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"at": c.decided_at, "purpose": c.purpose, "channel": c.channel, "topic": c.topic, "outcome": c.outcome,
             "reason": c.reason}
            for c in session.scalars(select(Contact).where(Contact.customer_id.in_(customer_ids))
                                     .order_by(Contact.id))]


def _move_holds(session: Session, merging: Merging) -> None:
    session.execute(update(Hold).where(Hold.customer_id == merging.loser).values(customer_id=merging.survivor))


declare(
    CustomerRows("contacts", merge="move", erase="delete", export=Export("contacts", _contacts),
                 why="a merged customer carries its contact history and caps together; the log says what was said "
                     "to the person, and waiting messages hold their words"),
    CustomerRows("contact_holds", merge=_move_holds, erase="delete",
                 why="a hold follows the case that placed it (a case closed by the merge lifts its own first)"),
)
