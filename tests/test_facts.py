"""Materialised cohorts (kpis/facts.py) give exactly what the live joins give, and are never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.demo import write_demo_csv
from sanjeh.ingest import run_import
from sanjeh.kpis import Query
from sanjeh.kpis.facts import META
from sanjeh.kpis.sources import FACTS, INTERMEDIATE, STORED
from sanjeh.workspace import Workspace
from tests.builders import assert_same_rows
from tests.conftest import FIXED_TODAY


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    base = tmp_path_factory.mktemp("facts")
    write_demo_csv(base / "csv", orders=1500, seed=7)
    ws = Workspace.init(base / "ws")
    ws.clock = lambda: FIXED_TODAY
    run_import(ws.warehouse, ws.import_options(), [base / "csv"])
    return ws


def _queries(ws: Workspace) -> list[Query]:
    out = []
    for k in ws.engine().catalogue():
        out.append(Query(k.name, "1403-Q2", grain="month", compare="previous"))
        out += [Query(k.name, "1402..1403", by=(d,)) for d in k.dimensions if d not in k.fixed]
    return out


def test_facts_equal_live_joins_for_every_kpi(demo_ws: Workspace) -> None:
    fast, live = demo_ws.engine(), demo_ws.engine(use_facts=False)
    for q in _queries(demo_ws):
        assert_same_rows(fast.run(q).rows, live.run(q).rows)
    assert demo_ws.warehouse.has_table(META)


def test_facts_equal_live_joins_for_a_rep(demo_ws: Workspace) -> None:
    rep = demo_ws.warehouse.table("orders").rep_id.max().execute()
    fast, live = demo_ws.engine(rep_scope=rep), demo_ws.engine(rep_scope=rep, use_facts=False)
    names = ["revenue", "sales_per_rep", "win_rate", "new_customers", "mql_to_sql", "pipeline", "cancelled_orders"]
    for name in [*names, "sales_by_contact_method", "opportunities_by_source", "sales_by_product"]:
        q = Query(name, "1403", grain="quarter")
        assert_same_rows(fast.run(q).rows, live.run(q).rows)


def test_an_import_makes_the_facts_stale_and_they_are_rebuilt(demo_ws: Workspace, tmp_path: Path) -> None:
    q = Query("revenue", "1403")
    before = demo_ws.engine().run(q).rows[0]["orders"]
    extra = tmp_path / "orders.csv"
    extra.write_text("order_id,ordered_at,status\nNEW-1,1403-05-05 10:00,placed\n", encoding="utf-8")
    (tmp_path / "order_lines.csv").write_text(
        "order_id,product_id,quantity,unit_price\nNEW-1,P-NEW,1,1000\n", encoding="utf-8"
    )
    run_import(demo_ws.warehouse, demo_ws.import_options(), [extra, tmp_path / "order_lines.csv"])
    after = demo_ws.engine().run(q).rows[0]["orders"]
    assert after == before + 1
    assert all(demo_ws.warehouse.has_table(FACTS[c][0]) for c in STORED)
    assert not any(demo_ws.warehouse.has_table(FACTS[c][0]) for c in INTERMEDIATE)  # dropped after the build


def test_a_build_that_runs_out_of_memory_falls_back_to_live_joins(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sanjeh.kpis import facts
    from tests import kpi_data

    kpi_data.fill(workspace)
    monkeypatch.setattr(facts, "BUILD_MEMORY", "1MiB")  # DuckDB cannot build anything in 1 MiB
    (row,) = workspace.engine().run(Query("revenue", "1403-Q1")).rows
    assert row["revenue"] == 1265.0  # the same number, from the live joins
    assert not workspace.warehouse.has_table(META)
    limit = workspace.warehouse.duckdb.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit != "1.0 MiB"  # the cap was lifted again


def test_refresh_facts_builds_them_now_and_says_so(demo_ws: Workspace) -> None:
    engine = demo_ws.engine()
    assert engine.refresh_facts() is True  # fresh already (or built now): this engine reads them
    assert all(demo_ws.warehouse.has_table(FACTS[c][0]) for c in STORED)
    assert demo_ws.engine(use_facts=False).refresh_facts() is False


def test_builds_of_two_workspaces_do_not_wait_for_each_other(tmp_path: Path) -> None:
    """The build lock is one per warehouse: a build holding one workspace's lock leaves another's
    free, and the same file opened twice shares one lock."""
    import threading

    from sanjeh.kpis.facts import _build_lock
    from sanjeh.warehouse import Warehouse, connect

    a, b = (connect(f"duckdb://{tmp_path / name}.duckdb") for name in ("a", "b"))
    a_again = Warehouse(a.url, a.kind, a.con)  # the same file, another Warehouse (a workspace opened again)
    try:
        with _build_lock(a):
            free = threading.Event()

            def build_b() -> None:
                with _build_lock(b):
                    free.set()

            t = threading.Thread(target=build_b)
            t.start()
            t.join(5)
            assert free.is_set()
            assert _build_lock(a_again) is _build_lock(a)
    finally:
        a.close()
        b.close()
