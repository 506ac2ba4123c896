"""Compile a checked query (:class:`~sanjeh.kpis.query.Plan`) into one Ibis expression.

Nothing here touches data: the expression runs in the warehouse (``engine.py``
executes it, or prints its SQL). The steps of a query are *buckets*: each maps
calendar days to a step label; the map is a parameter table of the query
(``STEPS_PARAM``), so bucketing by Jalali month, ISO week or a shifted comparison
period happens inside the warehouse with an equi-join on ``day``, and the SQL does not
depend on the period (kpis/sqlcache.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from sanjeh.calendar import CalendarName, Period, Unit, steps, unit_of
from sanjeh.errors import InternalError
from sanjeh.kpis.columns import (
    STEP,
    Against,
    attainment_column,
    change_column,
    change_rate_column,
    compared_column,
    comparisons,
    name_column,
    target_column,
    warning_column,
)
from sanjeh.kpis.model import KPI, Cond, Measure
from sanjeh.kpis.query import Plan
from sanjeh.kpis.sources import COHORTS, SPARSE_DIMS, Sources, solid
from sanjeh.kpis.targeting import Target
from sanjeh.warehouse import Param, quote_literal, sql_value

#: Value columns that may be null inside a cohort: a sum over them is null when any is.
NULLABLE_VALUES = frozenset({"real_amount", "days"})
#: Dimensions whose members have names: dimension -> (table, id column, name column).
NAMES = {
    "product": ("products", "product_id", "name"),
    "rep": ("reps", "rep_id", "name"),
    "initiative": ("initiatives", "initiative_id", "name"),
}
#: ``lookup`` measures: measure column -> (table, key column, dimension).
LOOKUPS = {"investment": ("initiatives", "initiative_id", "initiative")}


#: The query parameters every compiled query reads: which days make each step (``part`` k is
#: the k-th step set the query uses), and the targets of its rows. They are tables filled for
#: each run (``Warehouse.query_arrow``), so a query's SQL does not depend on its period and is
#: compiled once per shape (kpis/sqlcache.py).
STEPS_PARAM = "__sanjeh_steps"
TARGETS_PARAM = "__sanjeh_targets"
STEPS_SCHEMA = ibis.schema(
    {"part": "int32", "day": "date", "step": "string", "month": "string", "jm": "string", "gm": "string"}
)
TARGETS_SCHEMA = ibis.schema(
    {"measure": "string", "step": "string", "member": "string", "member_label": "string", "value": "float64"}
)


@dataclass(frozen=True)
class Buckets:
    """Which calendar days make each step (row) of a query.

    With a grain, ``pairs`` maps each source unit (read from the calendar column
    ``col``) to the step label it counts for; comparisons shift the source units.
    Without a grain, one ``span`` counts for the step ``label``. ``recipe`` says how a step
    set was derived from the query's root step set (``()``; a part index of a
    :class:`MultiBuckets`; then ``"previous"``/``"year_ago"`` shifts), so the same sets can
    be derived again for another period without compiling.
    """

    col: str | None = None
    pairs: tuple[tuple[Unit, str], ...] = ()
    span: Period | None = None
    label: str = ""
    clip: tuple[dt.date, dt.date] | None = None
    recipe: tuple[int | str, ...] = ()

    @staticmethod
    def main(plan: Plan, tag: str = "") -> Buckets:
        """The steps of ``plan``; ``tag`` prefixes their labels (to run several step sets in one query)."""
        p = plan.period
        if plan.grain is None:
            return Buckets(span=p, label=tag + p.label)
        col = f"{plan.calendar_prefix}_{plan.grain}"
        pairs = tuple((s.unit, tag + s.label) for s in steps(p, plan.grain))
        return Buckets(col=col, pairs=pairs, clip=(p.start, p.end))

    def shifted(self, offset: str) -> Buckets | None:
        """The same steps counted over their previous (or year-ago) span; None where none exists."""
        recipe = (*self.recipe, offset)
        if self.col is None:
            assert self.span is not None
            span = self.span.previous() if offset == "previous" else self.span.year_ago()
            return Buckets(span=span, label=self.label, recipe=recipe) if span else None
        pairs: list[tuple[Unit, str]] = []
        for unit, label in self.pairs:
            src = unit.shift(-1) if offset == "previous" else unit.year_ago()
            if src is not None:
                pairs.append((src, label))
        return Buckets(col=self.col, pairs=tuple(pairs), recipe=recipe) if pairs else None

    def parts(self) -> tuple[Buckets, ...]:
        return (self,)

    def rows(self) -> list[Run]:
        """The days the steps count, as runs of days of one step within one Jalali and one
        Gregorian month (:class:`Run`)."""
        if self.col is None:
            assert self.span is not None
            return _runs([(self.span.start, self.span.end, self.label)], self.span.calendar)
        lo, hi = (dt.date.min, dt.date.max) if self.clip is None else self.clip
        spans = [(max(u.start, lo), min(u.end, hi), label) for u, label in self.pairs]
        return _runs([s for s in spans if s[0] <= s[1]], self.pairs[0][0].calendar)


@dataclass(frozen=True)
class Run:
    """Consecutive days of one step within one month of each calendar: ``month`` is the month
    of the query's calendar (to count the months a step touches), ``jm``/``gm`` the Jalali and
    Gregorian months (to find a day's price index, whichever calendar the cpi table is in)."""

    start: dt.date
    days: int
    step: str
    month: str
    jm: str
    gm: str


def _runs(spans: Sequence[tuple[dt.date, dt.date, str]], calendar: CalendarName) -> list[Run]:
    """Split each (first day, last day, step) at both calendars' month boundaries."""
    out: list[Run] = []
    for start, end, label in spans:
        a = start
        while a <= end:
            j, g = unit_of(a, "jalali", "month"), unit_of(a, "gregorian", "month")
            b = min(end, j.end, g.end)
            mine = j if calendar == "jalali" else g
            out.append(Run(a, (b - a).days + 1, label, mine.label, j.label, g.label))
            a = b + dt.timedelta(days=1)
    return out


@dataclass(frozen=True)
class MultiBuckets:
    """Several step sets counted in one query (their labels must differ): the scorecard's
    period value and its sparkline, for example."""

    members: tuple[Buckets, ...]

    def __post_init__(self) -> None:
        parts = tuple(b if b.recipe else replace(b, recipe=(i,)) for i, b in enumerate(self.members))
        object.__setattr__(self, "members", parts)

    def shifted(self, offset: str) -> MultiBuckets | None:
        parts = tuple(s for s in (p.shifted(offset) for p in self.members) if s is not None)
        return MultiBuckets(parts) if parts else None

    def parts(self) -> tuple[Buckets, ...]:
        return self.members

    @property
    def head(self) -> Buckets:
        """The first step set: the one a query compares (the others, a sparkline, only count)."""
        return self.members[0]


AnyBuckets = Buckets | MultiBuckets


def resolve_recipe(root: AnyBuckets, recipe: Sequence[int | str]) -> Buckets | None:
    """The step set ``recipe`` derives from ``root`` (see :class:`Buckets`); None where it does
    not exist for this root (a year-ago day that is not a day)."""
    node: Buckets | None
    ops = list(recipe)
    node = root.members[int(ops.pop(0))] if isinstance(root, MultiBuckets) else root
    for op in ops:
        if node is None:
            return None
        node = node.shifted(str(op))
    return node


def steps_table(sets: Sequence[Buckets]) -> pa.Table:
    """The ``STEPS_PARAM`` rows of a query: part k holds the days of ``sets[k]``."""
    schema = STEPS_SCHEMA.to_pyarrow()
    runs = [(k, r) for k, b in enumerate(sets) for r in b.rows()]
    if not runs:
        return schema.empty_table()
    counts = np.array([r.days for _, r in runs])
    first = [np.datetime64(r.start, "D") for _, r in runs]
    days = np.concatenate([np.arange(d, d + r.days) for d, (_, r) in zip(first, runs, strict=True)])

    def text(attr: str) -> pa.Array:
        values = np.array([getattr(r, attr) for _, r in runs], dtype=object)
        return pa.array(np.repeat(values, counts), pa.string())

    parts = np.repeat(np.array([k for k, _ in runs], dtype=np.int32), counts)
    columns = {"part": pa.array(parts), "day": pa.array(days)}
    columns.update({c: text(c) for c in ("step", "month", "jm", "gm")})
    return pa.table(columns, schema=schema)


#: Paths of shifts a query may take from one step set (a comparison, then a growth's previous step).
_SHIFTS = (
    ("previous",),
    ("year_ago",),
    ("previous", "previous"),
    ("previous", "year_ago"),
    ("year_ago", "previous"),
    ("year_ago", "year_ago"),
)


def shape_of(root: AnyBuckets) -> tuple[tuple[bool, ...], ...]:
    """What of a root step set changes a query's SQL: how many parts it has, and which shifted
    sets exist (a year-ago day may not: then the comparison is a null column, not a join)."""
    parts = root.parts() if isinstance(root, MultiBuckets) else (root,)
    out = []
    for i, _ in enumerate(parts):
        head: tuple[int | str, ...] = (i,) if isinstance(root, MultiBuckets) else ()
        out.append(tuple(resolve_recipe(root, (*head, *path)) is not None for path in _SHIFTS))
    return tuple(out)


#: A run of no days: the rows (none) and column types of a query that reads no step set.
_NO_RUN = "(0, DATE '2000-01-01', 0, '', '', '', '')"
#: The column types of no targets (the row itself is filtered out).
_NO_TARGET = "('', '', '', '', CAST('0' AS DOUBLE))"


def steps_param(sets: Sequence[Buckets]) -> Param:
    """The ``STEPS_PARAM`` of a query: in DuckDB its runs of days as literals, spread over their
    days by the warehouse; elsewhere :func:`steps_table`. Both give the same rows (tested)."""
    runs = [(k, r) for k, b in enumerate(sets) for r in b.rows()]
    values = ", ".join(
        f"({k}, {sql_value(r.start)}, {int(r.days)}, {quote_literal(r.step)}, "
        f"{quote_literal(r.month)}, {quote_literal(r.jm)}, {quote_literal(r.gm)})"
        for k, r in runs
    )
    select = (
        "SELECT CAST(r.part AS INTEGER) AS part, CAST(r.start + CAST(d.i AS INTEGER) AS DATE) AS day, "
        "CAST(r.step AS VARCHAR) AS step, CAST(r.month AS VARCHAR) AS month, CAST(r.jm AS VARCHAR) AS jm, "
        f"CAST(r.gm AS VARCHAR) AS gm FROM (VALUES {values or _NO_RUN}) AS r(part, start, days, step, month, jm, gm), "
        "range(r.days) AS d(i)"
    )
    return Param(select, lambda: steps_table(sets))


def targets_param(targets: Sequence[Target]) -> Param:
    """The ``TARGETS_PARAM`` of a query: in DuckDB its rows as literals; elsewhere :func:`targets_table`."""
    values = ", ".join(
        f"({quote_literal(t.measure)}, {quote_literal(t.step)}, {quote_literal(t.member or '')}, "
        f"{quote_literal(t.member_label or '')}, {sql_value(float(t.value))})"
        for t in targets
    )
    select = f"SELECT * FROM (VALUES {values or _NO_TARGET}) AS t(measure, step, member, member_label, value)" + (
        "" if targets else " WHERE FALSE"
    )
    return Param(select, lambda: targets_table(targets))


def targets_table(targets: Sequence[Target]) -> pa.Table:
    """The ``TARGETS_PARAM`` rows: the targets of a query's rows (kpis/targeting.py)."""
    return pa.table(
        {
            "measure": pa.array([t.measure for t in targets], pa.string()),
            "step": pa.array([t.step for t in targets], pa.string()),
            "member": pa.array([t.member or "" for t in targets], pa.string()),
            "member_label": pa.array([t.member_label or "" for t in targets], pa.string()),
            "value": pa.array([t.value for t in targets], pa.float64()),
        },
        schema=TARGETS_SCHEMA.to_pyarrow(),
    )


class StepSets:
    """The step sets a query being compiled reads, each a part of the ``STEPS_PARAM`` table."""

    def __init__(self) -> None:
        self.recipes: list[tuple[int | str, ...]] = []
        self.param = ibis.table(STEPS_SCHEMA, name=STEPS_PARAM)

    def part(self, b: Buckets) -> int:
        if b.recipe not in self.recipes:
            self.recipes.append(b.recipe)
        return self.recipes.index(b.recipe)

    def relation(self, b: AnyBuckets) -> ir.Table:
        """``day -> step`` (and the day's month label, to count months a step touches)."""
        ks = [self.part(p) for p in b.parts()]
        t = self.param
        t = t.filter(t.part == ks[0]) if len(ks) == 1 else t.filter(t.part.isin(ks))
        return t.select("day", "step", "month", "jm", "gm")


def condition(t: ir.Table, conds: Iterable[Cond]) -> ir.BooleanValue | None:
    """The conditions of a declaration over a cohort's columns, and-ed (None: no condition)."""
    out: ir.BooleanValue | None = None
    for c in conds:
        col = t[c.column]
        if c.op == "eq":
            e = col == c.value
        elif c.op == "ne":
            e = col != c.value
        elif c.op == "in":
            e = col.isin(list(c.value))
        elif c.op == "not_in":
            e = ~col.isin(list(c.value))
        elif c.op == "lt":
            e = col < c.value
        elif c.op == "gt":
            e = col > c.value
        elif c.op == "null":
            e = col.isnull()
        else:
            e = col.notnull()
        out = e if out is None else out & e
    return out


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return num.cast("float64") / den.cast("float64").nullif(0.0)  # type: ignore[no-any-return]


def _keys_join(
    left: ir.Table, right: ir.Table, keys: Sequence[str], how: str = "left", fill: Sequence[str] = ()
) -> ir.Table:
    """Join on equal ``keys`` (kept once, coalesced for outer joins); right's other columns are added."""
    left, right = solid(left), solid(right)
    renamed = right.rename({f"{k}__r": k for k in keys})
    pred = [left[k] == renamed[f"{k}__r"] for k in keys]
    j = left.join(renamed, pred, how=how)  # type: ignore[arg-type]
    cols: list[ir.Value] = []
    for k in keys:
        cols.append(ibis.coalesce(j[k], j[f"{k}__r"]).name(k) if how == "outer" else j[k])
    for c in left.columns:
        if c not in keys:
            cols.append(j[c])
    for c in right.columns:
        if c not in keys:
            cols.append(j[c])
    return solid(j.select(*cols))


#: The columns a comparison adds for the headline, in the order a result shows them.
_COMPARED = (compared_column, change_column, change_rate_column)


class PlanCompiler:
    """Builds the expression of one plan over the sources of one workspace (and rep scope).

    The expression reads its step sets and its rows' targets from the query parameters
    (``STEPS_PARAM``, ``TARGETS_PARAM``); ``targeted`` names the measures that have targets.
    After :meth:`expr`, ``steps.recipes`` lists the step sets it reads, in part order.
    """

    def __init__(
        self, src: Sources, plan: Plan, targeted: Sequence[str] = (), buckets: AnyBuckets | None = None
    ) -> None:
        self.src = src
        self.buckets = buckets
        self.plan = plan
        self.kpi: KPI = plan.kpi
        self.targeted = tuple(targeted)
        self.steps = StepSets()

    # -- facts ---------------------------------------------------------------------------
    def facts(self, cohort: str, *, kpi_where: bool, filters: bool, ignore: Iterable[str] = ()) -> ir.Table:
        if cohort not in COHORTS:
            raise InternalError(f"unknown cohort {cohort!r}")
        f = self.src.cohort(cohort, self._reads())
        if kpi_where and cohort == self.kpi.cohort:
            cond = condition(f, self.kpi.where)
            if cond is not None:
                f = f.filter(cond)
        if filters:
            ignored = set(ignore)
            for dim, member in self.plan.filters:
                if dim in ignored:
                    continue
                self._check_dim(cohort, dim)
                f = f.filter(f[dim].lower() == member.lower())
        return f

    def _reads(self) -> frozenset[str]:
        """Every column of a cohort this query may read: its dimensions and filters, and the
        columns its KPI's and measures' conditions and aggregations name."""
        kpi, plan = self.kpi, self.plan
        conds = [*kpi.where, *(c for m in kpi.measures for c in m.where)]
        return frozenset(
            {"day", *plan.by, *kpi.fixed, *(d for d, _ in plan.filters), *(c.column for c in conds)}
            | {m.column for m in kpi.measures if m.column}
        )

    def _check_dim(self, cohort: str, dim: str) -> None:
        if dim not in COHORTS[cohort].dims:
            raise InternalError(f"cohort {cohort} has no dimension {dim} (KPI {self.kpi.name})")

    def _agg(self, f: ir.Table, m: Measure) -> ir.Value:
        cond = condition(f, m.where)
        if m.kind == "count":
            return f.count(where=cond)
        col = f[m.column]
        if m.kind == "sum":
            total = ibis.coalesce(col.sum(where=cond), ibis.literal(0.0))
            if m.column in NULLABLE_VALUES:
                missing = col.isnull() if cond is None else (cond & col.isnull())
                return ibis.ifelse(f.count(where=missing) > 0, ibis.null("float64"), total)
            return total
        if m.kind == "nunique":
            return col.nunique(where=cond)
        if m.kind == "mean":
            return col.mean(where=cond)
        if m.kind == "quantile":
            return col.quantile(m.q, where=cond)
        raise InternalError(f"{m.kind} is not an aggregation")

    def aggregate(
        self,
        b: AnyBuckets,
        cohort: str,
        measures: Sequence[Measure],
        dims: Sequence[str],
        *,
        kpi_where: bool = True,
        filters: bool = True,
        ignore: Iterable[str] = (),
        names: dict[str, str] | None = None,
    ) -> ir.Table:
        """``step, *dims, measure...`` for the cohort's rows in the buckets."""
        f = self.facts(cohort, kpi_where=kpi_where, filters=filters, ignore=ignore)
        for d in dims:
            self._check_dim(cohort, d)
            if d in SPARSE_DIMS:
                f = f.filter(f[d].notnull())
        dm = self.steps.relation(b)
        if COHORTS[cohort].snapshot:
            ends = dm.group_by("step").aggregate(end=dm.day.max())
            # a query with many step ends (a grain, or a card's sparkline): sums by day first, shared
            # by all its step sets; one with a period's one end (and its comparisons'): the deals
            # joined to the ends directly, cheaper for so few
            many = self.plan.grain is not None or isinstance(self.buckets, MultiBuckets)
            if many and all(m.kind in ("count", "sum") for m in measures):
                return self._open_at_ends(f, ends, measures, dims, names or {})
            j = solid(f.join(ends, [f.created_day <= ends.end]))
            f = j.filter(j.closed_day.isnull() | (j.closed_day > j.end))
        else:  # an equi-join on the day with the (small) step set: DuckDB prunes the facts by it
            real = any(m.column == "real_amount" for m in measures)
            f = solid(f.join(dm.select("day", "step", *(("jm", "gm") if real else ())), "day"))
            if real:
                f = solid(self.src.with_real_amount(f))
        names = names or {}
        aggs = {names.get(m.name, m.name): self._agg(f, m) for m in measures}
        out = f.group_by(["step", *dims]).aggregate(**aggs)
        return out

    def _open_at_ends(
        self, f: ir.Table, ends: ir.Table, measures: Sequence[Measure], dims: Sequence[str], names: dict[str, str]
    ) -> ir.Table:
        """``step, *dims, measure...`` of the rows open at each step's end (created by then and
        not closed by then), for sums and counts: what was created by the end less what was both
        created and closed by it. Each side is summed by day first, so a few thousand days meet
        the step ends instead of every deal (a deal closed before its creation day counts as
        closed on that day: never open, as with the direct rule). A group with no open row is no
        row, and a sum over a value that may be missing is missing when an open row lacks it
        (:meth:`_agg`)."""
        f = f.filter(f.created_day.notnull())

        def by_day(t: ir.Table, day: ir.Value) -> ir.Table:
            t = t.mutate(d__=day)
            parts: dict[str, ir.Value] = {"n__": t.count()}
            for m in measures:
                cond = condition(t, m.where)
                if m.kind == "count":
                    parts[f"v__{m.name}"] = t.count(where=cond)
                    continue
                col = t[m.column]
                parts[f"v__{m.name}"] = ibis.coalesce(col.sum(where=cond), ibis.literal(0.0))
                if m.column in NULLABLE_VALUES:
                    parts[f"z__{m.name}"] = t.count(where=col.isnull() if cond is None else (cond & col.isnull()))
            daily = t.group_by(["d__", *dims]).aggregate(**parts)
            j = solid(daily.join(ends, [daily.d__ <= ends.end]))
            return j.group_by(["step", *dims]).aggregate(**{k: j[k].sum() for k in parts})

        created = by_day(f, f.created_day)
        closed = f.filter(f.closed_day.notnull())
        gone = by_day(
            closed, ibis.ifelse(closed.closed_day > closed.created_day, closed.closed_day, closed.created_day)
        )
        gone = gone.rename({f"{k}__gone": k for k in gone.columns if k not in ("step", *dims)})
        j = _keys_join(created, gone, ["step", *dims])

        def less(k: str) -> ir.NumericValue:
            return j[k] - ibis.coalesce(j[f"{k}__gone"], 0)  # type: ignore[no-any-return]

        out: dict[str, ir.Value] = {}
        for m in measures:
            value = less(f"v__{m.name}")
            if m.kind == "count":
                value = value.cast("int64")
            else:
                value = value.cast("float64")
                if m.column in NULLABLE_VALUES:
                    value = ibis.ifelse(less(f"z__{m.name}") > 0, ibis.null("float64"), value)
            out[names.get(m.name, m.name)] = value
        return j.filter(less("n__") > 0).select("step", *dims, **out)

    # -- values of the measures for one set of buckets ------------------------------------
    def needs(self, names: Iterable[str]) -> frozenset[str]:
        """``names`` and every measure they are computed from (a ratio's numerator and
        denominator, a share's or a growth's measure …)."""
        out: set[str] = set()
        todo = [n for n in names if any(m.name == n for m in self.kpi.measures)]
        while todo:
            name = todo.pop()
            if name in out:
                continue
            out.add(name)
            m = self.kpi.measure(name)
            todo += [d for d in (m.num, m.den, m.of) if d]
        return frozenset(out)

    def values(self, b: AnyBuckets, needed: frozenset[str] | None = None, *, same_rows: bool = True) -> ir.Table:
        """``step, *dims`` and the ``needed`` measures (default: all) of the rows in ``b``: a
        comparison computes only its headline, a card only what it shows (a distinct count
        nobody reads costs more than the rest of the query). ``same_rows``: the rows are those
        of all measures even when fewer are needed (not for a table only looked up in)."""
        kpi, dims = self.kpi, list(self.plan.by)
        groups: dict[tuple[str, tuple[str, ...]], list[Measure]] = {}
        for m in kpi.measures:
            if m.is_aggregation:
                ignore = tuple(d for d in m.ignore_dims if d in dims or any(d == f for f, _ in self.plan.filters))
                groups.setdefault((m.cohort or kpi.cohort, ignore), []).append(m)
        keep = set(needed) if needed is not None else {m.name for m in kpi.measures}
        if dims and same_rows:
            # the rows are the members found by any aggregation over all the dimensions: a group
            # none of whose measures is needed keeps its cheapest one, so they stay the same rows
            for (_, ignore), ms in groups.items():
                if not set(ignore) & set(dims) and not any(m.name in keep for m in ms):
                    keep.add(min(ms, key=lambda m: m.kind not in ("count", "sum")).name)
        measures = [m for m in kpi.measures if m.name in keep]
        full: list[ir.Table] = []
        partial: list[tuple[ir.Table, list[str]]] = []
        for (cohort, ignore), every in groups.items():
            ms = [m for m in every if m.name in keep]
            if not ms:
                continue
            gdims = [d for d in dims if d not in ignore]
            t = self.aggregate(b, cohort, ms, gdims, kpi_where=cohort == kpi.cohort, ignore=ignore)
            if len(gdims) == len(dims):
                full.append(t)
            else:
                partial.append((t, gdims))
        if dims and not full and needed is not None:  # only measures computed as if a dimension were not asked for
            return self.values(b, None, same_rows=same_rows)
        keys = ["step", *dims]
        if not dims:
            dm = self.steps.relation(b)
            base = dm.select("step").distinct()
            for t in full:
                base = _keys_join(base, t, keys)
        else:
            base = full[0]
            for t in full[1:]:
                base = _keys_join(base, t, keys, how="outer")
        for t, gdims in partial:
            base = _keys_join(base, t, ["step", *gdims])
        base = self._initiative_blocks(base, b, dims, measures)
        base = self._step_blocks(base, b, dims, measures)
        base = self._fill(base)
        return self._derived(base, measures)

    def _initiative_blocks(self, base: ir.Table, b: AnyBuckets, dims: list[str], measures: list[Measure]) -> ir.Table:
        for m in measures:
            if m.kind == "cumulative":
                f = self.facts(self.kpi.cohort, kpi_where=True, filters=True)
                dm = self.steps.relation(b)
                f = f.filter(f.day <= dm.day.max())
                daily = f.group_by(["day", *dims, *(["initiative"] if "initiative" not in dims else [])]).aggregate(
                    v=f[m.column].sum()
                )
                ini = self.src.wh.table("initiatives").select(ini_id="initiative_id", started_on="started_on")
                daily = solid(daily.left_join(ini, daily.initiative == ini.ini_id))
                ends = dm.group_by("step").aggregate(end=dm.day.max())
                j = daily.join(ends, [daily.day <= ends.end, daily.day >= ibis.coalesce(daily.started_on, daily.day)])
                cum = j.group_by(["step", *dims]).aggregate(**{m.name: j.v.sum()})
                base = _keys_join(base, cum, ["step", *dims])
            elif m.kind == "lookup":
                table, key, dim = LOOKUPS[m.column]
                t = self.src.wh.table(table)
                if dim in dims:
                    look = t.select(**{dim: t[key], m.name: t[m.column]})
                    base = _keys_join(base, look, [dim])
                else:
                    total = t.aggregate(**{m.name: t[m.column].sum()})
                    base = base.cross_join(total)
        return base

    def _step_blocks(self, base: ir.Table, b: AnyBuckets, dims: list[str], measures: list[Measure]) -> ir.Table:
        """Shares, per-month rates and previous-step values."""
        kpi = self.kpi
        for m in measures:
            if m.kind == "share":
                of = kpi.measure(m.of)
                total = self.aggregate(
                    b, m.cohort or kpi.cohort, [of], [], kpi_where=False, filters=False, names={of.name: "__total"}
                )
                base = _keys_join(base, total, ["step"])
                base = base.mutate(**{m.name: _ratio(base[m.of], base["__total"])}).drop("__total")
            elif m.kind == "per_month":
                dm = self.steps.relation(b)
                months = dm.group_by("step").aggregate(__months=dm.month.nunique())
                base = _keys_join(base, months, ["step"])
                base = base.mutate(**{m.name: _ratio(base[m.of], base["__months"])}).drop("__months")
        done: set[str] = set()
        for m in measures:
            if m.kind not in ("previous", "growth"):
                continue
            col = f"__{m.offset}_{m.of}"
            if col in done:
                continue
            done.add(col)
            of = kpi.measure(m.of)
            sb = b.shifted(m.offset)
            if sb is None:
                base = base.mutate(**{col: ibis.null("float64")})
                continue
            prev = self.aggregate(sb, of.cohort or kpi.cohort, [of], dims, names={of.name: col})
            # a member has a row when the measure a `previous` column shows, or that column, is not 0
            # (KPIS.md, sales_growth); other comparisons are looked up for the rows there are
            outer = (
                bool(dims)
                and m.offset == "previous"
                and any(x.kind == "previous" and x.of == m.of and x.offset == m.offset for x in kpi.measures)
            )
            base = _keys_join(base, prev, ["step", *dims], how="outer" if outer else "left")
            if of.zero_when_empty and of.column not in NULLABLE_VALUES:
                base = base.mutate(**{col: ibis.coalesce(base[col], ibis.literal(0.0))})
            if outer:
                # a member found only in the previous step had no rows now: its sums are 0 (a sum
                # over an optional column too: nothing was missing), not null
                absent = base[of.name].isnull()
                fills = {
                    x.name: ibis.ifelse(absent, ibis.literal(0).cast(base[x.name].type()), base[x.name])
                    for x in kpi.measures
                    if x.zero_when_empty
                    and x.is_aggregation
                    and x.name in base.columns
                    and x.name != of.name
                    and (x.cohort or kpi.cohort) == (of.cohort or kpi.cohort)
                }
                base = base.mutate(**{of.name: ibis.coalesce(base[of.name], ibis.literal(0.0))}, **fills)
                base = base.filter((base[of.name] != 0) | (base[col] != 0))
        return base

    def _fill(self, base: ir.Table) -> ir.Table:
        fills = {
            m.name: ibis.coalesce(base[m.name], ibis.literal(0))
            for m in self.kpi.measures
            if m.zero_when_empty and m.column not in NULLABLE_VALUES and m.name in base.columns
        }
        return base.mutate(**fills) if fills else base

    def _derived(self, base: ir.Table, measures: list[Measure]) -> ir.Table:
        out: dict[str, ir.Value] = {}
        for m in measures:
            if m.kind == "ratio":
                out[m.name] = _ratio(base[m.num], base[m.den])
            elif m.kind == "previous":
                out[m.name] = base[f"__{m.offset}_{m.of}"]
            elif m.kind == "growth":
                prev = base[f"__{m.offset}_{m.of}"]
                out[m.name] = _ratio(base[m.of] - prev, prev)
        return base.mutate(**out) if out else base

    # -- the whole query --------------------------------------------------------------------
    def expr(self) -> ir.Table:
        plan, kpi = self.plan, self.kpi
        dims = list(plan.by)
        main = self.buckets or Buckets.main(plan)
        needed = None
        if plan.measures:  # what is shown, and the hidden counts of its warnings
            needed = self.needs([kpi.headline, *plan.measures, *(m for m, _ in kpi.warnings)])
        rows = self.values(main, needed)
        rows = self._apply_targets(rows, dims)
        for slot, offset in comparisons(plan.compare):
            rows = self._compare(rows, main, dims, offset, slot)
        return self._present(rows, dims)

    def _compare(self, rows: ir.Table, main: AnyBuckets, dims: list[str], offset: str, slot: Against) -> ir.Table:
        """Add ``<prefix>_m``, ``m_change`` and ``m_change_rate`` for the headline ``m``.

        With both comparisons at once (the scorecard), the year-ago columns are
        ``year_ago_m``, ``m_year_ago_change`` and ``m_year_ago_change_rate``.
        """
        kpi = self.kpi
        h, hm = kpi.headline, kpi.headline_measure
        col = compared_column(h, slot)
        # only the query's own steps are compared: a sparkline's steps need no comparison
        sb = (main.head if isinstance(main, MultiBuckets) else main).shifted(offset)
        if sb is None:
            rows = rows.mutate(**{col: ibis.null("float64")})
        else:
            cmp = self.values(sb, self.needs([h]), same_rows=False).select("step", *dims, **{col: h})
            rows = _keys_join(rows, cmp, ["step", *dims])
            if hm.zero_when_empty:
                rows = rows.mutate(**{col: ibis.coalesce(rows[col], ibis.literal(0))})
        prev = rows[col]
        change = (rows[h] - prev).cast("float64")
        return rows.mutate(**{change_column(h, slot): change, change_rate_column(h, slot): _ratio(change, prev)})

    def _apply_targets(self, rows: ir.Table, dims: list[str]) -> ir.Table:
        kpi = self.kpi
        param = ibis.table(TARGETS_SCHEMA, name=TARGETS_PARAM)
        targeted = [m.name for m in kpi.visible_measures if m.name in self.targeted and m.name in rows.columns]
        for mname in targeted:
            tcol = target_column(kpi, mname)
            ts = param.filter(param.measure == mname)
            if not dims:
                mt = ts.select(step=ts.step, **{tcol: ts.value})
                rows = _keys_join(rows, mt, ["step"])
                continue
            dim = dims[0]
            mt = ts.select(__tstep=ts.step, __tkey=ts.member, __tlabel=ts.member_label, **{tcol: ts.value})
            rows = solid(rows)
            j = rows.join(mt, [rows.step == mt["__tstep"], rows[dim].lower() == mt["__tkey"]], how="outer")
            fill = {
                m.name: ibis.coalesce(j[m.name], ibis.literal(0))
                for m in kpi.measures
                if m.zero_when_empty and m.column not in NULLABLE_VALUES and m.name in rows.columns
            }
            j = j.mutate(
                step=ibis.coalesce(j.step, j["__tstep"]), **{dim: ibis.coalesce(j[dim], j["__tlabel"])}, **fill
            )
            rows = solid(j.drop("__tstep", "__tkey", "__tlabel"))
        for m in kpi.visible_measures:
            tcol, acol = target_column(kpi, m.name), attainment_column(kpi, m.name)
            if tcol not in rows.columns:
                if m.name != kpi.headline:
                    continue
                rows = rows.mutate(**{tcol: ibis.null("float64")})
            actual, target = rows[m.name].cast("float64"), rows[tcol].cast("float64")
            ok = (actual > 0) & (target > 0)
            ratio = actual / target if kpi.direction == "up" else target / actual
            rows = rows.mutate(**{acol: ibis.ifelse(ok, ratio, ibis.null("float64"))})
        return rows

    def _present(self, rows: ir.Table, dims: list[str]) -> ir.Table:
        kpi, plan = self.kpi, self.plan
        shown = [m.name for m in kpi.visible_measures if not plan.measures or m.name in plan.measures]
        if kpi.headline in shown:
            shown.remove(kpi.headline)
            shown.insert(0, kpi.headline)
        extra: list[str] = []
        for m in shown:
            t, a = target_column(kpi, m), attainment_column(kpi, m)
            extra += [c for c in (t, a) if c in rows.columns]
        h = kpi.headline
        compared = [f(h, slot) for slot, _ in comparisons(plan.compare) for f in _COMPARED]
        extra += [c for c in compared if c in rows.columns]
        named: list[str] = []
        for d in dims:
            if d in NAMES:
                table, key, name = NAMES[d]
                t = self.src.wh.table(table)
                rows = _keys_join(rows, t.select(**{d: t[key], name_column(d): t[name]}), [d])
                named += [d, name_column(d)]
            else:
                named.append(d)
        warn = {warning_column(m): rows[m] for m, _ in kpi.warnings if m in rows.columns}
        out = rows.select(rows.step.name(STEP), *named, *shown, *extra, **warn)
        order = [out[STEP]]
        if dims:
            first = h if h in shown else shown[0]  # the measures asked for may leave the headline out
            order.append(out[first].desc(nulls_first=False))
            order += [out[d] for d in dims]
        return out.order_by(order)
