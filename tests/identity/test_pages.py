"""The matching runs in the dashboard: each run's merges listed, and undone from the page by a manager."""

from __future__ import annotations

from cherish.identity import service
from cherish.identity.models import MatchRun, MatchRunMerge
from tests.conftest import basic, bearer
from tests.helpers import identify, login, person, track

EVIL = "<script>alert(1)</script>"


def _run(client, store, settings, keys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """A run that merged two customers (as `cherish identity match` records one): its id, survivor, merged."""
    batch = [identify(user_id="ann", traits={"name": f"Ann {EVIL}", "email": "ann@example.com"}),
             track("Viewed", anonymous_id="anon-ann", properties={"title": "shoes"})]
    assert client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": batch}).status_code == 200
    find = lambda **q: client.get("/api/customers/lookup", params=q, headers=bearer(keys["viewer"])).json()["id"]  # noqa: E731
    a, b = find(user_id="ann"), find(anonymous_id="anon-ann")
    with store.write() as session:
        survivor = service.merge_by_hand(session, settings, survivor_id=a, merged_id=b, actor="match")
        merged = b if survivor == a else a
        run = MatchRun(actor="cli:test", candidates=1200, pairs=3, status="done", merged=1)
        session.add(run)
        session.flush()
        session.add(MatchRunMerge(run_id=run.id, survivor_id=survivor, merged_id=merged, probability=0.987,
                                  identifiers=["anonymous_id:anon-ann"], family=[], evidence={}))
        return run.id, survivor, merged


def test_a_manager_lists_a_runs_merges_and_undoes_them(client, store, settings, keys):
    run_id, survivor, merged = _run(client, store, settings, keys)
    token = login(client, *person(store, "manager"))
    runs = client.get("/identity/runs").text
    assert f'href="/identity/runs/{run_id}"' in runs and "1,200" in runs
    page = client.get(f"/identity/runs/{run_id}").text
    assert merged in page and survivor in page and "0.987" in page and "anonymous_id:anon-ann" in page
    assert client.post(f"/identity/runs/{run_id}/undo").status_code == 403  # no CSRF token
    undone = client.post(f"/identity/runs/{run_id}/undo", data={"csrf_token": token}, follow_redirects=False)
    assert undone.status_code == 303
    page = client.get(undone.headers["location"]).text
    assert "1 merge undone" in page and '<strong id="run-status">undone</strong>' in page
    assert "Undo this run" not in page
    back = client.get("/api/customers/lookup", params={"anonymous_id": "anon-ann"}, headers=bearer(keys["viewer"]))
    assert back.json()["id"] == merged  # a customer of its own again
    review = client.get("/identity/reviews").text
    assert "undone" in review and EVIL not in review


def test_runs_are_for_managers(client, store, settings, keys):
    run_id, _, _ = _run(client, store, settings, keys)
    token = login(client, *person(store, "agent"))
    assert client.get("/identity/runs").status_code == 403
    assert client.get(f"/identity/runs/{run_id}").status_code == 403
    assert client.post(f"/identity/runs/{run_id}/undo", data={"csrf_token": token}).status_code == 403
