"""`cherish identity match`: probabilistic matching of the customers in the store, merged or sent to review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from cherish.access.service import audit
from cherish.config import Settings
from cherish.customers.models import Customer, Trait
from cherish.customers.service import find
from cherish.db.engine import Store
from cherish.identity.matching import match_records
from cherish.identity.merge import propose_review
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


def _person(traits: dict[str, Any]) -> dict[str, Any]:
    first = traits.get("first_name", traits.get("firstName"))
    last = traits.get("last_name", traits.get("lastName"))
    if (not first or not last) and isinstance(traits.get("name"), str):
        parts = traits["name"].split()
        if len(parts) >= 2:
            first, last = first or parts[0], last or parts[-1]
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}
    text = lambda v: str(v).strip() if v not in (None, "") and not isinstance(v, dict | list) else None  # noqa: E731
    return {"first_name": text(first), "surname": text(last), "dob": text(traits.get("birthday")),
            "street": text(address.get("street")), "city": text(address.get("city")),
            "postcode": text(address.get("postalCode", address.get("postal_code"))), "state": text(address.get("state"))}


def customer_records(store: Store) -> pa.Table:
    """One row per living customer that has a name and a birthday or an address."""
    people: dict[str, dict[str, Any]] = {}
    with store.read() as session:
        rows = session.execute(
            select(Trait.customer_id, Trait.name, Trait.value)
            .join(Customer, Customer.id == Trait.customer_id)
            .where(Trait.name.in_(_TRAITS), Customer.merged_into.is_(None), Customer.erased_at.is_(None))
        )
        for customer_id, name, value in rows:
            people.setdefault(customer_id, {})[name] = value
    records = []
    for customer_id, traits in people.items():
        person = _person(traits)
        if person["first_name"] and person["surname"] and (person["dob"] or person["street"]):
            records.append({"customer_id": customer_id, **person})
    columns = ["customer_id", "first_name", "surname", "dob", "street", "city", "postcode", "state"]
    return pa.Table.from_pylist(records, schema=pa.schema([(c, pa.string()) for c in columns]))


def run_match(store: Store, settings: Settings, *, actor: str = "matcher") -> MatchSummary:
    """Score customers against each other; merge at the auto-merge threshold, propose for review above review."""
    table = customer_records(store)
    if table.num_rows < 2:
        return MatchSummary(candidates=table.num_rows, pairs=0, merged=0, reviews=0)
    result = match_records(table, id_column="customer_id", roles=_ROLES, threshold=settings.review_threshold)
    merged = reviews = 0
    with store.write() as session:
        resolver = IdentityResolver(session, settings)
        for pair in sorted(result.pairs, key=lambda p: -p["probability"]):
            alive = []
            for cid in (pair["id_l"], pair["id_r"]):
                customer, survivor = find(session, cid)
                alive.append(customer.id if customer else survivor)
            a, b = alive
            if a is None or b is None or a == b:
                continue
            evidence = {"comparisons": pair["comparisons"], "matcher": "splink"}
            blocker = resolver._merge_blocker([a, b], [], alias=False)
            if pair["probability"] >= settings.auto_merge_threshold and blocker is None:
                resolver.merge([a, b], via=None, message_id=None, reason="match", actor=actor)
                merged += 1
            elif blocker != "never_merge":
                if propose_review(session, a, b, reason="match", evidence=evidence, probability=pair["probability"]):
                    reviews += 1
        audit(session, actor=actor, action="identity_match",
              details={"candidates": table.num_rows, "pairs": len(result.pairs), "merged": merged, "reviews": reviews})
    return MatchSummary(candidates=table.num_rows, pairs=len(result.pairs), merged=merged, reviews=reviews)
