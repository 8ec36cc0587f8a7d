"""The kept matching model: reused by every run, replaced only by a retrained one that is no worse on the labelled
pairs.

Labelled pairs are the decisions people made: accepted reviews say "same person", rejected reviews and never-merge
pairs say "two people". A model trained again on customers already merged has lost most of its duplicates and can
learn nonsense (a birthday mismatch weighed at nothing); scoring it on those decisions catches that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.identity.models import IdentityReview, MatchModel, NeverMerge


@dataclass
class LabelledPair:
    left: dict[str, Any]
    right: dict[str, Any]
    same: bool


def kept_model(session: Session) -> MatchModel | None:
    """The model later runs score with: the newest one kept."""
    return session.scalar(select(MatchModel).where(MatchModel.status == "kept").order_by(MatchModel.id.desc()))


def _from_evidence(evidence: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    comparisons = evidence.get("comparisons") if isinstance(evidence, dict) else None
    if not isinstance(comparisons, list):
        return None
    left = {c["field"]: c.get("left") for c in comparisons if isinstance(c, dict) and "left" in c}
    right = {c["field"]: c.get("right") for c in comparisons if isinstance(c, dict) and "right" in c}
    return (left, right) if left and right else None


def labelled_pairs(session: Session, records: dict[str, dict[str, Any]]) -> list[LabelledPair]:
    """Pairs people decided on: reviews by the values shown to the reviewer, never-merge pairs by today's records.

    ``records`` holds each living customer's normalised fields by customer id."""
    labelled = []
    decided = session.scalars(select(IdentityReview).where(IdentityReview.status.in_(("accepted", "rejected")))).all()
    for review in decided:
        values = _from_evidence(review.evidence)
        if values is not None:
            labelled.append(LabelledPair(*values, same=review.status == "accepted"))
    rejected = {(r.customer_a, r.customer_b) for r in decided if r.status == "rejected"}
    for a, b in session.execute(select(NeverMerge.customer_a, NeverMerge.customer_b)):
        if a in records and b in records and (a, b) not in rejected:  # a rejected review counts once
            labelled.append(LabelledPair(records[a], records[b], same=False))
    return labelled


def evaluate(model: dict[str, Any], pairs: list[LabelledPair], settings: Settings,
             records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How a model scores the labelled pairs: decisions they contradict (a different pair merged, a same pair not even
    queued for review) and the mean log loss. ``records`` give how common each value is (for names)."""
    if not pairs:
        return {"pairs": 0, "errors": 0, "log_loss": 0.0}
    probabilities = _score(model, pairs, records)
    errors, loss = 0, 0.0
    for pair, p in zip(pairs, probabilities, strict=True):
        if pair.same and p < settings.review_threshold or not pair.same and p >= settings.auto_merge_threshold:
            errors += 1
        p = min(max(p, 1e-6), 1 - 1e-6)
        loss -= math.log(p if pair.same else 1 - p)
    return {"pairs": len(pairs), "same": sum(p.same for p in pairs), "errors": errors,
            "log_loss": round(loss / len(pairs), 4)}


def refusal(retrained: dict[str, Any], kept: dict[str, Any]) -> str | None:
    """Why a retrained model must not replace the kept one, or None when it is no worse."""
    if not retrained.get("pairs"):
        return None
    worse = (retrained["errors"], retrained["log_loss"]) > (kept["errors"], kept["log_loss"])
    if not worse:
        return None
    return (f"the retrained model scores worse than the kept one on the {retrained['pairs']} labelled pairs "
            f"(reviews decided, never-merge pairs): {retrained['errors']} decisions wrong against {kept['errors']}, "
            f"log loss {retrained['log_loss']} against {kept['log_loss']}; the kept model stays")


def _score(model: dict[str, Any], pairs: list[LabelledPair], records: dict[str, dict[str, Any]]) -> list[float]:
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    columns = _input_columns(model)
    frequencies = {column: _frequencies(records, column) for column in _tf_columns(model)}

    def table(side: str) -> pa.Table:
        rows = []
        for i, pair in enumerate(pairs):
            values = {c: _text(getattr(pair, side).get(c)) for c in columns}
            tf = {f"tf_{c}": frequencies[c].get(value) if (value := values.get(c)) else None for c in frequencies}
            rows.append({"unique_id": str(i), **values, **tf})
        return pa.Table.from_pylist(rows, schema=pa.schema(
            [("unique_id", pa.string())] + [(c, pa.string()) for c in columns]
            + [(f"tf_{c}", pa.float64()) for c in frequencies]))

    settings = dict(model, retain_intermediate_calculation_columns=False, retain_matching_columns=False)
    result = compare_records(table("left"), table("right"), settings, DuckDBAPI(),
                             join_condition="l.unique_id = r.unique_id")
    scored = {str(r[0]): float(r[1]) for r in result.as_duckdbpyrelation()
              .select("unique_id_l, match_probability").fetchall()}
    return [scored[str(i)] for i in range(len(pairs))]


def _input_columns(model: dict[str, Any]) -> list[str]:
    """The record fields a saved model compares (one per comparison here, named after the field)."""
    return [c["output_column_name"] for c in model.get("comparisons", []) if c.get("output_column_name")]


def _tf_columns(model: dict[str, Any]) -> set[str]:
    """Fields whose agreement counts for more when the value is rare (names): they need their value's frequency."""
    return {level["tf_adjustment_column"] for c in model.get("comparisons", [])
            for level in c.get("comparison_levels", []) if level.get("tf_adjustment_column")}


def _frequencies(records: dict[str, dict[str, Any]], column: str) -> dict[str, float]:
    """Each value's share of the records that have one, as Splink's term-frequency tables hold it."""
    counts: dict[str, int] = {}
    for record in records.values():
        value = record.get(column)
        if value is not None:
            counts[str(value)] = counts.get(str(value), 0) + 1
    total = sum(counts.values()) or 1
    return {value: count / total for value, count in counts.items()}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
