"""The feedback domain's part of the customer-row contract (`cherish.db.customer_rows`): survey answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cherish.db.customer_rows import CustomerRows, Export, Split, declare
from cherish.feedback.models import Answer

_BATCH = 500  # ids per IN (…) list


def _split_answers(session: Session, split: Split) -> None:
    """An answer goes with the event that carried it (its ``source`` is that event's message id)."""
    messages = [e.message_id for e in split.events]
    for start in range(0, len(messages), _BATCH):
        session.execute(update(Answer).where(Answer.source.in_(messages[start : start + _BATCH]),
                                             Answer.customer_id == split.owner).values(customer_id=split.target))


def _answers(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"score_type": a.score_type, "score": a.score, "comment": a.comment, "survey": a.survey,
             "channel": a.channel, "answered_at": a.answered_at}
            for a in session.scalars(select(Answer).where(Answer.customer_id.in_(customer_ids))
                                     .order_by(Answer.answered_at, Answer.id))]


declare(
    CustomerRows("feedback_answers", unmerge=_split_answers, erase={"comment": None},
                 export=Export("feedback", _answers),
                 why="scores stay for the aggregates, tied to an id that no longer names anyone; "
                     "the words were theirs"),
)
