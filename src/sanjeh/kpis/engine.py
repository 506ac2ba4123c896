"""The engine: run a KPI query on the workspace's warehouse, or explain it.

``Engine.run`` checks the query, compiles it to one Ibis expression, runs it in
the warehouse and returns a :class:`Result` (rows ready for JSON, pandas or
Arrow). ``Engine.explain`` returns the SQL instead. ``Engine.scorecard`` puts
the goals' primary KPIs first (KPIS.md, Goals).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa

from sanjeh.calendar import parse_unit, steps
from sanjeh.errors import InvalidPeriod, InvalidQuery
from sanjeh.kpis import facts
from sanjeh.kpis.catalogue import CATALOGUE, GOALS
from sanjeh.kpis.compile import STEP, WARNING_PREFIX, AnyBuckets, Compiler, Target
from sanjeh.kpis.model import KPI, kpi_from_settings
from sanjeh.kpis.query import Plan, Query, plan
from sanjeh.kpis.sources import COHORTS, Sources
from sanjeh.text import normalize_member

if TYPE_CHECKING:
    from sanjeh.workspace import Workspace

log = logging.getLogger("sanjeh.engine")


@dataclass
class Result:
    kpi: KPI
    plan: Plan
    table: pa.Table
    #: Data-quality warnings about the rows counted (e.g. negative sales cycles), in fa and en.
    warnings: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def build(kpi: KPI, p: Plan, table: pa.Table) -> Result:
        warnings: list[dict[str, str]] = []
        for measure, message in kpi.warnings:
            col = WARNING_PREFIX + measure
            if col in table.column_names:
                n = int(sum(v or 0 for v in table[col].to_pylist()))
                if n > 0:
                    warnings.append({lang: text.format(n=n) for lang, text in message.items()})
        keep = [c for c in table.column_names if not c.startswith(WARNING_PREFIX)]
        return Result(kpi, p, table.select(keep), warnings)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self.table.to_pylist()]

    def to_pandas(self) -> pd.DataFrame:
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
            "rows": self.rows,
            "warnings": [w["en"] for w in self.warnings],
        }


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


class Engine:
    """KPI queries over one workspace, optionally restricted to one rep's rows."""

    def __init__(self, ws: Workspace, *, rep_scope: str | None = None, use_facts: bool = True) -> None:
        self.ws = ws
        self.rep_scope = rep_scope
        self._catalogue: dict[str, KPI] | None = None
        self._no_orders: bool | None = None
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
    def _sources(self) -> Sources:
        wh = self.ws.warehouse
        if self._no_orders is None:
            self._no_orders = int(wh.table("orders").count().execute()) == 0
        if self._facts is None:
            self._facts = self._ensure_facts()
        stored = facts.STORED if self._facts else frozenset()
        return Sources(wh, rep_scope=self.rep_scope, no_orders=self._no_orders, facts=stored)

    def _ensure_facts(self) -> bool:
        """Use the materialised cohorts (facts.py), building them when the data changed."""
        if not self.use_facts:
            return False
        wh = self.ws.warehouse
        print_ = facts.fingerprint(wh)
        if facts.is_fresh(wh, print_):
            return True
        if self.ws.read_only:
            return False
        try:
            facts.refresh(wh, print_, no_orders=bool(self._no_orders))
        except Exception:  # a failed build is never fatal: the same numbers come from live joins
            log.warning("could not build the materialised cohorts; joining live", exc_info=True)
            return False
        return True

    def plan(self, query: Query, *, whole: bool = False) -> Plan:
        return plan(query, self._kpis(), whole=whole)

    def compile(self, p: Plan, buckets: AnyBuckets | None = None) -> ibis.Table:
        src = self._sources()
        self._check_members(src, p)
        return Compiler(src, p, self._targets(p), buckets).expr()

    def run(self, query: Query, *, whole: bool = False) -> Result:
        return self.run_plan(self.plan(query, whole=whole))

    def run_plan(self, p: Plan, buckets: AnyBuckets | None = None) -> Result:
        expr = self.compile(p, buckets)
        return Result.build(p.kpi, p, expr.to_pyarrow())

    def explain(self, query: Query) -> str:
        p = self.plan(query)
        expr = self.compile(p)
        return str(ibis.to_sql(expr, dialect=self.ws.warehouse.con.name))

    def _check_members(self, src: Sources, p: Plan) -> None:
        """A filter on a member that does not exist is an error naming the members that do."""
        for dim, member in p.filters:
            cohort = p.kpi.cohort
            if dim not in COHORTS[cohort].dims:
                cohort = next(m.cohort for m in p.kpi.measures if m.cohort and dim in COHORTS[m.cohort].dims)
            f = src.cohort(cohort)
            members = f.select(m=f[dim]).filter(f[dim].notnull()).distinct().order_by("m")
            found = members.filter(members.m.lower() == member.lower()).count().execute()
            if int(found) == 0:
                known = [str(x) for x in members.limit(25).to_pyarrow()["m"].to_pylist()]
                raise InvalidQuery(
                    f"no {dim} {member!r} in the data; known members include: {', '.join(known) or 'none'}",
                    details={"dimension": dim, "member": member, "known": known},
                )

    def _targets(self, p: Plan) -> list[Target]:
        """The targets that apply to this query's rows (KPIS.md, Targets and comparisons)."""
        if self._raw_targets is None:  # the targets table is small: read once per engine
            self._raw_targets = self.ws.warehouse.table("targets").to_pyarrow().to_pylist()
        raw = [r for r in self._raw_targets if str(r.get("kpi") or "").strip().lower() == p.kpi.name]
        if not raw:
            return []
        if p.grain is None:
            whole_labels = {p.period.label}
        else:
            whole_labels = {s.label for s in steps(p.period, p.grain) if not s.clipped}
        visible = {m.name for m in p.kpi.visible_measures}
        out: list[Target] = []
        for r in raw:
            measure = (r.get("measure") or "").strip() or p.kpi.headline
            if measure not in visible or r.get("target") is None:
                continue
            try:
                label = _canonical_label(str(r["period"]))
            except InvalidPeriod:
                continue
            if label not in whole_labels:
                continue
            dim = (r.get("dimension") or "").strip().lower()
            member = (r.get("member") or "").strip()
            if self.rep_scope is not None and dim != "rep":
                continue  # a rep's view compares with the rep's own targets only
            if dim:
                if p.by != (dim,):
                    continue
                code = dim in ("source", "contact_method")
                norm = normalize_member(member, code=code)
                if self.rep_scope is not None and norm.lower() != self.rep_scope.lower():
                    continue
                out.append(Target(measure, label, norm.lower(), norm, float(r["target"])))
            elif not p.by:
                out.append(Target(measure, label, None, None, float(r["target"])))
        return out

    # -- the scorecard ---------------------------------------------------------------------------
    def scorecard(self, period: str, *, spark_steps: int = 12) -> Scorecard:
        from sanjeh.kpis.scorecard import build_scorecard

        return build_scorecard(self, period, spark_steps=spark_steps)


def _canonical_label(text: str) -> str:
    if ".." in text:
        a, _, b = text.partition("..")
        return f"{parse_unit(a).label}..{parse_unit(b).label}"
    return parse_unit(text).label


def _check_declaration(k: KPI) -> None:
    """A workspace KPI must only use cohorts, columns and dimensions that exist."""
    from sanjeh.errors import SettingsError

    if k.cohort not in COHORTS:
        raise SettingsError(f"workspace KPI {k.name}: unknown cohort {k.cohort!r}; cohorts: {', '.join(COHORTS)}")
    names = {m.name for m in k.measures}
    if k.headline not in names:
        raise SettingsError(f"workspace KPI {k.name}: headline {k.headline!r} is not one of its measures")
    for d in (*k.dimensions, *k.fixed):
        if d not in COHORTS[k.cohort].dims:
            raise SettingsError(
                f"workspace KPI {k.name}: cohort {k.cohort} has no dimension {d!r}; "
                f"its dimensions: {', '.join(COHORTS[k.cohort].dims)}"
            )
    for m in k.measures:
        for ref in (m.num, m.den, m.of):
            if ref and ref not in names:
                raise SettingsError(f"workspace KPI {k.name}: measure {m.name} refers to unknown measure {ref!r}")


@dataclass
class Scorecard:
    period: str
    calendar: str
    goals: list[str]
    primary: list[dict[str, Any]] = field(default_factory=list)
    secondary: list[dict[str, Any]] = field(default_factory=list)
    #: What stands out, in words (kpis/insights.py): ``{"kind", "kpi", "text": {"fa", "en"}}``.
    insights: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "calendar": self.calendar,
            "goals": self.goals,
            "primary": self.primary,
            "secondary": self.secondary,
            "insights": self.insights,
        }


__all__ = ["STEP", "Engine", "Query", "Result", "Scorecard"]
