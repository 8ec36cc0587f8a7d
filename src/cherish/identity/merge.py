"""Merging two customers, recording why, and the review list of merges a person must decide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.db.base import utcnow
from cherish.db.dialects import upsert
from cherish.events.models import Event, Order
from cherish.feedback.models import Answer
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
    return [tuple(r) for r in rows]  # type: ignore[misc]


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


def _merge_latest(session: Session, model: Any, survivor: str, loser: str, key: tuple[str, ...], when: str,
                  columns: tuple[str, ...]) -> None:
    rows = session.execute(select(model).where(model.customer_id == loser)).scalars().all()
    moved = [
        {"customer_id": survivor, **{c: getattr(r, c) for c in (*key, *columns, when)}} for r in rows
    ]
    session.execute(delete(model).where(model.customer_id == loser))
    upsert(session, model, moved, index=("customer_id", *key), update=(*columns, when), newer_than=when)


def merge_customers(
    session: Session, survivor: str, loser: str, *, via: Key | None, message_id: str | None, reason: str,
    actor: str | None = None,
) -> None:
    """Fold ``loser`` into ``survivor``: identifiers, events, orders, traits, consent and notes move over."""
    for model in (Event, Order, Note, Answer):
        session.execute(update(model).where(model.customer_id == loser).values(customer_id=survivor))
    from cherish.identity.models import Identifier

    session.execute(update(Identifier).where(Identifier.customer_id == loser).values(customer_id=survivor))
    from cherish.analytics.models import CustomerScore, StageChange

    session.execute(update(StageChange).where(StageChange.customer_id == loser).values(customer_id=survivor))
    # scores are recomputed by the next `cherish analyze`
    session.execute(delete(CustomerScore).where(CustomerScore.customer_id == loser))
    _merge_latest(session, Trait, survivor, loser, ("name",), "updated_at", ("value", "source"))
    _merge_latest(session, Consent, survivor, loser, ("purpose", "channel"), "at", ("status", "source"))
    session.execute(
        update(Customer).where(or_(Customer.id == loser, Customer.merged_into == loser)).values(merged_into=survivor)
    )
    names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_([survivor, loser]))).all())
    if not names.get(survivor) and names.get(loser):
        session.execute(update(Customer).where(Customer.id == survivor).values(name=names[loser]))
    for column, other in ((NeverMerge.customer_a, NeverMerge.customer_b), (NeverMerge.customer_b, NeverMerge.customer_a)):
        for (partner,) in session.execute(select(other).where(column == loser)).all():
            if partner != survivor:
                forbid_merge(session, survivor, partner)
    session.execute(delete(NeverMerge).where(or_(NeverMerge.customer_a == loser, NeverMerge.customer_b == loser)))
    pending = session.scalars(
        select(IdentityReview).where(
            IdentityReview.status == "pending",
            or_(IdentityReview.customer_a == loser, IdentityReview.customer_b == loser),
        )
    ).all()
    for review in pending:
        other = review.customer_b if review.customer_a == loser else review.customer_a
        if other == survivor:
            review.status, review.decided_at, review.decided_by = "merged", utcnow(), actor or reason
        else:
            review.customer_a, review.customer_b = _pair(survivor, other)
    session.add(
        Merge(
            survivor_id=survivor, merged_id=loser, identifier_type=via[0] if via else None,
            identifier_value=via[1] if via else None, message_id=message_id, reason=reason, actor=actor, at=utcnow(),
        )
    )
    session.flush()
