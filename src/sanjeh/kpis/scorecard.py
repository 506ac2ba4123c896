"""The scorecard: the goals' primary KPIs first, each against its target and its past."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from sanjeh.calendar import Period, parse_period, unit_of
from sanjeh.kpis.compile import Buckets, MultiBuckets
from sanjeh.kpis.insights import findings
from sanjeh.kpis.query import Query

SPARK = "spark:"

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine, Scorecard
    from sanjeh.kpis.model import KPI


def _spark_period(period: Period, n: int) -> tuple[str, str]:
    kind = period.unit_kind
    grain = "month" if kind in ("year", "quarter", "month") else kind
    last = unit_of(period.end, period.calendar, grain)  # type: ignore[arg-type]
    first = last.shift(-(n - 1))
    return f"{first.label}..{last.label}", grain


def card(engine: Engine, kpi: KPI, period: str, spark_steps: int) -> dict[str, Any]:
    h = kpi.headline
    base = dataclasses.replace(engine.plan(Query(kpi.name, period), whole=True), grain=None, compare="both")
    spark_label, grain = _spark_period(base.period, spark_steps)
    spark_plan = dataclasses.replace(base, period=parse_period(spark_label), grain=grain)  # type: ignore[arg-type]
    # one query: the period's value with both comparisons, and the sparkline's steps
    buckets = MultiBuckets((Buckets.main(base), Buckets.main(spark_plan, tag=SPARK)))
    result = engine.run_plan(base, buckets)
    rows = result.rows
    now = next((r for r in rows if r["period"] == base.period.label), {})
    spark = [{"period": r["period"][len(SPARK) :], "value": r[h]} for r in rows if str(r["period"]).startswith(SPARK)]
    hm = kpi.headline_measure
    return {
        "kpi": kpi.name,
        "number": kpi.number,
        "measure": h,
        "title": dict(kpi.title),
        "description": dict(kpi.description),
        "unit": hm.unit,
        "direction": kpi.direction,
        # a rate's change is read in percentage points (change); other measures' relative change
        "change_in": "points" if hm.unit == "rate" else "percent",
        "data": result.data.to_dict(),
        "value": now.get(h),
        "target": now.get("target"),
        "attainment": now.get("attainment"),
        "previous": now.get(f"previous_{h}"),
        "change": now.get(f"{h}_change"),
        "change_rate": now.get(f"{h}_change_rate"),
        "year_ago": now.get(f"year_ago_{h}"),
        "year_ago_change": now.get(f"{h}_year_ago_change"),
        "year_ago_change_rate": now.get(f"{h}_year_ago_change_rate"),
        "spark": spark,
    }


def build_scorecard(engine: Engine, period: str, *, spark_steps: int = 12) -> Scorecard:
    from sanjeh.kpis.engine import Scorecard

    p = parse_period(period)
    primary_names = engine.primary()
    sc = Scorecard(period=p.label, calendar=p.calendar, goals=list(engine.ws.settings.goals))
    kpis = {k.name: k for k in engine.catalogue()}
    for name in primary_names:
        if name in kpis:
            sc.primary.append(card(engine, kpis[name], p.label, spark_steps))
    for name, k in kpis.items():
        if name not in primary_names:
            sc.secondary.append(card(engine, k, p.label, spark_steps))
    cards = [dict(c, primary=True) for c in sc.primary] + [dict(c, primary=False) for c in sc.secondary]
    sc.insights = findings(cards, currency=engine.ws.settings.money_format)
    cov = engine.coverage()
    missing = sorted({t for c in cards for t in c["data"]["missing"]})
    sc.data = {
        "empty": cov.empty,
        "missing": missing,
        "no_data": [c["kpi"] for c in cards if c["data"]["status"] == "no_data"],
        "outside": [c["kpi"] for c in cards if c["data"]["status"] == "outside"],
        "last_day": cov.last_day.isoformat() if cov.last_day else None,
    }
    return sc
