"""Drill-through (kpis/drill.py): the rows behind a KPI's number add up to it, on DuckDB and
PostgreSQL, for a rep's and a team's view too, and are paged in the warehouse."""

from __future__ import annotations

import math

import pytest

from sanjeh.errors import InvalidQuery
from sanjeh.kpis.drill import RowsQuery, drill, explain, population
from sanjeh.kpis.query import Query
from sanjeh.workspace import Workspace
from tests import kpi_data

DEMO_ORDERS = 400


def _demo(ws: Workspace) -> Workspace:
    from sanjeh.demo import iter_demo_tables

    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=DEMO_ORDERS):
            ws.warehouse.insert_arrow(name, chunk)
    return ws


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def test_revenue_rows_add_up_to_each_steps_and_members_revenue(any_workspace: Workspace) -> None:
    ws = _demo(any_workspace)
    engine = ws.engine()
    result = engine.run(Query("revenue", "1403-11", None, ("region",))).rows
    assert len(result) > 8
    for row in result:
        rows = drill(engine, RowsQuery("revenue", row["period"], (("region", row["region"]),), limit=5))
        assert _close(rows.value_sum, row["revenue"]), (row, rows.value_sum)
        assert rows.total >= row["orders"]  # lines: an order has one or more
        assert all(r["region"] == row["region"] for r in rows.rows)
        assert len(rows.rows) == min(5, rows.total)
    # the company's month, and a product's quarter
    month = engine.run(Query("revenue", "1403-10")).rows[0]
    assert _close(drill(engine, RowsQuery("revenue", "1403-10")).value_sum, month["revenue"])
    top = engine.run(Query("sales_by_product", "1403-Q4")).rows[0]
    got = drill(engine, RowsQuery("sales_by_product", "1403-Q4", (("product", top["product"]),)))
    assert _close(got.value_sum, top["revenue"])
    assert {r["product_name"] for r in got.rows} == {top["product_name"]}  # names, not ids only


def test_counts_rates_and_the_pipeline_list_what_they_count(any_workspace: Workspace) -> None:
    ws = kpi_data.fill(any_workspace)
    engine = ws.engine()
    calls = engine.run(Query("calls_per_rep", "1403-Q1")).rows
    for row in calls:
        rows = drill(engine, RowsQuery("calls_per_rep", "1403-Q1", (("rep", row["rep"]),)))
        assert rows.total == row["calls"]
        assert {r["type"] for r in rows.rows} == {"call"}
        assert rows.value_column is None  # a count: its rows are the number
    win = engine.run(Query("win_rate", "1403-Q1")).rows[0]
    closed = drill(engine, RowsQuery("win_rate", "1403-Q1"))
    assert closed.total == win["won"] + win["lost"]  # a rate lists its denominator's rows
    assert sum(r["status"] == "won" for r in closed.rows) == win["won"]
    won = drill(engine, RowsQuery("win_rate", "1403-Q1", measure="won_value"))
    assert _close(won.value_sum, win["won_value"])
    pipe = engine.run(Query("pipeline", "1403-01")).rows[0]
    open_ = drill(engine, RowsQuery("pipeline", "1403-01"))
    assert open_.total == pipe["open_deals"]
    assert _close(open_.value_sum, pipe["open_value"])
    mql = engine.run(Query("mql_to_sql", "1403-Q1")).rows[0]
    leads = drill(engine, RowsQuery("mql_to_sql", "1403-Q1"))
    assert leads.total == mql["mqls"] and sum(bool(r["sql"]) for r in leads.rows) == mql["sqls"]
    hours = engine.run(Query("data_entry_share", "1403-Q1")).rows[0]
    assert _close(drill(engine, RowsQuery("data_entry_share", "1403-Q1")).value_sum, hours["total_hours"])
    new = engine.run(Query("new_customers", "1403-Q1")).rows[0]
    assert drill(engine, RowsQuery("new_customers", "1403-Q1")).total == new["new_customers"]


def test_a_reps_and_a_teams_rows_are_their_own(any_workspace: Workspace) -> None:
    ws = kpi_data.fill(any_workspace)
    for scope in ("R1", "r2", frozenset({"R1", "R2"}), frozenset()):
        engine = ws.engine(rep_scope=scope)
        revenue = engine.run(Query("revenue", "1403-Q1")).rows
        rows = drill(engine, RowsQuery("revenue", "1403-Q1"))
        assert _close(rows.value_sum, revenue[0]["revenue"] if revenue else 0.0), scope
        allowed = {scope.upper()} if isinstance(scope, str) else set(scope)
        assert {r["rep"] for r in rows.rows} <= allowed
    assert drill(ws.engine(rep_scope=frozenset()), RowsQuery("revenue", "1403-Q1")).total == 0  # no rep: no row
    assert drill(ws.engine(rep_scope="R1"), RowsQuery("revenue", "1403-Q1")).total == 2  # O1's two lines and O5


def test_paging_and_explain(workspace: Workspace) -> None:
    ws = _demo(workspace)
    engine = ws.engine()
    whole = drill(engine, RowsQuery("revenue", "1403", limit=500))
    assert whole.total > 60
    first = drill(engine, RowsQuery("revenue", "1403", limit=30))
    second = drill(engine, RowsQuery("revenue", "1403", limit=30, offset=30))
    assert first.rows + second.rows == whole.rows[:60]
    days = [r["day"] for r in whole.rows]
    assert days == sorted(days, reverse=True)  # newest first
    assert first.total == whole.total and _close(first.value_sum, whole.value_sum)
    everything = drill(engine, RowsQuery("revenue", "1403"), export=True)
    assert len(everything.rows) == whole.total
    sql = explain(engine, RowsQuery("revenue", "1403-10", (("region", "Tehran"),), limit=10))
    assert "LIMIT 10" in sql.upper() and "_f_revenue_lines" in sql  # paged in the warehouse, from the stored cohort


def test_bad_drills_are_the_users_errors(workspace: Workspace) -> None:
    ws = kpi_data.fill(workspace)
    engine = ws.engine()
    # a member without data (a region with a target only, a typo) has no rows
    assert drill(engine, RowsQuery("revenue", "1403-Q1", (("region", "Atlantis"),))).total == 0
    with pytest.raises(InvalidQuery):
        drill(engine, RowsQuery("revenue", "1403-Q1", (("colour", "red"),)))
    k = engine.kpi("new_initiative_revenue")
    with pytest.raises(InvalidQuery, match="cannot be listed"):
        population(k, "investment")
    assert population(k)[2] == "revenue_lines"


def test_real_revenue_rows_are_deflated_by_their_months_cpi(workspace: Workspace) -> None:
    """``real_growth`` lists revenue lines whose real amounts (net / the CPI of the line's Jalali
    month) add up to the value the rows report, computed here from the cpi table by hand."""
    from sanjeh.calendar import unit_of

    ws = _demo(workspace)
    engine = ws.engine()
    got = drill(engine, RowsQuery("sales_growth", "1403-Q3", measure="real_growth"), export=True)
    assert got.value_column == "real_amount" and got.total > 20
    cpi = {r["month"]: r["index"] for r in ws.warehouse.table("cpi").to_pyarrow().to_pylist()}
    by_hand = 0.0
    for r in got.rows:
        day = r["day"]
        by_hand += r["net_amount"] / cpi[unit_of(day, "jalali", "month").label]
    assert _close(got.value_sum, by_hand)
