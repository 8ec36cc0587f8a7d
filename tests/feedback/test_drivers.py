"""Key-driver analysis recovers drivers planted in simulated answers, correlated ones included, and `cherish feedback
drivers` runs it on a file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.errors import InvalidInput
from cherish.feedback.drivers import analyze_drivers, relative_weights, shapley_weights


def _survey(n: int = 3000, seed: int = 11) -> dict[str, np.ndarray]:
    """Ratings 1-5 of four attributes and an NPS 0-10 made from them. Staff and service are strongly correlated
    (r ≈ 0.8) and move the score equally; delivery moves it most and is rated low; the website moves nothing and
    is rated high; the price moves it a little and is rated low."""
    rng = np.random.default_rng(seed)

    def rating(latent: np.ndarray, centre: float) -> np.ndarray:
        return np.clip(np.round(centre + latent), 1, 5)

    staff_latent = rng.normal(size=n)
    service_latent = 0.85 * staff_latent + np.sqrt(1 - 0.85 ** 2) * rng.normal(size=n)
    delivery = rating(rng.normal(size=n), 2.2)
    staff = rating(staff_latent, 3.8)
    service = rating(service_latent, 3.8)
    website = rating(rng.normal(size=n), 4.3)
    price = rating(rng.normal(size=n), 2.5)
    nps = np.clip(np.round(-1.5 + 1.2 * delivery + 0.6 * staff + 0.6 * service + 0.25 * price
                           + rng.normal(scale=1.3, size=n)), 0, 10)
    return {"nps": nps, "delivery": delivery, "staff": staff, "service": service, "website": website,
            "price": price}


def test_planted_drivers_are_recovered_with_their_quadrants():
    data = _survey()
    analysis = analyze_drivers(data["nps"], {k: v for k, v in data.items() if k != "nps"}, score_name="nps",
                               bootstrap=200)
    found = {d.name: d for d in analysis.drivers}
    assert [d.name for d in analysis.drivers][0] == "delivery"
    assert abs(sum(d.importance for d in analysis.drivers) - 1) < 1e-9
    # the correlated pair shares what it explains, rather than one taking it all
    assert abs(found["staff"].importance - found["service"].importance) < 0.08
    assert found["staff"].importance > 0.15 and found["service"].importance > 0.15
    assert found["website"].importance < 0.02 and found["website"].ci[0] < 0.01
    assert found["price"].importance < found["staff"].importance
    for driver in analysis.drivers:
        assert driver.ci[0] <= driver.importance <= driver.ci[1]
    assert found["delivery"].quadrant == "improve"  # important, rated lowest
    assert found["staff"].quadrant == found["service"].quadrant == "continue"
    assert found["website"].quadrant == "stop"  # rated well, moves nothing
    assert found["price"].quadrant == "monitor"
    assert found["delivery"].sentence == "delivery: important and below the rest — improve"


def test_relative_weights_agree_with_the_exact_shapley_decomposition():
    data = _survey(n=1500, seed=3)
    x = np.column_stack([data[k] for k in ("delivery", "staff", "service", "website", "price")])
    johnson, r2_j = relative_weights(x, data["nps"])
    shapley, r2_s = shapley_weights(x, data["nps"])
    assert r2_j == pytest.approx(r2_s, abs=1e-9)
    assert abs(johnson.sum() - r2_j) < 1e-9 and abs(shapley.sum() - r2_s) < 1e-9
    assert np.abs(johnson / r2_j - shapley / r2_s).max() < 0.02
    # and R² is the regression's own
    design = np.column_stack([np.ones(len(x)), x])
    fitted = design @ np.linalg.lstsq(design, data["nps"], rcond=None)[0]
    r2 = 1 - ((data["nps"] - fitted) ** 2).sum() / ((data["nps"] - data["nps"].mean()) ** 2).sum()
    assert r2_j == pytest.approx(r2, abs=1e-9)


def test_aspect_mentions_perform_by_the_scores_of_those_who_mention_them():
    rng = np.random.default_rng(5)
    n = 2000
    late = (rng.random(n) < 0.3).astype(float)  # a complaint: mentioned by unhappy customers
    friendly = (rng.random(n) < 0.4).astype(float)
    parking = (rng.random(n) < 0.2).astype(float)
    score = np.clip(np.round(8 - 4 * late + 1.0 * friendly + rng.normal(scale=1.5, size=n)), 0, 10)
    analysis = analyze_drivers(score, {"late delivery": late, "friendly staff": friendly, "parking": parking},
                               bootstrap=100)
    found = {d.name: d for d in analysis.drivers}
    assert found["late delivery"].quadrant == "improve" and found["late delivery"].mentions == int(late.sum())
    assert found["friendly staff"].performance > found["late delivery"].performance
    assert found["parking"].importance < 0.05


def test_bad_input_is_one_clear_reason():
    rng = np.random.default_rng(1)
    y, a, b = rng.normal(size=100), rng.normal(size=100), rng.normal(size=100)
    with pytest.raises(InvalidInput, match="at least 30"):
        analyze_drivers(y[:20], {"a": a[:20], "b": b[:20]})
    with pytest.raises(InvalidInput, match="at least two"):
        analyze_drivers(y, {"a": a})
    with pytest.raises(InvalidInput, match="same value"):
        analyze_drivers(y, {"a": a, "b": np.ones(100)})
    with pytest.raises(InvalidInput, match="unknown method"):
        analyze_drivers(y, {"a": a, "b": b}, method="stepwise")


def _write(path: Path, data: dict[str, np.ndarray]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(data))
        for row in zip(*data.values(), strict=True):
            writer.writerow([f"{v:g}" for v in row])


def test_the_command_writes_the_documented_json(tmp_path):
    data = _survey(n=800, seed=2)
    source = tmp_path / "survey.csv"
    _write(source, data)
    with source.open("a") as handle:  # a respondent who skipped a question is left out
        handle.write("9,4,,4,5,3\n")
    out = tmp_path / "drivers.json"
    result = CliRunner().invoke(app, ["feedback", "drivers", str(source), "--score-column", "nps",
                                      "--driver-columns", "delivery, staff,service,website,price",
                                      "--json", str(out), "--bootstrap", "100"])
    assert result.exit_code == 0, result.output
    assert "delivery: important and below the rest — improve" in result.stdout
    written = json.loads(out.read_text())
    assert written["respondents"] == 800
    assert {d["name"] for d in written["drivers"]} == {"delivery", "staff", "service", "website", "price"}
    for driver in written["drivers"]:
        assert set(driver) >= {"name", "importance", "ci", "performance", "quadrant"}
        assert driver["quadrant"] in ("improve", "continue", "stop", "monitor") and len(driver["ci"]) == 2
    assert abs(sum(d["importance"] for d in written["drivers"]) - 1) < 1e-3
    again = CliRunner().invoke(app, ["feedback", "drivers", str(source), "--score-column", "nps",
                                     "--driver-columns", "delivery,staff,service,website,price",
                                     "--json", str(out), "--bootstrap", "100"])
    assert again.exit_code == 0 and json.loads(out.read_text()) == written  # the same seed, the same intervals


@pytest.mark.parametrize(("args", "words"), [
    (["--score-column", "nps", "--driver-columns", "delivery,colour"], "no column 'colour'"),
    (["--score-column", "nps", "--driver-columns", "delivery,comment"], "'comment' holds values that are not"),
    (["--score-column", "nps", "--driver-columns", "delivery,nps"], "not the score column"),
    (["--score-column", "nps", "--driver-columns", "delivery,staff", "--method", "magic"], "unknown method"),
])
def test_the_command_answers_bad_input_with_one_line(tmp_path, args, words):
    data = _survey(n=100)
    source = tmp_path / "survey.csv"
    _write(source, data)
    rows = source.read_text().splitlines()
    source.write_text("\n".join([rows[0] + ",comment"] + [row + ",fine" for row in rows[1:]]) + "\n")
    result = CliRunner().invoke(app, ["feedback", "drivers", str(source), *args])
    assert result.exit_code == 1
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
