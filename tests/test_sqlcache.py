"""Compiled queries are kept by shape (kpis/sqlcache.py): that is only right if a query's SQL
never depends on its period. These tests compile every KPI's shapes for different periods and
compare, and check that a cached query gives the rows a freshly compiled one gives."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from sanjeh.kpis import CATALOGUE, Query
from sanjeh.kpis.compile import Buckets, PlanCompiler, shape_of, steps_param, steps_table, targets_param
from sanjeh.kpis.sqlcache import Compiled, SqlCache
from sanjeh.kpis.targeting import Target
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import assert_same_rows
from tests.conftest import Templates

#: Pairs of periods of the same shape (every comparison exists for both), of different kinds
#: and lengths: a quarter and a range of months, a year and a month.
PERIODS = [("1403-Q1", "1402-05..1402-11"), ("1403", "1401-02")]


def _shapes(kpi_name: str) -> list[dict[str, object]]:
    k = next(x for x in CATALOGUE if x.name == kpi_name)
    shapes: list[dict[str, object]] = [{}, {"grain": "month"}, {"compare": "previous"}, {"compare": "year_ago"}]
    shapes += [{"by": (d,), "compare": "previous"} for d in k.dimensions if d not in k.fixed]
    return shapes


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    w = Workspace.init(tmp_path_factory.mktemp("sqlcache") / "ws")
    return kpi_data.fill(w)


@pytest.mark.parametrize("kpi", [k.name for k in CATALOGUE])
def test_a_querys_sql_does_not_depend_on_its_period(ws: Workspace, kpi: str) -> None:
    engine = ws.engine()
    for shape in _shapes(kpi):
        for a, b in PERIODS:
            sqls = []
            for period in (a, b):
                p = engine.plan(Query(kpi, period, **shape))  # type: ignore[arg-type]
                root = Buckets.main(p)
                src = engine.sources()
                compiler = PlanCompiler(src, p, (), root)
                expr = compiler.expr()
                sqls.append((ws.warehouse.compile(expr), tuple(compiler.steps.recipes), shape_of(root)))
            assert sqls[0] == sqls[1], (kpi, shape, a, b)


def test_cached_and_fresh_queries_give_the_same_rows(ws: Workspace, tmp_path: Path) -> None:
    """A cache filled by one period serves another; its rows are those of a fresh compile."""
    cached = ws.engine()
    ws.sql_cache = SqlCache(tmp_path / "warm")
    for k in CATALOGUE:
        cached.run(Query(k.name, "1402-Q4", grain="month", compare="previous"))
    misses = ws.sql_cache.misses
    fresh_ws = Workspace.open(ws.root)
    try:
        for k in CATALOGUE:
            q = Query(k.name, "1403-Q1", grain="month", compare="previous")
            got = cached.run(q).rows
            fresh_ws.sql_cache = SqlCache(None)
            assert_same_rows(got, fresh_ws.engine().run(q).rows)
        # every second period was served from the cache, but for the three KPIs with targets in
        # 1403-Q1 and none in 1402-Q4 (kpi_data): their queries join the targets, a shape of its own
        assert ws.sql_cache.misses - misses == 3
    finally:
        fresh_ws.close()


def test_the_cache_survives_a_new_process_and_a_broken_file(tmp_path: Path) -> None:
    import pyarrow as pa

    c = SqlCache(tmp_path)
    entry = Compiled("SELECT 1", ((), ("previous",), (1, "year_ago")), pa.schema([("a", pa.int64())]))
    key = SqlCache.key(("x",))
    c.put(key, entry)
    again = SqlCache(tmp_path).get(key)
    assert again == entry
    (tmp_path / f"{key}.json").write_text("{not json", encoding="utf-8")
    assert SqlCache(tmp_path).get(key) is None  # a broken entry is a miss, never an error
    assert SqlCache.key(("x",)) != SqlCache.key(("y",))


def _param_rows(ws: Workspace, select: str) -> list[tuple[object, ...]]:
    con = ws.warehouse.duckdb
    con.execute(f"CREATE OR REPLACE TEMP TABLE __param_test AS {select}")
    got = con.execute("SELECT * FROM __param_test ORDER BY ALL").fetchall()
    types = [r[1] for r in con.execute("DESCRIBE __param_test").fetchall()]
    return [*got, tuple(types)]


def _arrow_rows(ws: Workspace, table: pa.Table) -> list[tuple[object, ...]]:
    con = ws.warehouse.duckdb
    con.register("__param_src", table)
    try:
        return _param_rows(ws, "SELECT * FROM __param_src")
    finally:
        con.unregister("__param_src")


@pytest.mark.parametrize(
    "shape",
    [{}, {"grain": "month", "compare": "previous"}, {"grain": "week", "compare": "year_ago"}, {"grain": "day"}],
)
@pytest.mark.parametrize("period", ["1403-Q1", "1403", "1402-05..1402-11", "2024-W10"])
def test_a_duckdb_warehouse_gets_the_same_parameter_rows_without_arrow(
    ws: Workspace, period: str, shape: dict[str, str]
) -> None:
    """DuckDB fills a query's step sets from literals spread over their days by SQL (no Arrow array
    made from Python values: no pandas import); the other backends get the Arrow table. Same rows,
    same types, for one or several step sets, shifted ones, every calendar, and none."""
    engine = ws.engine()
    p = engine.plan(Query("revenue", period, **shape))  # type: ignore[arg-type]
    root = Buckets.main(p)
    sets = [root, *(s for s in (root.shifted("previous"), root.shifted("year_ago")) if s is not None)]
    for chosen in (sets[:1], sets, []):
        param = steps_param(chosen)
        assert _param_rows(ws, param.select) == _arrow_rows(ws, param.arrow())
        assert param.arrow().equals(steps_table(chosen))
    assert len(_param_rows(ws, steps_param(sets).select)) > 1


def test_targets_as_literals_keep_every_character_and_every_bit_of_a_value(ws: Workspace) -> None:
    awkward = ["it's", "a \\ b", "فروش «شمال»", "", "x'); DROP TABLE orders; --", "\t\n"]
    values = [0.1, 1e20, -3.5, 1 / 3, 0.0, float("inf"), 123456789012.345]
    targets = [
        Target(measure="revenue", step=f"1403-0{i % 9 + 1}", member=m or None, member_label=m, value=v)
        for i, (m, v) in enumerate(zip(awkward * 2, values * 2, strict=False))
    ]
    for chosen in (targets, targets[:1], []):
        param = targets_param(chosen)
        assert _param_rows(ws, param.select) == _arrow_rows(ws, param.arrow())
    assert ws.warehouse.fetch("SELECT count(*) FROM orders")  # the literal quote did not end the statement


def test_a_row_written_as_literals_is_the_row_arrow_would_write(ws: Workspace) -> None:
    """``Warehouse.insert_row`` and ``delete_in`` write values as SQL literals on DuckDB (no
    statement parameter, no Arrow array from Python values: both import pandas). The row stored
    is the one ``insert_arrow`` stores, for awkward text, timestamps, dates, numbers and nulls."""
    import datetime as dt

    from sanjeh.warehouse import sql_value

    wh = ws.warehouse
    schema = pa.schema(
        [("t", pa.string()), ("ts", pa.timestamp("us")), ("d", pa.date32()), ("x", pa.float64()), ("n", pa.int64())]
    )
    wh.execute("CREATE TEMP TABLE __lit_a (t VARCHAR, ts TIMESTAMP, d DATE, x DOUBLE, n BIGINT)")
    wh.execute("CREATE TEMP TABLE __lit_b (t VARCHAR, ts TIMESTAMP, d DATE, x DOUBLE, n BIGINT)")
    rows = [
        {"t": t, "ts": ts, "d": d, "x": x, "n": n}
        for t, ts, d, x, n in [
            ("it's", dt.datetime(2025, 3, 20, 23, 59, 59, 123456), dt.date(1403, 1, 1), 1 / 3, -7),
            ("فروش «شمال»\t", dt.datetime(2000, 1, 1), dt.date(2024, 2, 29), 1e20, 0),
            ("x'); DROP TABLE orders; --", None, None, None, None),
        ]
    ]
    for row in rows:
        wh.insert_row("__lit_a", row, schema)
    wh.insert_arrow("__lit_b", pa.Table.from_pylist(rows, schema=schema))
    assert wh.fetch("SELECT * FROM __lit_a ORDER BY t") == wh.fetch("SELECT * FROM __lit_b ORDER BY t")
    wh.delete_in("__lit_a", "t", ["it's", "x'); DROP TABLE orders; --", "absent"])
    assert wh.fetch("SELECT t FROM __lit_a") == [("فروش «شمال»\t",)]
    assert wh.fetch("SELECT count(*) FROM orders")  # no literal ended its statement
    with pytest.raises(TypeError):
        sql_value(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))  # a zone would be dropped silently


def test_rows_on_duckdb_are_those_arrow_gives(ws: Workspace) -> None:
    """Small results read on the raw DuckDB connection (no pandas through Ibis's converter) have
    the Python values Arrow's ``to_pylist`` gives: dates, timestamps, numbers, text and nulls."""
    import ibis

    wh = ws.warehouse
    for name in ("orders", "order_lines", "targets", "_imports", "customers"):
        t = wh.table(name)
        assert wh.rows(t) == t.to_pyarrow().to_pylist(), name
    t = wh.table("orders")
    expr = t.aggregate(
        n=t.count(), first=t.ordered_at.min(), day=t.ordered_at.max().cast("date"), none=ibis.null("string")
    )
    assert wh.rows(expr) == expr.to_pyarrow().to_pylist()


def test_kpi_all_in_a_new_process_does_not_import_pandas(templates: Templates, tmp_path: Path) -> None:
    """``sanjeh kpi --all`` needs no pandas (0.3 s of a 2 s command at 1 M orders): a new import of
    it on its path fails here. The first run builds the materialised cohorts (as an import does)."""
    import subprocess
    import sys

    templates.copy(tmp_path / "ws", fill=kpi_data.fill).close()
    code = (
        "import sys; from sanjeh.cli import app\n"
        "try:\n    app(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules, file=sys.stderr)"
    )
    args = ["kpi", "--all", "--period", "1403", "--grain", "month", "-w", str(tmp_path / "ws"), "--format", "json"]
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert '"revenue"' in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "False"
