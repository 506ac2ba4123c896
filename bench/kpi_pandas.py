"""Baseline of ``sanjeh kpi``: plain pandas over the same warehouse's tables.

``python -m bench.kpi_pandas WAREHOUSE OUT_JSON [YEAR]``: reads the columns it needs
from the canonical tables (and the ``_calendar`` date dimension) into pandas, then
computes the KPIs of :data:`bench.kpi_sql.COVERED` with pandas alone. Same output
shape as :mod:`bench.kpi_sql`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bench.kpi_sql import COVERED, baseline_main

COLUMNS = {
    "orders": "order_id, ordered_at, customer_id, region, status",
    "order_lines": "order_id, product_id, quantity, unit_price, discount",
    "customers": "customer_id, region",
    "opportunities": "opportunity_id, created_at, lead_id, status, amount, closed_at",
    "leads": "lead_id, created_at, mql_at, sql_at",
    "activities": "rep_id, type, occurred_at, outcome",
    "time_entries": "rep_id, day, category, hours",
}


def _blank(s: pd.Series) -> pd.Series:
    """Empty or blank text is no value."""
    s = s.astype("object").where(s.notna(), None)
    s = s.str.strip()
    return s.where(s != "", None)


def _member(*cols: pd.Series) -> pd.Series:
    out = _blank(cols[0])
    for c in cols[1:]:
        out = out.fillna(_blank(c))
    return out.fillna("unknown")


def _day(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.normalize().astype("datetime64[ns]")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return num.astype(float) / den.where(den != 0, np.nan)


class Frames:
    def __init__(self, con: Any, year: str) -> None:
        self.t = {name: con.execute(f"SELECT {cols} FROM {name}").df() for name, cols in COLUMNS.items()}
        cal = con.execute("SELECT day, j_month FROM _calendar WHERE j_year = ?", [year]).df()
        cal["day"] = cal["day"].astype("datetime64[ns]")
        self.period_of = pd.Series(cal["j_month"].to_numpy(), index=cal["day"])
        self.periods = sorted(cal["j_month"].unique())
        self.months = cal.groupby("j_month")["j_month"].nunique()

    def bucket(self, df: pd.DataFrame, day: pd.Series) -> pd.DataFrame:
        """Keep the rows whose day is in the year; add their ``period``."""
        df = df.assign(period=_day(day).map(self.period_of))
        return df[df["period"].notna()]

    def monthly(self, g: pd.DataFrame, fill: dict[str, Any]) -> pd.DataFrame:
        """Every month of the year; measures of months without rows take ``fill``."""
        g = g.reindex(self.periods)
        for col, value in fill.items():
            g[col] = g[col].fillna(value)
        return g.rename_axis("period").reset_index()


def revenue_lines(f: Frames) -> pd.DataFrame:
    o = f.t["orders"]
    o = o[~(o["status"] == "cancelled")]
    c = f.t["customers"].rename(columns={"region": "cust_region"})
    o = o.merge(c, on="customer_id", how="left")
    rl = f.t["order_lines"].merge(o, on="order_id", how="inner")
    rl = rl.assign(
        net=(rl["quantity"] * rl["unit_price"] - rl["discount"].fillna(0.0)).astype(float),
        region=_member(rl["region"], rl["cust_region"]),
        product=_member(rl["product_id"]),
        customer=_blank(rl["customer_id"]),
    )
    return f.bucket(rl, rl["ordered_at"])


def _sales_split(rl: pd.DataFrame, dim: str) -> pd.DataFrame:
    g = rl.groupby(["period", dim]).agg(
        revenue=("net", "sum"), units=("quantity", "sum"), orders=("order_id", "nunique")
    )
    g = g.reset_index()
    g["revenue_share"] = _ratio(g["revenue"], g.groupby("period")["revenue"].transform("sum"))
    return g.sort_values(["period", dim])


def closed_deals(f: Frames) -> pd.DataFrame:
    o = f.t["opportunities"]
    o = o[o["status"].isin(["won", "lost"]) & o["closed_at"].notna()]
    leads = f.t["leads"][["lead_id", "created_at"]].rename(columns={"created_at": "l_created"})
    o = o.merge(leads, on="lead_id", how="left")
    start = o["l_created"].fillna(o["created_at"])
    o = o.assign(
        amount=o["amount"].fillna(0.0),
        days=(pd.to_datetime(o["closed_at"]) - pd.to_datetime(start)).dt.total_seconds() / 86400.0,
    )
    return f.bucket(o, o["closed_at"])


def compute(f: Frames) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    rl = revenue_lines(f)
    g = rl.groupby("period").agg(
        revenue=("net", "sum"),
        orders=("order_id", "nunique"),
        units=("quantity", "sum"),
        customers=("customer", "nunique"),
    )
    out["revenue"] = f.monthly(g, {"revenue": 0.0, "orders": 0, "units": 0.0, "customers": 0})
    out["sales_by_region"] = _sales_split(rl, "region")
    out["sales_by_product"] = _sales_split(rl, "product")
    del rl

    lines = f.t["order_lines"]
    pp = (
        lines.assign(net=lines["quantity"] * lines["unit_price"] - lines["discount"].fillna(0.0))
        .groupby(["order_id", "product_id"], dropna=False)["net"]
        .sum()
        .reset_index()
    )
    oo = f.t["orders"].merge(pp, on="order_id", how="left")
    oo = oo.assign(net=oo["net"].fillna(0.0), cancelled=oo["status"] == "cancelled")
    oo = f.bucket(oo, oo["ordered_at"])
    canc = oo[oo["cancelled"]]
    g = pd.DataFrame(
        {
            "cancelled_orders": canc.groupby("period")["order_id"].nunique(),
            "cancelled_value": canc.groupby("period")["net"].sum(),
            "orders": oo.groupby("period")["order_id"].nunique(),
        }
    )
    g = f.monthly(g, {"cancelled_orders": 0, "cancelled_value": 0.0, "orders": 0})
    g.insert(1, "cancellation_rate", _ratio(g["cancelled_orders"], g["orders"]))
    out["cancelled_orders"] = g

    oc = closed_deals(f)
    won = oc[oc["status"] == "won"]
    g = pd.DataFrame(
        {
            "won": won.groupby("period").size(),
            "lost": oc[oc["status"] == "lost"].groupby("period").size(),
            "closed": oc.groupby("period").size(),
            "won_value": won.groupby("period")["amount"].sum(),
        }
    )
    g = f.monthly(g, {"won": 0, "lost": 0, "closed": 0, "won_value": 0.0})
    g.insert(1, "win_rate", _ratio(g["won"], g["closed"]))
    g["average_deal_size"] = _ratio(g["won_value"], g["won"])
    out["win_rate"] = g.drop(columns="closed")

    days = won.groupby("period")["days"]
    g = pd.DataFrame(
        {
            "median_days": days.quantile(0.5),
            "mean_days": days.mean(),
            "p90_days": days.quantile(0.9),
            "deals": days.size(),
        }
    )
    out["sales_cycle"] = f.monthly(g, {"deals": 0})

    leads = f.t["leads"]
    ml = leads[leads["mql_at"].notna()]
    ml = f.bucket(ml, ml["mql_at"])
    g = pd.DataFrame({"mqls": ml.groupby("period").size(), "sqls": ml.groupby("period")["sql_at"].count()})
    g = f.monthly(g, {"mqls": 0, "sqls": 0})
    g.insert(1, "rate", _ratio(g["sqls"], g["mqls"]))
    out["mql_to_sql"] = g

    a = f.t["activities"]
    a = a[a["type"] == "call"]
    a = a.assign(rep=_member(a["rep_id"]), prospect=_member(a["outcome"]) == "prospect")
    a = f.bucket(a, a["occurred_at"])
    g = a.groupby(["period", "rep"]).agg(calls=("rep", "size"), prospects=("prospect", "sum")).reset_index()
    g["prospect_rate"] = _ratio(g["prospects"], g["calls"])
    g["calls_per_month"] = _ratio(g["calls"], g["period"].map(f.months))
    out["calls_per_rep"] = g.sort_values(["period", "rep"])

    te = f.t["time_entries"]
    te = te.assign(category=_member(te["category"]), hours=te["hours"].astype(float))
    te = f.bucket(te, te["day"])
    g = pd.DataFrame(
        {
            "data_entry_hours": te[te["category"] == "data_entry"].groupby("period")["hours"].sum(),
            "total_hours": te.groupby("period")["hours"].sum(),
        }
    )
    g = f.monthly(g, {"data_entry_hours": 0.0, "total_hours": 0.0})
    g.insert(1, "share", _ratio(g["data_entry_hours"], g["total_hours"]))
    out["data_entry_share"] = g
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v


def run_all(con: Any, year: str) -> dict[str, Any]:
    frames = compute(Frames(con, year))
    out: dict[str, Any] = {}
    for name, by in COVERED.items():
        df = frames[name]
        out[name] = {
            "by": list(by),
            "rows": [{k: _plain(v) for k, v in r.items()} for r in df.to_dict(orient="records")],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    return baseline_main("bench.kpi_pandas", run_all, argv)


if __name__ == "__main__":
    raise SystemExit(main())
