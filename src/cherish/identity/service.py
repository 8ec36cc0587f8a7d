"""Decisions people make about identity: merge by hand, split an identifier off, accept or reject a review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.config import Settings
from cherish.customers.service import create, family, survivor_or_404
from cherish.db.base import new_id, utcnow
from cherish.db.customer_rows import Split, history, unmerge_rows
from cherish.errors import Conflict, NotFound
from cherish.identity.merge import forbid_merge
from cherish.identity.models import Identifier, IdentityReview
from cherish.identity.normalize import parse_key
from cherish.identity.resolve import IdentityResolver


def merge_by_hand(session: Session, settings: Settings, *, survivor_id: str, merged_id: str, actor: str) -> str:
    """Merge two customers a person decided are one; the one created first survives."""
    a, b = survivor_or_404(session, survivor_id), survivor_or_404(session, merged_id)
    if a == b:
        raise Conflict("these two ids are already the same customer")
    from cherish.identity.models import NeverMerge

    for pair in ((a, b), (b, a)):
        row = session.get(NeverMerge, pair)
        if row is not None:
            session.delete(row)  # a person's decision overrides an earlier split
    survivor = IdentityResolver(session, settings).merge([a, b], via=None, message_id=None, reason="manual",
                                                         actor=actor)
    audit(session, actor=actor, action="merge", subject=survivor, details={"merged": b if survivor == a else a})
    return survivor


def unmerge(session: Session, settings: Settings, *, customer_id: str, identifier: str, actor: str) -> str:
    """Split ``identifier`` and the events that carried it into a customer of its own; returns the new id."""
    owner_id = survivor_or_404(session, customer_id)
    key = parse_key(identifier, settings)
    row = session.scalar(select(Identifier).where(Identifier.type == key[0], Identifier.value == key[1]))
    if row is None or row.customer_id != owner_id:
        raise NotFound(f"customer {owner_id} has no identifier {key[0]}:{key[1]}")
    text = f"{key[0]}:{key[1]}"
    events = history(session, owner_id)
    moving = [e for e in events if text in (e.identifiers or [])]
    staying = [e for e in events if text not in (e.identifiers or [])]
    if not staying:
        raise Conflict(f"every event of {owner_id} carries {text}: there is nothing to split it from")
    kept_keys = {k for e in staying for k in (e.identifiers or [])}
    moved_keys = {k for e in moving for k in (e.identifiers or [])} - kept_keys
    moved_keys.add(text)
    newcomer = new_id("cus")
    create(session, newcomer, created_at=row.first_seen)
    move_history(session, owner_id=owner_id, target_id=newcomer, keys=moved_keys, events=moving)
    forbid_merge(session, owner_id, newcomer)
    audit(session, actor=actor, action="unmerge", subject=owner_id,
          details={"new_customer": newcomer, "identifier_type": key[0], "events": len(moving)})
    return newcomer


def move_history(session: Session, *, owner_id: str, target_id: str, keys: set[str], events: list[Any]) -> None:
    """Move identifiers ``keys`` (TYPE:VALUE) and ``events`` from one customer to another: every customer-bound
    table follows its declared unmerge rule (`cherish.db.customer_rows`: the identifiers and events themselves,
    answers and orders with their events) and rebuilds what it derives from them (traits, consent, name)."""
    unmerge_rows(session, Split(owner=owner_id, target=target_id, keys=frozenset(keys), events=events))


def reviews(session: Session, *, status: str | None = "pending", limit: int = 100,
            offset: int = 0) -> list[IdentityReview]:
    query = select(IdentityReview).order_by(IdentityReview.created_at.desc(), IdentityReview.id.desc())
    if status:
        query = query.where(IdentityReview.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_reviews(session: Session, *, status: str | None = "pending") -> int:
    """How many reviews there are (with this status)."""
    query = select(func.count()).select_from(IdentityReview)
    if status:
        query = query.where(IdentityReview.status == status)
    return session.scalar(query) or 0


def decide_review(session: Session, settings: Settings, *, review_id: int, accept: bool, actor: str) -> IdentityReview:
    """Accept (merge the two customers) or reject (keep them apart for good) a proposed merge."""
    review = session.get(IdentityReview, review_id)
    if review is None:
        raise NotFound(f"no identity review {review_id}")
    if review.status != "pending":
        raise Conflict(f"review {review_id} was already decided ({review.status})")
    if accept:
        a, b = survivor_or_404(session, review.customer_a), survivor_or_404(session, review.customer_b)
        if a != b:
            IdentityResolver(session, settings).merge([a, b], via=None, message_id=None, reason="review", actor=actor)
        session.refresh(review)
        review.status = "accepted"
    else:
        forbid_merge(session, review.customer_a, review.customer_b)
        review.status = "rejected"
    review.decided_at, review.decided_by = utcnow(), actor
    audit(session, actor=actor, action=f"review_{review.status}", subject=str(review_id))
    return review


def person_of(session: Session, customer_id: str) -> list[str]:
    """The customer, its merged ids, and accounts a guardrail held apart because they carried its identifiers: whom
    an erasure covers."""
    people = set(family(session, customer_id))
    frontier = set(people)
    while frontier:
        keys = {f"{t}:{v}" for t, v in session.execute(
            select(Identifier.type, Identifier.value).where(Identifier.customer_id.in_(frontier)))}
        found: set[str] = set()
        for a, b, evidence in session.execute(
                select(IdentityReview.customer_a, IdentityReview.customer_b, IdentityReview.evidence)
                .where(IdentityReview.reason.startswith("guardrail"),
                       or_(IdentityReview.customer_a.in_(frontier), IdentityReview.customer_b.in_(frontier)))):
            said = evidence.get("identifiers") if isinstance(evidence, dict) else None
            if keys.intersection(said or []):
                for other in (str(a), str(b)):
                    if other not in people:
                        found.update(family(session, other))
        people |= found
        frontier = found
    return sorted(people)
