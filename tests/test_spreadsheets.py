"""Every CSV cherish writes opens safely in a spreadsheet: text that starts like a formula stays text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.spreadsheets import safe_cell

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "CDNOW_sample.txt"


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("\t=1", "'\t=1"), ("＝1+1", "'＝1+1"),
    ("Portland", "Portland"), ("+14155550177", "+14155550177"), ("-12.5", "-12.5"), (-3, -3), (None, None),
])
def test_formulas_become_text_numbers_stay_numbers(value, written):
    assert safe_cell(value) == written


def test_a_customer_id_that_is_a_formula_is_written_as_text(tmp_path):
    """The predictions file of `cherish clv fit`: ids come from the user's own data, any of them a formula."""
    rows = [line.split() for line in CDNOW.read_text().splitlines()[:200]]
    source = tmp_path / "orders.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "day", "amount"])
        for row in rows:
            customer = "=HYPERLINK(\"http://evil.example\")" if row[1] == "0001" else "@SUM(1)" if row[1] == "0002" \
                else row[1]
            writer.writerow([customer, row[2], row[4]])
    predictions = tmp_path / "predictions.csv"
    result = CliRunner().invoke(app, ["clv", "fit", str(source), "--customer-column", "customer", "--date-column",
                                      "day", "--date-format", "%Y%m%d", "--calibration-end", "1997-09-30",
                                      "--model", "bgnbd", "--predictions", str(predictions)])
    assert result.exit_code == 0, result.output
    ids = [row["customer_id"] for row in csv.DictReader(predictions.open())]
    assert "'=HYPERLINK(\"http://evil.example\")" in ids and "'@SUM(1)" in ids
    assert not any(i.startswith(("=", "@")) for i in ids)
