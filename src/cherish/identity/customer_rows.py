"""The identity domain's part of the customer-row contract (`cherish.db.customer_rows`): identifiers, the pairs
kept apart, the review list, and the record of merges."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from cherish.db.base import utcnow
from cherish.db.customer_rows import CustomerRows, Export, Merging, Split, declare
from cherish.identity.models import Identifier, IdentityReview, Merge, NeverMerge


def _merge_never_merge(session: Session, merging: Merging) -> None:
    """Whoever the loser was kept apart from, the survivor is kept apart from now."""
    from cherish.identity.merge import forbid_merge

    survivor, loser = merging.survivor, merging.loser
    sides = ((NeverMerge.customer_a, NeverMerge.customer_b), (NeverMerge.customer_b, NeverMerge.customer_a))
    for column, other in sides:
        for (partner,) in session.execute(select(other).where(column == loser)).all():
            if partner != survivor:
                forbid_merge(session, survivor, partner)
    session.execute(delete(NeverMerge).where(or_(NeverMerge.customer_a == loser, NeverMerge.customer_b == loser)))


def _merge_reviews(session: Session, merging: Merging) -> None:
    """A pending review of the two is settled by the merge; the loser's other pending reviews now ask about the
    survivor."""
    from cherish.identity.merge import _pair

    survivor, loser = merging.survivor, merging.loser
    pending = session.scalars(select(IdentityReview).where(
        IdentityReview.status == "pending", or_(IdentityReview.customer_a == loser, IdentityReview.customer_b == loser)
    )).all()
    for review in pending:
        other = review.customer_b if review.customer_a == loser else review.customer_a
        if other == survivor:
            review.status, review.decided_at, review.decided_by = "merged", utcnow(), merging.actor or merging.reason
        else:
            review.customer_a, review.customer_b = _pair(survivor, other)


def _split_identifiers(session: Session, split: Split) -> None:
    for key in split.keys:
        kind, _, value = key.partition(":")
        held = (Identifier.type == kind, Identifier.value == value, Identifier.customer_id == split.owner)
        session.execute(update(Identifier).where(*held).values(customer_id=split.target))


def _merges(session: Session, customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"survivor_id": m.survivor_id, "merged_id": m.merged_id, "reason": m.reason, "at": m.at,
             "identifier": f"{m.identifier_type}:{m.identifier_value}" if m.identifier_type else None}
            for m in session.scalars(select(Merge).where(Merge.survivor_id.in_(customer_ids))
                                     .order_by(Merge.at, Merge.id))]


declare(
    CustomerRows("identifiers", unmerge=_split_identifiers, erase="delete",
                 why="every identifier the customer was seen with: the split ones are what an unmerge moves"),
    CustomerRows("merges", columns=("survivor_id", "merged_id"), merge="keep", erase={"identifier_value": None},
                 export=Export("merges", _merges),
                 why="the record of each merge stays as written; an erasure keeps that it happened, "
                     "not by which value"),
    CustomerRows("never_merge", columns=("customer_a", "customer_b"), merge=_merge_never_merge, erase="keep",
                 why="pairs a person split or rejected: the survivor inherits the loser's; ids only"),
    CustomerRows("identity_reviews", columns=("customer_a", "customer_b"), merge=_merge_reviews, erase="delete",
                 why="proposed merges waiting for a person; their evidence holds the person's values"),
    CustomerRows("identity_match_run_merges", columns=("survivor_id", "merged_id"), merge="keep",
                 erase={"identifiers": [], "evidence": {"erased": True}},
                 why="what undoing a matching run needs: the folded customer's identifiers and the values compared"),
)
