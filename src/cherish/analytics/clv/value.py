"""From transactions to the per-customer summary the models fit on, holdout checks, and lifetime value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from cherish.analytics.clv.base import unique_rows
from cherish.errors import InvalidInput

PERIODS = {"day": 1.0, "week": 7.0}


@dataclass
class Summary:
    """One row per customer: repeat purchase periods, recency and age in periods, mean repeat value, holdout."""

    customer_id: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray  # mean value of repeat purchase days; NaN without repeats or amounts
    holdout_purchases: np.ndarray | None = None
    holdout_length: float | None = None


def summary_from_transactions(
    transactions: pa.Table, *, customer: str, when: str, calibration_end: date, amount: str | None = None,
    holdout_end: date | None = None, period: str = "week",
) -> Summary:
    """Merge same-day purchases (summing their value), then summarise up to ``calibration_end`` (inclusive).

    Frequency counts repeat purchase days; recency and T are measured from the first purchase day, in days or in
    weeks as days/7. With ``holdout_end``, repeat purchase days in (calibration_end, holdout_end] are counted too.
    ``when`` must be a date or timestamp column.
    """
    import duckdb
    import ibis

    from cherish.analytics.metrics import purchase_history

    if period not in PERIODS:
        raise InvalidInput(f"unknown period {period!r}; use day or week")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InvalidInput("the holdout end must come after the calibration end")
    length = PERIODS[period]
    backend = ibis.duckdb.connect()
    backend.con.register("tx", transactions)
    value = f'CAST("{amount}" AS DOUBLE)' if amount else "0.0"
    try:
        purchases = backend.sql(
            f'SELECT CAST("{customer}" AS VARCHAR) AS customer_id, CAST("{when}" AS DATE) AS day, '
            f'CAST(date_trunc(\'month\', CAST("{when}" AS DATE)) AS DATE) AS month, {value} AS value '
            f'FROM tx WHERE "{when}" IS NOT NULL AND "{customer}" IS NOT NULL')
        history = purchase_history(purchases, calibration_end, holdout_end or calibration_end)
        result = history.order_by("customer_id").to_pyarrow()
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot summarise the transactions: {str(exc).splitlines()[0]}") from None
    finally:
        backend.disconnect()
    if result.num_rows == 0:
        raise InvalidInput(f"no purchases on or before the calibration end {calibration_end}")
    column = lambda name: result.column(name).to_numpy(zero_copy_only=False).astype(float)  # noqa: E731
    return Summary(
        customer_id=result.column("customer_id").to_numpy(zero_copy_only=False),
        frequency=column("frequency"), recency=column("recency") / length, T=column("T") / length,
        monetary_value=column("monetary_value") if amount else np.full(result.num_rows, np.nan),
        holdout_purchases=column("holdout") if holdout_end else None,
        holdout_length=((holdout_end - calibration_end).days / length) if holdout_end else None,
    )


def calibration_and_holdout(model: Any, summary: Summary) -> dict[str, float]:
    """Predicted against actual repeat purchases over the holdout period, in total."""
    if summary.holdout_purchases is None or summary.holdout_length is None:
        raise InvalidInput("the summary has no holdout period: give a holdout end")
    predicted = model.conditional_expected_purchases(summary.holdout_length, summary.frequency, summary.recency,
                                                     summary.T)
    return {"predicted": float(np.sum(predicted)), "actual": float(np.sum(summary.holdout_purchases))}


def clv(purchase_model: Any, spend_model: Any, frequency: Any, recency: Any, T: Any, mean_value: Any, *,
        months: int = 12, discount_rate: float = 0.01, periods_per_month: float = 30 / 7) -> np.ndarray:
    """Discounted value of each customer's expected purchases over the next ``months``.

    ``discount_rate`` is monthly; ``periods_per_month`` converts months into the models' period (weeks by default).
    """
    if months < 1:
        raise InvalidInput("months must be at least 1")
    value = spend_model.expected_value(np.maximum(np.asarray(frequency, float), 0), np.nan_to_num(mean_value, nan=1.0))
    # expected purchases depend on (frequency, recency, T) only: computed once per distinct row
    columns = (np.atleast_1d(np.asarray(c, dtype=float)) for c in (frequency, recency, T))
    (x, t_x, big_t), inverse = unique_rows(*columns)
    total = np.zeros(len(inverse))
    previous = np.zeros_like(total)
    for month in range(1, months + 1):
        expected = purchase_model.conditional_expected_purchases(month * periods_per_month, x, t_x, big_t)[inverse]
        total += (expected - previous) * value / (1 + discount_rate) ** month
        previous = expected
    return total
