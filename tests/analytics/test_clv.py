"""Lifetime-value models against the published results on the CDNOW sample, and their contracts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cherish.analytics.clv import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    calibration_and_holdout,
    clv,
    compress,
    summary_from_transactions,
)
from cherish.errors import InvalidInput

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"


@pytest.fixture(scope="module")
def cdnow():  # type: ignore[no-untyped-def]
    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    table = pa.table({
        "customer": [r[1] for r in rows],
        "day": pa.array([date(int(r[2][:4]), int(r[2][4:6]), int(r[2][6:])) for r in rows]),
        "dollars": [float(r[4]) for r in rows],
    })
    return summary_from_transactions(table, customer="customer", when="day", amount="dollars",
                                     calibration_end=date(1997, 9, 30), holdout_end=date(1998, 6, 30), period="week")


def _close(fitted: dict, expected: dict, relative: float) -> None:
    for name, value in expected.items():
        assert fitted[name] == pytest.approx(value, rel=relative), name


def test_summary_counts_purchase_days(cdnow):
    assert len(cdnow.frequency) == 2357
    assert int((cdnow.frequency > 0).sum()) == 946  # the repeat buyers of the Gamma-Gamma paper
    first = list(cdnow.customer_id).index("0001")
    assert (cdnow.frequency[first], round(cdnow.recency[first], 2), round(cdnow.T[first], 2)) == (2, 30.43, 38.86)


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow):
    model = BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    _close(model.params_, {"r": 0.24259, "alpha": 4.4136, "a": 0.79292, "b": 2.42592}, 0.002)
    assert model.log_likelihood_ == pytest.approx(-9582.43, abs=0.05)
    # the paper's worked example: x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks
    assert model.conditional_expected_purchases(39, 2, 30.43, 38.86)[0] == pytest.approx(1.226, abs=0.001)
    assert set(model.standard_errors_) == {"r", "alpha", "a", "b"}
    assert all(v > 0 for v in model.standard_errors_.values())


def test_pareto_nbd_reproduces_the_published_fit(cdnow):
    model = ParetoNBD().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    _close(model.params_, {"r": 0.5533, "alpha": 10.5776, "s": 0.6062, "beta": 11.668}, 0.002)
    assert model.log_likelihood_ == pytest.approx(-9594.97, abs=0.05)


def test_gamma_gamma_on_the_946_repeat_buyers(cdnow):
    repeat = cdnow.frequency > 0
    model = GammaGamma().fit(cdnow.frequency[repeat], cdnow.monetary_value[repeat])
    _close(model.params_, {"p": 6.249, "q": 3.744, "gamma": 15.44}, 0.01)
    assert model.log_likelihood_ == pytest.approx(-4055.92, abs=0.05)
    value = model.expected_value([0, 2], [0.0, 30.0])
    assert value[0] == pytest.approx(6.249 * 15.44 / (3.744 - 1), rel=0.01)  # population mean for newcomers


def test_modified_bgnbd_fits_and_predicts(cdnow):
    model = ModifiedBetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    assert model.log_likelihood_ >= -9600  # as good a fit as its neighbours on the same data
    alive = model.p_alive(cdnow.frequency, cdnow.recency, cdnow.T)
    assert np.all((alive > 0) & (alive <= 1))
    assert np.all(alive[cdnow.frequency == 0] < 1)  # unlike BG/NBD, one-time buyers may already be gone


def test_weights_equal_expanded_data(cdnow):
    (x, t_x, big_t), weights = compress(cdnow.frequency, cdnow.recency, cdnow.T)
    assert len(x) < len(cdnow.frequency) and weights.sum() == len(cdnow.frequency)
    compressed = BetaGeo().fit(x, t_x, big_t, weights=weights)
    plain = BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    _close(compressed.params_, plain.params_, 1e-6)
    assert compressed.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)


def test_predictions_hold_up_in_the_holdout(cdnow):
    model = BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    holdout = calibration_and_holdout(model, cdnow)
    assert holdout["actual"] == 1882
    assert holdout["predicted"] == pytest.approx(holdout["actual"], rel=0.15)
    alive = model.p_alive(cdnow.frequency, cdnow.recency, cdnow.T)
    assert np.all(alive[cdnow.frequency == 0] == 1)  # BG/NBD: no purchase, no chance to drop out yet
    assert model.expected_purchases(39) == pytest.approx(
        float(np.mean(model.conditional_expected_purchases(39, 0, 0, 0))), rel=1e-6)


def test_clv_discounts_future_value(cdnow):
    purchases = BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    repeat = cdnow.frequency > 0
    spend = GammaGamma().fit(cdnow.frequency[repeat], cdnow.monetary_value[repeat])
    args = (cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value)
    year = clv(purchases, spend, *args, months=12, discount_rate=0.01)
    undiscounted = clv(purchases, spend, *args, months=12, discount_rate=0.0)
    assert np.all(year >= 0) and np.all(year <= undiscounted + 1e-9)
    assert year[cdnow.frequency.argmax()] > np.median(year)


@pytest.mark.parametrize(("args", "message"), [
    (([1, 2], [0.5], [3, 3]), "same length"),
    (([-1], [0], [3]), "whole numbers"),
    (([1.5], [1], [3]), "whole numbers"),
    (([1], [4], [3]), "recency cannot exceed T"),
    (([0], [1], [3]), "recency 0"),
    (([], [], []), "empty"),
    (([1], [np.nan], [3]), "missing"),
])
def test_input_checks_say_what_is_wrong(args, message):
    with pytest.raises(InvalidInput, match=message):
        BetaGeo().fit(*args)


def test_unfitted_model_and_spend_input_errors():
    with pytest.raises(InvalidInput, match="not fitted"):
        BetaGeo().p_alive([1], [1], [2])
    with pytest.raises(InvalidInput, match="repeat purchases"):
        GammaGamma().fit([0, 1], [10.0, 12.0])


def test_customer_lifetime_values_for_the_store(cdnow):
    """The per-customer value `cherish analyze` writes back: MBG/NBD (by default) in days and Gamma-Gamma on
    repeat buyers."""
    from cherish.analytics.stages import lifetime_values

    x = np.asarray(cdnow.frequency, dtype=float)
    rows = {"purchase_days": x + 1, "span": np.asarray(cdnow.recency) * 7, "age": np.asarray(cdnow.T) * 7,
            "value": np.where(x > 0, np.nan_to_num(cdnow.monetary_value) * x, 0.0) + 10.0,
            "first_value": np.full(len(x), 10.0)}
    alive, value = lifetime_values(rows)
    assert value is not None and np.all(value >= 0)
    assert np.all((alive > 0) & (alive <= 1))
    busiest = int(np.argmax(cdnow.frequency))
    assert value[busiest] > np.percentile(value, 95)
    few = {name: column[:5] for name, column in rows.items()}
    alive_few, value_few = lifetime_values(few)  # too few repeat buyers to fit: P(alive) unknown, not 1; no value
    assert np.all(np.isnan(alive_few)) and value_few is None
