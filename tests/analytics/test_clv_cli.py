"""`cherish clv fit` and `cherish clv predict` through the CLI runner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cherish.cli import app

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"
BASE = ["--customer-column", "2", "--date-column", "3", "--date-format", "%Y%m%d", "--calibration-end", "1997-09-30"]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["clv", *args])


def test_fit_prints_writes_json_and_predictions(tmp_path):
    out, predictions = tmp_path / "fit.json", tmp_path / "pred.csv"
    result = run("fit", str(CDNOW), *BASE, "--amount-column", "5", "--holdout-end", "1998-06-30", "--model", "bgnbd",
                 "--json", str(out), "--predictions", str(predictions))
    assert result.exit_code == 0, result.stderr
    assert "r=0.24259" in result.stdout and "log-likelihood=-9582.43" in result.stdout
    assert "gamma-gamma: p=6.24" in result.stdout
    fit = json.loads(out.read_text())
    assert fit["model"] == "bgnbd" and set(fit["params"]) == {"r", "alpha", "a", "b"}
    assert fit["spend"]["model"] == "gamma_gamma" and set(fit["spend"]["params"]) == {"p", "q", "gamma"}
    assert fit["holdout"]["actual"] == 1882 and fit["holdout"]["predicted"] > 1000
    rows = list(csv.DictReader(predictions.open()))
    assert len(rows) == 2357
    assert list(rows[0])[:7] == ["customer_id", "frequency", "recency", "T", "p_alive", "predicted_purchases",
                                 "actual_purchases"]
    first = rows[0]
    assert first["customer_id"] == "0001" and float(first["predicted_purchases"]) == pytest.approx(1.226, abs=1e-3)
    predicted = run("predict", str(CDNOW), "--fit", str(out), "--customer-column", "2", "--date-column", "3",
                    "--date-format", "%Y%m%d", "--as-of", "1998-06-30", "--horizon", "26",
                    "-o", str(tmp_path / "p.csv"))
    assert predicted.exit_code == 0, predicted.stderr
    assert len(list(csv.DictReader((tmp_path / "p.csv").open()))) == 2357


@pytest.mark.parametrize("model", ["pareto", "mbgnbd"])
def test_other_models_from_every_file_cherish_import_reads(tmp_path, model):
    """One reader for orders files: what `cherish import` reads (Parquet, CSV with any delimiter Excel writes, JSON
    Lines) the CLV commands read alike."""
    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    table = pa.table({"cust": [r[1] for r in rows], "when": [f"{r[2][:4]}-{r[2][4:6]}-{r[2][6:]}" for r in rows],
                      "usd": [float(r[4]) for r in rows]})
    pq.write_table(table, tmp_path / "t.parquet")
    with (tmp_path / "t.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        writer.writerows(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    with (tmp_path / "excel.csv").open("w", newline="") as handle:  # Excel in Europe: the delimiter is sniffed
        handle.write((tmp_path / "t.csv").read_text().replace(",", ";"))
    with (tmp_path / "t.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in table.to_pylist())
    for source in ("t.parquet", "t.csv", "excel.csv", "t.jsonl"):
        result = run("fit", str(tmp_path / source), "--customer-column", "cust", "--date-column", "when",
                     "--calibration-end", "1997-09-30", "--model", model, "--json", str(tmp_path / "f.json"))
        assert result.exit_code == 0, result.stderr
        fit = json.loads((tmp_path / "f.json").read_text())
        if model == "pareto":
            assert fit["params"]["s"] == pytest.approx(0.6062, rel=0.002)
        assert "spend" not in fit and "holdout" not in fit


@pytest.mark.parametrize(("extra", "message"), [
    (["--model", "magic"], "unknown model"),
    (["--model", "bgnbd", "--amount-column", "9"], "no such column"),
    (["--model", "bgnbd", "--holdout-end", "1997-01-01"], "after the calibration end"),
    (["--model", "bgnbd", "--period", "fortnight"], "unknown period"),
])
def test_bad_input_is_one_line(extra, message):
    result = run("fit", str(CDNOW), *BASE, *extra)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_dates_that_do_not_parse(tmp_path):
    result = run("fit", str(CDNOW), "--customer-column", "2", "--date-column", "3", "--calibration-end", "1997-09-30",
                 "--model", "bgnbd")
    assert result.exit_code == 1 and "--date-format" in result.stderr
    result = run("fit", str(CDNOW), *BASE[:-1], "30/09/1997", "--model", "bgnbd")
    assert result.exit_code == 1 and "not a date" in result.stderr


def test_output_by_suffix_and_the_older_spellings(tmp_path):
    fit_json, predictions = tmp_path / "fit.json", tmp_path / "pred.csv"
    result = run("fit", str(CDNOW), *BASE, "--model", "bgnbd", "-o", str(fit_json), "--output", str(predictions))
    assert result.exit_code == 0, result.stderr
    assert "predictions for 2357 customers" in result.stderr
    older_json, older_csv = tmp_path / "older.json", tmp_path / "older.csv"
    assert run("fit", str(CDNOW), *BASE, "--model", "bgnbd", "--json", str(older_json),
               "--predictions", str(older_csv)).exit_code == 0
    assert json.loads(older_json.read_text()) == json.loads(fit_json.read_text())
    assert older_csv.read_text() == predictions.read_text()
    bad = run("fit", str(CDNOW), *BASE, "--model", "bgnbd", "-o", str(tmp_path / "fit.txt"))
    assert bad.exit_code == 1 and "end the name in .json (the fit) or .csv" in bad.stderr
    twice = run("fit", str(CDNOW), *BASE, "--model", "bgnbd", "-o", str(fit_json), "--json", str(older_json))
    assert twice.exit_code == 1 and "give one" in twice.stderr


def test_default_model_does_not_call_a_one_time_buyer_of_long_ago_alive(tmp_path):
    """BG/NBD gives every one-time buyer P(alive) 1; the default chooses a model where it falls with time."""
    out, predictions = tmp_path / "fit.json", tmp_path / "pred.csv"
    result = run("fit", str(CDNOW), *BASE, "--holdout-end", "1998-06-30", "--json", str(out),
                 "--predictions", str(predictions))
    assert result.exit_code == 0, result.stderr
    fit = json.loads(out.read_text())
    assert fit["model"] in ("mbgnbd", "pareto") and fit["choice"]["model"] == fit["model"]
    rows = list(csv.DictReader(predictions.open()))
    # one-time buyers (in weeks): the one who bought longest before the calibration end has the lowest P(alive)
    once = sorted((float(r["T"]), float(r["p_alive"])) for r in rows if r["frequency"] == "0")
    assert once[-1][0] > 38 and once[-1][1] < 0.5 and once[-1][1] < once[0][1]
