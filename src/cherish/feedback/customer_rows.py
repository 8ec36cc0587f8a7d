"""The feedback domain's part of the customer-row contract (`cherish.db.customer_rows`): survey answers (and what
was read in their comments, which follows each answer by its id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cherish.db.customer_rows import CustomerRows, Erasure, Export, Split, declare
from cherish.feedback.models import Answer, CommentAnalysis

_BATCH = 500  # ids per IN (…) list


def _split_answers(session: Session, split: Split) -> None:
    """An answer goes with the event that carried it (its ``source`` is that event's message id)."""
    messages = [e.message_id for e in split.events]
    for start in range(0, len(messages), _BATCH):
        session.execute(update(Answer).where(Answer.source.in_(messages[start : start + _BATCH]),
                                             Answer.customer_id == split.owner).values(customer_id=split.target))


def _answers(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    answers = list(session.scalars(select(Answer).where(Answer.customer_id.in_(customer_ids))
                                   .order_by(Answer.answered_at, Answer.id)))
    read = {c.answer_id: c for c in session.scalars(select(CommentAnalysis).where(
        CommentAnalysis.answer_id.in_([a.id for a in answers])))} if answers else {}
    return [{"score_type": a.score_type, "score": a.score, "comment": a.comment, "survey": a.survey,
             "channel": a.channel, "answered_at": a.answered_at, "survey_version": a.survey_version,
             "order_id": a.order_id, "delivered_via": a.delivered_via, "answers": a.answers,
             **({"sentiment": read[a.id].sentiment, "aspects": [x["name"] for x in read[a.id].aspects],
                 "urgency": read[a.id].urgency} if a.id in read else {})}
            for a in answers]


def _erase_words(session: Session, erasure: Erasure) -> dict[str, int]:
    """The comments and answers in words go, and with them what was read in them; the scores stay."""
    answers = select(Answer.id).where(Answer.customer_id.in_(erasure.people)).scalar_subquery()
    session.execute(delete(CommentAnalysis).where(CommentAnalysis.answer_id.in_(answers)))
    session.execute(update(Answer).where(Answer.customer_id.in_(erasure.people)).values(comment=None, answers=None))
    return {}


declare(
    CustomerRows("feedback_answers", unmerge=_split_answers, erase=_erase_words,
                 export=Export("feedback", _answers),
                 why="scores stay for the aggregates, tied to an id that no longer names anyone; "
                     "the words were theirs"),
)
