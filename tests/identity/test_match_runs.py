"""`cherish identity match` run again and again: the kept model, pairs people decided, dry runs, runs undone."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cherish.cli import app
from cherish.config import Settings, get_settings, reset_settings
from cherish.db.engine import Store, open_store
from cherish.identity.models import Identifier, IdentityReview, MatchModel, MatchRun, MatchRunMerge, Merge


def _pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def score(store: Store, truth: Path) -> tuple[float, float]:
    """Pairwise precision and recall of identifiers put on one customer, against the demo's ground truth (as
    benchmarks/stitching.py scores them)."""
    person = {(r["type"], r["value"]): r["person"] for r in csv.DictReader(truth.open())}
    with store.read() as session:
        owner = {(t, v): c for t, v, c in session.execute(select(Identifier.type, Identifier.value,
                                                                 Identifier.customer_id))}
    known = [k for k in person if k in owner]
    both = _pairs(Counter((person[k], owner[k]) for k in known))
    predicted, true = _pairs(Counter(owner[k] for k in known)), _pairs(Counter(person[k] for k in known))
    return both / predicted, both / true


def _count(store: Store, model: type) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def demo(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest):
    """A small demo company, built without matching; yields (store, settings, truth file)."""
    people, seed = getattr(request, "param", (1200, 11))
    monkeypatch.setenv("CHERISH_DATABASE_URL", db_url)
    reset_settings()
    truth = tmp_path / "truth.csv"
    built = CliRunner().invoke(app, ["demo", "--customers", str(people), "--seed", str(seed), "--no-serve",
                                     "--no-match", "--no-analyze", "--truth", str(truth), "--workers", "1"])
    assert built.exit_code == 0, built.stderr
    store = open_store(db_url)
    yield store, get_settings(), truth
    store.dispose()
    reset_settings()


def match(*args: str) -> object:
    return CliRunner().invoke(app, ["identity", "match", *args])


@pytest.mark.parametrize("demo", [(2000, 7)], indirect=True)
def test_the_demo_matched_three_times_keeps_its_precision_and_recall(demo):
    store, _, truth = demo
    before = score(store, truth)
    tables = (MatchRun, MatchModel, MatchRunMerge, Merge, IdentityReview)
    counts = [_count(store, model) for model in tables]

    dry = match("--dry-run")
    assert dry.exit_code == 0, dry.stderr
    planned = [line.split("\t") for line in dry.stdout.splitlines()]
    assert "nothing was stored" in dry.stderr and sum(p[0] == "merge" for p in planned) >= 10
    assert [_count(store, model) for model in tables] == counts, "a dry run stored something"
    assert score(store, truth) == before

    first = match()
    assert first.exit_code == 0, first.stderr
    once = score(store, truth)
    assert once[0] == 1.0 and once[1] > before[1]
    for _ in range(2):
        again = match()
        assert again.exit_code == 0, again.stderr
        assert "kept model" in again.stderr
    assert score(store, truth) == once  # nothing merged twice, no different people joined
    listed = CliRunner().invoke(app, ["identity", "runs"])
    assert listed.exit_code == 0 and [line.split("\t")[6] for line in listed.stdout.splitlines()[1:]] == ["done"] * 3

    with store.read() as session:
        runs = session.scalars(select(MatchRun).order_by(MatchRun.id)).all()
        models = session.scalars(select(MatchModel)).all()
        assert len(runs) == 3 and len(models) == 1 and models[0].status == "kept"
        assert {r.model_id for r in runs} == {models[0].id} and models[0].trained_at is not None
        dob = next(c for c in models[0].settings["comparisons"] if c["output_column_name"] == "dob")
        assert all(level.get("m_probability") for level in dob["comparison_levels"][1:])  # parameters kept
        assert runs[0].merged == sum(p[0] == "merge" for p in planned) == _count(store, MatchRunMerge)
        first_run = runs[0].id

    undone = CliRunner().invoke(app, ["identity", "undo", str(first_run)])
    assert undone.exit_code == 0, undone.stderr
    assert f"{runs[0].merged} merge{'' if runs[0].merged == 1 else 's'} taken back, 0 could not be" in undone.stderr
    assert score(store, truth) == before  # every merge of the run taken back, nothing else
    with store.read() as session:
        waiting = session.scalar(select(func.count()).select_from(IdentityReview)
                                 .where(IdentityReview.reason == "undone", IdentityReview.status == "pending"))
        assert waiting == runs[0].merged
    rerun = match()  # the pairs taken back wait for a person: not merged again
    assert rerun.exit_code == 0 and score(store, truth) == before

    twice = CliRunner().invoke(app, ["identity", "undo", str(first_run)])
    assert twice.exit_code == 1 and "already undone" in twice.stderr and len(twice.stderr.strip().splitlines()) == 1
    unknown = CliRunner().invoke(app, ["identity", "undo", "999"])
    assert unknown.exit_code == 1 and "no identity match run 999" in unknown.stderr


def _decide_by_truth(store: Store, settings: Settings, truth: Path) -> None:
    """A careful reviewer: accept the waiting pairs that are one person by the ground truth, reject the rest."""
    from cherish.identity.service import decide_review, reviews

    person = {(r["type"], r["value"]): r["person"] for r in csv.DictReader(truth.open())}
    with store.write() as session:
        people: dict[str, set[str]] = {}
        for t, v, c in session.execute(select(Identifier.type, Identifier.value, Identifier.customer_id)):
            people.setdefault(c, set()).add(person[(t, v)])
        for review in reviews(session, status="pending", limit=1000):
            same = bool(people.get(review.customer_a, set()) & people.get(review.customer_b, set()))
            decide_review(session, settings, review_id=review.id, accept=same, actor="test")


@pytest.mark.parametrize("demo", [(2500, 7)], indirect=True)
def test_a_retrained_model_worse_on_the_labelled_pairs_is_refused(demo):
    store, settings, truth = demo
    assert match().exit_code == 0
    _decide_by_truth(store, settings, truth)
    after = score(store, truth)
    runs_before = _count(store, MatchRun)

    # Trained again on customers already merged, the model has lost its duplicates to learn from.
    retrained = match("--retrain")
    assert retrained.exit_code == 1
    assert "scores worse than the kept one" in retrained.stderr and "Traceback" not in retrained.stderr
    assert len(retrained.stderr.strip().splitlines()) == 1
    with store.read() as session:
        statuses = Counter(m.status for m in session.scalars(select(MatchModel)))
        last = session.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert statuses == {"kept": 1, "refused": 1}
    assert last.status == "refused" and "scores worse" in last.note and _count(store, MatchRun) == runs_before + 1
    assert score(store, truth) == after
    kept = match()
    assert kept.exit_code == 0 and "kept model" in kept.stderr


def test_pairs_people_hold_are_never_merged_nor_queued_again(demo):
    from cherish.identity.merge import forbid_merge, propose_review
    from cherish.identity.service import decide_review

    store, settings, _ = demo
    dry = match("--dry-run")
    assert dry.exit_code == 0, dry.stderr
    sure = [line.split("\t")[1:3] for line in dry.stdout.splitlines() if line.startswith("merge")]
    assert len(sure) >= 3
    (waiting_a, waiting_b), (rejected_a, rejected_b), (apart_a, apart_b) = sure[:3]
    with store.write() as session:
        propose_review(session, waiting_a, waiting_b, reason="guardrail:email", evidence={})
        rejected = propose_review(session, rejected_a, rejected_b, reason="guardrail:email", evidence={})
        decide_review(session, settings, review_id=rejected.id, accept=False, actor="test")
        forbid_merge(session, apart_a, apart_b)

    assert match().exit_code == 0
    assert match().exit_code == 0
    with store.read() as session:
        merged = {frozenset((m.survivor_id, m.merged_id)) for m in session.scalars(select(Merge))}
        queued = Counter(frozenset((r.customer_a, r.customer_b)) for r in session.scalars(select(IdentityReview)))
    for a, b in sure[:3]:
        assert frozenset((a, b)) not in merged
        assert queued[frozenset((a, b))] <= 1, "a pair people hold was queued again"
    assert queued[frozenset((apart_a, apart_b))] == 0
    assert any(frozenset(p) in merged for p in sure[3:])


def test_runs_through_the_api(demo):
    from fastapi.testclient import TestClient

    from cherish.access.service import create_key
    from cherish.api.app import create_app

    store, settings, truth = demo
    before = score(store, truth)
    assert match().exit_code == 0
    with store.write() as session:
        manager = create_key(session, role="manager")[1]
        agent = create_key(session, role="agent")[1]
    with TestClient(create_app(settings, store)) as client:
        auth = {"Authorization": f"Bearer {manager}"}
        assert client.get("/api/identity/runs", headers={"Authorization": f"Bearer {agent}"}).status_code == 403
        runs = client.get("/api/identity/runs", headers=auth).json()["items"]
        assert len(runs) == 1 and runs[0]["status"] == "done" and runs[0]["merged"] >= 10
        undone = client.post(f"/api/identity/runs/{runs[0]['id']}/undo", headers=auth)
        assert undone.status_code == 200, undone.text
        body = undone.json()
        assert body["run"]["status"] == "undone" and len(body["undone"]) == runs[0]["merged"]
        assert body["not_undone"] == []
        again = client.post(f"/api/identity/runs/{runs[0]['id']}/undo", headers=auth)
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        missing = client.post("/api/identity/runs/999/undo", headers=auth)
        assert missing.status_code == 404 and "no identity match run" in missing.json()["error"]["message"]
    assert score(store, truth) == before

    # No pair decided by a person yet: nothing to judge a retrained model by, so it replaces the kept one.
    retrained = match("--retrain")
    assert retrained.exit_code == 0, retrained.stderr
    assert "newly trained model" in retrained.stderr
    with store.read() as session:
        assert sorted(m.status for m in session.scalars(select(MatchModel))) == ["kept", "replaced"]


def test_undo_says_which_merge_it_could_not_take_back(demo):
    from cherish.identity.match_runs import undo_run
    from cherish.profiles.flows import erase

    store, settings, truth = demo
    assert match().exit_code == 0
    with store.write() as session:
        item = session.scalars(select(MatchRunMerge).order_by(MatchRunMerge.id)).first()
        erase(session, item.survivor_id, actor="test")
    with store.write() as session:
        outcome = undo_run(session, settings, run_id=item.run_id, actor="test")
        assert [m.id for m in outcome.not_undone] == [item.id]
        assert "erased" in outcome.not_undone[0].undo_note and outcome.run.status == "partly undone"
        assert len(outcome.undone) == _count(store, MatchRunMerge) - 1


def test_dedupe_of_a_file_too_small_to_train_joins_exact_duplicates(tmp_path):
    source = tmp_path / "two.csv"
    source.write_text("id,first_name,surname,dob\n1,Ann,Lee,1980-01-02\n2,Ann,Lee,1980-01-02\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["identity", "dedupe", str(source), "--id-column", "id", "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "too few" in line] == [
        "2 records are too few to train a matching model (it takes 100): only exact duplicates were joined"]
    rows = {r["id"]: r["cluster_id"] for r in csv.DictReader(out.open())}
    assert rows["1"] == rows["2"]
    assert "2 rows, 1 distinct person;" in result.stderr


def test_revision_0007_matches_the_tables_and_goes_down_cleanly(db_url):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import cherish.models  # noqa: F401  (every table in the metadata)
    from cherish.db.base import Base
    from cherish.db.migrate import alembic_config, upgrade

    store = open_store(db_url)
    try:
        upgrade(store, "0007")
        mine = ("identity_match_models", "identity_match_runs", "identity_match_run_merges")
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if any(name in str(d) for name in mine)] == []  # later revisions add other tables
        with store.engine.begin() as conn:
            config = alembic_config(store)
            config.attributes["connection"] = conn
            command.downgrade(config, "0006")
        tables = set(inspect(store.engine).get_table_names())
        assert not tables & set(mine)
        assert "identity_reviews" in tables
    finally:
        store.dispose()
