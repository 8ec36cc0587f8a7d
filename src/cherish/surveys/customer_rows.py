"""Survey invitations in the customer-row contract (`cherish.db.customer_rows`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.db.customer_rows import CustomerRows, Export, declare
from cherish.surveys.models import Invitation


def _invitations(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"survey_id": i.survey_id, "version": i.version, "asked_at": i.created_at, "order_id": i.order_id,
             "delivered_via": i.delivered_via, "answered_at": i.answered_at, "saved_answers": i.partial,
             "reward_code": i.reward_code}
            for i in session.scalars(select(Invitation).where(Invitation.customer_id.in_(customer_ids))
                                     .order_by(Invitation.id))]


declare(
    CustomerRows("survey_invitations", merge="move", erase="delete", export=Export("survey_invitations", _invitations),
                 why="a merged customer was asked what either was asked; a half-given answer holds their words"),
)
