"""Merges and unmerges, by property: after any sequence of them, every identifier belongs to exactly one live
customer, pairs split apart never share one, and every event stays with a customer holding what it carried."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cherish.config import Settings
from cherish.customers.models import Customer
from cherish.db.engine import open_store
from cherish.db.migrate import upgrade
from cherish.errors import CherishError
from cherish.events.flows import ingest
from cherish.events.models import Event
from cherish.identity.models import Identifier, NeverMerge
from cherish.identity.service import unmerge

PEOPLE = 4
# an operation: one person seen on their device with their email and phone; a message that carries one person's
# email and another's phone (the link that merges them); or one person's email split off whoever holds it
SEEN = st.tuples(st.just("seen"), st.integers(0, PEOPLE - 1), st.none())
LINK = st.tuples(st.just("link"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1))
SPLIT = st.tuples(st.just("split"), st.integers(0, PEOPLE - 1), st.none())
_messages = itertools.count()


def _email(person: int) -> str:
    return f"p{person}@example.com"


def _phone(person: int) -> str:
    return f"+1415555{person:04d}"


def _apply(store, config: Settings, operation: tuple) -> None:  # type: ignore[no-untyped-def]
    kind, person, other = operation
    if kind in ("seen", "link"):
        n = next(_messages)
        device, phone = (f"device-{person}", _phone(person)) if kind == "seen" else (f"link-{n}", _phone(other))
        message = {"type": "identify", "anonymousId": device, "messageId": f"m-{n}",
                   "traits": {"email": _email(person), "phone": phone}}
        with store.write() as session:
            ingest(session, [message], settings=config)
        return
    with store.read() as session:
        owner = session.scalar(select(Identifier.customer_id).where(
            Identifier.type == "email", Identifier.value == _email(person)))
    if owner is None:
        return
    try:
        with store.write() as session:
            unmerge(session, config, customer_id=owner, identifier=f"email:{_email(person)}", actor="test")
    except CherishError:  # nothing to split it from: every event of its customer carries it
        pass


def _check(store) -> None:  # type: ignore[no-untyped-def]
    with store.read() as session:
        live = {c.id for c in session.scalars(select(Customer).where(Customer.merged_into.is_(None)))}
        held: dict[str, str] = {}
        for kind, value, owner in session.execute(select(Identifier.type, Identifier.value, Identifier.customer_id)):
            key = f"{kind}:{value}"
            assert key not in held, f"{key} belongs to two customers"
            assert owner in live, f"{key} belongs to {owner}, merged away"
            held[key] = owner
        for a, b in session.execute(select(NeverMerge.customer_a, NeverMerge.customer_b)):
            assert a != b
            assert not (a in live and b in live and set(_keys(held, a)) & set(_keys(held, b)))
        for customer, carried in session.execute(select(Event.customer_id, Event.identifiers)):
            assert customer in live, "an event stays with a customer that was merged away"
            owners = {held[key] for key in carried or [] if key in held}
            assert customer in owners or not owners, f"an event carrying {carried} is not with their holder"


def _keys(held: dict[str, str], customer: str) -> list[str]:
    return [key for key, owner in held.items() if owner == customer]


@given(st.lists(st.one_of(SEEN, LINK, SPLIT), min_size=1, max_size=14))
@example([("seen", 0, None), ("seen", 1, None), ("link", 0, 1), ("split", 0, None), ("link", 0, 1),
          ("seen", 2, None), ("link", 2, 1), ("split", 1, None)])  # merges, splits, a link across a split
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_merges_and_unmerges_keep_every_identifier_with_one_live_customer(operations):
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cherish.db'}"
        config = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        store = open_store(url)
        try:
            upgrade(store)
            for operation in operations:
                _apply(store, config, operation)
                _check(store)
        finally:
            store.dispose()
