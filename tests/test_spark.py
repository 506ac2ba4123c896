"""The same KPI code on Spark (a local session): identical results to DuckDB on the hand-made company.

Spark is slow to start and to run small queries, so this covers a representative set
of query shapes rather than every test of test_kpis.py. Imports into Spark are refused
(no transactions): data is loaded directly, as in test_kpis.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sanjeh.errors import UserError
from sanjeh.kpis import Query
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import assert_same_rows
from tests.conftest import FIXED_TODAY

pytest.importorskip("pyspark", reason="the spark extra is part of .[dev]; install it to run these")

QUERIES = [
    Query("revenue", "1403-Q1", grain="month", compare="previous"),
    Query("sales_by_region", "1403-Q1"),
    Query("sales_by_product", "1403-Q1"),
    Query("new_initiative_revenue", "1403-Q1"),
    Query("cancelled_orders", "1403-Q1", by=("cancel_reason",)),
    Query("opportunities_by_source", "1403-Q1"),
    Query("mql_to_sql", "1403-Q1", by=("region",)),
    Query("sales_growth", "1403-Q1"),
    Query("sales_per_rep", "1403-Q1"),
    Query("calls_per_rep", "1403-Q1"),
    Query("data_entry_share", "1403-Q1", by=("rep",)),
    Query("sales_by_contact_method", "1403-Q1"),
    Query("sales_cycle", "1403-Q1"),
    Query("win_rate", "1403", grain="quarter"),
    Query("new_customers", "1403-Q1", grain="month"),
    Query("pipeline", "1403-Q1", grain="month"),
    Query("revenue", "1403", grain="week", compare="year_ago"),
]


@pytest.fixture(scope="module")
def spark_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with pytest.MonkeyPatch.context() as mp:  # settings for tiny tables (tests/spark-conf/spark-defaults.conf)
        mp.setenv("SPARK_CONF_DIR", str(Path(__file__).resolve().parent / "spark-conf"))
        ws = Workspace.init(tmp_path_factory.mktemp("spark") / "ws", warehouse="pyspark://spark-warehouse")
    ws.clock = lambda: FIXED_TODAY
    kpi_data.fill(ws)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def duck_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path_factory.mktemp("duck") / "ws")
    ws.clock = lambda: FIXED_TODAY
    kpi_data.fill(ws)
    yield ws
    ws.close()


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.kpi}-{q.period}-{q.grain}-{'-'.join(q.by)}")
def test_spark_gives_the_duckdb_rows(spark_ws: Workspace, duck_ws: Workspace, query: Query) -> None:
    assert_same_rows(spark_ws.engine().run(query).rows, duck_ws.engine().run(query).rows)


@pytest.mark.slow
def test_imports_into_spark_are_refused_clearly(spark_ws: Workspace, tmp_path: Any) -> None:
    from sanjeh.ingest import run_import

    f = tmp_path / "reps.csv"
    f.write_text("rep_id,name\nR9,Nima\n", encoding="utf-8")
    with pytest.raises(UserError, match="Spark"):
        run_import(spark_ws.warehouse, spark_ws.import_options(), [f])
