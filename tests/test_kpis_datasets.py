"""The four real datasets through their shipped mappings: engine figures against plain pandas.

Every expected number here is computed independently, with pandas over the raw CSV
files in the shared datasets folder (read in place), following what the mapping and
docs/mappings.md say is kept. Each dataset is imported once per module (the UCI
import is the slow one, ~20 s).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from sanjeh.ingest import ImportSummary, list_rejects, run_import
from sanjeh.kpis import Query
from sanjeh.workspace import Workspace
from tests.conftest import DATASET_CURRENCIES, DATASETS

TODAY = dt.date(2025, 4, 1)
MAVEN = DATASETS / "maven-crm-sales-opportunities"
OLIST = DATASETS / "olist-marketing-funnel"
CLASSIC = DATASETS / "classicmodels"
UCI = DATASETS / "uci-online-retail"


def money(expected: Any) -> Any:
    return pytest.approx(expected, rel=1e-9)


def run(ws: Workspace, kpi: str, period: str, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ws.engine().run(Query(kpi, period, **kw)).rows
    return rows


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out = {r[key]: r for r in rows}
    assert len(out) == len(rows), f"duplicate {key} members"
    return out


def col(rows: dict[str, dict[str, Any]], measure: str) -> dict[str, Any]:
    return {k: r[measure] for k, r in rows.items()}


def read_text_csv(path: Any) -> pd.DataFrame:
    """Every column as text, exactly as written (``NA`` is North America, not a null)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Workspace, ImportSummary]]]:
    """One workspace per dataset, imported lazily and once (see ``imported``)."""
    opened: dict[str, tuple[Workspace, ImportSummary]] = {}
    yield opened
    for ws, _ in opened.values():
        ws.close()


def imported(
    cache: dict[str, tuple[Workspace, ImportSummary]],
    factory: pytest.TempPathFactory,
    folder: Any,
    mapping: str,
) -> tuple[Workspace, ImportSummary]:
    if mapping not in cache:
        ws = Workspace.init(factory.mktemp(mapping) / "ws", currency=DATASET_CURRENCIES[mapping])
        ws.clock = lambda: TODAY
        cache[mapping] = (ws, run_import(ws.warehouse, ws.import_options(), [folder], mapping=mapping))
    return cache[mapping]


@pytest.fixture(scope="module")
def maven(imports: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return imported(imports, tmp_path_factory, MAVEN, "maven-crm")[0]


@pytest.fixture(scope="module")
def olist(imports: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return imported(imports, tmp_path_factory, OLIST, "olist-funnel")[0]


@pytest.fixture(scope="module")
def classic(imports: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return imported(imports, tmp_path_factory, CLASSIC, "classicmodels")[0]


@pytest.fixture(scope="module")
def uci(imports: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return imported(imports, tmp_path_factory, UCI, "uci-online-retail")[0]


# -- every import: nothing read is lost --------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "mapping"),
    [(MAVEN, "maven-crm"), (OLIST, "olist-funnel"), (CLASSIC, "classicmodels"), (UCI, "uci-online-retail")],
)
def test_every_row_read_is_accepted_or_rejected_with_a_reason(
    imports: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, folder: Any, mapping: str
) -> None:
    ws, summary = imported(imports, tmp_path_factory, folder, mapping)
    assert summary.tables
    for name, counts in summary.tables.items():
        assert counts.read == counts.accepted + counts.rejected, name
        rejects = list_rejects(ws.warehouse, table=name)
        assert len(rejects) == counts.rejected, name
        assert all(isinstance(r["reason"], str) and r["reason"].strip() for r in rejects), name
        stored = ws.warehouse.fetch(f"SELECT count(*) FROM {name}")[0][0]
        assert stored == counts.accepted, name


# -- Maven CRM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maven_deals() -> pd.DataFrame:
    p = read_text_csv(MAVEN / "sales_pipeline.csv")
    p["engage"] = pd.to_datetime(p["engage_date"].replace("", None))
    p["close"] = pd.to_datetime(p["close_date"].replace("", None))
    p["value"] = pd.to_numeric(p["close_value"].replace("", None)).astype(float)
    p["product_id"] = p["product"].replace({"GTXPro": "GTX Pro"})  # the mapping's unification
    return p


def _closed_in(deals: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    c = deals[(deals["close"] >= start) & (deals["close"] < end)]
    return c[c["deal_stage"].isin(["Won", "Lost"])]


def test_maven_win_rate_2017_and_by_quarter(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    c = _closed_in(maven_deals, "2017-01-01", "2018-01-01")
    won, lost = (c["deal_stage"] == "Won").sum(), (c["deal_stage"] == "Lost").sum()
    (row,) = run(maven, "win_rate", "2017")
    assert (row["won"], row["lost"]) == (won, lost) == (4238, 2473)
    assert row["win_rate"] == money(won / (won + lost))
    assert row["won_value"] == money(c.loc[c["deal_stage"] == "Won", "value"].sum())
    assert row["average_deal_size"] == money(row["won_value"] / won)

    rows = run(maven, "win_rate", "2017", grain="quarter")
    assert [r["period"] for r in rows] == ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
    quarter = c["close"].dt.quarter
    for q, r in enumerate(rows, start=1):
        cq = c[quarter == q]
        w, lo = int((cq["deal_stage"] == "Won").sum()), int((cq["deal_stage"] == "Lost").sum())
        assert (r["won"], r["lost"]) == (w, lo), r["period"]
        assert r["win_rate"] == money(w / (w + lo))
        assert r["won_value"] == money(cq.loc[cq["deal_stage"] == "Won", "value"].sum())


def test_maven_win_rate_by_rep(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    c = _closed_in(maven_deals, "2017-01-01", "2018-01-01")
    g = c.groupby("sales_agent")["deal_stage"]
    won = g.apply(lambda s: int((s == "Won").sum())).to_dict()
    lost = g.apply(lambda s: int((s == "Lost").sum())).to_dict()
    rows = by(run(maven, "win_rate", "2017", by=("rep",)), "rep")
    assert set(rows) == set(won)
    assert len(rows) == 30  # five agents have no deals
    assert col(rows, "won") == won
    assert col(rows, "lost") == lost
    assert col(rows, "win_rate") == money({k: won[k] / (won[k] + lost[k]) for k in won})


def test_maven_sales_per_rep_uses_won_deals(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    w = _closed_in(maven_deals, "2017-01-01", "2018-01-01")
    w = w[w["deal_stage"] == "Won"]
    rows = by(run(maven, "sales_per_rep", "2017"), "rep")
    expected = w.groupby("sales_agent")["value"].sum().to_dict()
    assert col(rows, "revenue") == money(expected)  # no orders: won deals stand in
    assert col(rows, "won_value") == money(expected)
    assert col(rows, "won_deals") == w.groupby("sales_agent").size().to_dict()


def _cycle_days(deals: pd.DataFrame) -> pd.DataFrame:
    """Won deals closed in 2017, days = close_date - engage_date (created_at/closed_at of the mapping)."""
    w = _closed_in(deals, "2017-01-01", "2018-01-01")
    w = w[w["deal_stage"] == "Won"]
    return w.assign(days=(w["close"] - w["engage"]).dt.total_seconds() / 86400)


def test_maven_sales_cycle_2017(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    w = _cycle_days(maven_deals)
    (row,) = run(maven, "sales_cycle", "2017")
    assert row["deals"] == len(w) == 4238
    assert row["median_days"] == money(w["days"].median())
    assert row["mean_days"] == money(w["days"].mean())
    assert row["p90_days"] == money(w["days"].quantile(0.9))  # linear interpolation, like quantile_cont


def test_maven_sales_cycle_by_product_keeps_gtxpro_deals(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    w = _cycle_days(maven_deals)
    g = w.groupby("product_id")["days"]
    rows = by(run(maven, "sales_cycle", "2017", by=("product",)), "product")
    assert "GTXPro" not in rows
    assert "unknown" not in rows
    assert col(rows, "deals") == g.size().to_dict()
    assert rows["GTX Pro"]["deals"] == (w["product"] == "GTXPro").sum() == 729
    assert sum(r["deals"] for r in rows.values()) == len(w)
    assert col(rows, "median_days") == money(g.median().to_dict())
    assert col(rows, "mean_days") == money(g.mean().to_dict())
    assert col(rows, "p90_days") == money(g.quantile(0.9).to_dict())


def test_maven_win_rate_by_product_unifies_gtxpro(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    c = _closed_in(maven_deals, "2017-01-01", "2018-01-01")
    rows = by(run(maven, "win_rate", "2017", by=("product",)), "product")
    closed = c.groupby("product_id").size().to_dict()
    assert {k: r["won"] + r["lost"] for k, r in rows.items()} == closed
    assert "GTXPro" not in rows


def test_maven_opportunities_by_source_has_no_source(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    # the mapping sets no source: every deal created (engaged) in 2017 is `unknown`
    created = maven_deals[(maven_deals["engage"] >= "2017-01-01") & (maven_deals["engage"] < "2018-01-01")]
    (row,) = run(maven, "opportunities_by_source", "2017")
    assert row["source"] == "unknown"
    assert row["opportunities"] == len(created) == 7942
    assert row["pipeline_value"] == money(created["value"].fillna(0).sum())
    assert row["won"] == (created["deal_stage"] == "Won").sum()
    assert row["lost"] == (created["deal_stage"] == "Lost").sum()
    assert row["won_value"] == money(created.loc[created["deal_stage"] == "Won", "value"].sum())


def test_maven_revenue_falls_back_to_won_deals_by_close_month(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    w = _closed_in(maven_deals, "2017-01-01", "2018-01-01")
    w = w[w["deal_stage"] == "Won"]
    month = w["close"].dt.strftime("%Y-%m")
    rows = run(maven, "revenue", "2017", grain="month")
    assert [r["period"] for r in rows] == [f"2017-{m:02d}" for m in range(1, 13)]
    got = {r["period"]: r for r in rows}
    expected = w.groupby(month)["value"].sum().to_dict()
    assert {p: got[p]["revenue"] for p in got} == money({p: expected.get(p, 0.0) for p in got})
    n = w.groupby(month).size().to_dict()
    assert {p: got[p]["orders"] for p in got} == {p: n.get(p, 0) for p in got}
    accounts = w.groupby(month)["account"].nunique().to_dict()
    assert {p: got[p]["customers"] for p in got} == {p: accounts.get(p, 0) for p in got}
    assert sum(r["revenue"] for r in rows) == money(10005534.0)


def test_maven_open_pipeline_at_mid_year(maven: Workspace, maven_deals: pd.DataFrame) -> None:
    d = maven_deals[maven_deals["engage"].notna()]  # Prospecting deals are rejected (no date)
    end = pd.Timestamp("2017-06-30")
    still_open = (d["engage"] <= end) & (d["close"].isna() | (d["close"] > end))
    (row,) = run(maven, "pipeline", "2017-06")
    assert row["open_deals"] == still_open.sum()
    assert row["open_value"] == money(d.loc[still_open, "value"].fillna(0).sum())


# -- Olist marketing funnel --------------------------------------------------------------


@pytest.fixture(scope="module")
def olist_mqls() -> pd.DataFrame:
    m = read_text_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    m["first_contact"] = pd.to_datetime(m["first_contact_date"])
    m["source"] = m["origin"].str.strip().replace("", "unknown")  # blank origins are `unknown`
    return m


@pytest.fixture(scope="module")
def olist_deals(olist_mqls: pd.DataFrame) -> pd.DataFrame:
    d = read_text_csv(OLIST / "olist_closed_deals_dataset.csv")
    d = d.merge(olist_mqls[["mql_id", "first_contact", "source"]], on="mql_id", how="left", validate="one_to_one")
    d["won"] = pd.to_datetime(d["won_date"])
    d["days"] = (d["won"] - d["first_contact"]).dt.total_seconds() / 86400
    return d


def _in(ts: pd.Series, start: str, end: str) -> pd.Series:
    return (ts >= start) & (ts < end)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [("2018-Q1", "2018-01-01", "2018-04-01"), ("2017-06..2018-05", "2017-06-01", "2018-06-01")],
)
def test_olist_mqls_by_origin(olist: Workspace, olist_mqls: pd.DataFrame, period: str, start: str, end: str) -> None:
    m = olist_mqls[_in(olist_mqls["first_contact"], start, end)]
    rows = by(run(olist, "mql_to_sql", period, by=("source",)), "source")
    assert col(rows, "mqls") == m.groupby("source").size().to_dict()
    assert rows["unknown"]["mqls"] == ((m["origin"] == "unknown") | (m["origin"].str.strip() == "")).sum()
    (total,) = run(olist, "mql_to_sql", period)
    assert total["mqls"] == len(m)
    # SQLs are not in the export (sql_at never set): 0 of n MQLs became SQL, so the rate is 0 by KPIS.md
    assert total["sqls"] == 0
    assert total["rate"] == 0.0
    assert all(r["sqls"] == 0 and r["rate"] == 0.0 for r in rows.values())


def test_olist_whole_span_holds_every_mql(olist: Workspace, olist_mqls: pd.DataFrame) -> None:
    (total,) = run(olist, "mql_to_sql", "2017-06..2018-05")
    assert total["mqls"] == len(olist_mqls) == 8000


def test_olist_won_deals_by_origin_in_the_won_period(olist: Workspace, olist_deals: pd.DataFrame) -> None:
    for period, start, end in [("2018-Q1", "2018-01-01", "2018-04-01"), ("2018", "2018-01-01", "2019-01-01")]:
        w = olist_deals[_in(olist_deals["won"], start, end)]
        rows = by(run(olist, "win_rate", period, by=("source",)), "source")
        assert col(rows, "won") == w.groupby("source").size().to_dict(), period
        assert all(r["lost"] == 0 and r["win_rate"] == 1.0 for r in rows.values())  # only won deals are published


def test_olist_opportunities_by_source_by_creation(olist: Workspace, olist_deals: pd.DataFrame) -> None:
    # the mapping's created_at: first contact, or won_date when that is earlier
    created = olist_deals[["first_contact", "won"]].min(axis=1).dt.normalize()
    d = olist_deals[_in(created, "2018-01-01", "2019-01-01")]
    rows = by(run(olist, "opportunities_by_source", "2018"), "source")
    assert col(rows, "opportunities") == d.groupby("source").size().to_dict()


def test_olist_sales_cycle_from_first_contact(olist: Workspace, olist_deals: pd.DataFrame) -> None:
    assert olist_deals["won"].between("2017-12-01", "2018-12-01").all()
    for period, start, end in [("2018", "2018-01-01", "2019-01-01"), ("2017-12..2018-11", "2017-12-01", "2018-12-01")]:
        w = olist_deals[_in(olist_deals["won"], start, end)]
        (row,) = run(olist, "sales_cycle", period)
        assert row["deals"] == len(w), period
        assert row["median_days"] == money(w["days"].median())
        assert row["mean_days"] == money(w["days"].mean())
        assert row["p90_days"] == money(w["days"].quantile(0.9))
    w = olist_deals[_in(olist_deals["won"], "2018-01-01", "2019-01-01")]
    g = w.groupby("source")["days"]
    rows = by(run(olist, "sales_cycle", "2018", by=("source",)), "source")
    assert col(rows, "deals") == g.size().to_dict()
    assert col(rows, "median_days") == money(g.median().to_dict())


def test_olist_sales_cycle_by_segment_is_the_sellers_lead_type(olist: Workspace, olist_deals: pd.DataFrame) -> None:
    w = olist_deals[_in(olist_deals["won"], "2018-01-01", "2019-01-01")]
    segment = w["lead_type"].str.strip().replace("", "unknown")
    g = w.groupby(segment)["days"]
    rows = by(run(olist, "sales_cycle", "2018", by=("segment",)), "segment")
    assert "unknown" in rows
    assert col(rows, "deals") == g.size().to_dict()
    assert col(rows, "median_days") == money(g.median().to_dict())


def test_olist_sales_cycle_keeps_the_deal_won_before_first_contact(olist: Workspace, olist_deals: pd.DataFrame) -> None:
    negative = olist_deals[olist_deals["days"] < 0]
    assert len(negative) == 1  # README: one deal is won two calendar days before its first contact
    days = float(negative["days"].iloc[0])
    rep = str(negative["sr_id"].iloc[0])
    day = str(negative["won"].dt.strftime("%Y-%m-%d").iloc[0])
    assert -2 < days < -1
    same_day = olist_deals[olist_deals["won"].dt.strftime("%Y-%m-%d") == day]
    (row,) = run(olist, "sales_cycle", day)
    assert row["deals"] == len(same_day)  # kept, not dropped
    assert row["mean_days"] == money(same_day["days"].mean())
    assert row["median_days"] == money(same_day["days"].median())
    (rep_row,) = run(olist, "sales_cycle", day, filters=(("rep", rep),))
    assert len(same_day[same_day["sr_id"] == rep]) == 1
    assert rep_row["deals"] == 1
    assert rep_row["median_days"] == money(days)  # the negative span itself, from the lead's first contact


# -- ClassicModels --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classic_orders() -> pd.DataFrame:
    """One row per order: date, status, customer (country/rep, trimmed like every text value) and value."""
    o = read_text_csv(CLASSIC / "orders.csv")
    lines = read_text_csv(CLASSIC / "orderdetails.csv")
    customers = read_text_csv(CLASSIC / "customers.csv")
    lines["value"] = lines["quantityOrdered"].astype(float) * lines["priceEach"].astype(float)
    value = lines.groupby("orderNumber")["value"].sum()
    o["value"] = o["orderNumber"].map(value).fillna(0.0)
    o["units"] = o["orderNumber"].map(
        lines.groupby("orderNumber")["quantityOrdered"].apply(lambda s: s.astype(int).sum())
    )
    o["day"] = pd.to_datetime(o["orderDate"])
    o["cancelled"] = o["status"] == "Cancelled"
    customers["country"] = customers["country"].str.strip()  # "Norway  " is Norway
    o = o.merge(customers[["customerNumber", "country", "salesRepEmployeeNumber"]], on="customerNumber", how="left")
    assert o["country"].notna().all()
    return o


def test_classic_statuses(classic_orders: pd.DataFrame) -> None:
    assert classic_orders["status"].value_counts().to_dict() == {
        "Shipped": 303,
        "Cancelled": 6,
        "In Process": 6,
        "Resolved": 4,
        "On Hold": 4,
        "Disputed": 3,
    }


def test_classic_cancelled_orders_per_year_and_overall(classic: Workspace, classic_orders: pd.DataFrame) -> None:
    o = classic_orders
    rows = run(classic, "cancelled_orders", "2003..2005", grain="year")
    assert [r["period"] for r in rows] == ["2003", "2004", "2005"]
    for r in rows:
        y = o[o["day"].dt.year == int(r["period"])]
        c = y[y["cancelled"]]
        assert (r["orders"], r["cancelled_orders"]) == (len(y), len(c)), r["period"]
        assert r["cancelled_value"] == money(c["value"].sum())
        assert r["cancellation_rate"] == money(len(c) / len(y))
    assert [r["cancelled_orders"] for r in rows] == [2, 4, 0]
    (total,) = run(classic, "cancelled_orders", "2003..2005")
    c = o[o["cancelled"]]
    assert (total["orders"], total["cancelled_orders"]) == (326, 6)
    assert total["cancelled_value"] == money(c["value"].sum())
    assert total["cancellation_rate"] == money(6 / 326)
    reasons = by(run(classic, "cancelled_orders", "2003..2005", by=("cancel_reason",)), "cancel_reason")
    assert col(reasons, "cancelled_value") == money(c.set_index(c["comments"].str.strip())["value"].to_dict())
    assert {r["orders"] for r in reasons.values()} == {326}


def test_classic_revenue_per_year_and_month(classic: Workspace, classic_orders: pd.DataFrame) -> None:
    kept = classic_orders[~classic_orders["cancelled"]]  # On Hold, Disputed, In Process are not cancelled
    rows = by(run(classic, "revenue", "2003..2005", grain="year"), "period")
    year = kept["day"].dt.year.astype(str)
    assert col(rows, "revenue") == money(kept.groupby(year)["value"].sum().to_dict())
    assert col(rows, "orders") == kept.groupby(year).size().to_dict()
    assert col(rows, "units") == kept.groupby(year)["units"].sum().astype(float).to_dict()
    assert col(rows, "customers") == kept.groupby(year)["customerNumber"].nunique().to_dict()
    k4 = kept[kept["day"].dt.year == 2004]
    month = k4["day"].dt.strftime("%Y-%m")
    rows = by(run(classic, "revenue", "2004", grain="month"), "period")
    assert col(rows, "revenue") == money(k4.groupby(month)["value"].sum().to_dict())
    assert col(rows, "orders") == k4.groupby(month).size().to_dict()


def test_classic_revenue_by_region_is_the_customer_country(classic: Workspace, classic_orders: pd.DataFrame) -> None:
    k4 = classic_orders[~classic_orders["cancelled"] & (classic_orders["day"].dt.year == 2004)]
    rows = by(run(classic, "sales_by_region", "2004"), "region")
    assert col(rows, "revenue") == money(k4.groupby("country")["value"].sum().to_dict())
    assert col(rows, "orders") == k4.groupby("country").size().to_dict()
    assert rows["Norway"]["orders"] == 4
    assert "unknown" not in rows
    assert sum(r["revenue_share"] for r in rows.values()) == money(1.0)


def test_classic_reps_keep_territory_na_as_north_america(classic: Workspace) -> None:
    employees = read_text_csv(CLASSIC / "employees.csv")
    offices = read_text_csv(CLASSIC / "offices.csv")
    expected = employees.merge(offices, on="officeCode")["territory"].value_counts().to_dict()
    assert expected["NA"] > 0
    got = dict(classic.warehouse.fetch("SELECT region, count(*) FROM reps GROUP BY region"))
    assert got == expected


def test_classic_sales_per_rep_2004(classic: Workspace, classic_orders: pd.DataFrame) -> None:
    k4 = classic_orders[~classic_orders["cancelled"] & (classic_orders["day"].dt.year == 2004)]
    rows = by(run(classic, "sales_per_rep", "2004"), "rep")
    assert col(rows, "revenue") == money(k4.groupby("salesRepEmployeeNumber")["value"].sum().to_dict())
    assert col(rows, "orders") == k4.groupby("salesRepEmployeeNumber").size().to_dict()
    assert {(r["won_deals"], r["won_value"]) for r in rows.values()} == {(0, 0.0)}  # no opportunities


# -- UCI Online Retail ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def uci_lines() -> pd.DataFrame:
    """The lines the mapping keeps: no `A` bad-debt entries, no write-offs (negative quantity off a C invoice).

    A C invoice is a cancelled order whose quantities count as positive. An order's date,
    customer and country are those of its first line (the mapping's ``distinct``).
    """
    u = pd.read_csv(
        UCI / "online_retail.csv",
        dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str, "CustomerID": str},
        keep_default_na=False,
    )
    invoice = u["InvoiceNo"].str.upper()
    adjust = invoice.str.startswith("A")
    cancelled = invoice.str.startswith("C")
    write_off = ~cancelled & (u["Quantity"] < 0)
    assert (adjust.sum(), write_off.sum()) == (3, 1336)
    k = u[~adjust & ~write_off].copy()
    k["cancelled"] = cancelled[k.index]
    first = k.groupby("InvoiceNo")[["InvoiceDate", "CustomerID", "Country"]].transform("first")
    k["ordered_at"] = pd.to_datetime(first["InvoiceDate"])
    k["customer"] = first["CustomerID"].str.strip()
    k["region"] = first["Country"].str.strip()
    k["month"] = k["ordered_at"].dt.strftime("%Y-%m")
    k["net"] = k["Quantity"].abs() * k["UnitPrice"]
    return k


UCI_MONTHS = ["2010-12"] + [f"2011-{m:02d}" for m in range(1, 13)]


def test_uci_monthly_revenue_orders_units_customers(uci: Workspace, uci_lines: pd.DataFrame) -> None:
    sold = uci_lines[~uci_lines["cancelled"]]
    g = sold.groupby("month")
    rows = run(uci, "revenue", "2010-12..2011-12", grain="month")
    assert [r["period"] for r in rows] == UCI_MONTHS
    got = by(rows, "period")
    assert col(got, "revenue") == money(g["net"].sum().to_dict())
    assert col(got, "orders") == g["InvoiceNo"].nunique().to_dict()
    assert col(got, "units") == g["Quantity"].sum().astype(float).to_dict()
    with_customer = sold[sold["customer"] != ""]
    assert col(got, "customers") == with_customer.groupby("month")["customer"].nunique().to_dict()
    (year,) = run(uci, "revenue", "2011")
    assert year["revenue"] == money(sold.loc[sold["ordered_at"].dt.year == 2011, "net"].sum())


def test_uci_revenue_by_country_2011(uci: Workspace, uci_lines: pd.DataFrame) -> None:
    sold = uci_lines[~uci_lines["cancelled"] & (uci_lines["ordered_at"].dt.year == 2011)]
    g = sold.groupby("region")
    rows = by(run(uci, "sales_by_region", "2011"), "region")
    assert col(rows, "revenue") == money(g["net"].sum().to_dict())
    assert col(rows, "orders") == g["InvoiceNo"].nunique().to_dict()
    assert "Unspecified" in rows  # the file's own word, kept
    assert "unknown" not in rows


def test_uci_new_customers_per_month(uci: Workspace, uci_lines: pd.DataFrame) -> None:
    sold = uci_lines[~uci_lines["cancelled"] & (uci_lines["customer"] != "")]
    first = sold.groupby("customer")["ordered_at"].min().dt.strftime("%Y-%m")
    rows = by(run(uci, "new_customers", "2010-12..2011-12", grain="month"), "period")
    assert col(rows, "new_customers") == first.value_counts().to_dict()
    assert sum(r["new_customers"] for r in rows.values()) == sold["customer"].nunique()


def test_uci_cancelled_invoices_per_quarter(uci: Workspace, uci_lines: pd.DataFrame) -> None:
    k = uci_lines[uci_lines["ordered_at"].dt.year == 2011]
    quarter = "2011-Q" + k["ordered_at"].dt.quarter.astype(str)
    orders = k.groupby(quarter)["InvoiceNo"].nunique().to_dict()
    c = k[k["cancelled"]]
    cq = quarter[c.index]
    cancelled = c.groupby(cq)["InvoiceNo"].nunique().to_dict()
    rows = by(run(uci, "cancelled_orders", "2011", grain="quarter"), "period")
    assert col(rows, "orders") == orders
    assert col(rows, "cancelled_orders") == cancelled
    assert col(rows, "cancelled_value") == money(c.groupby(cq)["net"].sum().to_dict())
    assert col(rows, "cancellation_rate") == money({q: cancelled[q] / orders[q] for q in orders})


def test_uci_sales_by_product_keeps_stock_codes_apart(uci: Workspace, uci_lines: pd.DataFrame) -> None:
    sold = uci_lines[~uci_lines["cancelled"] & (uci_lines["ordered_at"].dt.year == 2011)]
    g = sold.groupby(sold["StockCode"].str.strip())
    rows = by(run(uci, "sales_by_product", "2011"), "product")
    assert col(rows, "revenue") == money(g["net"].sum().to_dict())
    assert col(rows, "units") == g["Quantity"].sum().astype(float).to_dict()
    assert col(rows, "orders") == g["InvoiceNo"].nunique().to_dict()
    # codes that differ only in case are different products in this file (e.g. 85099b / 85099B)
    codes = set(rows)
    assert len({c.upper() for c in codes}) < len(codes)
