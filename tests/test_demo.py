"""The demo data builder: canonical files, every SCHEMA.md rule, realism, determinism, bounded chunks.

Most tests check the files against the rules of schema.py / SCHEMA.md directly
(fast, and each rule named); one imports a small set with the real importer.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from sanjeh.calendar import gregorian_to_jalali, parse_period
from sanjeh.demo import CHUNK_ORDERS, iter_demo_tables, write_demo_csv
from sanjeh.demo.plan import month_plan
from sanjeh.errors import UserError
from sanjeh.ingest import list_rejects, list_warnings, run_import
from sanjeh.schema import CODE_COLUMNS, IMPORT_ORDER, TABLES_BY_NAME
from sanjeh.workspace import Workspace
from tests.conftest import SHARED

ORDERS = 2000
TS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("demo")
    counts = write_demo_csv(out, orders=ORDERS, seed=7)
    return out, counts


@pytest.fixture(scope="module")
def frames(demo: tuple[Path, dict[str, int]]) -> dict[str, pd.DataFrame]:
    """Every file as raw text (empty cells are empty strings)."""
    out, _ = demo
    return {
        name: pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        for name in IMPORT_ORDER
    }


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None))


def test_every_table_written_with_canonical_header(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    assert set(counts) == set(IMPORT_ORDER)
    for name in IMPORT_ORDER:
        lines = (out / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == ",".join(TABLES_BY_NAME[name].column_names), name
        assert counts[name] == len(lines) - 1 > 0, name
    assert counts["orders"] == ORDERS
    assert 20 <= counts["reps"] <= 40
    assert 50 <= counts["products"] <= 200


def test_required_unique_enum_and_formats(frames: dict[str, pd.DataFrame]) -> None:
    for name, df in frames.items():
        table = TABLES_BY_NAME[name]
        for col in table.columns:
            values = df[col.name]
            set_values = values[values != ""]
            if col.required:
                assert (values != "").all(), f"{name}.{col.name} has empty required values"
            if col.unique:
                assert values.is_unique, f"{name}.{col.name} is not unique"
            if col.values:
                assert set(set_values) <= set(col.values), f"{name}.{col.name}"
            if col.type == "timestamp":
                assert set_values.str.match(TS).all(), f"{name}.{col.name}"
            if col.type == "date":
                assert set_values.str.match(DATE).all(), f"{name}.{col.name}"
            if col.type in ("money", "decimal", "integer"):
                assert set_values.str.match(NUMBER).all(), f"{name}.{col.name} (plain numbers, no exponent)"
            if col.name in CODE_COLUMNS:
                assert set_values.str.match(CODE).all(), f"{name}.{col.name} is not lower_snake"
            if col.min is not None:
                nums = _num(set_values)
                assert ((nums > col.min) if col.min_exclusive else (nums >= col.min)).all(), f"{name}.{col.name}"
            if col.max is not None:
                assert (_num(set_values) <= col.max).all(), f"{name}.{col.name}"
        if table.key_unique and len(table.key) > 1:
            assert not df.duplicated(list(table.key)).any(), name


def test_cross_column_rules(frames: dict[str, pd.DataFrame]) -> None:
    leads = frames["leads"]
    both = (leads.mql_at != "") & (leads.sql_at != "")
    assert (leads.sql_at[both] >= leads.mql_at[both]).all()
    assert ((leads.sql_at != "") & (leads.mql_at == "")).any()  # allowed, and exercised
    opps = frames["opportunities"]
    closed = opps.status.isin(["won", "lost"])
    assert (opps.closed_at[closed] != "").all()
    assert (opps.closed_at[closed] >= opps.created_at[closed]).all()
    lines = frames["order_lines"]
    net = _num(lines.quantity) * _num(lines.unit_price) - _num(lines.discount)
    assert (net >= 0).all()
    assert (_num(lines.quantity) > 0).all()
    assert set(lines.order_id) <= set(frames["orders"].order_id)
    assert not lines.duplicated(["order_id", "line_no"]).any()
    assert lines.groupby("order_id").size().between(1, 5).all()
    orders = frames["orders"]
    cancelled = orders.status == "cancelled"
    assert (orders.cancelled_at[cancelled] >= orders.ordered_at[cancelled]).all()
    assert (orders.cancelled_at[~cancelled] == "").all()


def test_references_resolve(frames: dict[str, pd.DataFrame]) -> None:
    """No data-quality warnings: every referenced id exists."""
    known = {
        "customer_id": set(frames["customers"].customer_id),
        "rep_id": set(frames["reps"].rep_id),
        "product_id": set(frames["products"].product_id),
        "lead_id": set(frames["leads"].lead_id),
        "opportunity_id": set(frames["opportunities"].opportunity_id),
    }
    for name, df in frames.items():
        for col, ids in known.items():
            if col in df.columns and not TABLES_BY_NAME[name].column(col).unique:
                used = set(df[col]) - {""}
                assert used <= ids, f"{name}.{col}: {sorted(used - ids)[:5]}"
    reps = frames["reps"]
    assert set(reps.manager_id) - {""} <= set(reps.rep_id)
    assert set(frames["products"].initiative_id) - {""} == set(frames["initiatives"].initiative_id)


def test_won_deal_amount_is_its_orders_value(frames: dict[str, pd.DataFrame]) -> None:
    lines = frames["order_lines"]
    value = (_num(lines.quantity) * _num(lines.unit_price) - _num(lines.discount)).groupby(lines.order_id).sum()
    orders = frames["orders"].set_index("order_id")
    per_deal = value.groupby(orders.opportunity_id.reindex(value.index)).sum().drop("", errors="ignore")
    won = frames["opportunities"].set_index("opportunity_id")
    won = won[won.status == "won"]
    assert set(per_deal.index) == set(won.index)
    assert (abs(per_deal - _num(won.amount).reindex(per_deal.index)) <= 1).all()
    # first order comes after the deal closed
    first = orders[orders.opportunity_id != ""].groupby("opportunity_id").ordered_at.min()
    assert (first >= won.closed_at.reindex(first.index)).all()


def _jalali(ts: pd.Series) -> pd.DataFrame:
    days = pd.to_datetime(ts.str.slice(0, 10)).dt.date
    parts = [gregorian_to_jalali(d) for d in days]
    return pd.DataFrame(parts, columns=["y", "m", "d"], index=ts.index)


def test_realistic_shape(frames: dict[str, pd.DataFrame]) -> None:
    orders, lines = frames["orders"], frames["order_lines"]
    value = (_num(lines.quantity) * _num(lines.unit_price) - _num(lines.discount)).groupby(lines.order_id).sum()
    live = orders[orders.status != "cancelled"].set_index("order_id")
    j = _jalali(live.ordered_at)
    assert set(j.y) == {1401, 1402, 1403}
    # orders span exactly 1401-01-01 .. 1403-12-30, before the suite's fixed "today" (1404-01-12)
    assert orders.ordered_at.min() >= "2022-03-21"
    assert orders.ordered_at.max() < "2025-03-21"
    rev = value.reindex(live.index).groupby([j.y, j.m]).sum()
    for y in (1401, 1402, 1403):
        assert rev[(y, 1)] < rev[(y, 12)], f"Farvardin {y} is not below Esfand"
        assert rev[(y, 1)] < rev.loc[y].median()
    yearly = rev.groupby(level=0).sum()
    assert 1.2 < yearly[1402] / yearly[1401] < 1.8  # inflation (~40%) plus a little growth
    assert 1.2 < yearly[1403] / yearly[1402] < 1.8
    assert 1e7 < value.median() < 1e11  # tens to thousands of millions of rials
    share_cancelled = (orders.status == "cancelled").mean()
    assert 0.04 < share_cancelled < 0.09
    reasons = orders.cancel_reason[orders.status == "cancelled"]
    assert (reasons == "").any()
    assert (reasons != "").mean() > 0.7
    assert (orders.region == "").any()
    assert (orders.contact_method == "").any()
    leads = frames["leads"]
    mql = leads.mql_at != ""
    assert 0.15 <= ((leads.sql_at != "") & mql).sum() / mql.sum() <= 0.30
    opps = frames["opportunities"]
    won, lost = (opps.status == "won").sum(), (opps.status == "lost").sum()
    assert 0.3 < won / (won + lost) < 0.55
    assert (opps.status == "open").any()
    assert (opps.source == "").any()
    acts = frames["activities"]
    calls = acts[acts.type == "call"]
    assert {"no_answer", "connected", "prospect"} <= set(calls.outcome)


def test_time_entries_on_iranian_working_days(frames: dict[str, pd.DataFrame]) -> None:
    te = frames["time_entries"]
    days = pd.to_datetime(te.day)
    assert not (days.dt.day_of_week == 4).any()  # no Fridays
    j = _jalali(te.day.drop_duplicates())
    assert not ((j.m == 1) & (j.d <= 4)).any()  # Nowruz
    per_day = _num(te.hours).groupby([te.rep_id, te.day]).sum()
    thursday = pd.to_datetime(per_day.index.get_level_values(1)).day_of_week == 3
    assert per_day[thursday].max() <= 7
    assert per_day[~thursday].median() > 7
    assert set(te.category) == {"selling", "data_entry", "admin", "meeting", "travel", "training"}


def _kpi_names() -> set[str]:
    text = (SHARED / "spec" / "KPIS.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| [^|]* \| `([a-z_]+)` \|", text, flags=re.MULTILINE))


def test_targets_name_kpis_and_jalali_periods(frames: dict[str, pd.DataFrame]) -> None:
    targets = frames["targets"]
    kpis = _kpi_names()
    assert {"revenue", "sales_by_region", "win_rate", "new_customers", "mql_to_sql"} <= kpis
    assert set(targets.kpi) <= kpis
    assert {"revenue", "sales_by_region", "win_rate", "new_customers", "mql_to_sql"} <= set(targets.kpi)
    for label in set(targets.period):
        assert parse_period(label).label == label
        assert parse_period(label).calendar == "jalali"
    assert {"1403-Q1", "1403-01", "1403"} <= set(targets.period)
    regions = set(frames["customers"].region)
    by_region = targets[targets.dimension == "region"]
    assert "مرکزی" in set(by_region.member)
    assert len(set(by_region.member) - regions) == 1  # one planned province with no sales yet
    assert not targets.duplicated(["kpi", "measure", "period", "dimension", "member"]).any()
    cpi = frames["cpi"]
    assert list(cpi.month) == [f"{y}-{m:02d}" for y in (1401, 1402, 1403) for m in range(1, 13)]
    idx = _num(cpi["index"])
    for y in range(2):
        assert 1.3 < idx[12 * y + 12] / idx[12 * y] < 1.5  # 35–45% a year


def test_plain_ids_and_members(frames: dict[str, pd.DataFrame]) -> None:
    ascii_id = re.compile(r"^[A-Za-z0-9_\-]+$")
    for name, col in [("reps", "rep_id"), ("products", "product_id"), ("customers", "customer_id")]:
        assert frames[name][col].str.match(ascii_id).all()
    # provinces, stages and reasons are Persian words (what a Persian CRM holds); ids and codes stay Latin
    assert frames["customers"].region.str.match(r"^[\u0600-\u06ff\u200c ]+$").all()
    assert "خراسان رضوی" in set(frames["customers"].region)
    assert frames["opportunities"].stage.str.contains("[\u0600-\u06ff]").all()
    reasons = frames["orders"].cancel_reason.replace("", None).dropna()
    assert len(reasons) and reasons.str.contains("[\u0600-\u06ff]").all()
    assert frames["customers"].name.str.contains("[\u0600-\u06ff]").all()  # Persian display names


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    def digest(d: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob("*.csv"))}

    start = time.perf_counter()
    write_demo_csv(tmp_path / "a", orders=ORDERS, seed=11)
    assert time.perf_counter() - start < 5
    write_demo_csv(tmp_path / "b", orders=ORDERS, seed=11)
    write_demo_csv(tmp_path / "c", orders=ORDERS, seed=12)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert len(a) == 12
    assert a == b
    assert a["orders.csv"] != c["orders.csv"]


def test_chunks_are_bounded_and_ids_unique_across_them() -> None:
    plan = month_plan(10_000_000)
    assert sum(n for _, _, n in plan) == 10_000_000
    assert max(n for _, _, n in plan) <= CHUNK_ORDERS
    assert len({(y, m) for y, m, _ in plan}) == 36
    # several chunks per month: ids stay unique and lines follow their orders
    seen: dict[str, set[str]] = {"orders": set(), "leads": set(), "opportunities": set(), "activities": set()}
    order_chunks = 0
    for name, table in iter_demo_tables(orders=3000, seed=3, chunk_orders=40):
        if name in seen:
            ids = table.column(0).to_pylist()
            assert not seen[name] & set(ids)
            seen[name] |= set(ids)
            order_chunks += name == "orders"
        if name == "order_lines":
            assert set(table.column("order_id").to_pylist()) <= seen["orders"]
    assert order_chunks > 36
    assert len(seen["orders"]) == 3000


@pytest.mark.parametrize("orders", [0, -5, 10**9])
def test_bad_order_count_is_a_user_error(tmp_path: Path, orders: int) -> None:
    with pytest.raises(UserError, match="number of demo orders"):
        write_demo_csv(tmp_path, orders=orders)


def test_progress_reports_months() -> None:
    seen: list[tuple[str, float]] = []
    for _ in iter_demo_tables(orders=500, seed=1, progress=lambda stage, f: seen.append((stage, f))):
        pass
    assert seen[0][0] == "1401-01"
    assert seen[-1] == ("1403-12", 1.0)
    assert [f for _, f in seen] == sorted(f for _, f in seen)


def test_imports_with_nothing_rejected_and_no_warnings(tmp_path: Path, workspace: Workspace) -> None:
    counts = write_demo_csv(tmp_path / "csv", orders=300, seed=5)
    summary = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "csv"])
    assert {name: c.read for name, c in summary.tables.items()} == counts
    assert all(c.rejected == 0 for c in summary.tables.values()), list_rejects(workspace.warehouse)[:5]
    assert summary.warnings == 0, list_warnings(workspace.warehouse)[:5]
    got = workspace.warehouse.fetch("select count(*) from order_lines")
    assert got[0][0] == counts["order_lines"]


def test_revenue_targets_are_one_plan_whose_parts_add_up(tmp_path: Path) -> None:
    """The demo's member targets make up the company's: regions and reps share each quarter, months
    share their quarter, a year is its quarters; the revenue KPI by region uses the same plan as
    sales by region (a director never sees two targets for one region)."""
    from sanjeh.demo import iter_demo_tables
    from sanjeh.kpis.query import Query
    from sanjeh.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=1500):
            ws.warehouse.insert_arrow(name, chunk)
    e = ws.engine()
    company = e.run(Query("revenue", "1403-Q4")).rows[0]["target"]
    regions = {r["region"]: r["target"] for r in e.run(Query("sales_by_region", "1403-Q4")).rows}
    by_region = {r["region"]: r["target"] for r in e.run(Query("revenue", "1403-Q4", by=("region",))).rows}
    reps = [r["target"] for r in e.run(Query("sales_per_rep", "1403-Q4")).rows]
    assert company and sum(regions.values()) == company and sum(reps) == company
    assert by_region == {k: v for k, v in regions.items() if k in by_region} and len(by_region) > 10
    months = sum(e.run(Query("revenue", f"1403-{m}")).rows[0]["target"] for m in ("10", "11", "12"))
    quarters = sum(e.run(Query("revenue", f"1403-Q{q}")).rows[0]["target"] for q in range(1, 5))
    assert months == company and quarters == e.run(Query("revenue", "1403")).rows[0]["target"]
