"""The engine: run a KPI query on the workspace's warehouse, or explain it.

``Engine.run`` checks the query, compiles it to one Ibis expression, runs it in
the warehouse and returns a :class:`Result` (rows ready for JSON, pandas or
Arrow). ``Engine.explain`` returns the SQL instead. ``Engine.scorecard`` puts
the goals' primary KPIs first (KPIS.md, Goals).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sanjeh.calendar import CalendarName, Grain
from sanjeh.errors import InternalError, InvalidQuery
from sanjeh.goals import GOALS
from sanjeh.kpis import facts
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.kpis.columns import STEP, WARNING_PREFIX, Column, describe, warning_column
from sanjeh.kpis.compile import (
    STEPS_PARAM,
    TARGETS_PARAM,
    AnyBuckets,
    Buckets,
    PlanCompiler,
    resolve_recipe,
    shape_of,
    steps_param,
    targets_param,
)
from sanjeh.kpis.coverage import Coverage, DataStatus, read_coverage
from sanjeh.kpis.model import KPI, kpi_from_settings
from sanjeh.kpis.query import Plan, Query, plan
from sanjeh.kpis.scorecard import Scorecard, build_scorecard
from sanjeh.kpis.sources import COHORTS, STORED, RepScope, Sources, normalize_scope
from sanjeh.kpis.sqlcache import Compiled
from sanjeh.kpis.targeting import Target, resolve_targets

if TYPE_CHECKING:
    import pandas as pd

    from sanjeh.kpis.why import Why, WhyQuery
    from sanjeh.workspace import Workspace

log = logging.getLogger("sanjeh.engine")


@dataclass
class Result:
    kpi: KPI
    plan: Plan
    table: pa.Table
    #: Data-quality warnings about the rows counted (e.g. negative sales cycles), in fa and en.
    warnings: list[dict[str, str]] = field(default_factory=list)
    #: Whether the KPI has data at all, and in this period (kpis/coverage.py).
    data: DataStatus = field(default_factory=lambda: DataStatus("ok"))

    @staticmethod
    def build(kpi: KPI, p: Plan, table: pa.Table, data: DataStatus | None = None) -> Result:
        warnings: list[dict[str, str]] = []
        for measure, message in kpi.warnings:
            col = warning_column(measure)
            if col in table.column_names:
                n = int(sum(v or 0 for v in table[col].to_pylist()))
                if n > 0:
                    warnings.append({lang: text.format(n=n) for lang, text in message.items()})
        keep = [c for c in table.column_names if not c.startswith(WARNING_PREFIX)]
        status = data or DataStatus("ok")
        if status.status == "no_data":  # an empty source table is no data, not a row of zeros
            table = table.slice(0, 0)
        return Result(kpi, p, table.select(keep), warnings, status)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def column_info(self) -> list[Column]:
        """What each column is: its role, measure, comparison and unit (kpis/columns.py)."""
        return describe(self.kpi, self.columns, self.plan.by, self.plan.compare)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self.table.to_pylist()]

    def to_pandas(self) -> pd.DataFrame:  # pandas is imported by arrow when asked (0.5 s: not at start)
        df: pd.DataFrame = self.table.to_pandas()
        return df

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "kpi": self.kpi.name,
            "period": p.period.label,
            "calendar": p.period.calendar,
            "grain": p.grain,
            "by": list(p.by),
            "filters": dict(p.filters),
            "compare": p.compare,
            "columns": self.columns,
            "column_info": [c.to_dict() for c in self.column_info],
            "rows": self.rows,
            "warnings": [w["en"] for w in self.warnings],
            "data": self.data.to_dict(),
        }


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


class Engine:
    """KPI queries over one workspace, optionally restricted to one rep's rows."""

    def __init__(self, ws: Workspace, *, rep_scope: RepScope = None, use_facts: bool = True) -> None:
        self.ws = ws
        self.rep_scope = normalize_scope(rep_scope)  # one rep's id, or a team's set of ids
        self._catalogue: dict[str, KPI] | None = None
        self._coverage: Coverage | None = None
        self._members: dict[tuple[str, str], list[str]] = {}
        self._raw_targets: list[dict[str, Any]] | None = None
        self._facts: bool | None = None
        self.use_facts = use_facts

    # -- the catalogue ---------------------------------------------------------------------
    def catalogue(self) -> list[KPI]:
        return list(self._kpis().values())

    def _kpis(self) -> dict[str, KPI]:
        if self._catalogue is None:
            kpis = {k.name: k for k in CATALOGUE}
            for raw in self.ws.settings.kpis:
                k = kpi_from_settings(raw)
                _check_declaration(k)
                kpis[k.name] = k
            self._catalogue = kpis
        return self._catalogue

    def kpi(self, name: str) -> KPI:
        from sanjeh.kpis.query import find_kpi

        return find_kpi(name, self._kpis())

    def primary(self) -> list[str]:
        out: list[str] = []
        for g in self.ws.settings.goals:
            for name in GOALS.get(g, ()):
                if name not in out:
                    out.append(name)
        return out

    # -- queries -----------------------------------------------------------------------------
    # -- what data there is ----------------------------------------------------------------
    def coverage(self) -> Coverage:
        """The tables' rows and the days their events span (read once per engine)."""
        if self._coverage is None:
            self._coverage = read_coverage(self.ws.warehouse)
        return self._coverage

    def as_of(self) -> dt.date:
        """The day periods like "this month" count from: today, or the last day with data when
        the workspace's data ends before last month."""
        return self.coverage().as_of(self.ws.today(), self.ws.settings.calendar)

    def default_period(self, kind: Grain = "quarter", calendar: CalendarName | None = None) -> str:
        """The latest complete ``kind`` (by the clock), or the one of the last day with data
        when the data ends before it."""
        return self.coverage().default_period(self.ws.today(), calendar or self.ws.settings.calendar, kind)

    def data_status(self, p: Plan) -> DataStatus:
        return self.coverage().status(COHORTS[p.kpi.cohort], p.period)

    def sources(self) -> Sources:
        """The tables this engine's queries read (kpis/sources.py): its rep scope's rows, from the
        materialised cohorts when they are fresh (built first when the data changed). For the
        engine-side modules that list rows rather than run a KPI (drill, members, time to win,
        pipeline), so they read exactly what a KPI of this engine counts; a surface calls those
        modules, never this."""
        wh = self.ws.warehouse
        if self._facts is None:
            self._facts = self._ensure_facts()
        stored = STORED if self._facts else frozenset()
        return Sources(wh, rep_scope=self.rep_scope, no_orders=self.coverage().no_orders, facts=stored)

    def refresh_facts(self) -> bool:
        """Build the materialised cohorts now if the data changed since they were built (a no-op
        when they are fresh); True when this engine reads them."""
        self._facts = self._ensure_facts()
        return self._facts

    def _ensure_facts(self) -> bool:
        """Use the materialised cohorts (facts.py), building them when the data changed."""
        wh = self.ws.warehouse
        if not self.use_facts or not wh.materialises:  # Spark takes no temporary tables: the build would fail
            return False
        print_ = facts.fingerprint(wh)
        if facts.is_fresh(wh, print_):
            return True
        if self.ws.read_only:
            return False
        try:
            facts.refresh(wh, print_, no_orders=self.coverage().no_orders)
        except Exception:  # a failed build is never fatal: the same numbers come from live joins
            log.warning("could not build the materialised cohorts; joining live", exc_info=True)
            return False
        return True

    def plan(self, query: Query, *, whole: bool = False) -> Plan:
        return plan(query, self._kpis(), whole=whole)

    def run(self, query: Query, *, whole: bool = False) -> Result:
        return self.run_plan(self.plan(query, whole=whole))

    def run_plan(self, p: Plan, buckets: AnyBuckets | None = None) -> Result:
        """Run a plan: its SQL from the cache of compiled shapes (kpis/sqlcache.py), compiled on
        a miss; its step sets and targets filled in as parameter tables."""
        status = self.data_status(p)
        root = buckets or Buckets.main(p)
        targets = self._targets(p)
        compiled = self._compiled(p, root, targets)
        if status.status == "no_data":  # nothing to ask the warehouse: the columns are the answer
            return Result.build(p.kpi, p, compiled.schema.empty_table(), status)
        sets = [resolve_recipe(root, r) for r in compiled.recipes]
        if any(b is None for b in sets):
            raise InternalError(f"a cached query of {p.kpi.name} reads a step set this period does not have")
        params = {STEPS_PARAM: steps_param([b for b in sets if b is not None])}
        if TARGETS_PARAM in compiled.sql:  # only a query with targets reads them
            params[TARGETS_PARAM] = targets_param(targets)
        return Result.build(p.kpi, p, self.ws.warehouse.query_arrow(compiled.sql, params, compiled.schema), status)

    def _compiled(self, p: Plan, root: AnyBuckets, targets: list[Target]) -> Compiled:
        src = self.sources()
        self._check_members(src, p)
        targeted = tuple(sorted({t.measure for t in targets}))
        shape = (
            self.ws.warehouse.dialect,
            repr(p.kpi),
            p.by,
            p.filters,
            p.compare,
            p.measures,
            p.grain is None,
            self.rep_scope if not isinstance(self.rep_scope, frozenset) else tuple(sorted(self.rep_scope)),
            tuple(sorted(src.facts)),
            src.no_orders,
            targeted,
            shape_of(root),
        )
        cache = self.ws.sql_cache
        key = cache.key(shape)
        hit = cache.get(key)
        if hit is not None:
            return hit
        c = PlanCompiler(src, p, targeted, root)
        expr = c.expr()
        compiled = Compiled(self.ws.warehouse.compile(expr), tuple(c.steps.recipes), expr.schema().to_pyarrow())
        cache.put(key, compiled)
        return compiled

    def explain(self, query: Query) -> str:
        """The SQL the query runs, and the step sets and targets it is given as parameters."""
        p = self.plan(query)
        root = Buckets.main(p)
        targets = self._targets(p)
        compiled = self._compiled(p, root, targets)
        notes = []
        for k, r in enumerate(compiled.recipes):
            b = resolve_recipe(root, r)
            if b is not None:
                runs = b.rows()
                first = str(runs[0].start) if runs else "-"
                last = str(runs[-1].start + dt.timedelta(days=runs[-1].days - 1)) if runs else "-"
                labels = sorted({r.step for r in runs})
                notes.append(
                    f"-- {STEPS_PARAM} part {k}: {first}..{last}, steps {', '.join(labels[:6])}"
                    + (" …" if len(labels) > 6 else "")
                )
        notes += [f"-- {TARGETS_PARAM}: {t.measure} {t.step} {t.member or ''} = {t.value:g}" for t in targets]
        return "\n".join([*notes, compiled.sql])

    def members(self, cohort: str, dim: str) -> list[str]:
        """The members of a cohort's dimension in the data (this engine's rows), sorted; read
        once per engine."""
        key = (cohort, dim)
        if key not in self._members:
            f = self.sources().cohort(cohort)
            got = f.select(m=f[dim]).filter(f[dim].notnull()).distinct().order_by("m").to_pyarrow()
            self._members[key] = [str(x) for x in got["m"].to_pylist()]
        return self._members[key]

    def _check_members(self, src: Sources, p: Plan) -> None:
        """A filter on a member that does not exist is an error naming the members that do."""
        for dim, member in p.filters:
            cohort = p.kpi.cohort
            if dim not in COHORTS[cohort].dims:
                cohort = next(m.cohort for m in p.kpi.measures if m.cohort and dim in COHORTS[m.cohort].dims)
            known = self.members(cohort, dim)
            if member.lower() not in {k.lower() for k in known}:
                raise InvalidQuery(
                    f"no {dim} {member!r} in the data; known members include: {', '.join(known[:25]) or 'none'}",
                    details={"dimension": dim, "member": member, "known": known[:25]},
                )

    def targets_changed(self, rows: list[dict[str, Any]] | None = None) -> None:
        """The targets table changed: these are its ``rows`` now (None: read it again on the next
        query)."""
        self._raw_targets = rows

    def targets_read(self) -> list[dict[str, Any]] | None:
        """The rows of the targets table as this engine last read them (None: not read yet)."""
        return self._raw_targets

    def raw_targets(self) -> list[dict[str, Any]]:
        """The rows of the targets table (small: read once per engine)."""
        if self._raw_targets is None:
            self._raw_targets = self.ws.warehouse.rows(self.ws.warehouse.table("targets"))
        return self._raw_targets

    def _targets(self, p: Plan) -> list[Target]:
        """The targets that apply to this query's rows (kpis/targeting.py)."""
        return resolve_targets(self.raw_targets(), p, rep_scope=self.rep_scope)

    # -- why: a change or a miss split over members (kpis/why.py) --------------------------------
    def why(self, query: WhyQuery) -> Why:
        from sanjeh.kpis.why import answer

        return answer(self, query)

    # -- the scorecard ---------------------------------------------------------------------------
    def scorecard(self, period: str, *, spark_steps: int = 12) -> Scorecard:
        return build_scorecard(self, period, spark_steps=spark_steps)


def _check_declaration(k: KPI) -> None:
    """A workspace KPI must only use cohorts, columns, dimensions and measures that exist
    (sanjeh/check.py's rules; ``Workspace.open`` has run them all already): its first error."""
    from sanjeh.check import kpi_problems

    errors = [p for p in kpi_problems(k) if p.level == "error"]
    if errors:
        raise errors[0].error()


__all__ = ["STEP", "Engine", "Query", "Result"]
