"""`cherish import`: files of customers, order lines and interactions, row by row atomic."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from cherish.customers.models import Customer, Trait
from cherish.db.engine import open_store
from cherish.events.models import Event, Order, OrderLine
from cherish.identity.models import Identifier

ORDERS = """OrderNo,email,placed,sku,price,qty,store
A-1,ann@example.com,20260102,S1,10.5,2,Portland
A-1,ann@example.com,20260102,S2,5,1,Portland
A-2,bob@example.com,20260103,S1,oops,1,Seattle
A-3,,20260104,S1,3,1,Seattle
A-4,Bob@Example.com,20260105,S3,4,3,Seattle
"""


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_order_lines_with_flags_and_a_reject_report(cli, tmp_path):
    run, store = cli
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS)
    args = ["import", str(source), "--map", "order_id=OrderNo", "--map", "timestamp=placed", "--map", "quantity=qty",
            "--map", "branch=store", "--date-format", "%Y%m%d"]
    result = run(*args)
    assert result.exit_code == 1, result.stderr  # some rows were rejected
    assert "5 rows: 3 stored, 0 already stored (imported before), 2 rejected" in result.stderr
    report = (tmp_path / "orders.csv.rejects.csv").read_text().splitlines()
    assert report == ["row,reason", "3,\"price must be a number, not 'oops'\"",
                      "4,\"the row has no identifier (user_id, anonymous_id, email, phone or loyalty_id)\""]
    with store.read() as session:
        orders = {o.order_id: o for o in session.scalars(select(Order))}
        assert set(orders) == {"A-1", "A-4"}
        assert orders["A-1"].value == 26.0 and orders["A-1"].branch == "Portland"
        assert orders["A-1"].placed_at.isoformat() == "2026-01-02T00:00:00+00:00"
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 3
        assert session.scalar(select(Identifier.value).where(Identifier.type == "email",
                                                             Identifier.customer_id == orders["A-4"].customer_id)) \
            == "bob@example.com"
    again = run(*args)  # the same file again stores nothing twice
    assert again.exit_code == 1 and "5 rows: 0 stored, 3 already stored (imported before), 2 rejected" in again.stderr
    assert _count(store, Order) == 2 and _count(store, Event) == 2


def test_strict_stores_nothing_when_a_row_is_bad(cli, tmp_path):
    run, store = cli
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("kind: orders\ndate_format: '%Y%m%d'\ncolumns:\n  order_id: OrderNo\n  timestamp: placed\n"
                       "  quantity: qty\n")
    result = run("import", str(source), "--mapping", str(mapping), "--strict")
    assert result.exit_code == 1
    assert "nothing was stored" in result.stderr and "row 3" in result.stderr
    assert _count(store, Order) == 0 and _count(store, Event) == 0


def test_customers_from_parquet_join_live_identities(cli, tmp_path):
    run, store = cli
    table = pa.table({"customer_no": ["C1", "C2"], "email": ["ann@example.com", None], "phone": ["+14155550100", "x"],
                      "first_name": ["Ann", "Bo"], "tier": ["gold", "silver"], "user_id": ["ann", None]})
    path = tmp_path / "customers.parquet"
    pq.write_table(table, path)
    result = run("import", str(path), "--kind", "customers")
    assert result.exit_code == 1, result.stderr
    assert "1 stored, 0 already stored (imported before), 1 rejected" in result.stderr
    assert (tmp_path / "customers.parquet.rejects.csv").read_text().splitlines()[1] == \
        "2,phone 'x' is not a phone number"  # not stored under a customer known by nothing
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"event": "Store Visit", "email": "ANN@example.com", "timestamp": "2026-02-01",
                                  "channel": "store", "visit_minutes": 12}) + "\n" + "{broken\n")
    result = run("import", str(events))
    assert result.exit_code == 1 and "2 rows: 1 stored" in result.stderr
    with store.read() as session:
        owners = set(session.scalars(
            select(Identifier.customer_id).where(Identifier.value.in_(["ann", "ann@example.com"]))))
        assert len(owners) == 1
        visit = session.scalar(select(Event).where(Event.event == "Store Visit"))
        assert visit.customer_id in owners and visit.channel == "store"
        assert visit.payload["properties"]["visit_minutes"] == 12
        assert session.scalar(select(Trait.value).where(Trait.name == "tier", Trait.customer_id.in_(owners))) == "gold"


def test_history_imported_after_live_events_moves_creation_back(cli, tmp_path, settings):
    """Last year's orders imported after this year's live events: the customer is as old as the oldest order."""
    run, store = cli
    from cherish.events.flows import ingest

    with store.write() as session:
        ingest(session, [{"type": "track", "event": "Visited", "userId": "u-ann", "timestamp": "2026-03-01T10:00:00Z",
                          "context": {"traits": {"email": "ann@example.com"}}, "messageId": "live-1"}],
               settings=settings)
    source = tmp_path / "orders.csv"
    source.write_text("order_id,email,timestamp,sku,price\nH-1,ann@example.com,2025-04-02,S1,10\n"
                      "H-2,ann@example.com,2024-06-30,S2,5\n")
    result = run("import", str(source))
    assert result.exit_code == 0 and "2 rows: 2 stored" in result.stderr
    with store.read() as session:
        customers = session.execute(select(Customer.id, Customer.created_at)).all()
    assert len(customers) == 1 and customers[0].created_at.isoformat().startswith("2024-06-30")


def test_a_spreadsheet_export_with_semicolons_and_decimal_commas(cli, tmp_path):
    """What Excel writes where the decimal mark is a comma: a byte-order mark, `;` between fields, CRLF line ends,
    `1.234,50`. The delimiter is sniffed; `--decimal-comma` reads the numbers, on the bulk path and on the
    row-by-row one (an order with a bad line goes that way: its good line must not be read twice)."""
    run, store = cli
    source = tmp_path / "export.csv"
    source.write_bytes("\ufefforder_id;email;timestamp;sku;price;total\r\n"
                       "E-1;ann@example.com;2026-01-02;S1;1.234,50;1.234,50\r\n"
                       "E-2;bob@example.com;2026-01-03;S1;2,50;\r\n"
                       "E-2;bob@example.com;2026-01-03;S2;oops;\r\n"
                       "E-3;cy@example.com;2026-01-04;S3;inf;\r\n".encode())
    result = run("import", str(source), "--decimal-comma")
    assert result.exit_code == 1, result.stderr
    assert "4 rows: 2 stored" in result.stderr
    report = (tmp_path / "export.csv.rejects.csv").read_text().splitlines()
    assert report[1:] == ["3,\"price must be a number, not 'oops'\"", "4,\"price must be a finite number, not 'inf'\""]
    with store.read() as session:
        values = dict(session.execute(select(Order.order_id, Order.value)).all())
        prices = sorted(session.scalars(select(OrderLine.price)))
    assert values == {"E-1": 1234.5, "E-2": 2.5} and prices == [2.5, 1234.5]


def test_the_delimiter_is_sniffed_or_given(cli, tmp_path):
    run, store = cli
    quoted = tmp_path / "quoted.csv"  # a semicolon inside a quoted header does not make it the delimiter
    quoted.write_text('order_id,email,timestamp,"sku;code",price\nQ-1,ann@example.com,2026-01-02,S1,3\n')
    assert "1 row: 1 stored" in run("import", str(quoted), "--map", "sku=sku;code").stderr
    tabbed = tmp_path / "tabbed.txt"
    tabbed.write_text("order_id\temail\ttimestamp\tprice\nT-1\tbob@example.com\t2026-01-02\t4\n")
    assert "1 row: 1 stored" in run("import", str(tabbed), "--delimiter", "tab").stderr
    bad = run("import", str(tabbed), "--delimiter", "ab")
    assert bad.exit_code == 1 and "the delimiter must be one character" in bad.stderr
    with store.read() as session:
        assert dict(session.execute(select(Order.order_id, Order.value)).all()) == {"Q-1": 3.0, "T-1": 4.0}


def test_import_input_errors(cli, tmp_path):
    run, store = cli
    assert "no such file" in run("import", str(tmp_path / "nope.csv")).stderr
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    assert "use .csv" in run("import", str(odd)).stderr
    source = tmp_path / "o.csv"
    source.write_text(ORDERS)
    bad = run("import", str(source), "--map", "order_id=Nope")
    assert bad.exit_code == 1 and "no column 'Nope'" in bad.stderr
    bad = run("import", str(source), "--kind", "orders", "--map", "shoe=OrderNo")
    assert bad.exit_code == 1 and "no field 'shoe'" in bad.stderr
    ragged = tmp_path / "ragged.csv"  # the bulk path for orders reads it: one clear line, nothing stored
    ragged.write_text("order_id,email,timestamp,price\nA,a@example.com,2026-01-01,1\nB,b@example.com\n")
    bad = run("import", str(ragged))
    assert bad.exit_code == 1 and "cannot read ragged.csv" in bad.stderr and "Expected 4 columns" in bad.stderr
    assert _count(store, Order) == 0


MIXED = """order_id,email,phone,user_id,timestamp,sku,product_name,price,quantity,total,currency,channel,branch,gift,\
first_name,last_name
B-1,cy@example.com,,,2026-02-01T10:00:00Z,S1,Beans,12.5,2,,eur,Store,Portland,yes,Cy,Moss
B-1,cy@example.com,,,2026-02-01T10:00:00Z,S2,Mug,8,,,,,,,Cy,Moss
B-2,,+1 503 555 0100,,2026-02-02,S1,Beans,12.5,1,20,,web,,,Uma,
B-3,cy@example.com,+1 503 555 0100,,2026-02-03T09:30:00+01:00,,,,,31.5,usd,App,Seattle,,Cyrus,Moss
B-4,dee@example.com,,u-9,2026-02-04,S3,Filter,3,3,,,,,no,Dee,
B-5,dee@example.com,,,2026-02-05,S3,Filter,x,1,,,,,,,
B-6,,,,2026-02-06,S3,Filter,3,1,,,,,,,
B-7,eve@example.com,,,,S3,Filter,3,1,,,,,,,
B-8,eve@example.com,,,2026-02-08,S3,Filter,3,1,,,,,,,Hall
LIVE-1,eve@example.com,,,2026-02-09,S9,Kettle,40,1,,,,,,Eve,Hall
B-1,cy@example.com,,,2026-02-01T10:00:00Z,S3,Filter,1,1,,,,,,Cy,Moss
"""


def _tables(store):  # type: ignore[no-untyped-def]
    """What an import stored, with customers named by their sorted identifiers (their ids are random)."""
    with store.read() as session:
        owner: dict[str, list[str]] = {}
        identifiers = []
        for row in session.scalars(select(Identifier)):
            owner.setdefault(row.customer_id, []).append(f"{row.type}:{row.value}")
            identifiers.append((row.type, row.value, row.first_seen, row.last_seen))
        name = {cid: ",".join(sorted(keys)) for cid, keys in owner.items()}
        orders = sorted((o.order_id, name[o.customer_id], o.status, o.value, o.refunded, o.currency, o.discount,
                         o.coupon, o.channel, o.branch, o.employee, o.placed_at, o.promised_delivery_date,
                         o.updated_at) for o in session.scalars(select(Order)))
        pk = {o.id: o.order_id for o in session.scalars(select(Order))}
        lines = sorted((pk[x.order_pk], x.product_id, x.sku, x.name, x.category, x.price, x.quantity)
                       for x in session.scalars(select(OrderLine)))
        events = sorted((e.message_id, name[e.customer_id], e.type, e.event, e.channel, e.timestamp,
                         tuple(e.identifiers), json.dumps(e.payload, sort_keys=True))
                        for e in session.scalars(select(Event)))
        traits = sorted((name[t.customer_id], t.name, t.value, t.source, t.updated_at)
                        for t in session.scalars(select(Trait)))
        names = sorted((name[c.id], c.name) for c in session.scalars(select(Customer)) if c.id in name)
    return sorted(identifiers), orders, lines, events, traits, names


def _import_both_ways(tmp_path, source, *, strict=False, before=None):  # type: ignore[no-untyped-def]
    """Import ``source`` into two new stores, by the bulk path and row by row (after ``before(store, settings)``),
    assert that both give the same report and tables, and return them: (rows, stored, rejected, tables)."""
    from cherish.config import Settings
    from cherish.db.migrate import upgrade
    from cherish.events.importer import run_import

    results = []
    for bulk in (True, False):
        url = f"sqlite:///{tmp_path / f'{bulk}.db'}"
        store = open_store(url)
        upgrade(store)
        settings = Settings(database_url=url, default_region="US")
        if before is not None:
            before(store, settings)
        report = run_import(store, settings, source, strict=strict, bulk=bulk)
        results.append((report.rows, report.stored, report.rejected, _tables(store)))
        store.dispose()
    (rows, stored, rejected, tables), expected = results
    assert (rows, stored, rejected) == expected[:3]
    for got, want in zip(tables, expected[3], strict=True):
        assert got == want
    return rows, stored, rejected, tables


@pytest.mark.parametrize(("strict", "chunk"), [(False, 100_000), (True, 100_000), (False, 3)])
def test_bulk_and_row_by_row_imports_store_the_same(tmp_path, monkeypatch, strict, chunk):
    """The bulk path for clean order lines and the row-by-row path give the same rows, rejects and merges (also
    when the file is read in chunks of a few lines, so that customers come back in later chunks)."""
    from datetime import UTC, datetime

    from cherish.events import importer
    from cherish.events.flows import ingest

    monkeypatch.setattr(importer, "BULK_ROWS", chunk)
    monkeypatch.setattr(importer, "BATCH_ROWS", min(chunk, importer.BATCH_ROWS))

    source = tmp_path / "mixed.csv"
    source.write_text(MIXED if not strict else "\n".join(
        line for line in MIXED.splitlines() if not line.startswith(("B-5", "B-6", "B-7"))) + "\n")

    def known_before(store, settings):  # type: ignore[no-untyped-def]
        with store.write() as session:  # a known customer by phone, and an order known from a live event
            ingest(session, [
                {"type": "identify", "userId": "u-1", "traits": {"phone": "+15035550100"}, "messageId": "m1",
                 "timestamp": "2026-01-01T00:00:00Z"},
                {"type": "track", "userId": "u-2", "event": "Order Completed", "messageId": "m2",
                 "timestamp": "2026-01-05T00:00:00Z", "properties": {"order_id": "LIVE-1", "total": 1}},
            ], settings=settings, received_at=datetime(2026, 3, 1, tzinfo=UTC))

    rows, stored, rejected, tables = _import_both_ways(tmp_path, source, strict=strict, before=known_before)
    if chunk < 10:  # the last line of B-1 comes after its order was stored from the lines read with the first
        assert rejected[-1] == (11, importer._scattered("B-1"))
        assert [n for n, _ in rejected] == [6, 7, 8, 11]
    elif not strict:
        assert [n for n, _ in rejected] == [6, 7, 8]  # bad price, no identifier, no timestamp
        assert stored == 8
    identifiers, orders, lines, _, traits, names = tables
    # names are customer traits (never product lines), and the merged customer's name is the last one given
    assert [shown for who, shown in names if "user_id:u-1" in who] == ["Cyrus Moss"]
    assert {(name, value) for who, name, value, _, _ in traits if "user_id:u-1" in who} == {
        ("first_name", "Cyrus"), ("last_name", "Moss")}
    merged = {o[0]: o[1] for o in orders}
    # B-3 carries cy's email and the phone of u-1: the two customers are one
    assert merged["B-1"] == merged["B-3"] == merged["B-2"]
    assert "user_id:u-1" in merged["B-1"]
    assert [line[:3] for line in lines if line[0] == "B-1"] == [("B-1", None, "S1"), ("B-1", None, "S2"),
                                                                 ("B-1", None, "S3")][: 2 if chunk < 10 else 3]


def test_a_nul_character_rejects_its_row(cli, tmp_path):
    run, store = cli
    source = tmp_path / "orders.csv"
    source.write_bytes(b"order_id,email,timestamp,product_name,price\nN-1,nul@example.com,2026-01-01,Be\x00ans,2\n"
                       b"N-2,ok@example.com,2026-01-02,Mug,3\n")
    result = run("import", str(source))
    assert result.exit_code == 1, result.stderr
    assert "2 rows: 1 stored" in result.stderr
    report = (tmp_path / "orders.csv.rejects.csv").read_text()
    assert "NUL" in report and report.splitlines()[1].startswith("1,")
    assert _count(store, Order) == 1


def test_row_counts_for_the_progress_bar(tmp_path):
    """The import's progress bar knows its total: lines of text files (without a CSV's header), Parquet's footer."""
    from cherish.events.files import count_rows

    (tmp_path / "a.csv").write_text("order_id,email\nA,a@example.com\nB,b@example.com\n")
    (tmp_path / "b.csv").write_text("order_id,email\nA,a@example.com\nB,b@example.com")  # no final line break
    (tmp_path / "c.jsonl").write_text('{"email": "a@example.com"}\n{"email": "b@example.com"}\n')
    pq.write_table(pa.table({"email": ["a@example.com", "b@example.com", "c@example.com"]}), tmp_path / "d.parquet")
    (tmp_path / "e.csv").write_text("")
    assert [count_rows(tmp_path / n) for n in ("a.csv", "b.csv", "c.jsonl", "d.parquet", "e.csv")] == [2, 2, 2, 3, 0]
    assert count_rows(tmp_path / "missing.csv") is None


def test_whitespace_separated_text_reads_as_its_columns(tmp_path):
    """A .txt with no delimiter in its first line is separated by whitespace (as CDNOW's files), with a header or,
    when the first line holds numbers only, columns named 1, 2, 3; a .txt with commas stays a CSV."""
    from cherish.errors import InvalidInput
    from cherish.events.files import read_table

    (tmp_path / "a.txt").write_text("order_id  email   total\nA-1 a@example.com 12.5\n\nA-2\tb@example.com 3\n")
    (tmp_path / "b.txt").write_text("00001 19970101 1 11.77\n00002 19970112 2 89.00\n")
    (tmp_path / "c.txt").write_text("order_id,email\nA-1,a@example.com\n")
    assert read_table(tmp_path / "a.txt").to_pylist() == [
        {"order_id": "A-1", "email": "a@example.com", "total": "12.5"},
        {"order_id": "A-2", "email": "b@example.com", "total": "3"}]
    assert read_table(tmp_path / "b.txt").column_names == ["1", "2", "3", "4"]
    assert read_table(tmp_path / "b.txt").column("1").to_pylist() == ["00001", "00002"]  # text, zeros kept
    assert read_table(tmp_path / "c.txt").to_pylist() == [{"order_id": "A-1", "email": "a@example.com"}]
    with pytest.raises(InvalidInput, match="no such file"):
        read_table(tmp_path / "missing.txt")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(InvalidInput, match="cannot read d.xlsx: use .csv"):
        read_table(tmp_path / "d.xlsx")


EDGES = """order_id,email,phone,timestamp,sku,product_name,price,quantity,total,currency,channel,first_name,last_name
 C-1 , Zed@Example.COM ,,2026-02-01T10:00:00Z,S1,"Beans, dark",  7.50 ,1,,gbp,Web,Zoë,Ñúñez
C-2,zed@example.com,,2026-02-01,S2,Mug ☕,1e1,2,,,STORE,,
C-3,neg@example.com,,2026-02-02,S1,Beans,-3,1,,,,,
C-4,inf@example.com,,2026-02-02,S1,Beans,inf,1,,,,,
C-5,nan@example.com,,2026-02-02,S1,Beans,NaN,1,,,,,
C-6,huge@example.com,,2026-02-02,S1,Beans,2,1000000000000,,,,,
C-7,future@example.com,,2099-01-01,S1,Beans,2,1,,,,,
C-8,long@example.com,,2026-02-03,S1,""" + "L" * 400 + """,2,1,,,,,
C-9,same@example.com,,2026-02-04,S1,Beans,2,1,,,,,
C-9,same@example.com,,2026-02-04,S1,Beans,2,1,,,,,
C-10,zero@example.com,,2026-02-05,S1,Beans,0,0,,,,,
C-11,total@example.com,,2026-02-05T23:59:59+14:00,,,,,12.345,EUR,,,
C-12,not-an-email,,2026-02-06,S1,Beans,2,1,,,,,
C-13,,+1 (503) 555-0199,2026-02-06,S1,Beans,2,1,,,,Ann,
"""


@pytest.mark.parametrize("chunk", [100_000, 4])
def test_both_import_paths_agree_on_malformed_and_edge_values(tmp_path, monkeypatch, chunk):
    """Spaces around values, case, a decimal in exponent form, unicode, a comma inside quotes, a name longer than
    a column, a repeated line, zero amounts, a far time zone, and values each path must refuse (a negative price,
    inf, an implausible quantity, a time in the future, an invalid email): both paths store the same rows and
    reject the same lines for the same reasons. ``NaN`` is a missing value to both, as spreadsheets write it."""

    from cherish.events import importer

    monkeypatch.setattr(importer, "BULK_ROWS", chunk)
    monkeypatch.setattr(importer, "BATCH_ROWS", min(chunk, importer.BATCH_ROWS))
    source = tmp_path / "edges.csv"
    source.write_text(EDGES)
    rows, stored, rejected, tables = _import_both_ways(tmp_path, source)
    assert rows == 14
    # rows count from the first line under the header: negative, inf, implausible, future, not an email
    assert {number for number, _ in rejected} == {3, 4, 6, 7, 13}, rejected
    identifiers, orders, lines, _, traits, names = tables
    assert ("email", "zed@example.com") in {(kind, value) for kind, value, _, _ in identifiers}
    assert {o[0] for o in orders} >= {"C-1", "C-2", "C-9", "C-10", "C-11", "C-13"}
    assert ("C-1", None, "S1", "Beans, dark", None, 7.5, 1.0) in lines
    assert [line for line in lines if line[0] == "C-9"] == [("C-9", None, "S1", "Beans", None, 2.0, 1.0)] * 2
    assert any(shown == "Zoë Ñúñez" for _, shown in names)
    assert [line[5] for line in lines if line[0] == "C-5"] == [None]  # NaN: no price given
    assert [len(line[3]) for line in lines if line[0] == "C-8"] == [300]  # a product name is kept to 300
