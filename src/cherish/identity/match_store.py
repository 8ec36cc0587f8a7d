"""`cherish identity match`: the customers in the store scored by the kept model, merged or sent to review, as a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.access.service import audit
from cherish.config import Settings
from cherish.customers import service as customers
from cherish.customers.service import find
from cherish.db.base import utcnow
from cherish.db.engine import Store
from cherish.errors import Conflict
from cherish.identity.match_model import evaluate, kept_model, labelled_pairs, refusal
from cherish.identity.matching import MatchResult, match_records, normalised_records
from cherish.identity.merge import propose_review
from cherish.identity.models import (
    Identifier,
    IdentityReview,
    MatchModel,
    MatchRun,
    MatchRunMerge,
    NeverMerge,
)
from cherish.identity.resolve import IdentityResolver

_TRAITS = ("first_name", "firstName", "last_name", "lastName", "name", "birthday", "address")
_ROLES = {"first_name": "first_name", "surname": "surname", "dob": "dob", "address_1": "street", "city": "city",
          "postcode": "postcode", "state": "state"}


@dataclass
class MatchSummary:
    candidates: int
    pairs: int
    merged: int
    reviews: int
    run_id: int | None = None  # None on a dry run
    model_id: int | None = None
    trained: bool = False  # a model was trained (first run, or --retrain) rather than the kept one reused
    note: str | None = None
    # action (merge, review), customer_a, customer_b, probability
    plan: list[dict[str, Any]] = field(default_factory=list)


class _DryRun(Exception):
    """Raised inside the run's transaction so that a dry run rolls every change back."""


def _person(traits: dict[str, Any]) -> dict[str, Any]:
    first = traits.get("first_name", traits.get("firstName"))
    last = traits.get("last_name", traits.get("lastName"))
    if (not first or not last) and isinstance(traits.get("name"), str):
        parts = traits["name"].split()
        if len(parts) >= 2:
            first, last = first or parts[0], last or parts[-1]
    given = traits.get("address")
    address: dict[str, Any] = given if isinstance(given, dict) else {}
    text = lambda v: str(v).strip() if v not in (None, "") and not isinstance(v, dict | list) else None  # noqa: E731
    return {"first_name": text(first), "surname": text(last), "dob": text(traits.get("birthday")),
            "street": text(address.get("street")), "city": text(address.get("city")),
            "postcode": text(address.get("postalCode", address.get("postal_code"))),
            "state": text(address.get("state"))}


def customer_records(store: Store) -> pa.Table:
    """One row per living customer that has a name and a birthday or an address."""
    people: dict[str, dict[str, Any]] = {}
    with store.read() as session:
        rows = customers.living_traits(session, _TRAITS)
        for customer_id, name, value in rows:
            people.setdefault(customer_id, {})[name] = value
    records = []
    for customer_id, traits in people.items():
        person = _person(traits)
        if person["first_name"] and person["surname"] and (person["dob"] or person["street"]):
            records.append({"customer_id": customer_id, **person})
    columns = ["customer_id", "first_name", "surname", "dob", "street", "city", "postcode", "state"]
    return pa.Table.from_pylist(records, schema=pa.schema([(c, pa.string()) for c in columns]))


def run_match(store: Store, settings: Settings, *, actor: str = "matcher", retrain: bool = False,
              dry_run: bool = False) -> MatchSummary:
    """Score customers with the kept model (trained on the first run or with ``retrain``); merge at the auto-merge
    threshold, queue for review above the review threshold; record the run so that it can be undone."""
    table = customer_records(store)
    with store.read() as session:
        kept = kept_model(session)
        kept_id, kept_settings = (kept.id, kept.settings) if kept else (None, None)
    train = kept_settings is None or retrain
    if table.num_rows < 2:
        result = MatchResult(pairs=[], clusters={})
    else:
        result = match_records(table, id_column="customer_id", roles=_ROLES, threshold=settings.review_threshold,
                               model=None if train else kept_settings)
    evaluation: dict[str, Any] = {}
    refused = None
    if train and result.model is not None:
        records = normalised_records(table, id_column="customer_id", roles=_ROLES)
        with store.read() as session:
            pairs = labelled_pairs(session, records)
        evaluation = evaluate(result.model, pairs, settings, records)
        if kept_settings is not None:
            refused = refusal(evaluation, evaluate(kept_settings, pairs, settings, records))
    summary = MatchSummary(candidates=table.num_rows, pairs=len(result.pairs), merged=0, reviews=0,
                           model_id=kept_id, trained=train and result.model is not None, note=result.note)
    if refused:
        if not dry_run:
            with store.write() as session:
                model = MatchModel(trained_at=utcnow(), records=table.num_rows, settings=result.model,
                                   evaluation=evaluation, status="refused", reason=refused)
                session.add(model)
                session.flush()
                session.add(MatchRun(started_at=utcnow(), actor=actor, model_id=model.id, retrained=True,
                                     candidates=table.num_rows, status="refused", note=refused))
        raise Conflict(refused)
    try:
        with store.write() as session:
            _apply(session, settings, summary, result, actor=actor, retrain=retrain, evaluation=evaluation)
            if dry_run:
                raise _DryRun
    except _DryRun:
        summary.run_id = None
        if summary.trained:
            summary.model_id = None
    return summary


def _apply(session: Session, settings: Settings, summary: MatchSummary, result: MatchResult, *, actor: str,
           retrain: bool, evaluation: dict[str, Any]) -> None:
    """Merge and queue the scored pairs in one transaction, recording the run and each merge it makes."""
    if summary.trained:
        for previous in session.scalars(select(MatchModel).where(MatchModel.status == "kept")):
            previous.status = "replaced"
        model = MatchModel(trained_at=utcnow(), records=summary.candidates, settings=result.model,
                           evaluation=evaluation, status="kept")
        session.add(model)
        session.flush()
        summary.model_id = model.id
    run = MatchRun(started_at=utcnow(), actor=actor, model_id=summary.model_id, retrained=retrain,
                   candidates=summary.candidates, pairs=summary.pairs, status="done", note=summary.note)
    session.add(run)
    session.flush()
    summary.run_id = run.id
    held = _held_pairs(session)
    resolver = IdentityResolver(session, settings)
    for pair in sorted(result.pairs, key=lambda p: -p["probability"]):
        alive = []
        for cid in (pair["id_l"], pair["id_r"]):
            customer, survivor = find(session, cid)
            alive.append(customer.id if customer else survivor)
        a, b = alive
        if a is None or b is None or a == b or held.holds(a, b):
            continue  # waiting for a person, or decided by one: never merged nor queued again here
        evidence = {"comparisons": pair["comparisons"], "matcher": "splink", "run": run.id}
        blocker = resolver._merge_blocker([a, b], [], alias=False)
        step = {"customer_a": a, "customer_b": b, "probability": round(pair["probability"], 4)}
        if pair["probability"] >= settings.auto_merge_threshold and blocker is None:
            before = {c: (_identifiers(session, c), _family(session, c)) for c in (a, b)}
            survivor = resolver.merge([a, b], via=None, message_id=None, reason="match", actor=actor)
            loser = b if survivor == a else a
            session.add(MatchRunMerge(run_id=run.id, survivor_id=survivor, merged_id=loser,
                                      probability=pair["probability"], identifiers=before[loser][0],
                                      family=before[loser][1], evidence=evidence))
            held.moved(loser, survivor)
            summary.merged += 1
            summary.plan.append({"action": "merge", **step})
        elif blocker != "never_merge" and propose_review(session, a, b, reason="match", evidence=evidence,
                                                          probability=pair["probability"]):
            held.add(a, b)
            summary.reviews += 1
            summary.plan.append({"action": "review", **step})
    run.merged, run.reviews = summary.merged, summary.reviews
    audit(session, actor=actor, action="identity_match",
          details={"run": run.id, "model": summary.model_id, "candidates": summary.candidates, "pairs": summary.pairs,
                   "merged": summary.merged, "reviews": summary.reviews})


@dataclass
class _Held:
    """Pairs a run must leave alone (waiting in review, rejected, never-merge), followed through its merges."""

    partners: dict[str, set[str]] = field(default_factory=dict)

    def add(self, a: str, b: str) -> None:
        self.partners.setdefault(a, set()).add(b)
        self.partners.setdefault(b, set()).add(a)

    def holds(self, a: str, b: str) -> bool:
        return b in self.partners.get(a, ())

    def moved(self, loser: str, survivor: str) -> None:
        for partner in self.partners.pop(loser, set()):
            self.partners[partner].discard(loser)
            if partner != survivor:
                self.add(survivor, partner)


def _held_pairs(session: Session) -> _Held:
    held = _Held()
    rows = list(session.execute(select(IdentityReview.customer_a, IdentityReview.customer_b)
                                .where(IdentityReview.status.in_(("pending", "rejected")))).all())
    rows += session.execute(select(NeverMerge.customer_a, NeverMerge.customer_b)).all()
    ids = {c for row in rows for c in row}
    alive = customers.survivors(session, ids)
    for a, b in rows:
        a, b = alive.get(a, a), alive.get(b, b)
        if a != b:
            held.add(a, b)
    return held


def _identifiers(session: Session, customer_id: str) -> list[str]:
    return [f"{t}:{v}" for t, v in session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.customer_id == customer_id))]


def _family(session: Session, customer_id: str) -> list[str]:
    return customers.family(session, customer_id)[1:]
