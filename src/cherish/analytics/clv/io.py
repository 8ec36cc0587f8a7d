"""Transaction files for the CLV commands: read (CSV, whitespace-separated text, Parquet) into a purchase
summary, and predictions written one row per customer."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cherish.errors import InvalidInput


def read_transactions(path: Path, *, customer: str, when: str, amount: str | None = None,
                      date_format: str | None = None, text: dict[str, str | None] | None = None) -> pa.Table:
    """Columns customer (text), day (date) and amount (number, when given), and one text column per entry of
    ``text`` (its label: the file's column, or None for an empty one), from any file `cherish import` reads."""
    import duckdb

    from cherish.events.files import read_table

    table = read_table(path)
    columns = table.column_names
    options = [("--customer-column", customer), ("--date-column", when), ("--amount-column", amount)]
    options += [(f"--{label}-column", name) for label, name in (text or {}).items()]
    for label, name in options:
        if name is not None and name not in columns:
            raise InvalidInput(f"{label} {name}: {path.name} has no such column; its columns: {', '.join(columns)}")
    date_expr = (f"CAST(strptime(CAST(\"{when}\" AS VARCHAR), '{date_format.replace(chr(39), '')}') AS DATE)"
                 if date_format else f"CAST(\"{when}\" AS DATE)")
    amount_expr = f'CAST("{amount}" AS DOUBLE)' if amount else "CAST(NULL AS DOUBLE)"
    extras = "".join(f', CAST("{name}" AS VARCHAR) AS {label}' if name else f", CAST(NULL AS VARCHAR) AS {label}"
                     for label, name in (text or {}).items())
    con = duckdb.connect()
    try:
        con.register("transactions", table)
        return con.sql(f'SELECT CAST("{customer}" AS VARCHAR) AS customer, {date_expr} AS day, {amount_expr} AS amount'
                       f"{extras} FROM transactions").to_arrow_table()
    except duckdb.Error as exc:
        hint = "" if date_format else " (give --date-format, e.g. %Y%m%d)"
        raise InvalidInput(f"cannot read the transactions: {str(exc).splitlines()[0]}{hint}") from None
    finally:
        con.close()


def summary_from_file(path: Path, *, customer: str, when: str, amount: str | None, date_format: str | None,
                      calibration_end: date, holdout_end: date | None, period: str) -> Any:
    """The purchase summary (frequency, recency, T, …) of the transactions in ``path``."""
    from cherish.analytics.clv.value import summary_from_transactions

    table = read_transactions(path, customer=customer, when=when, amount=amount, date_format=date_format)
    return summary_from_transactions(table, customer="customer", when="day", amount="amount" if amount else None,
                                     calibration_end=calibration_end, holdout_end=holdout_end, period=period)


def write_predictions(path: Path, summary: Any, model: Any, horizon: float, spend: Any = None) -> None:
    """One CSV row per customer: the summary, P(alive) and the purchases expected over ``horizon`` periods;
    the holdout's actual purchases and the expected value (with a spend model) when there are."""
    from cherish.spreadsheets import csv_writer

    p_alive = model.p_alive(summary.frequency, summary.recency, summary.T)
    predicted = model.conditional_expected_purchases(horizon, summary.frequency, summary.recency, summary.T)
    header = ["customer_id", "frequency", "recency", "T", "p_alive", "predicted_purchases"]
    extra: list[np.ndarray] = []
    if summary.holdout_purchases is not None:
        header.append("actual_purchases")
        extra.append(summary.holdout_purchases)
    if spend is not None:
        header.append("expected_value")
        extra.append(spend.expected_value(summary.frequency, np.nan_to_num(summary.monetary_value, nan=1.0)))
    with path.open("w", newline="") as handle:
        writer = csv_writer(handle)  # customer ids come from the user's data: none may run as a formula
        writer.writerow(header)
        for i, customer in enumerate(summary.customer_id):
            row = [customer, int(summary.frequency[i]), round(summary.recency[i], 6), round(summary.T[i], 6),
                   round(float(p_alive[i]), 6), round(float(predicted[i]), 6)]
            row += [round(float(column[i]), 6) for column in extra]
            writer.writerow(row)
