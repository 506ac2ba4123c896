"""Compiled queries are kept by shape (kpis/sqlcache.py): that is only right if a query's SQL
never depends on its period. These tests compile every KPI's shapes for different periods and
compare, and check that a cached query gives the rows a freshly compiled one gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.kpis import CATALOGUE, Query
from sanjeh.kpis.compile import Buckets, PlanCompiler, shape_of
from sanjeh.kpis.sqlcache import Compiled, SqlCache
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import assert_same_rows

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
