"""Baseline of ``sanjeh kpi``: hand-written DuckDB SQL over the same warehouse.

``python -m bench.kpi_sql WAREHOUSE OUT_JSON [YEAR]`` computes the KPIs of
:data:`COVERED` for one Jalali year by Jalali month (``--period YEAR --grain month``)
straight from the canonical tables, following KPIS.md as the engine reads it
(sources.py/compile.py): the same cohorts, ``unknown`` members, zero-filled months.
Output: ``{kpi: {"by": [...], "rows": [{period, *by, measure: value}]}}``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

#: The KPIs both baselines compute (with their split dimensions), in catalogue terms.
COVERED: dict[str, tuple[str, ...]] = {
    "revenue": (),
    "sales_by_region": ("region",),
    "sales_by_product": ("product",),
    "cancelled_orders": (),
    "win_rate": (),
    "mql_to_sql": (),
    "sales_cycle": (),
    "calls_per_rep": ("rep",),
    "data_entry_share": (),
}


def _member(*cols: str) -> str:
    return "coalesce(" + ", ".join(f"nullif(trim({c}), '')" for c in cols) + ", 'unknown')"


# Common table expressions; {year} is the Jalali year.
CAL = "cal AS (SELECT day, j_month AS period FROM _calendar WHERE j_year = '{year}')"
PERIODS = "periods AS (SELECT DISTINCT period FROM cal)"
REVENUE_LINES = f"""rl AS (
  SELECT CAST(o.ordered_at AS DATE) AS day, o.order_id, nullif(trim(o.customer_id), '') AS customer_id,
         {_member("o.region", "c.region")} AS region, {_member("l.product_id")} AS product,
         CAST(l.quantity AS DOUBLE) AS quantity,
         CAST(l.quantity * l.unit_price - coalesce(l.discount, 0) AS DOUBLE) AS net
  FROM order_lines l JOIN orders o ON l.order_id = o.order_id
  LEFT JOIN customers c ON o.customer_id = c.customer_id
  WHERE NOT (o.status = 'cancelled'))"""
CLOSED = """oc AS (
  SELECT CAST(o.closed_at AS DATE) AS day, o.status, coalesce(o.amount, 0) AS amount,
         CAST(epoch(o.closed_at) - epoch(coalesce(l.created_at, o.created_at)) AS DOUBLE) / 86400.0 AS days
  FROM opportunities o LEFT JOIN leads l ON o.lead_id = l.lead_id
  WHERE o.status IN ('won', 'lost') AND o.closed_at IS NOT NULL)"""


def _monthly(ctes: list[str], facts: str, aggs: str, outer: str) -> str:
    """Every month of the year (zero-filled): aggregates of ``facts`` joined to the calendar."""
    return (
        f"WITH {', '.join([CAL, PERIODS, *ctes])}, "
        f"agg AS (SELECT period, {aggs} FROM {facts} JOIN cal USING (day) GROUP BY period) "
        f"SELECT period, {outer} FROM periods LEFT JOIN agg USING (period) ORDER BY period"
    )


def _split(ctes: list[str], facts: str, dim: str, aggs: str, outer: str) -> str:
    """Only the (month, member) pairs with rows, as the engine's split queries."""
    return (
        f"WITH {', '.join([CAL, *ctes])}, "
        f"agg AS (SELECT period, {dim}, {aggs} FROM {facts} JOIN cal USING (day) GROUP BY period, {dim}) "
        f"SELECT period, {dim}, {outer} FROM agg ORDER BY period, {dim}"
    )


_SALES_SPLIT = {
    "aggs": "sum(net) AS revenue, sum(quantity) AS units, count(DISTINCT order_id) AS orders",
    "outer": "revenue, units, orders, revenue / nullif(sum(revenue) OVER (PARTITION BY period), 0) AS revenue_share",
}

QUERIES: dict[str, str] = {
    "revenue": _monthly(
        [REVENUE_LINES],
        "rl",
        "sum(net) AS revenue, count(DISTINCT order_id) AS orders, sum(quantity) AS units, "
        "count(DISTINCT customer_id) AS customers",
        "coalesce(revenue, 0) AS revenue, coalesce(orders, 0) AS orders, coalesce(units, 0) AS units, "
        "coalesce(customers, 0) AS customers",
    ),
    "sales_by_region": _split([REVENUE_LINES], "rl", "region", **_SALES_SPLIT),
    "sales_by_product": _split([REVENUE_LINES], "rl", "product", **_SALES_SPLIT),
    "cancelled_orders": _monthly(
        [
            "pp AS (SELECT order_id, product_id, sum(quantity * unit_price - coalesce(discount, 0)) AS net "
            "FROM order_lines GROUP BY order_id, product_id)",
            "oo AS (SELECT CAST(o.ordered_at AS DATE) AS day, o.order_id, o.status = 'cancelled' AS cancelled, "
            "CAST(coalesce(pp.net, 0) AS DOUBLE) AS net FROM orders o LEFT JOIN pp ON o.order_id = pp.order_id)",
        ],
        "oo",
        "count(DISTINCT order_id) FILTER (WHERE cancelled) AS cancelled_orders, "
        "sum(net) FILTER (WHERE cancelled) AS cancelled_value, count(DISTINCT order_id) AS orders",
        "coalesce(cancelled_orders, 0) / nullif(coalesce(orders, 0), 0) AS cancellation_rate, "
        "coalesce(cancelled_orders, 0) AS cancelled_orders, coalesce(cancelled_value, 0) AS cancelled_value, "
        "coalesce(orders, 0) AS orders",
    ),
    "win_rate": _monthly(
        [CLOSED],
        "oc",
        "count(*) FILTER (WHERE status = 'won') AS won, count(*) FILTER (WHERE status = 'lost') AS lost, "
        "count(*) AS closed, sum(amount) FILTER (WHERE status = 'won') AS won_value",
        "coalesce(won, 0) / nullif(coalesce(closed, 0), 0) AS win_rate, coalesce(won, 0) AS won, "
        "coalesce(lost, 0) AS lost, coalesce(won_value, 0) AS won_value, "
        "coalesce(won_value, 0) / nullif(coalesce(won, 0), 0) AS average_deal_size",
    ),
    "mql_to_sql": _monthly(
        ["ml AS (SELECT CAST(mql_at AS DATE) AS day, sql_at FROM leads WHERE mql_at IS NOT NULL)"],
        "ml",
        "count(*) AS mqls, count(sql_at) AS sqls",
        "coalesce(sqls, 0) / nullif(coalesce(mqls, 0), 0) AS rate, coalesce(mqls, 0) AS mqls, "
        "coalesce(sqls, 0) AS sqls",
    ),
    "sales_cycle": _monthly(
        [CLOSED, "ow AS (SELECT * FROM oc WHERE status = 'won')"],
        "ow",
        "quantile_cont(days, 0.5) AS median_days, avg(days) AS mean_days, quantile_cont(days, 0.9) AS p90_days, "
        "count(*) AS deals",
        "median_days, mean_days, p90_days, coalesce(deals, 0) AS deals",
    ),
    "calls_per_rep": (
        "WITH {cal}, months AS (SELECT period, count(DISTINCT j_month) AS n FROM cal JOIN _calendar USING (day) "
        "GROUP BY period), "
        f"ca AS (SELECT CAST(occurred_at AS DATE) AS day, {_member('rep_id')} AS rep, "
        f"{_member('outcome')} AS outcome FROM activities WHERE type = 'call'), "
        "agg AS (SELECT period, rep, count(*) AS calls, count(*) FILTER (WHERE outcome = 'prospect') AS prospects "
        "FROM ca JOIN cal USING (day) GROUP BY period, rep) "
        "SELECT period, rep, calls, prospects, prospects / nullif(calls, 0) AS prospect_rate, "
        "calls / nullif(months.n, 0) AS calls_per_month FROM agg JOIN months USING (period) ORDER BY period, rep"
    ).replace("{cal}", CAL),
    "data_entry_share": _monthly(
        [f"te AS (SELECT day, {_member('category')} AS category, CAST(hours AS DOUBLE) AS hours FROM time_entries)"],
        "te",
        "sum(hours) FILTER (WHERE category = 'data_entry') AS data_entry_hours, sum(hours) AS total_hours",
        "coalesce(data_entry_hours, 0) / nullif(coalesce(total_hours, 0), 0) AS share, "
        "coalesce(data_entry_hours, 0) AS data_entry_hours, coalesce(total_hours, 0) AS total_hours",
    ),
}


def run_all(con: Any, year: str) -> dict[str, Any]:
    """Every covered KPI: ``{kpi: {"by": [...], "rows": [...]}}``."""
    out: dict[str, Any] = {}
    for name, by in COVERED.items():
        cur = con.execute(QUERIES[name].replace("{year}", year))
        cols = [d[0] for d in cur.description]
        out[name] = {"by": list(by), "rows": [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]}
    return out


def baseline_main(module: str, compute: Callable[[Any, str], dict[str, Any]], argv: list[str] | None) -> int:
    """``python -m MODULE WAREHOUSE OUT_JSON [YEAR]``: ``compute(connection, year)`` written as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        sys.stderr.write(f"usage: python -m {module} WAREHOUSE OUT_JSON [YEAR]\n")
        return 2
    start = time.perf_counter()
    with duckdb.connect(args[0], read_only=True) as con:
        data = compute(con, args[2] if len(args) == 3 else "1403")
    data["_seconds"] = time.perf_counter() - start
    Path(args[1]).write_text(json.dumps(data, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    return baseline_main("bench.kpi_sql", run_all, argv)


if __name__ == "__main__":
    raise SystemExit(main())
