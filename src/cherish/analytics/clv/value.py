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

    if period not in PERIODS:
        raise InvalidInput(f"unknown period {period!r}; use day or week")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InvalidInput("the holdout end must come after the calibration end")
    length = PERIODS[period]
    con = duckdb.connect()
    con.register("tx", transactions)
    value = f'SUM(CAST("{amount}" AS DOUBLE))' if amount else "0.0"
    query = f"""
        WITH days AS (
            SELECT CAST("{customer}" AS VARCHAR) AS customer, CAST("{when}" AS DATE) AS day, {value} AS value
            FROM tx WHERE "{when}" IS NOT NULL AND "{customer}" IS NOT NULL GROUP BY 1, 2
        ), calibration AS (
            SELECT customer, COUNT(*) - 1 AS frequency, MIN(day) AS first_day, MAX(day) AS last_day,
                   SUM(value) - ARG_MIN(value, day) AS repeat_value
            FROM days WHERE day <= $end GROUP BY 1
        ), holdout AS (
            SELECT customer, COUNT(*) AS purchases FROM days
            WHERE day > $end AND day <= COALESCE($holdout, $end) GROUP BY 1
        )
        SELECT c.customer, c.frequency, DATE_DIFF('day', c.first_day, c.last_day) / {length} AS recency,
               DATE_DIFF('day', c.first_day, $end) / {length} AS T,
               CASE WHEN c.frequency > 0 THEN c.repeat_value / c.frequency END AS monetary_value,
               COALESCE(h.purchases, 0) AS holdout_purchases
        FROM calibration c LEFT JOIN holdout h USING (customer) ORDER BY c.customer
    """
    try:
        result = con.sql(query, params={"end": calibration_end, "holdout": holdout_end}).to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot summarise the transactions: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    if result.num_rows == 0:
        raise InvalidInput(f"no purchases on or before the calibration end {calibration_end}")
    column = lambda name: result.column(name).to_numpy(zero_copy_only=False)  # noqa: E731
    monetary = np.array([np.nan if v is None else v for v in result.column("monetary_value").to_pylist()])
    return Summary(
        customer_id=column("customer"), frequency=column("frequency").astype(float),
        recency=column("recency").astype(float), T=column("T").astype(float),
        monetary_value=monetary if amount else np.full(result.num_rows, np.nan),
        holdout_purchases=column("holdout_purchases").astype(float) if holdout_end else None,
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
