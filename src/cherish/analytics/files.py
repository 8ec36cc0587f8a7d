"""Purchases from an orders file, for `cherish analyze --orders` (one row per order or per order line)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from cherish.errors import InvalidInput


def purchases_from_file(path: Path, *, customer: str, when: str, amount: str | None, date_format: str | None,
                        channel: str | None, branch: str | None) -> pa.Table:
    """Columns customer_id, placed_at (midnight UTC of the day), value, channel, branch."""
    import duckdb

    from cherish.analytics.clv.io import read_transactions

    base = read_transactions(path, customer=customer, when=when, amount=amount, date_format=date_format,
                             text={"channel": channel, "branch": branch})
    con = duckdb.connect()
    try:
        con.register("base", base)
        return con.sql("SELECT customer AS customer_id, CAST(day AS TIMESTAMP) AS placed_at, "
                       "COALESCE(amount, 0.0) AS value, channel, branch FROM base WHERE day IS NOT NULL"
                       ).to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot read the orders: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
