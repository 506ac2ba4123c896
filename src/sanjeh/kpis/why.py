"""Why a KPI moved or missed its target: the difference split exactly over members (shared/spec/WHY.md).

A measure declares how its change splits (``Measure.split``): ``additive`` (each member's
own change), ``distinct`` (the same, plus an ``overlap`` line for units counted in several
members), ``ratio`` (a symmetric mix/rate split) or ``none`` (refused, naming the measure to
ask about instead). The numbers come from the engine: the measure's parts (its value, or the
numerator and denominator of a ratio) are a small KPI of their own, run once for both sides
(the period and its baseline are two step sets of one query, grouped by the dimensions),
plus one company-wide query when an ``overlap`` line needs the true totals. Contributions are
computed over the members' arrays in numpy, so every answer's parts add up to the change.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from sanjeh.calendar import Period
from sanjeh.errors import InvalidQuery
from sanjeh.i18n import PeriodText
from sanjeh.kpis.columns import name_column
from sanjeh.kpis.compile import NAMES, Buckets, MultiBuckets
from sanjeh.kpis.model import KPI, Cond, Measure
from sanjeh.kpis.query import Plan, Query
from sanjeh.kpis.sources import COHORTS, SPARSE_DIMS
from sanjeh.kpis.targeting import resolve_targets

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

AGAINST = ("previous", "year_ago", "target")
TOP = 10
#: Scores of ``--auto`` closer than this are ties.
TIE = 1e-12
#: Step labels of the step sets one query counts (the period, and what it is compared with).
PERIOD, BASELINE, YEAR_AGO, PREVIOUS = "period", "baseline", "year_ago", "previous"
NUM, DEN, VALUE = "why_num", "why_den", "why_value"
STATUSES = ("both", "new", "lost", "untargeted", "allocated")


@dataclass(frozen=True)
class WhyQuery:
    """What a user asks: why ``measure`` of ``kpi`` in ``period`` differs from ``against``."""

    kpi: str
    period: str
    measure: str | None = None
    against: str = "previous"
    by: tuple[str, ...] = ()
    auto: bool = False
    top: int = TOP
    filters: tuple[tuple[str, str], ...] = ()


@dataclass
class Why:
    """The answer: members' contributions and the lines that make them add up to the change."""

    kpi: KPI
    measure: Measure
    kind: str
    period: Period
    against: str
    #: The period compared with (None against a target).
    baseline_period: Period | None
    by: tuple[str, ...]
    value: float | None
    baseline_value: float | None
    change: float | None
    rows: list[dict[str, Any]]
    other: dict[str, Any] | None = None
    overlap: float | None = None
    unallocated: float | None = None
    target_mix: float | None = None
    #: In fa and en.
    warnings: list[dict[str, str]] = field(default_factory=list)
    auto: dict[str, Any] | None = None
    #: Every member's contribution (before the top rows are cut): what ``--auto`` scores.
    contributions: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def change_rate(self) -> float | None:
        if self.change is None or not self.baseline_value:
            return None
        return self.change / self.baseline_value

    def parts_total(self) -> float:
        """Σ rows + other + overlap + unallocated + target mix: equals ``change``."""
        total = sum(r["contribution"] for r in self.rows)
        for x in (self.other["contribution"] if self.other else None, self.overlap, self.unallocated, self.target_mix):
            total += x or 0.0
        return float(total)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {
            "kpi": self.kpi.name,
            "measure": self.measure.name,
            "kind": self.kind,
            "period": self.period.label,
            "against": self.against,
            "by": list(self.by),
            "value": self.value,
            "baseline_value": self.baseline_value,
            "change": self.change,
            "change_rate": self.change_rate,
            "rows": self.rows,
            "other": self.other,
            "overlap": self.overlap,
            "unallocated": self.unallocated,
            "target_mix": self.target_mix,
            "warnings": [w.get(lang, w["en"]) for w in self.warnings],
        }
        if self.auto is not None:
            out["auto"] = self.auto
        return out


# -- the question, checked --------------------------------------------------------------------
def suggestion(kpi: KPI, m: Measure) -> str | None:
    """The splittable measure behind one that is not (growth -> revenue; median days -> mean days)."""
    visible = {x.name for x in kpi.visible_measures}
    names = [m.of, m.num, m.den]
    names += [x.name for x in kpi.measures if m.column and x.column == m.column and x.name != m.name]
    names += [x.name for x in kpi.visible_measures]
    for n in names:
        if n and n in visible and n != m.name and kpi.split_of(n) != "none":
            return n
    return None


def _partitions(kpi: KPI, m: Measure, dim: str) -> bool:
    """Whether every unit ``m`` counts belongs to exactly one member of ``dim``."""
    cohort = COHORTS[m.cohort or kpi.cohort]
    if dim in m.ignore_dims or dim in SPARSE_DIMS:
        return False
    if m.kind == "nunique":
        return cohort.partitions(m.column, dim)
    return True


def _parts(kpi: KPI, m: Measure, kind: str) -> tuple[Measure, ...]:
    """The aggregations the split reads: the value, or the numerator and denominator."""
    if kind in ("additive", "distinct"):
        return (dataclasses.replace(m, name=VALUE, hidden=False),)
    if m.kind == "mean":  # Σ column / rows with a value
        has = (*m.where, Cond(m.column, "not_null"))
        return (
            Measure(NUM, "sum", column=m.column, where=has, cohort=m.cohort, ignore_dims=m.ignore_dims),
            Measure(DEN, "count", where=has, cohort=m.cohort, ignore_dims=m.ignore_dims),
        )
    num, den = kpi.measure(m.num), kpi.measure(m.den)
    return dataclasses.replace(num, name=NUM, hidden=False), dataclasses.replace(den, name=DEN, hidden=False)


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    """A numeric column as floats, NaN for null. Read through Python values: pyarrow's own
    ``to_numpy`` (and its compute functions given a Python scalar) import pandas, about 0.3 s of a
    cold scorecard that no other part of it needs; a grouped answer has rows per member, few."""
    return np.array([math.nan if v is None else float(v) for v in col.to_pylist()], dtype=float)


@dataclass
class _Sides:
    """The member values of each step set, for one grouping (arrays aligned on ``keys``)."""

    keys: list[tuple[str, ...]]
    names: dict[str, list[str | None]]
    #: step label -> column -> values (NaN where the member has no row on that side)
    values: dict[str, dict[str, np.ndarray]]
    present: dict[str, np.ndarray]


class _Asker:
    """One question, with everything its candidate groupings share (sides, targets, totals)."""

    def __init__(self, engine: Engine, q: WhyQuery) -> None:
        self.engine = engine
        kpi = engine.kpi(q.kpi)
        self.kpi = kpi
        name = (q.measure or kpi.headline).strip()
        visible = [x.name for x in kpi.visible_measures]
        if name not in visible:
            raise InvalidQuery(
                key="query.measure",
                params={"kpi": kpi.name, "measure": name, "measures": visible},
                details={"measure": name, "allowed": visible},
            )
        self.m = kpi.measure(name)
        self.kind = kpi.split_of(name)
        if self.kind == "none":
            alt = suggestion(kpi, self.m)
            raise InvalidQuery(
                key="query.why_not_split_suggest" if alt else "query.why_not_split",
                params={"kpi": kpi.name, "measure": name, "suggest": alt or ""},
                details={"measure": name, "kind": "none", "suggest": alt},
            )
        against = (q.against or "previous").strip().lower()
        if against not in AGAINST:
            raise InvalidQuery(
                key="query.why_against",
                params={"given": q.against},
                details={"against": q.against, "allowed": list(AGAINST)},
            )
        self.against = against
        if q.top < 1:
            raise InvalidQuery(key="query.why_top", params={"given": q.top}, details={"top": q.top})
        self.top = q.top
        # the engine checks the period, the dimensions and the filters
        checked = engine.plan(Query(kpi.name, q.period, by=q.by, filters=q.filters), whole=True)
        self.period: Period = checked.period
        self.filters = checked.filters
        if q.auto and checked.by:
            raise InvalidQuery(key="query.why_by_and_auto", details={"by": list(checked.by)})
        if len(checked.by) > 2:
            raise InvalidQuery(key="query.why_dims", params={"n": len(checked.by)}, details={"by": list(checked.by)})
        self.by = checked.by
        self.auto = q.auto or not checked.by
        self.parts = _parts(kpi, self.m, self.kind)
        self.split_kpi = dataclasses.replace(
            kpi,
            name=f"why__{kpi.name}",  # its own name: no target of the KPI applies to its parts
            measures=self.parts,
            headline=self.parts[0].name,
            fixed=(),
            warnings=(),
            default_grain=None,
            builtin=False,
        )
        self.baseline_period: Period | None = None
        self.warnings: list[dict[str, str]] = []
        self._sides = self._step_sets()
        self._totals: dict[str, dict[str, float]] | None = None

    # -- what is counted, and against what ---------------------------------------------------
    def _step_sets(self) -> list[tuple[str, Period]]:
        p = self.period
        if self.against == "previous":
            self.baseline_period = p.previous()
            return [(PERIOD, p), (BASELINE, self.baseline_period)]
        if self.against == "year_ago":
            ya = p.year_ago()
            if ya is None:
                raise InvalidQuery(
                    key="query.why_no_year_ago", params={"period": PeriodText(p.label)}, details={"period": p.label}
                )
            self.baseline_period = ya
            return [(PERIOD, p), (BASELINE, ya)]
        sides = [(PERIOD, p), (PREVIOUS, p.previous())]
        ya = p.year_ago()
        if ya is not None:
            sides.insert(1, (YEAR_AGO, ya))
        return sides

    def _plan(self, by: tuple[str, ...]) -> Plan:
        return Plan(self.split_kpi, self.period, None, by, self.filters, None, ())

    def _root(self, sides: Sequence[tuple[str, Period]]) -> MultiBuckets:
        return MultiBuckets(tuple(Buckets(span=period, label=tag) for tag, period in sides))

    def _run(self, by: tuple[str, ...], sides: Sequence[tuple[str, Period]]) -> pa.Table:
        plan = self._plan(by)
        result = self.engine.run_plan(plan, self._root(sides))
        if result.data.status == "no_data":
            raise InvalidQuery(
                key="query.why_no_data",
                params={"kpi": self.kpi.name, "tables": list(result.data.missing)},
                details={"missing": list(result.data.missing)},
            )
        return result.table

    def totals(self) -> dict[str, dict[str, float]]:
        """Company-wide (filtered) values of the parts on each side: one query, for the overlap line."""
        if self._totals is None:
            t = self._run((), self._sides)
            out: dict[str, dict[str, float]] = {}
            for r in t.to_pylist():
                out[str(r["period"])] = {x.name: float(r[x.name] or 0.0) for x in self.parts}
            self._totals = out
        return self._totals

    def sides(self, by: tuple[str, ...], sides: Sequence[tuple[str, Period]]) -> _Sides:
        """Each member's parts on each side, from one grouped query."""
        t = self._run(by, sides)
        steps = t["period"]
        keys: dict[tuple[str, ...], int] = {}
        columns = [t[d].to_pylist() for d in by]
        members = [tuple("" if v is None else str(v) for v in row) for row in zip(*columns, strict=True)]
        index = np.array([keys.setdefault(k, len(keys)) for k in members], dtype=np.int64)
        n = len(keys)
        names: dict[str, list[str | None]] = {}
        for d in by:
            if d in NAMES and name_column(d) in t.column_names:
                got: list[str | None] = [None] * n
                for i, v in zip(index.tolist(), t[name_column(d)].to_pylist(), strict=True):
                    if v is not None:
                        got[i] = str(v)
                names[d] = got
        values: dict[str, dict[str, np.ndarray]] = {}
        present: dict[str, np.ndarray] = {}
        step_of = steps.to_pylist()
        parts = {x.name: _floats(t[x.name]) for x in self.parts}
        for tag, _ in sides:
            mask = np.array([s == tag for s in step_of], dtype=bool)
            idx = index[mask]
            present[tag] = np.zeros(n, dtype=bool)
            present[tag][idx] = True
            values[tag] = {}
            for x in self.parts:
                col = np.full(n, np.nan)
                col[idx] = parts[x.name][mask]
                values[tag][x.name] = col
        return _Sides(list(keys), names, values, present)

    # -- one grouping -------------------------------------------------------------------------
    @property
    def _names(self) -> dict[str, str]:
        return {"kpi": self.kpi.name, "measure": self.m.name}

    def refusal(self, by: tuple[str, ...]) -> InvalidQuery | None:
        """Why this grouping cannot be asked; None when it can."""
        details = {"by": list(by), "measure": self.m.name}
        for d in by:
            for x in self.parts:
                if d not in COHORTS[x.cohort or self.kpi.cohort].dims:
                    return InvalidQuery(key="query.why_cohort_dim", params={**self._names, "dim": d}, details=details)
            if self.kind == "ratio" and not all(_partitions(self.kpi, x, d) for x in self.parts):
                return InvalidQuery(key="query.why_ratio_partition", params={**self._names, "dim": d}, details=details)
        return None

    def split(self, by: tuple[str, ...]) -> Why:
        refused = self.refusal(by)
        if refused is not None:
            raise refused
        if self.against == "target":
            return self._against_target(by)
        s = self.sides(by, self._sides)
        if self.kind == "ratio":
            return self._ratio(by, s)
        return self._additive(by, s)

    def _overlapping(self, by: tuple[str, ...]) -> bool:
        return self.kind == "distinct" or not all(_partitions(self.kpi, self.parts[0], d) for d in by)

    def _answer(self, by: tuple[str, ...], s: _Sides, cols: dict[str, np.ndarray], **kw: Any) -> Why:
        """Rows ordered by |contribution| (ties by member), the top ones listed, the rest in ``other``."""
        contribution = cols["contribution"]
        order = sorted(range(len(s.keys)), key=lambda i: (-abs(float(contribution[i])), s.keys[i]))
        change = kw["change"]
        rows = []
        for i in order:
            row: dict[str, Any] = {}
            for j, d in enumerate(by):
                row[d] = s.keys[i][j]
                if d in s.names:
                    row[name_column(d)] = s.names[d][i]
            for c in ("value", "baseline_value", "contribution"):
                row[c] = _num(cols[c][i])
            row["share_of_change"] = float(contribution[i]) / change if change else None
            if "mix" in cols:
                row["mix"], row["rate"] = _num(cols["mix"][i]), _num(cols["rate"][i])
            row["status"] = str(cols["status"][i])
            rows.append(row)
        shown, rest = rows[: self.top], rows[self.top :]
        other = None
        if rest:
            other = {"members": len(rest), "contribution": float(sum(r["contribution"] for r in rest))}
            if "mix" in cols:
                other["mix"] = float(sum(r["mix"] for r in rest))
                other["rate"] = float(sum(r["rate"] for r in rest))
        return Why(
            kpi=self.kpi,
            measure=self.m,
            kind=self.kind,
            period=self.period,
            against=self.against,
            baseline_period=self.baseline_period,
            by=by,
            rows=shown,
            other=other,
            warnings=list(self.warnings) + kw.pop("warnings", []),
            contributions=contribution,
            **kw,
        )

    # -- against another period -------------------------------------------------------------
    def _additive(self, by: tuple[str, ...], s: _Sides) -> Why:
        v1, v0 = s.values[PERIOD][VALUE], s.values[BASELINE][VALUE]
        p1, p0 = s.present[PERIOD], s.present[BASELINE]
        v1, v0 = np.nan_to_num(v1), np.nan_to_num(v0)
        contribution = v1 - v0
        status = np.where(p1 & p0, "both", np.where(p1, "new", "lost"))
        cols = {"value": v1, "baseline_value": v0, "contribution": contribution, "status": status}
        overlap = None
        if self._overlapping(by):
            t = self.totals()
            value, baseline = t[PERIOD][VALUE], t[BASELINE][VALUE]
            overlap = (value - baseline) - float(contribution.sum())
        else:
            value, baseline = float(v1.sum()), float(v0.sum())
        return self._answer(by, s, cols, value=value, baseline_value=baseline, change=value - baseline, overlap=overlap)

    def _ratio(self, by: tuple[str, ...], s: _Sides) -> Why:
        n1, d1 = np.nan_to_num(s.values[PERIOD][NUM]), np.nan_to_num(s.values[PERIOD][DEN])
        n0, d0 = np.nan_to_num(s.values[BASELINE][NUM]), np.nan_to_num(s.values[BASELINE][DEN])
        keep = (d1 > 0) | (d0 > 0)
        warnings = []
        if not keep.all():
            k = int((~keep).sum())
            warnings.append(_warning("no_denominator", n=k))
            s = _subset(s, keep)
            n1, d1, n0, d0 = n1[keep], d1[keep], n0[keep], d0[keep]
        self._check_denominator(float(d0.sum()), self.baseline_period)
        self._check_denominator(float(d1.sum()), self.period)
        split = ratio_split(n0, d0, n1, d1)
        p1, p0 = d1 > 0, d0 > 0
        status = np.where(p1 & p0, "both", np.where(p1, "new", "lost"))
        cols = {
            "value": np.where(p1, split.r1, np.nan),
            "baseline_value": np.where(p0, split.r0, np.nan),
            "contribution": split.mix + split.rate,
            "mix": split.mix,
            "rate": split.rate,
            "status": status,
        }
        return self._answer(
            by,
            s,
            cols,
            value=split.total1,
            baseline_value=split.total0,
            change=split.total1 - split.total0,
            warnings=warnings,
        )

    def _check_denominator(self, total: float, period: Period | None) -> None:
        if total <= 0:
            label = period.label if period else self.period.label
            raise InvalidQuery(
                key="query.why_no_denominator",
                params={**self._names, "period": PeriodText(label)},
                details={"period": label, "measure": self.m.name},
            )

    # -- against a target -------------------------------------------------------------------
    def _targets(self, by: tuple[str, ...]) -> tuple[dict[str, tuple[str, float]], float | None]:
        """(member key -> (member, target)) for a split by one dimension, and the total target
        (the company's, the filtered member's, or another dimension's members' sum); None when none."""
        raw = self.engine.raw_targets()
        scope = self.engine.rep_scope
        base = Plan(self.kpi, self.period, None, (), self.filters, None, ())
        members: dict[str, tuple[str, float]] = {}
        if len(by) == 1:
            plan = dataclasses.replace(base, by=by)
            for t in resolve_targets(raw, plan, rep_scope=scope):
                if t.measure == self.m.name and t.step == self.period.label and t.member is not None:
                    members[t.member] = (t.member_label or t.member, t.value)
        # the total: set for the company (or the filtered member), else the sum of another
        # dimension's members' targets — never the sum of this split's own members
        others = [r for r in raw if str(r.get("dimension") or "").strip().lower() != by[0]] if members else raw
        total = next(
            (t.value for t in resolve_targets(others, base, rep_scope=scope) if t.measure == self.m.name),
            None,
        )
        return members, total

    def _against_target(self, by: tuple[str, ...]) -> Why:
        members, total = self._targets(by)
        if not members and total is None:
            raise InvalidQuery(
                key="query.why_no_target_pair" if len(by) > 1 else "query.why_no_target",
                params={**self._names, "period": PeriodText(self.period.label)},
                details={"measure": self.m.name, "period": self.period.label},
            )
        if self.kind == "ratio":
            s = self.sides(by, [(PERIOD, self.period)])
            return self._ratio_target(by, s, members, total)
        if members:
            s = self.sides(by, [(PERIOD, self.period)])
            return self._additive_member_targets(by, s, members, total)
        assert total is not None
        return self._additive_allocated(by, total)

    def _with_targeted(self, by: tuple[str, ...], s: _Sides, members: dict[str, tuple[str, float]]) -> _Sides:
        """``s`` with a row for each targeted member that has no data, and the targets' member keys."""
        keys = [k[0].lower() for k in s.keys]
        missing = [(k, label) for k, (label, _) in members.items() if k not in set(keys)]
        if not missing:
            return s
        extra = len(missing)
        values = {
            tag: {c: np.concatenate([v, np.full(extra, np.nan)]) for c, v in cols.items()}
            for tag, cols in s.values.items()
        }
        present = {tag: np.concatenate([p, np.zeros(extra, dtype=bool)]) for tag, p in s.present.items()}
        names = {d: [*v, *([None] * extra)] for d, v in s.names.items()}
        return _Sides([*s.keys, *((label,) for _, label in missing)], names, values, present)

    def _additive_member_targets(
        self, by: tuple[str, ...], s: _Sides, members: dict[str, tuple[str, float]], total: float | None
    ) -> Why:
        s = self._with_targeted(by, s, members)
        keys = [k[0].lower() for k in s.keys]
        targeted = np.array([k in members for k in keys], dtype=bool)
        target = np.array([members[k][1] if k in members else 0.0 for k in keys], dtype=float)
        p1 = s.present[PERIOD]
        v1 = np.nan_to_num(s.values[PERIOD][VALUE])
        contribution = v1 - target
        status = np.where(~targeted, "untargeted", np.where(p1, "both", "lost"))
        cols = {"value": v1, "baseline_value": target, "contribution": contribution, "status": status}
        member_sum = float(sum(v for _, v in members.values()))
        baseline = total if total is not None else member_sum
        unallocated = member_sum - total if total is not None else None
        value = self.totals()[PERIOD][VALUE] if self._overlapping(by) else float(v1.sum())
        change = value - baseline
        overlap = None
        if self._overlapping(by):
            overlap = change - float(contribution.sum()) - (unallocated or 0.0)
        return self._answer(
            by,
            s,
            cols,
            value=value,
            baseline_value=baseline,
            change=change,
            overlap=overlap,
            unallocated=unallocated,
        )

    def _additive_allocated(self, by: tuple[str, ...], total: float) -> Why:
        """Only a total target: each member's share of it is its share of the year-ago period's value
        (else the previous period's)."""
        s = self.sides(by, self._sides)
        weights = None
        warnings = []
        for tag in (YEAR_AGO, PREVIOUS):
            if tag not in s.values:
                continue
            w = np.nan_to_num(s.values[tag][VALUE])
            if w.sum() > 0:
                weights = w / w.sum()
                if tag == PREVIOUS:
                    warnings.append(_warning("allocated_by_previous"))
                break
        if weights is None:
            raise InvalidQuery(
                key="query.why_no_allocation",
                params={**self._names, "period": PeriodText(self.period.label)},
                details={"measure": self.m.name, "period": self.period.label},
            )
        v1 = np.nan_to_num(s.values[PERIOD][VALUE])
        keep = s.present[PERIOD] | (weights > 0)
        s, v1, weights = _subset(s, keep), v1[keep], weights[keep]
        target = total * weights
        contribution = v1 - target
        cols = {
            "value": v1,
            "baseline_value": target,
            "contribution": contribution,
            "status": np.full(len(v1), "allocated"),
        }
        value = self.totals()[PERIOD][VALUE] if self._overlapping(by) else float(v1.sum())
        change = value - total
        overlap = change - float(contribution.sum()) if self._overlapping(by) else None
        return self._answer(
            by, s, cols, value=value, baseline_value=total, change=change, overlap=overlap, warnings=warnings
        )

    def _ratio_target(
        self, by: tuple[str, ...], s: _Sides, members: dict[str, tuple[str, float]], total: float | None
    ) -> Why:
        s = self._with_targeted(by, s, members)
        n1, d1 = np.nan_to_num(s.values[PERIOD][NUM]), np.nan_to_num(s.values[PERIOD][DEN])
        keys = [k[0].lower() for k in s.keys]
        targeted = np.array([k in members for k in keys], dtype=bool)
        keep = (d1 > 0) | targeted
        s, n1, d1, targeted = _subset(s, keep), n1[keep], d1[keep], targeted[keep]
        keys = [k[0].lower() for k in s.keys]
        self._check_denominator(float(d1.sum()), self.period)
        share = d1 / d1.sum()
        p1 = d1 > 0
        r1 = np.divide(n1, d1, out=np.zeros_like(n1), where=p1)
        if members:
            t = np.array([members[k][1] if k in members else np.nan for k in keys], dtype=float)
            if total is not None:
                fill = total
            else:
                w = d1[targeted]
                fill = float((w * t[targeted]).sum() / w.sum()) if w.sum() > 0 else float(np.mean(t[targeted]))
            t = np.where(targeted, t, fill)
            status = np.where(~targeted, "untargeted", np.where(p1, "both", "lost"))
        else:
            assert total is not None
            t = np.full(len(keys), total)
            status = np.full(len(keys), "allocated")
        contribution = share * (r1 - t)
        mixed = float((share * t).sum())
        baseline = total if total is not None else mixed
        target_mix = mixed - total if members and total is not None else None
        value = float(n1.sum() / d1.sum())
        cols = {
            "value": np.where(p1, r1, np.nan),
            "baseline_value": t,
            "contribution": contribution,
            "mix": np.zeros(len(keys)),
            "rate": contribution,
            "status": status,
        }
        return self._answer(
            by, s, cols, value=value, baseline_value=baseline, change=value - baseline, target_mix=target_mix
        )


@dataclass
class RatioSplit:
    r0: np.ndarray
    r1: np.ndarray
    mix: np.ndarray
    rate: np.ndarray
    total0: float
    total1: float


def ratio_split(n0: np.ndarray, d0: np.ndarray, n1: np.ndarray, d1: np.ndarray) -> RatioSplit:
    """The symmetric mix/rate split of WHY.md over members (arrays of numerators and denominators
    of the baseline, 0, and the period, 1). A member on one side only takes its own rate on the
    other; Σ (mix + rate) = r1 − r0 exactly (up to rounding)."""
    p0, p1 = d0 > 0, d1 > 0
    own0 = np.divide(n0, d0, out=np.zeros_like(n0, dtype=float), where=p0)
    own1 = np.divide(n1, d1, out=np.zeros_like(n1, dtype=float), where=p1)
    r0 = np.where(p0, own0, own1)
    r1 = np.where(p1, own1, own0)
    s0, s1 = d0 / d0.sum(), d1 / d1.sum()
    total0, total1 = float(n0.sum() / d0.sum()), float(n1.sum() / d1.sum())
    rate = (r1 - r0) * (s0 + s1) / 2
    mix = (s1 - s0) * ((r0 + r1) / 2 - (total0 + total1) / 2)
    return RatioSplit(r0, r1, mix, rate, total0, total1)


def _subset(s: _Sides, keep: np.ndarray) -> _Sides:
    idx = np.flatnonzero(keep)
    return _Sides(
        [s.keys[i] for i in idx],
        {d: [v[i] for i in idx] for d, v in s.names.items()},
        {tag: {c: v[keep] for c, v in cols.items()} for tag, cols in s.values.items()},
        {tag: p[keep] for tag, p in s.present.items()},
    )


def _num(x: Any) -> float | None:
    v = float(x)
    return None if math.isnan(v) or math.isinf(v) else v


def _warning(key: str, **kw: Any) -> dict[str, str]:
    from sanjeh import i18n

    return {lang: i18n.t(f"why.warning.{key}", lang, **kw) for lang in i18n.LANGUAGES}


# -- which dimension explains most ----------------------------------------------------------------
def concentration(contributions: np.ndarray) -> float | None:
    """``(C − k/m) / (1 − k/m)`` of WHY.md: 0 for an even spread, 1 when one member carries it all;
    None with fewer than two members or nothing to explain."""
    a = np.sort(np.abs(np.asarray(contributions, dtype=float)))[::-1]
    m = len(a)
    whole = float(a.sum())
    if m < 2 or whole == 0:
        return None
    k = min(3, m - 1)
    c = float(a[:k].sum()) / whole
    return (c - k / m) / (1 - k / m)


def answer(engine: Engine, q: WhyQuery) -> Why:
    """The answer to ``q`` (kpis/why.py, WHY.md): split by ``q.by``, or by the dimension or pair of
    dimensions whose members' contributions are the most concentrated."""
    ask = _Asker(engine, q)
    if not ask.auto:
        return ask.split(ask.by)
    dims = ask.kpi.dimensions
    candidates = [(d,) for d in dims] + list(itertools.combinations(dims, 2))
    best: tuple[float, Why] | None = None
    listed: list[dict[str, Any]] = []
    for by in candidates:
        entry: dict[str, Any] = {"by": list(by), "score": None}
        try:
            why = ask.split(by)
        except InvalidQuery as exc:
            entry["refused"] = exc.message
            listed.append(entry)
            continue
        score = concentration(why.contributions)
        entry["score"] = score
        listed.append(entry)
        if score is not None and (best is None or score > best[0] + TIE):
            best = (score, why)
    if best is None:
        raise InvalidQuery(key="query.why_nothing", params={"kpi": ask.kpi.name}, details={"candidates": listed})
    score, why = best
    why.auto = {"score": score, "candidates": listed}
    return why


__all__ = ["AGAINST", "STATUSES", "Why", "WhyQuery", "answer", "concentration", "ratio_split"]
