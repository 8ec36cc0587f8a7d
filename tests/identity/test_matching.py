"""Probabilistic matching: on a file (FEBRL, with known truth) and on the customers in the store."""

from __future__ import annotations

import csv
from itertools import combinations
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.config import reset_settings

FEBRL1 = Path(__file__).resolve().parent.parent / "data" / "febrl" / "febrl1.csv"


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {pair for ids in groups.values() for pair in combinations(sorted(ids), 2)}


def test_dedupe_febrl1_finds_the_duplicates(tmp_path):
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(app, ["identity", "dedupe", str(FEBRL1), "--id-column", "rec_id", "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1000 and set(rows[0]) == {"id", "cluster_id"}
    clusters: dict[str, list[str]] = {}
    people: dict[str, list[str]] = {}
    for row in rows:
        clusters.setdefault(row["cluster_id"], []).append(row["id"])
        people.setdefault(row["id"].split("-")[1], []).append(row["id"])
    predicted, true = _pairs(clusters), _pairs(people)
    precision = len(predicted & true) / len(predicted)
    recall = len(predicted & true) / len(true)
    assert precision >= 0.99 and recall >= 0.97


def test_dedupe_with_explicit_roles_and_missing_values(tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("key,fn,ln,born,zip\n1,Ann,Lee,1980-01-02,97209\n2,Ann,Lee,1980-01-02,97209\n"
                      "3,Bob,,1971-05-06,\n4,Cy,Ng,,10001\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["identity", "dedupe", str(source), "--id-column", "key", "--output", str(out),
                                      "--column", "first_name=fn", "--column", "surname=ln", "--column", "dob=born",
                                      "--column", "postcode=zip", "--threshold", "0.5"])
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r["cluster_id"] for r in csv.DictReader(out.open())}
    assert set(rows) == {"1", "2", "3", "4"}
    assert rows["1"] == rows["2"] and len({rows["1"], rows["3"], rows["4"]}) == 3


@pytest.mark.parametrize(("args", "message"), [
    (["missing.csv", "--id-column", "id"], "no such file"),
    (["FEBRL", "--id-column", "nope"], "has no column 'nope'"),
    (["FEBRL", "--id-column", "rec_id", "--column", "shoe_size=surname"], "unknown column role"),
    (["FEBRL", "--id-column", "rec_id", "--column", "surname"], "role=COLUMN"),
])
def test_dedupe_bad_input_is_one_line(tmp_path, args, message):
    args = [str(FEBRL1) if a == "FEBRL" else a for a in args]
    result = CliRunner().invoke(app, ["identity", "dedupe", *args, "--output", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_match_in_the_store_merges_only_the_same_people(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CHERISH_DATABASE_URL", db_url)
    reset_settings()
    runner = CliRunner()
    truth = tmp_path / "truth.csv"
    built = runner.invoke(app, ["demo", "--customers", "1200", "--seed", "11", "--no-serve", "--no-match",
                               "--no-analyze", "--truth", str(truth)])
    assert built.exit_code == 0, built.stderr
    matched = runner.invoke(app, ["identity", "match"])
    assert matched.exit_code == 0, matched.stderr
    assert "merged" in matched.stderr

    from sqlalchemy import select

    from cherish.config import get_settings
    from cherish.db.engine import open_store
    from cherish.identity.models import Identifier, Merge

    person = {(r["type"], r["value"]): r["person"] for r in csv.DictReader(truth.open())}
    store = open_store(get_settings().database_url)
    with store.read() as session:
        merges = session.scalars(select(Merge).where(Merge.reason == "match")).all()
        people_of: dict[str, set[str]] = {}
        for kind, value, customer in session.execute(select(Identifier.type, Identifier.value, Identifier.customer_id)):
            people_of.setdefault(customer, set()).add(person[(kind, value)])
    store.dispose()
    reset_settings()
    assert len(merges) >= 10  # about 3% of the demo's people have a second, unconnected shop profile
    for merge in merges:
        assert len(people_of[merge.survivor_id]) == 1, "a probabilistic merge joined two different people"


def test_likely_matches_wait_for_review_with_their_evidence(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CHERISH_DATABASE_URL", db_url)
    reset_settings()
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--customers", "1500", "--seed", "5", "--no-serve",
                               "--no-match", "--no-analyze", "--truth", str(tmp_path / "t.csv")]).exit_code == 0
    assert runner.invoke(app, ["identity", "match"]).exit_code == 0

    from fastapi.testclient import TestClient

    from cherish.access.service import create_key
    from cherish.api.app import create_app
    from cherish.config import get_settings
    from cherish.db.engine import open_store

    settings = get_settings()
    store = open_store(settings.database_url)
    with store.write() as session:
        manager = create_key(session, role="manager")[1]
    with TestClient(create_app(settings, store)) as client:
        reviews = client.get("/api/identity/reviews", headers={"Authorization": f"Bearer {manager}"}).json()["items"]
        assert reviews and all(r["reason"] == "match" for r in reviews)
        review = reviews[0]
        assert settings.review_threshold <= review["probability"] < settings.auto_merge_threshold
        fields = {c["field"] for c in review["evidence"]["comparisons"]}
        assert {"first_name", "surname", "dob"} <= fields
        assert all({"left", "right", "level", "match_weight"} <= set(c) for c in review["evidence"]["comparisons"])
        page = client.get("/identity/reviews", headers={"Authorization": f"Bearer {manager}"})
        assert "Match weight" in page.text and "match probability" in page.text
        accepted = client.post(f"/api/identity/reviews/{review['id']}/accept",
                               headers={"Authorization": f"Bearer {manager}"})
        assert accepted.json()["status"] == "accepted"
    store.dispose()
    reset_settings()


def test_the_same_records_train_the_same_model():
    """Seeded sampling repeats itself only on one thread and only on the same rows: a model trained twice on one file,
    or on the same people under other ids in another order (another store, a demo built again), is the same model,
    so that a retrained model can be judged against the kept one on its merits, not on chance."""
    import pyarrow as pa

    from cherish.identity.matching import match_records

    with FEBRL1.open() as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    table = pa.table({name: [row[name].strip() or None for row in rows] for name in rows[0]})
    roles = {"first_name": "given_name", "surname": "surname", "dob": "date_of_birth", "postcode": "postcode"}
    other_ids = pa.array([f"other-{i:05d}" for i in range(table.num_rows)][::-1])
    renamed = table.set_column(table.schema.get_field_index("rec_id"), "rec_id", other_ids)
    models = [match_records(t, id_column="rec_id", roles=roles, threshold=0.99, explain=False).model
              for t in (table, table, renamed.take(list(range(table.num_rows))[::-1]))]
    first, *others = [{k: v for k, v in m.items() if k != "linker_uid"} for m in models]  # a random name only
    assert others == [first, first]
