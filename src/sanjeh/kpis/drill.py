"""Drill through: the rows behind a KPI's number (docs/kpis.md, "Drill-through").

From a KPI, a period (one step of a result: ``1403-10``) and member filters (the row's
members), :func:`drill` lists the rows of the cohort the number counts — revenue lines,
orders, MQL leads, deals, activities or time entries — built with Ibis over the very
cohort the KPI is compiled from (:meth:`Sources.cohort`: the same definitions, the same
rep or team scope), filtered as the KPI's measure filters them, paged in the warehouse.

Which rows: those of the measure's *population* — the headline measure (or the one asked
for), followed through a ratio to its denominator and through a share, growth or per-month
measure to the measure it is made of, until an aggregation: the rows of ``win_rate`` are the
closed deals (its denominator; the won ones among them make the numerator), those of
``calls_per_rep`` the calls. So a sum's rows add up to it (revenue lines to the revenue of
that step and member) and a count's rows are as many as it counts. A pipeline lists the
deals open at the period's end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from sanjeh.calendar import unit_of
from sanjeh.errors import InvalidQuery
from sanjeh.kpis.columns import name_column
from sanjeh.kpis.compile import condition
from sanjeh.kpis.model import KPI, Measure
from sanjeh.kpis.query import Plan, Query
from sanjeh.kpis.sources import COHORTS, SPARSE_DIMS, Sources, solid

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

#: Largest page; an export takes at most ``MAX_EXPORT`` rows.
MAX_LIMIT = 500
MAX_EXPORT = 100_000

#: Columns of each cohort's list, in order: (column, kind). Kinds: ``day``, ``id``, ``member``
#: (a dimension's member; rep, product, customer and initiative get their names), ``money``,
#: ``number``, ``days``, ``hours``, ``flag``, ``code`` (a status).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "revenue_lines": (
        ("day", "day"), ("order_id", "id"), ("customer", "member"), ("product", "member"), ("rep", "member"),
        ("region", "member"), ("quantity", "number"), ("net_amount", "money"),
    ),
    "orders": (
        ("day", "day"), ("order_id", "id"), ("product", "member"), ("rep", "member"), ("region", "member"),
        ("cancelled", "flag"), ("cancel_reason", "member"), ("net_amount", "money"),
    ),
    "leads_mql": (
        ("day", "day"), ("lead_id", "id"), ("rep", "member"), ("source", "member"), ("region", "member"),
        ("sql", "flag"),
    ),
    "opportunities_created": (
        ("day", "day"), ("opportunity_id", "id"), ("customer", "member"), ("product", "member"), ("rep", "member"),
        ("source", "member"), ("stage", "member"), ("status", "code"), ("amount", "money"),
    ),
    "opportunities_closed": (
        ("day", "day"), ("opportunity_id", "id"), ("customer", "member"), ("product", "member"), ("rep", "member"),
        ("source", "member"), ("status", "code"), ("amount", "money"), ("days", "days"),
    ),
    "pipeline": (
        ("day", "day"), ("opportunity_id", "id"), ("customer", "member"), ("product", "member"), ("rep", "member"),
        ("source", "member"), ("stage", "member"), ("amount", "money"),
    ),
    "activities": (
        ("day", "day"), ("activity_id", "id"), ("rep", "member"), ("type", "code"), ("outcome", "member"),
    ),
    "time_entries": (("day", "day"), ("rep", "member"), ("category", "member"), ("hours", "hours")),
    "first_orders": (("day", "day"), ("customer", "member"), ("region", "member"), ("segment", "member")),
}  # fmt: skip
#: Member columns with names: column -> (table, id column, name column, the cohort's id column).
NAMED = {
    "rep": ("reps", "rep_id", "name", "rep"),
    "product": ("products", "product_id", "name", "product"),
    "customer": ("customers", "customer_id", "name", "customer_id"),
    "initiative": ("initiatives", "initiative_id", "name", "initiative"),
}


@dataclass(frozen=True)
class RowsQuery:
    """The rows behind one number: a KPI, a period, member filters, a measure (default: the
    headline), a page (``limit`` rows from ``offset``)."""

    kpi: str
    period: str
    filters: tuple[tuple[str, str], ...] = ()
    measure: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Column:
    name: str
    kind: str


@dataclass
class Rows:
    """A page of rows, with the total number of rows and the sum of the value column over all of them."""

    kpi: KPI
    measure: Measure
    plan: Plan
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    cohort: str
    #: The column whose sum is the measure (a sum); None when the measure counts rows.
    value_column: str | None = None
    value_sum: float | None = None
    counts: str = "rows"  # what the measure counts: "rows", "sum" or "distinct"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi.name,
            "measure": self.measure.name,
            "period": self.plan.period.label,
            "calendar": self.plan.period.calendar,
            "filters": dict(self.plan.filters),
            "cohort": self.cohort,
            "columns": [{"name": c.name, "kind": c.kind} for c in self.columns],
            "rows": [{k: _json(v) for k, v in r.items()} for r in self.rows],
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "value_column": self.value_column,
            "value_sum": self.value_sum,
        }


def _json(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def population(kpi: KPI, measure: str | None = None) -> tuple[Measure, Measure, str]:
    """(the measure asked for, the aggregation whose rows it counts, their cohort)."""
    names = [m.name for m in kpi.visible_measures]
    if measure and measure not in names:
        raise InvalidQuery(
            f"{kpi.name} has no measure {measure!r}; its measures are: {', '.join(names)}",
            details={"measure": measure, "allowed": names},
        )
    asked = kpi.measure(measure) if measure else kpi.headline_measure
    m = asked
    for _ in range(len(kpi.measures)):
        if m.is_aggregation:
            return asked, m, m.cohort or kpi.cohort
        ref = m.den if m.kind == "ratio" else m.of
        if not ref:
            break
        m = kpi.measure(ref)
    raise InvalidQuery(
        f"the rows of {kpi.name}.{asked.name} cannot be listed (it is not counted over rows); "
        f"list those of {kpi.headline} instead",
        details={"kpi": kpi.name, "measure": asked.name},
    )


def _months(start: dt.date, end: dt.date) -> ir.Table:
    """Each day of ``start..end`` with its Jalali and Gregorian month (``jm``, ``gm``), as the
    engine's step table gives them (a drill is one period: a few hundred rows at most)."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return ibis.memtable(
        {
            "day": days,
            "jm": [unit_of(d, "jalali", "month").label for d in days],
            "gm": [unit_of(d, "gregorian", "month").label for d in days],
        },
        schema={"day": "date", "jm": "string", "gm": "string"},
    )


def _filtered(src: Sources, kpi: KPI, p: Plan, agg: Measure, cohort: str) -> ir.Table:
    """The cohort's rows of the period and members that ``agg`` counts."""
    f = src.cohort(cohort)
    if agg.column == "real_amount":  # each line's month in both calendars, to find its CPI index
        f = src.with_real_amount(f.inner_join(_months(p.period.start, p.period.end), "day"))
    conds = (*(kpi.where if cohort == kpi.cohort else ()), *agg.where)
    cond = condition(f, conds)
    if cond is not None:
        f = f.filter(cond)
    for dim, member in p.filters:
        if dim in agg.ignore_dims:
            continue
        if dim not in COHORTS[cohort].dims:
            raise InvalidQuery(
                f"the rows of {kpi.name} ({cohort}) cannot be filtered by {dim}",
                details={"dimension": dim, "cohort": cohort},
            )
        f = f.filter(f[dim].lower() == member.lower())
    start, end = p.period.start, p.period.end
    if COHORTS[cohort].snapshot:  # open at the period's end: created by then and not closed by then
        f = f.filter((f.created_day <= end) & (f.closed_day.isnull() | (f.closed_day > end)))
        f = f.mutate(day=f.created_day)
    else:
        f = f.filter((f.day >= start) & (f.day <= end))
    for dim, _ in p.filters:
        if dim in SPARSE_DIMS and dim in f.columns:
            f = f.filter(f[dim].notnull())
    return solid(f)


def _shape(src: Sources, f: ir.Table, cohort: str) -> tuple[ir.Table, list[Column]]:
    """The list's columns (names joined in for reps, products, customers, initiatives)."""
    cols: list[Column] = []
    exprs: dict[str, ir.Value] = {}
    for name, kind in COLUMNS[cohort]:
        if name == "customer":
            exprs[name] = f.customer_id
        elif name == "sql":
            exprs[name] = f.sql_at.notnull()
        elif name in f.columns:
            exprs[name] = f[name]
        else:
            continue
        cols.append(Column(name, kind))
    t = solid(f.select(**exprs))
    for name, (table, key, label, _) in NAMED.items():
        if name not in t.columns:
            continue
        names = src.wh.table(table)
        names = names.select(**{f"__k_{name}": names[key], name_column(name): names[label]})
        t = solid(t.left_join(names, t[name] == names[f"__k_{name}"]).drop(f"__k_{name}"))
    return t, cols


def _order(t: ir.Table, cols: Sequence[Column]) -> list[Any]:
    """Newest first, then by id; then by every other column, so that pages never overlap (two lines
    of one order differ only in their values)."""
    keys: list[Any] = [t.day.desc()]
    keys += [t[c.name] for c in cols if c.kind == "id"]
    keys += [t[c.name] for c in cols if c.kind not in ("day", "id")]
    return keys


def drill(engine: Engine, q: RowsQuery, *, export: bool = False) -> Rows:
    """A page of the rows behind ``q``'s number (every row up to ``MAX_EXPORT`` with ``export``)."""
    kpi: KPI = engine.kpi(q.kpi)
    asked, agg, cohort = population(kpi, q.measure)
    p: Plan = engine.plan(Query(kpi.name, q.period, None, (), q.filters))
    src = engine.sources()  # a member without data (one with a target only) has no rows: not an error
    limit = MAX_EXPORT if export else max(1, min(int(q.limit), MAX_LIMIT))
    offset = 0 if export else max(0, int(q.offset))
    f = _filtered(src, kpi, p, agg, cohort)
    value = agg.column if agg.kind == "sum" else None
    totals: dict[str, Any] = {"n": f.count()}
    if value is not None:
        totals["s"] = ibis.coalesce(f[value].sum(), ibis.literal(0.0))
    got = f.aggregate(**totals).to_pyarrow().to_pylist()[0]
    shaped, cols = _shape(src, f, cohort)
    page = shaped.order_by(_order(shaped, cols)).limit(limit, offset=offset)
    rows = page.to_pyarrow().to_pylist()
    return Rows(
        kpi=kpi,
        measure=asked,
        plan=p,
        columns=cols,
        rows=rows,
        total=int(got["n"]),
        offset=offset,
        limit=limit,
        cohort=cohort,
        value_column=value,
        value_sum=float(got["s"]) if value is not None and got.get("s") is not None else None,
        counts="sum" if agg.kind == "sum" else ("distinct" if agg.kind == "nunique" else "rows"),
    )


def explain(engine: Engine, q: RowsQuery) -> str:
    """The SQL of a page of rows (as ``Engine.explain`` gives a KPI's)."""
    kpi: KPI = engine.kpi(q.kpi)
    _, agg, cohort = population(kpi, q.measure)
    p: Plan = engine.plan(Query(kpi.name, q.period, None, (), q.filters))
    src = engine.sources()
    shaped, cols = _shape(src, _filtered(src, kpi, p, agg, cohort), cohort)
    page = shaped.order_by(_order(shaped, cols)).limit(max(1, min(q.limit, MAX_LIMIT)), offset=max(0, q.offset))
    return str(ibis.to_sql(page, dialect=engine.ws.warehouse.dialect))
