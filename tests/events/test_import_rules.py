"""`cherish import` says what it did: names are customer traits, bad rows are rejected, the summary and exit
status tell stored, already stored and rejected apart; on the bulk (Arrow) path and the row-by-row one alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cherish.config import Settings
from cherish.customers.models import Customer, Trait
from cherish.events import importer
from cherish.events.models import Event, Order, OrderLine
from cherish.profiles import service as customers

ORDERS = """order_id,email,first_name,last_name,timestamp,sku,product_name,price,quantity,promised_delivery_date
N-1,ann@example.com,Ann,Lee,2026-01-02,S1,Beans,10,2,
N-1,ann@example.com,Ann,Lee,2026-01-02,S2,Mug,5,1,
N-2,not-an-email,Bo,Ray,2026-01-03,S1,Beans,10,1,
N-3,cy@example.com,Cy,Moss,2026-01-04,S1,Beans,-10,1,
N-4,dee@example.com,Dee,Fox,2026-01-05,S1,Beans,10,-1,
N-5,eve@example.com,Eve,Hall,2099-01-05,S1,Beans,10,1,
N-6,fay@example.com,Fay,Lin,2026-01-06,S1,Beans,10,9200000000000000000,
N-7,gus@example.com,Gus,Ward,2026-01-07,S1,Beans,10,1,0001-01-01
"""
REASONS = [  # (data row, counted from 1, reason)
    (3, "email 'not-an-email' is not an email address"),
    (4, "price must not be negative (a refund is an Order Refunded event)"),
    (5, "quantity must not be negative (a refund is an Order Refunded event)"),
    (6, ("timestamp 2099-01-05T00:00:00+00:00 is more than a day after the event was received: the sender's date "
         "or clock is wrong")),
    (7, "quantity 9.2e+18 is larger than 1e+09: not a plausible value"),
    (8, ("properties.promised_delivery_date 0001-01-01 is not a plausible delivery date (from 1970 to five years "
         "ahead)")),
]


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture(params=["bulk", "row by row"])
def path_taken(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the bulk path for orders, and again with it turned off."""
    if request.param == "row by row":
        monkeypatch.setattr(importer, "_bulk_readable", lambda path: False)
    return request.param


def test_names_are_traits_and_bad_rows_are_rejected_with_their_reason(cli, tmp_path, path_taken):
    run, store = cli
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS)
    result = run("import", str(source))
    assert result.exit_code == 1, result.stderr  # some rows were rejected
    assert "8 rows: 2 stored, 0 already stored (imported before), 6 rejected" in result.stderr
    report = (tmp_path / "orders.csv.rejects.csv").read_text().splitlines()
    assert report[0] == "row,reason"
    assert [line.split(",", 1)[0] for line in report[1:]] == [str(n) for n, _ in REASONS]
    assert all(reason in line for line, (_, reason) in zip(report[1:], REASONS, strict=True))
    with store.read() as session:
        assert set(session.scalars(select(Order.order_id))) == {"N-1"}
        assert sorted(session.scalars(select(OrderLine.name))) == ["Beans", "Mug"]
        assert session.scalar(select(func.count()).select_from(Customer)) == 1  # nobody stored as anonymous
        customer = session.scalar(select(Customer))
        assert customer.name == "Ann Lee"
        traits = dict(session.execute(select(Trait.name, Trait.value)).all())
        assert traits == {"first_name": "Ann", "last_name": "Lee"}
        event = session.scalar(select(Event))
        products = event.payload["properties"]["products"]
        assert all("first_name" not in product for product in products)  # no longer inside the product lines
        found = customers.search(session, Settings(database_url="sqlite://", _env_file=None), "Ann Lee")  # type: ignore[call-arg]
    assert [c["id"] for c in found] == [customer.id]


def test_the_summary_tells_a_reimport_from_new_rows_and_the_report_follows(cli, tmp_path, path_taken):
    run, store = cli
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS)
    assert run("import", str(source)).exit_code == 1
    again = run("import", str(source))  # the same file again: nothing twice, the report replaced
    assert again.exit_code == 1
    assert "8 rows: 0 stored, 2 already stored (imported before), 6 rejected" in again.stderr
    report = tmp_path / "orders.csv.rejects.csv"
    assert len(report.read_text().splitlines()) == 1 + len(REASONS)
    fixed = "\n".join(line for line in ORDERS.splitlines() if line.startswith(("order_id", "N-1", "N-6")))
    source.write_text(fixed.replace("9200000000000000000", "2") + "\n")  # the bad rows fixed or dropped
    last = run("import", str(source))
    assert last.exit_code == 0, last.stderr
    assert "3 rows: 1 stored, 2 already stored (imported before), 0 rejected" in last.stderr
    assert not report.exists() and "was removed" in last.stderr  # an earlier run's report no longer says true
    assert _count(store, Order) == 2


def test_a_file_of_only_good_new_rows_exits_0_and_keeps_other_files(cli, tmp_path, path_taken):
    run, _ = cli
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS.splitlines()[0] + "\n" + ORDERS.splitlines()[1] + "\n")
    kept = tmp_path / "notes.csv"
    kept.write_text("not,a report\n")
    result = run("import", str(source), "--rejects", str(kept))
    assert result.exit_code == 0 and "1 row: 1 stored, 0 already stored (imported before), 0 rejected" in result.stderr
    assert kept.read_text() == "not,a report\n"  # only a reject report is ever removed


def test_customers_and_interactions_reject_invalid_identifiers_and_keep_names(cli, tmp_path):
    run, store = cli
    people = tmp_path / "people.csv"
    people.write_text("email,phone,name\nann@example.com,,Ann Lee\nnot-an-email,,Bo Ray\n,+1 503 555 0100,Cy\n")
    result = run("import", str(people), "--kind", "customers")
    assert result.exit_code == 1 and "3 rows: 2 stored, 0 already stored (imported before), 1 rejected" in result.stderr
    visits = tmp_path / "visits.csv"
    visits.write_text("event,email,first_name,timestamp\nStore Visit,ann@example.com,Annie,2026-01-02\n"
                      "Store Visit,@example.com,Bo,2026-01-02\n")
    result = run("import", str(visits))
    assert result.exit_code == 1 and "2 rows: 1 stored" in result.stderr
    assert "email '@example.com' is not an email address" in (tmp_path / "visits.csv.rejects.csv").read_text()
    with store.read() as session:
        names = sorted(session.scalars(select(Customer.name)))
        visit = session.scalar(select(Event).where(Event.event == "Store Visit"))
    assert names == ["Annie", "Cy"]  # the latest name given wins, as with live events
    assert "first_name" not in visit.payload["properties"]
    assert visit.payload["context"]["traits"]["first_name"] == "Annie"


def test_an_order_id_longer_than_its_column_is_rejected_not_cut(cli, tmp_path, path_taken):
    run, store = cli
    long_id = "L" * 200
    source = tmp_path / "orders.csv"
    source.write_text(f"order_id,email,timestamp,price\n{long_id}A,a@example.com,2026-01-02,1\n"
                      f"{long_id}B,b@example.com,2026-01-02,2\n{long_id},c@example.com,2026-01-02,3\n")
    result = run("import", str(source))
    assert result.exit_code == 1 and "3 rows: 1 stored, 0 already stored (imported before), 2 rejected" in result.stderr
    assert "order_id is longer than 200 characters" in (tmp_path / "orders.csv.rejects.csv").read_text()
    with store.read() as session:
        assert list(session.scalars(select(Order.order_id))) == [long_id]
