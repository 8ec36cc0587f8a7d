"""The customer-row contract: every table that holds a customer id is declared, and merge, unmerge, erase and
export do what each declaration says, table by table, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from cherish.db.base import Base
from cherish.db.customer_rows import Latest, customer_columns, declared
from tests.helpers import identify, track

DECLARED = [entry.table for entry in declared()]
BOUND = [entry.table for entry in declared() if entry.columns]


def test_every_table_holding_a_customer_id_is_declared():
    """A table with a customer-id column that no domain declares would keep a merged customer's rows apart, or a
    person's data after an erasure: declare it in its domain's customer_rows.py."""
    declarations = {entry.table: set(entry.columns) for entry in declared()}
    for table, columns in customer_columns().items():
        assert table in declarations, f"{table} holds a customer id ({', '.join(sorted(columns))}) but is not declared"
        assert columns <= declarations[table], f"{table}: {sorted(columns - declarations[table])} not declared"
    for entry in declared():
        assert entry.why, f"{entry.table}: say in a line why these rules"


def _person(tag: str, when: str) -> list[dict[str, Any]]:
    """Messages that give a customer a row in every table intake writes."""
    email = f"{tag}.person@example.com"
    return [
        identify(user_id=f"{tag}-login", timestamp=when, traits={
            "email": email, "first_name": tag.title(), "plan": tag,
            "consent": {"marketing": {"email": True}}}),
        track("Order Completed", user_id=f"{tag}-login", timestamp=when, traits={"email": email},
              properties={"order_id": f"{tag}-order", "total": 30, "coupon": f"{tag.upper()}-GIFT",
                          "products": [{"sku": "S1", "name": f"Gift for {tag.title()}", "price": 30}]}),
        track("Feedback Submitted", user_id=f"{tag}-login", timestamp=when, traits={"email": email},
              properties={"score_type": "nps", "score": 9, "comment": f"{tag} was happy"}),
    ]


def _world(store, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Two customers with rows in every declared table, and a third held apart from the second."""
    from cherish.analytics.models import CustomerScore, StageChange
    from cherish.customers.service import add_note
    from cherish.events.flows import ingest
    from cherish.identity.merge import forbid_merge, propose_review
    from cherish.identity.models import Identifier, MatchRun, MatchRunMerge

    messages = [*_person("ann", "2026-03-01T10:00:00Z"), *_person("bea", "2026-03-05T10:00:00Z"),
                *_person("cat", "2026-03-06T10:00:00Z"),
                {"type": "track", "event": "Broken", "timestamp": "2099-01-01T00:00:00Z",
                 "context": {"traits": {"email": "bea.person@example.com"}}}]
    with store.write() as session:
        ingest(session, messages, settings=settings)
    with store.read() as session:
        ids = {tag: session.scalar(select(Identifier.customer_id).where(
            Identifier.type == "user_id", Identifier.value == f"{tag}-login")) for tag in ("ann", "bea", "cat")}
    with store.write() as session:
        for tag, customer in ids.items():
            add_note(session, customer, author="agent", body=f"{tag} called")
        propose_review(session, ids["bea"], ids["cat"], reason="guardrail:email", evidence={"identifiers": []})
        forbid_merge(session, ids["bea"], ids["cat"])
        run = MatchRun(actor="test", status="done", merged=1)
        session.add(run)
        session.flush()
        session.add(MatchRunMerge(run_id=run.id, survivor_id=ids["ann"], merged_id=ids["cat"], probability=0.99,
                                  identifiers=["email:cat.person@example.com"], evidence={"name": "Cat"}, family=[]))
        from cherish.contact.flows import Message, reach_out

        quiet = settings.model_copy(update={"quiet_hours": ""})
        reach_out(session, quiet, [Message(customer, "feedback", "email", f"survey {tag}")  # a contact, an email
                                   for tag, customer in ids.items()])
        from cherish.surveys import invitations
        from cherish.surveys import service as surveys

        asked = surveys.create(session, {"name": "world", "questions": [{"type": "nps"}]})
        invitations.invite(session, quiet, asked.id, list(ids.values()))  # an invitation each
        from cherish.cases import promises
        from cherish.cases import service as cases
        from cherish.cases.rules import Signal
        from cherish.contact import service as contact

        for tag, customer in ids.items():  # a case with its signal, its hold on surveys, a promise
            case, _ = cases.open_case(session, Signal("answer", customer, datetime(2026, 3, 7, tzinfo=UTC),
                                                      f"answer:{tag}", "NPS 2", comment=f"{tag} is cross"),
                                      cases.Opening("unhappy answer", "unhappy-answer", "normal", [], "service",
                                                    None, None, None))
            contact.hold(session, key=f"case:{case.id}", customer_id=customer, kind="open_case",
                         since=case.opened_at)
            promises.record(session, customer_id=customer, kind="callback", what=f"call {tag} back",
                            due_at=datetime(2026, 3, 8, tzinfo=UTC), actor="test")
        from cherish.cases import incidents

        incident = incidents.declare(session, {  # every one of them touched by an incident
            "title": "outage", "started_at": datetime(2026, 3, 1, tzinfo=UTC), "apology_subject": "Sorry",
            "apology_text": "Sorry.", "affected": {"kind": "customers", "customer_ids": list(ids.values())}},
            actor="test")
        incidents.touch(session, incident, {customer: "named" for customer in ids.values()})
        for customer in ids.values():  # what `cherish analyze` writes (tests/analytics run it for real)
            session.add(CustomerScore(customer_id=customer, as_of=date(2026, 4, 1), recency_days=30, frequency=1,
                                      monetary=30.0, r=3, f=1, m=2, p_alive=0.8, stage="first purchase",
                                      stage_since=date(2026, 3, 1), health=50, health_reasons=[], clv=12.5))
            session.add(StageChange(customer_id=customer, from_stage=None, to_stage="first purchase",
                                    as_of=date(2026, 4, 1)))
    return ids


def _rows(store, table: str, column: str, customer: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    t = Base.metadata.tables[table]
    with store.read() as session:
        return [dict(r._mapping) for r in session.execute(select(t).where(t.c[column] == customer))]


def _count(store, table: str, column: str, customer: str) -> int:  # type: ignore[no-untyped-def]
    t = Base.metadata.tables[table]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(t).where(t.c[column] == customer)) or 0


@pytest.mark.parametrize("table", BOUND)
def test_merge_follows_each_declaration(store, settings, table):
    from cherish.identity.merge import merge_customers

    ids = _world(store, settings)
    entry = next(e for e in declared() if e.table == table)
    column = entry.columns[0]
    before = {who: _count(store, table, column, ids[who]) for who in ("ann", "bea")}
    assert before["bea"] or entry.merge == "keep" or callable(entry.merge), f"the world gives bea no {table} row"
    with store.write() as session:
        merge_customers(session, ids["ann"], ids["bea"], via=None, message_id=None, reason="test")
    after = {who: _count(store, table, column, ids[who]) for who in ("ann", "bea")}
    if entry.merge == "move":
        assert after == {"ann": before["ann"] + before["bea"], "bea": 0}
    elif entry.merge == "drop":
        assert after["bea"] == 0 and after["ann"] == before["ann"]
    elif isinstance(entry.merge, Latest):
        assert after["bea"] == 0 and before["ann"] <= after["ann"] <= before["ann"] + before["bea"]
    elif entry.merge == "keep":  # history as written (the merge's own record may be added)
        assert after["bea"] == before["bea"] and after["ann"] >= before["ann"]
    else:  # a domain's own rule: nothing is left pointing at the loser
        assert all(_count(store, table, c, ids["bea"]) == 0 for c in entry.columns), table
        assert sum(_count(store, table, c, ids["ann"]) for c in entry.columns) >= 1, table


@pytest.mark.parametrize("table", DECLARED)
def test_unmerge_follows_each_declaration(store, settings, table):
    """bea merged into ann, then bea's email split off: what bea's events carried goes with it."""
    from cherish.identity.merge import merge_customers
    from cherish.identity.service import unmerge

    ids = _world(store, settings)
    entry = next(e for e in declared() if e.table == table)
    with store.write() as session:
        merge_customers(session, ids["ann"], ids["bea"], via=None, message_id=None, reason="test")
    held = {c: _count(store, table, c, ids["ann"]) for c in entry.columns}
    with store.write() as session:
        newcomer = unmerge(session, settings, customer_id=ids["ann"], identifier="email:bea.person@example.com",
                           actor="test")
    if callable(entry.unmerge) or entry.rebuild is not None:
        assert _count(store, table, entry.columns[0], newcomer) >= 1, f"nothing of {table} followed the split"
        assert _count(store, table, entry.columns[0], ids["ann"]) >= 1, f"{table}: ann kept nothing of her own"
    else:  # "stay": what the customer held stays with her (the split's own record may be added)
        assert all(_count(store, table, c, ids["ann"]) >= held[c] for c in entry.columns), table


@pytest.mark.parametrize("table", DECLARED)
def test_erase_follows_each_declaration(store, settings, table):
    from cherish.profiles.flows import erase

    ids = _world(store, settings)
    entry = next(e for e in declared() if e.table == table)
    before = {c: _count(store, table, c, ids["bea"]) for c in entry.columns}
    with store.write() as session:
        erase(session, ids["bea"], actor="test")
    for column in entry.columns:
        rows = _rows(store, table, column, ids["bea"])
        if entry.erase == "delete":
            assert rows == [], f"{table}.{column} kept rows of an erased customer"
        elif entry.erase == "keep":
            assert len(rows) == before[column]
        elif isinstance(entry.erase, Mapping):
            for row in rows:
                assert {k: row[k] for k in entry.erase} == dict(entry.erase), table
    dump = _table_text(store, table)
    for value in ("bea.person@example.com", "Bea", "BEA-GIFT", "bea was happy", "bea called"):
        assert value not in dump, f"{table} still holds {value!r}"
    if table == "rejected_events":
        assert "[erased]" in dump or "bea" not in dump


def _table_text(store, table: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with store.read() as session:
        return "\n".join(repr(tuple(r)) for r in session.execute(text(f'SELECT * FROM "{table}"')))


@pytest.mark.parametrize("table", [entry.table for entry in declared() if entry.export is not None])
def test_export_has_each_declared_section(store, settings, table):
    from cherish.customers.models import Customer
    from cherish.identity.merge import merge_customers
    from cherish.profiles.flows import export

    ids = _world(store, settings)
    entry = next(e for e in declared() if e.table == table)
    with store.write() as session:
        merge_customers(session, ids["ann"], ids["bea"], via=None, message_id=None, reason="test")
    with store.read() as session:
        data = export(session, session.get(Customer, ids["ann"]))
    section = data[entry.export.section]
    assert section, f"the export's {entry.export.section} section is empty"
    assert ids["bea"] in data["merged_ids"]


def test_the_privacy_document_names_every_declared_table():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "privacy.md").read_text().lower().replace("-", " ")
    for entry in declared():
        assert entry.table.replace("_", " ").removesuffix("s") in text.replace("_", " "), entry.table


def test_after_a_merge_search_finds_the_name_the_profile_shows(store, settings):
    """The name traits combine (the newest wins); the customer's name, which search reads, follows them."""
    from cherish.customers.models import Customer
    from cherish.identity.merge import merge_customers
    from cherish.profiles.service import profile, search

    ids = _world(store, settings)
    with store.write() as session:
        merge_customers(session, ids["ann"], ids["bea"], via=None, message_id=None, reason="test")
    with store.read() as session:
        survivor = session.get(Customer, ids["ann"])
        assert survivor.name == profile(session, survivor)["name"] == "Bea"  # bea's traits are the newer
        assert [found["id"] for found in search(session, settings, "Bea")] == [ids["ann"]]
