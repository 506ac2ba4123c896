"""Every KPI of KPIS.md against numbers computed by hand (tests/kpi_data.py), on DuckDB, PostgreSQL and Spark.

Each test runs on every backend of ``SUITE_BACKENDS``: the same expected numbers on each is what
"identical results" means here. What a backend cannot do is declared on the test
(``notimpl``/``never``, tests/conftest.py), never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sanjeh.errors import InvalidPeriod, InvalidQuery, UnknownKPI
from sanjeh.kpis import Query
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import load
from tests.conftest import SUITE_BACKENDS, Templates, engine_of, engines_shared

approx = pytest.approx


@pytest.fixture(scope="module", params=SUITE_BACKENDS)
def ws(
    request: pytest.FixtureRequest, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """The hand-made company on each backend, shared by the tests of this module that only read it
    (a test that writes takes ``own_ws``, its own copy)."""
    with (
        templates.opened(tmp_path_factory.mktemp("kpis") / "ws", request.param, kpi_data.fill) as shared,
        engines_shared(shared),
    ):
        yield shared


@pytest.fixture
def own_ws(suite_backend: str, templates: Templates, tmp_path: Path) -> Iterator[Workspace]:
    """The hand-made company on each backend, this test's own to change."""
    with templates.opened(tmp_path / "ws", suite_backend, kpi_data.fill) as ws:
        yield ws


def run(ws: Workspace, kpi: str, period: str, **kw: Any) -> list[dict[str, Any]]:
    return engine_of(ws).run(Query(kpi, period, **kw)).rows


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_revenue_by_month_fills_empty_steps_and_applies_targets(ws: Workspace) -> None:
    rows = run(ws, "revenue", "1403-Q1", grain="month")
    assert [r["period"] for r in rows] == ["1403-01", "1403-02", "1403-03"]
    assert [r["revenue"] for r in rows] == approx([240.0, 25.0, 1000.0])
    assert [r["orders"] for r in rows] == [1, 1, 1]
    # a target written `1403-1` applies to the 1403-01 row; the rest of the quarter's 1,000 is
    # spread over its other days (1403-02 and 1403-03 have 31 days each: 350 apiece)
    assert rows[0]["target"] == 300.0
    assert rows[0]["attainment"] == approx(0.8)
    assert [r["target"] for r in rows[1:]] == approx([350.0, 350.0])
    assert rows[1]["attainment"] == approx(25.0 / 350.0)


def test_revenue_whole_period(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "1403-Q1")
    assert row["period"] == "1403-Q1"
    assert row["revenue"] == approx(1265.0)
    assert row["orders"] == 3
    assert row["units"] == approx(16.0)
    assert row["customers"] == 3
    assert row["target"] == 1000.0 and row["attainment"] == approx(1.265)


def test_revenue_compared_with_previous_quarter(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "1403-Q1", compare="previous")
    assert row["previous_revenue"] == approx(80.0)  # O5 on 2024-03-10 is in 1402-Q4
    assert row["revenue_change"] == approx(1185.0)
    assert row["revenue_change_rate"] == approx(1185.0 / 80.0)


def test_month_comparison_looks_before_the_period(ws: Workspace) -> None:
    rows = run(ws, "revenue", "1403-Q1", grain="month", compare="previous")
    assert [r["previous_revenue"] for r in rows] == approx([80.0, 240.0, 25.0])


def test_year_ago_without_data_is_zero_and_rate_null(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "1403-Q1", compare="year_ago")
    assert row["previous_revenue"] == 0
    assert row["revenue_change_rate"] is None


def test_sales_by_region_shares_and_target_member_without_sales(ws: Workspace) -> None:
    rows = by(run(ws, "sales_by_region", "1403-Q1"), "region")
    assert set(rows) == {"Tehran", "Fars", "unknown", "markazi"}
    assert rows["Tehran"]["revenue"] == approx(240.0)
    assert rows["unknown"]["revenue"] == approx(1000.0)  # C3 has no region
    assert rows["Fars"]["revenue_share"] == approx(25 / 1265)
    assert rows["markazi"]["revenue"] == 0 and rows["markazi"]["target"] == 1500.0
    assert rows["markazi"]["attainment"] is None
    assert rows["Tehran"]["units_target"] == 4.0 and rows["Tehran"]["units_attainment"] == approx(3 / 4)


def test_sales_by_product(ws: Workspace) -> None:
    rows = by(run(ws, "sales_by_product", "1403-Q1"), "product")
    assert rows["P1"]["revenue"] == approx(200.0) and rows["P1"]["orders"] == 1
    assert rows["P2"]["revenue"] == approx(1065.0) and rows["P2"]["units"] == approx(14.0)
    assert rows["P2"]["orders"] == 3
    assert rows["P2"]["revenue_share"] == approx(1065 / 1265)


def test_new_initiative_revenue(ws: Workspace) -> None:
    (row,) = run(ws, "new_initiative_revenue", "1403-Q1")
    assert row["initiative"] == "I1"
    assert row["revenue"] == approx(200.0)
    assert row["cumulative_revenue"] == approx(200.0)
    assert row["investment"] == approx(1000.0)
    assert row["return_ratio"] == approx(0.2)
    assert row["revenue_share"] == approx(200 / 1265)


def test_cancelled_orders(ws: Workspace) -> None:
    (row,) = run(ws, "cancelled_orders", "1403-Q1")
    assert row["orders"] == 5 and row["cancelled_orders"] == 2
    assert row["cancellation_rate"] == approx(0.4)
    assert row["cancelled_value"] == approx(140.0)
    assert row["target"] == 0.5 and row["attainment"] == approx(0.5 / 0.4)  # good direction is down


def test_cancelled_orders_by_reason_divides_by_all_orders(ws: Workspace) -> None:
    rows = by(run(ws, "cancelled_orders", "1403-Q1", by=("cancel_reason",)), "cancel_reason")
    assert set(rows) == {"price", "unspecified"}
    assert rows["price"]["cancellation_rate"] == approx(0.2)
    assert rows["unspecified"]["cancelled_value"] == approx(90.0)
    assert rows["price"]["orders"] == 5


def test_cancelled_orders_by_product_counts_an_order_once_per_product(ws: Workspace) -> None:
    rows = by(run(ws, "cancelled_orders", "1403-Q1", by=("product",)), "product")
    assert rows["P1"]["orders"] == 3 and rows["P1"]["cancelled_orders"] == 2
    assert rows["P1"]["cancelled_value"] == approx(120.0)
    assert rows["P2"]["orders"] == 4 and rows["P2"]["cancellation_rate"] == approx(0.25)


def test_opportunities_by_source(ws: Workspace) -> None:
    rows = by(run(ws, "opportunities_by_source", "1403-Q1"), "source")
    assert set(rows) == {"webinar", "referral", "cold_call"}  # OP1's source comes from its lead
    assert rows["webinar"]["pipeline_value"] == approx(300.0) and rows["webinar"]["win_rate"] == 1.0
    assert rows["referral"]["lost"] == 1 and rows["referral"]["win_rate"] == 0.0
    assert rows["cold_call"]["win_rate"] is None  # only an open deal: no denominator


def test_mql_to_sql(ws: Workspace) -> None:
    (row,) = run(ws, "mql_to_sql", "1403-Q1")
    assert (row["mqls"], row["sqls"], row["rate"]) == (4, 2, 0.5)
    rows = by(run(ws, "mql_to_sql", "1403-Q1", by=("source",)), "source")
    assert rows["unknown"]["mqls"] == 1 and rows["unknown"]["rate"] == 0.0
    assert rows["referral"]["rate"] == 1.0
    regions = by(run(ws, "mql_to_sql", "1403-Q1", by=("region",)), "region")
    assert regions["Tehran"]["mqls"] == 1 and regions["Markazi"]["sqls"] == 1  # from the lead's customer
    assert regions["unknown"]["mqls"] == 2
    # a query that does not read the region skips the customers (sources.py); one that filters on it does not
    (markazi,) = run(ws, "mql_to_sql", "1403-Q1", filters=(("region", "Markazi"),))
    assert markazi["sqls"] == regions["Markazi"]["sqls"] == 1


def test_mql_boundary_of_jalali_month(ws: Workspace) -> None:
    # L4 became MQL at 2024-03-19 23:59, the last minute of 1402-12
    assert run(ws, "mql_to_sql", "1402-12")[0]["mqls"] == 1
    assert run(ws, "mql_to_sql", "1403-01")[0]["mqls"] == 2


def test_article_example_1000_mqls_150_sqls(suite_workspace: Workspace) -> None:
    leads = [
        {
            "lead_id": f"L{i}",
            "created_at": "2024-04-01 00:00:00",
            "mql_at": "2024-04-02 00:00:00",
            "sql_at": "2024-05-01 00:00:00" if i < 150 else None,
        }
        for i in range(1000)
    ]
    load(suite_workspace, leads=leads)
    (row,) = run(suite_workspace, "mql_to_sql", "1403-01")
    assert (row["mqls"], row["sqls"], row["rate"]) == (1000, 150, 0.15)


def test_win_rate_and_deal_size(ws: Workspace) -> None:
    (row,) = run(ws, "win_rate", "1403-Q1")
    assert (row["won"], row["lost"]) == (2, 1)
    assert row["win_rate"] == approx(2 / 3)
    assert row["won_value"] == approx(1300.0) and row["average_deal_size"] == approx(650.0)


def test_win_rate_by_quarter_of_a_year(ws: Workspace) -> None:
    rows = run(ws, "win_rate", "1403", grain="quarter")
    assert [r["period"] for r in rows] == ["1403-Q1", "1403-Q2", "1403-Q3", "1403-Q4"]
    assert [(r["won"], r["lost"]) for r in rows] == [(2, 1), (0, 0), (0, 0), (0, 0)]  # every deal closed in Q1
    assert rows[0]["win_rate"] == approx(2 / 3) and rows[0]["average_deal_size"] == approx(650.0)
    assert all(r["win_rate"] is None and r["average_deal_size"] is None for r in rows[1:])


def test_sales_cycle(ws: Workspace) -> None:
    (row,) = run(ws, "sales_cycle", "1403-Q1")
    assert row["deals"] == 2
    assert row["median_days"] == approx(62.75)  # 35.5 days (from lead L1) and 90 days (from OP4 itself)
    assert row["mean_days"] == approx(62.75)
    assert row["p90_days"] == approx(35.5 + 0.9 * 54.5)


def test_sales_per_rep(ws: Workspace) -> None:
    rows = by(run(ws, "sales_per_rep", "1403-Q1"), "rep")
    assert rows["R1"]["revenue"] == approx(240.0) and rows["R1"]["won_deals"] == 1
    assert rows["R2"]["revenue"] == approx(1025.0) and rows["R2"]["orders"] == 2
    assert rows["R2"]["won_value"] == approx(1000.0)


def test_calls_per_rep(ws: Workspace) -> None:
    rows = by(run(ws, "calls_per_rep", "1403-Q1"), "rep")
    assert rows["R1"]["calls"] == 2 and rows["R1"]["prospects"] == 1  # the email does not count
    assert rows["R1"]["prospect_rate"] == 0.5
    assert rows["R1"]["calls_per_month"] == approx(2 / 3)
    assert rows["R2"]["calls_per_month"] == approx(1 / 3)


def test_data_entry_share(ws: Workspace) -> None:
    (row,) = run(ws, "data_entry_share", "1403-Q1")
    assert row["share"] == approx(6 / 16)
    rows = by(run(ws, "data_entry_share", "1403-Q1", by=("rep",)), "rep")
    assert rows["R1"]["share"] == approx(0.25) and rows["R2"]["share"] == approx(0.5)


def test_sales_by_contact_method(ws: Workspace) -> None:
    rows = by(run(ws, "sales_by_contact_method", "1403-Q1"), "contact_method")
    assert rows["phone"]["revenue"] == approx(240.0)  # O1 has none: its opportunity's
    assert rows["meeting"]["revenue"] == approx(1000.0) and rows["meeting"]["win_rate"] == 1.0
    assert rows["email"]["win_rate"] == 0.0


def test_new_customers(ws: Workspace) -> None:
    rows = run(ws, "new_customers", "1403-Q1", grain="month")
    assert [r["new_customers"] for r in rows] == [0, 1, 1]  # C1 first bought in 1402-12; O2 was cancelled
    regions = by(run(ws, "new_customers", "1403-Q1", by=("region",)), "region")
    assert regions["Markazi"]["new_customers"] == 1 and regions["unknown"]["new_customers"] == 1


def test_pipeline_at_each_step_end(ws: Workspace) -> None:
    rows = run(ws, "pipeline", "1403-Q1", grain="month")
    assert [r["open_value"] for r in rows] == approx([1700.0, 1200.0, 200.0])
    assert [r["open_deals"] for r in rows] == [3, 2, 1]


def test_sales_growth_nominal_yoy_and_real(ws: Workspace) -> None:
    rows = run(ws, "sales_growth", "1403-Q1")  # default grain: month
    assert [r["previous_revenue"] for r in rows] == approx([80.0, 240.0, 25.0])
    assert [r["growth"] for r in rows] == approx([2.0, 25 / 240 - 1, 39.0])
    assert all(r["yoy_growth"] is None for r in rows)  # nothing a year earlier
    assert rows[0]["real_growth"] == approx((240 / 110) / (80 / 100) - 1)
    assert rows[2]["real_growth"] == approx((1000 / 125) / (25 / 120) - 1)


def test_real_growth_is_null_when_an_index_is_missing(ws: Workspace) -> None:
    rows = run(ws, "sales_growth", "1403-02..1403-04")
    assert rows[0]["real_growth"] is not None
    assert rows[2]["period"] == "1403-04" and rows[2]["real_growth"] is None


def test_sales_growth_by_dimension_keeps_members_with_previous_revenue(ws: Workspace) -> None:
    rows = run(ws, "sales_growth", "1403-02", by=("region",))
    regions = by(rows, "region")
    assert regions["Tehran"]["revenue"] == 0 and regions["Tehran"]["previous_revenue"] == approx(240.0)
    assert regions["Tehran"]["growth"] == -1.0
    assert regions["Fars"]["growth"] is None  # nothing before


@pytest.mark.parametrize("cpi", ["none", "partial", "full"])
def test_sales_growth_by_region_with_any_cpi(own_ws: Workspace, cpi: str) -> None:
    """The optional cpi table never hides a member's row, and real growth is null (never -1)
    where an index is missing."""
    ws = own_ws
    ws.warehouse.truncate("cpi")
    months = {"none": [], "partial": ["1403-02"], "full": ["1403-01", "1403-02"]}[cpi]
    index = {"1403-01": 110.0, "1403-02": 120.0}
    load(ws, cpi=[{"month": m, "index": index[m]} for m in months])
    rows = by(run(ws, "sales_growth", "1403-02", by=("region",)), "region")
    assert set(rows) == {"Tehran", "Fars"}  # the same members whatever the cpi table holds
    assert rows["Tehran"]["growth"] == -1.0
    assert rows["Fars"]["real_growth"] is None  # nothing the month before
    if cpi == "full":
        assert rows["Tehran"]["real_growth"] == -1.0  # sold nothing: its real revenue is 0
    else:
        assert all(r["real_growth"] is None for r in rows.values()), rows


def test_no_orders_fallback_uses_won_opportunities(suite_workspace: Workspace) -> None:
    load(suite_workspace, opportunities=kpi_data.TABLES["opportunities"], customers=kpi_data.TABLES["customers"])
    (row,) = run(suite_workspace, "revenue", "1403-Q1")
    assert row["revenue"] == approx(1300.0) and row["orders"] == 2
    products = by(run(suite_workspace, "sales_by_product", "1403-Q1"), "product")
    assert products["P1"]["revenue"] == approx(300.0)


def test_empty_period_has_one_row_with_zero_and_null(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "1399")
    assert row["revenue"] == 0 and row["orders"] == 0
    (wr,) = run(ws, "win_rate", "1399")
    assert wr["win_rate"] is None


@pytest.mark.parametrize(("period", "days"), [("1400-12", 29), ("1403-12", 30), ("1403-01", 31)])
def test_jalali_month_lengths_by_day(ws: Workspace, period: str, days: int) -> None:
    rows = run(ws, "revenue", period, grain="day")
    assert len(rows) == days
    assert rows[0]["period"] == f"{period}-01"


def test_week_grain_clips_the_last_week(ws: Workspace) -> None:
    rows = run(ws, "revenue", "1403", grain="week")
    assert rows[0]["period"] == "1403-W01" and rows[-1]["period"] == "1404-W01"
    assert sum(r["revenue"] for r in rows) == approx(1265.0)


def test_week_grain_compared_with_a_year_ago(ws: Workspace) -> None:
    rows = by(run(ws, "revenue", "1403", grain="week", compare="year_ago"), "period")
    assert len(rows) == 53
    # 1402 has one order, O5 (80 on 1402-12-20): it is the year-ago revenue of 1403-W52 alone
    assert {p: r["previous_revenue"] for p, r in rows.items() if r["previous_revenue"]} == {"1403-W52": 80.0}
    assert rows["1403-W52"]["revenue_change_rate"] == -1.0
    assert rows["1403-W11"]["revenue"] == approx(1000.0) and rows["1403-W11"]["revenue_change_rate"] is None


def test_gregorian_target_never_matches_a_jalali_row(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "2024-Q2")
    assert row["target"] == 5.0  # matches its own calendar's row
    rows = run(ws, "revenue", "1403-Q1", grain="quarter")
    assert rows[0]["target"] == 1000.0


def test_filter_and_rep_scope(ws: Workspace) -> None:
    (row,) = run(ws, "revenue", "1403-Q1", filters=(("region", "tehran"),))
    assert row["revenue"] == approx(240.0)
    scoped = ws.engine(rep_scope="R1").run(Query("revenue", "1403-Q1")).rows[0]
    assert scoped["revenue"] == approx(240.0)
    assert scoped["target"] is None  # company targets are not a rep's


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (Query("nope", "1403"), UnknownKPI),
        (Query("revenue", "1403-13"), InvalidPeriod),
        (Query("revenue", "2024-Q5"), InvalidPeriod),
        (Query("revenue", "1403-02..1403-01"), InvalidPeriod),
        (Query("revenue", "1403..2024"), InvalidPeriod),
        (Query("revenue", "1403", grain="hour"), InvalidPeriod),
        (Query("revenue", "1403", by=("stage",)), InvalidQuery),
        (Query("revenue", "1403", by=("region; DROP TABLE orders",)), InvalidQuery),
        (Query("revenue", "1403", filters=(("region", "x' OR '1'='1"),)), InvalidQuery),
        (Query("revenue", "1403", compare="last_week"), InvalidQuery),
        (Query("revenue", "1403", measures=("nope",)), InvalidQuery),
    ],
)
def test_bad_queries_are_clear_errors(ws: Workspace, query: Query, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        ws.engine().run(query)
    assert info.value.args[0]
    assert ws.warehouse.table("orders").count().execute() == 6  # injection attempts changed nothing


def test_explain_returns_sql_without_running(ws: Workspace) -> None:
    sql = ws.engine(use_facts=False).explain(Query("sales_by_region", "1403-Q1", grain="month"))
    assert "SELECT" in sql and "order_lines" in sql
    fast = ws.engine().explain(Query("sales_by_region", "1403-Q1", grain="month"))
    if ws.warehouse.materialises:
        assert "_f_revenue_lines" in fast and "order_lines" not in fast  # the materialised cohort
    else:  # a warehouse that stores no cohorts (Spark) joins live
        assert fast == sql


def test_scorecard_puts_goal_kpis_first(ws: Workspace) -> None:
    sc = ws.engine().scorecard("1403-Q1").to_dict()
    assert [c["kpi"] for c in sc["primary"]] == ["revenue", "sales_growth", "sales_by_product"]
    rev = sc["primary"][0]
    assert rev["value"] == approx(1265.0) and rev["target"] == 1000.0
    assert rev["previous"] == approx(80.0) and rev["year_ago"] == 0
    assert len(rev["spark"]) == 12 and rev["spark"][-1]["period"] == "1403-03"
    assert {c["kpi"] for c in sc["secondary"]} >= {"win_rate", "pipeline", "cancelled_orders"}
    improved = [f for f in sc["insights"] if f["kpi"] == "revenue" and f["kind"] == "improved"]
    assert improved and "rose" in improved[0]["text"]["en"]
    # a card always split by rep shows every rep's calls together, and says so; revenue does not
    cards = {c["kpi"]: c for c in sc["primary"] + sc["secondary"]}
    assert cards["calls_per_rep"]["all_of"] == "rep" and rev["all_of"] is None


WORKSPACE_KPI = """
[[kpis]]
name = "calls_by_outcome"
title_fa = "تماس‌ها بر اساس نتیجه"
title_en = "Calls by outcome"
cohort = "activities"
where = [["type", "eq", "call"]]
headline = "calls"
dimensions = ["outcome", "rep"]
[[kpis.measures]]
name = "calls"
kind = "count"
unit = "count"
[[kpis.measures]]
name = "per_month"
kind = "per_month"
of = "calls"
"""


def test_workspace_kpi_from_settings_is_a_kpi_like_the_others(workspace: Workspace) -> None:
    kpi_data.fill(workspace)
    settings_file = workspace.root / "sanjeh.toml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + WORKSPACE_KPI, encoding="utf-8")
    ws = Workspace.open(workspace.root)
    try:
        assert "calls_by_outcome" in [k.name for k in ws.engine().catalogue()]
        rows = by(run(ws, "calls_by_outcome", "1403-Q1", by=("outcome",)), "outcome")
        assert rows["prospect"]["calls"] == 2 and rows["no_answer"]["calls"] == 1
        assert rows["prospect"]["per_month"] == approx(2 / 3)
        assert "calls_by_outcome" not in [c["kpi"] for c in ws.engine().scorecard("1403-Q1").primary]
    finally:
        ws.close()


def test_workspace_kpi_with_an_unknown_dimension_is_refused(workspace: Workspace) -> None:
    from sanjeh.errors import SettingsError

    settings_file = workspace.root / "sanjeh.toml"
    bad = WORKSPACE_KPI.replace('["outcome", "rep"]', '["colour"]')
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + bad, encoding="utf-8")
    with pytest.raises(SettingsError, match="no dimension 'colour'"):  # when it opens (sanjeh/check.py)
        Workspace.open(workspace.root)


def test_negative_sales_cycle_is_kept_and_warned(suite_workspace: Workspace) -> None:
    load(
        suite_workspace,
        leads=[{"lead_id": "L1", "created_at": "2024-04-10 00:00:00"}],
        opportunities=[
            {"opportunity_id": "X1", "created_at": "2024-04-01 00:00:00", "lead_id": "L1", "status": "won",
             "closed_at": "2024-04-08 00:00:00"},
            {"opportunity_id": "X2", "created_at": "2024-04-01 00:00:00", "status": "won",
             "closed_at": "2024-04-05 00:00:00"},
        ],
    )  # fmt: skip
    result = suite_workspace.engine().run(Query("sales_cycle", "1403-01"))
    (row,) = result.rows
    assert row["deals"] == 2 and row["median_days"] == approx((-2 + 4) / 2)
    assert result.warnings and "1 deal(s) closed before they started" in result.warnings[0]["en"]
    assert "warning__" not in "".join(result.columns)


def test_rows_carry_member_names(ws: Workspace) -> None:
    rows = by(run(ws, "sales_per_rep", "1403-Q1"), "rep")
    assert rows["R1"]["rep_name"] == "Sara"
    products = by(run(ws, "sales_by_product", "1403-Q1"), "product")
    assert products["P2"]["product_name"] == "Valve"


def test_python_api_returns_the_cli_rows(ws: Workspace) -> None:
    import sanjeh

    opened = sanjeh.open(ws.root) if ws.warehouse.kind == "duckdb" else ws
    try:
        df = opened.kpi("sales_by_region", period="1403-Q1", grain="month", filters={"region": "Tehran"})
        assert list(df.columns[:3]) == ["period", "region", "revenue"]
        # Tehran sold only in 1403-01; its Q1 units target, spread by days, gives its other months rows
        assert df["revenue"].tolist() == approx([240.0, 0.0, 0.0])
        assert df["units_target"].tolist() == approx([4 * 31 / 93, 4 * 31 / 93, 4 * 31 / 93])
        table = opened.kpi("revenue", "1403-Q1", arrow=True)
        assert table.num_rows == 1 and table["revenue"][0].as_py() == approx(1265.0)
        assert opened.scorecard("1403-Q1").primary[0]["kpi"] == "revenue"
    finally:
        if opened is not ws:
            opened.close()


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("region:Markazi", ("region", "Markazi")),  # the web's spelling
        ("region=Markazi", ("region", "Markazi")),  # the CLI's
        (" rep : R02 ", ("rep", "R02")),
        ("city=a:b", ("city", "a:b")),  # split at the first separator: a member may hold the other
        ("city:a=b", ("city", "a=b")),
    ],
)
def test_one_filter_parser_reads_both_spellings(text: str, pair: tuple[str, str]) -> None:
    from sanjeh.kpis.query import parse_filter

    assert parse_filter(text) == pair


@pytest.mark.parametrize("text", ["nonsense", ":Markazi", "region:", "  =  "])
def test_a_filter_without_dimension_or_member_is_a_clear_error(text: str) -> None:
    from sanjeh.kpis.query import parse_filter

    with pytest.raises(InvalidQuery) as got:
        parse_filter(text, key="cli.filter")
    assert got.value.key == "cli.filter" and got.value.text("fa") != got.value.text("en")
