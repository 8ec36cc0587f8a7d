"""The same metrics on Spark (local mode) agree with DuckDB to 1e-9."""

from __future__ import annotations

import os

import pytest

from tests.helpers import run, same_results

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module", autouse=True)
def _spark_available():  # type: ignore[no-untyped-def]
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CHERISH_REQUIRE_SPARK"):
            pytest.fail("the spark extra is missing: pip install 'cherish[spark]'")
        pytest.skip("the spark extra is not installed: pip install 'cherish[spark]'")
    yield
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def test_spark_matches_duckdb(loaded, settings):
    if loaded.dialect != "sqlite":
        pytest.skip("one store is enough for Spark")
    local = settings.model_copy(update={"spark_master": "local[2]"})
    results = {"duckdb": run(loaded, local, "duckdb"), "spark": run(loaded, local, "spark")}
    assert results["spark"]["customers"] == 4 and results["spark"]["repeat_customer_rate"] == 0.5
    same_results(results)
