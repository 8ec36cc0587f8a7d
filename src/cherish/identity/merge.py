"""Merging two customers, recording why, and the review list of merges a person must decide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.customers.service import fold_into
from cherish.db.base import utcnow
from cherish.db.customer_rows import Merging, merge_rows
from cherish.identity.models import IdentityReview, Merge, NeverMerge
from cherish.identity.normalize import Key


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def never_merge_pairs(session: Session, customers: list[str]) -> list[tuple[str, str]]:
    """The pairs among ``customers`` that were split by hand and must stay apart."""
    if len(customers) < 2:
        return []
    rows = session.execute(
        select(NeverMerge.customer_a, NeverMerge.customer_b).where(
            NeverMerge.customer_a.in_(customers), NeverMerge.customer_b.in_(customers)
        )
    )
    return [(a, b) for a, b in rows]


def forbid_merge(session: Session, a: str, b: str) -> None:
    first, second = _pair(a, b)
    if session.get(NeverMerge, (first, second)) is None:
        session.add(NeverMerge(customer_a=first, customer_b=second))
        session.flush()


def propose_review(
    session: Session, a: str, b: str, *, reason: str, evidence: dict[str, Any], probability: float | None = None
) -> IdentityReview | None:
    """Put a proposed merge of ``a`` and ``b`` on the review list, unless one is already waiting."""
    first, second = _pair(a, b)
    existing = session.scalar(
        select(IdentityReview).where(
            IdentityReview.customer_a == first, IdentityReview.customer_b == second, IdentityReview.status == "pending"
        )
    )
    if existing is not None:
        return None
    review = IdentityReview(
        customer_a=first, customer_b=second, reason=reason, evidence=evidence, probability=probability,
        status="pending", created_at=utcnow(),
    )
    session.add(review)
    session.flush()
    return review


def merge_customers(
    session: Session, survivor: str, loser: str, *, via: Key | None, message_id: str | None, reason: str,
    actor: str | None = None,
) -> None:
    """Fold ``loser`` into ``survivor``: every customer-bound table follows its declared merge rule
    (`cherish.db.customer_rows`), the loser points at the survivor, and the merge is recorded."""
    merge_rows(session, Merging(survivor=survivor, loser=loser, reason=reason, actor=actor))
    fold_into(session, survivor, loser)
    session.add(
        Merge(
            survivor_id=survivor, merged_id=loser, identifier_type=via[0] if via else None,
            identifier_value=via[1] if via else None, message_id=message_id, reason=reason, actor=actor, at=utcnow(),
        )
    )
    session.flush()
