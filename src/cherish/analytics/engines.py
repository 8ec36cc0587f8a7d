"""Where metrics run: DuckDB in-process (default), the operational PostgreSQL, or Spark. Every difference between
engines lives here; metrics only see Ibis tables named ``purchases`` and ``answers``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cherish.config import Settings
from cherish.db.arrow import read_arrow
from cherish.db.engine import Store
from cherish.errors import EngineError, InvalidInput

ENGINES = ("duckdb", "spark", "database")
PURCHASE_STATUSES = ("completed", "partially_refunded")

# The sources, in the store's own tables: purchases are completed orders not fully cancelled or refunded.
_PURCHASES = """
    SELECT customer_id, placed_at, value - refunded AS value, channel, branch
    FROM orders WHERE status IN ('completed', 'partially_refunded')
"""
_ANSWERS = """
    SELECT customer_id, answered_at, score_type, score, channel, branch, employee, survey
    FROM feedback_answers WHERE score IS NOT NULL
"""  # (comments that came as reviews, chats, emails or mentions carry no score)


@dataclass
class Engine:
    """An Ibis backend with the two source tables registered, and the business time zone applied."""

    name: str
    backend: Any
    purchases: Any  # customer_id, day (local date), month (first day of the local month), value, channel, branch
    answers: Any  # customer_id, day, month, score_type, score, channel, branch, employee, survey

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.name == "duckdb":
            self.backend.disconnect()
        elif self.name == "spark":  # the cached inputs of this run go; the session may serve another
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is not None:
                active.catalog.clearCache()


def _duckdb(purchases: pa.Table, answers: pa.Table, timezone: str) -> Engine:
    import ibis

    backend = ibis.duckdb.connect()
    backend.raw_sql("SET TimeZone = 'UTC'")
    # Arrow straight into DuckDB (no copy); Ibis's create_table stumbles on DuckDB 2's DDL
    backend.con.register("raw_purchases", purchases)
    backend.con.register("raw_answers", answers)
    zone = timezone.replace("'", "")
    local = "CAST(timezone('{zone}', CAST({col} AS TIMESTAMPTZ)) AS DATE)"
    p_day = local.format(zone=zone, col="placed_at")
    a_day = local.format(zone=zone, col="answered_at")
    # the local day and month are computed once, into DuckDB's own tables, not again in every query
    backend.raw_sql(f"CREATE TABLE purchases AS SELECT customer_id, {p_day} AS day, "
                    f"CAST(date_trunc('month', {p_day}) AS DATE) AS month, value, channel, branch FROM raw_purchases")
    backend.raw_sql(f"CREATE TABLE answers AS SELECT customer_id, {a_day} AS day, "
                    f"CAST(date_trunc('month', {a_day}) AS DATE) AS month, score_type, score, channel, branch, "
                    "employee, survey FROM raw_answers")
    backend.con.unregister("raw_purchases")
    backend.con.unregister("raw_answers")
    return Engine("duckdb", backend, backend.table("purchases"), backend.table("answers"))


_TYPES = {"placed_at": pa.timestamp("us"), "answered_at": pa.timestamp("us"), "value": pa.float64(),
          "score": pa.float64()}


def _arrow(store: Store, sql: str) -> pa.Table:
    return read_arrow(store, sql, _TYPES)


def open_engine(name: str, store: Store, settings: Settings) -> Engine:
    """The engine ``name`` over the store's purchases and answers."""
    if name not in ENGINES:
        raise InvalidInput(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "database":
        if not store.has_quantiles:
            raise EngineError(f"--engine database needs PostgreSQL; this store is {store.dialect}, which lacks the "
                              "medians and quantiles the metrics need in Ibis: use --engine duckdb")
        return _postgres(store, settings.timezone)
    # both read at once: each is a child process (SQLite) or a COPY (PostgreSQL) that mostly waits on the other side
    with ThreadPoolExecutor(max_workers=2) as pool:
        purchases_read, answers_read = pool.submit(_arrow, store, _PURCHASES), pool.submit(_arrow, store, _ANSWERS)
        purchases, answers = purchases_read.result(), answers_read.result()
    if name == "spark":
        return spark_engine(purchases, answers, settings)
    return _duckdb(purchases, answers, settings.timezone)


def engine_for_files(name: str, purchases: pa.Table, settings: Settings) -> Engine:
    """An engine over purchases read from a file (no store): the answers table is empty."""
    empty = pa.table({"customer_id": pa.array([], pa.string()), "answered_at": pa.array([], pa.timestamp("us")),
                      "score_type": pa.array([], pa.string()), "score": pa.array([], pa.float64()),
                      "channel": pa.array([], pa.string()), "branch": pa.array([], pa.string()),
                      "employee": pa.array([], pa.string()), "survey": pa.array([], pa.string())})
    if name == "spark":
        return spark_engine(purchases, empty, settings)
    if name == "database":
        raise InvalidInput("--engine database reads the store; with --orders use duckdb or spark")
    return _duckdb(purchases, empty, settings.timezone)


def _postgres(store: Store, timezone: str) -> Engine:
    import ibis

    raw = store.engine.raw_connection()
    backend = ibis.postgres.from_connection(raw.driver_connection)
    backend._cherish_raw = raw  # keep the pooled connection alive as long as the backend
    zone = timezone.replace("'", "")
    local = "CAST(({col} AT TIME ZONE 'UTC') AT TIME ZONE '{zone}' AS DATE)"
    p_day, a_day = local.format(col="placed_at", zone=zone), local.format(col="answered_at", zone=zone)
    purchases = backend.sql(
        f"SELECT customer_id, {p_day} AS day, CAST(date_trunc('month', {p_day}) AS DATE) AS month, "
        f"CAST(value AS DOUBLE PRECISION) AS value, channel, branch FROM ({_PURCHASES}) AS p")
    answers = backend.sql(
        f"SELECT customer_id, {a_day} AS day, CAST(date_trunc('month', {a_day}) AS DATE) AS month, score_type, "
        f"CAST(score AS DOUBLE PRECISION) AS score, channel, branch, employee, survey FROM ({_ANSWERS}) AS a")
    return Engine("database", backend, purchases, answers)


def spark_engine(purchases: pa.Table, answers: pa.Table, settings: Settings) -> Engine:
    """Spark through Ibis's PySpark backend (local[*] by default); inputs are temporary views."""
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the Spark engine needs the spark extra: pip install 'cherish[spark]'") from None
    session = (SparkSession.builder.master(settings.spark_master).appName("cherish")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false").getOrCreate())
    backend = ibis.pyspark.connect(session)
    parts = max(2, 2 * session.sparkContext.defaultParallelism)
    for name, table in (("raw_purchases", purchases), ("raw_answers", answers)):
        # straight from Arrow into a temporary view: no warehouse folders, and nulls stay null (not NaN). Arrow
        # arrives in slices of 10,000 rows, one partition each; a few partitions, cached, serve the many metric
        # queries without re-reading (and re-scheduling) hundreds of slices each time.
        frame = session.createDataFrame(table).coalesce(parts).cache()
        frame.createOrReplaceTempView(name)
    zone = settings.timezone.replace("'", "")
    p_day = f"CAST(from_utc_timestamp(placed_at, '{zone}') AS DATE)"
    a_day = f"CAST(from_utc_timestamp(answered_at, '{zone}') AS DATE)"
    return Engine(
        "spark", backend,
        backend.sql(f"SELECT customer_id, {p_day} AS day, CAST(trunc({p_day}, 'MM') AS DATE) AS month, value, channel, "
                    "branch FROM raw_purchases"),
        backend.sql(f"SELECT customer_id, {a_day} AS day, CAST(trunc({a_day}, 'MM') AS DATE) AS month, score_type, "
                    "score, channel, branch, employee, survey FROM raw_answers"),
    )
