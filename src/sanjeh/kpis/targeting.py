"""Which target each row of a query is measured against (KPIS.md, "Targets"; docs/kpis.md).

People set targets where they think in them: a year for the company, quarters for a
region, months for a rep. A row is then measured against:

1. the target set for exactly its period and member;
2. else, for a measure that adds up over time (revenue, orders, calls…), the sum of the
   targets that cover its days: a year of quarterly or monthly targets gets their sum, a
   month of a quarterly target its share by days. A target's share is spread evenly over
   its days; the targets set inside it (months of a targeted quarter) take their own
   values, and the rest of it is spread over its remaining days;
3. for a rate or an average (win rate, median days…), the target of the period that holds
   it (a month of a quarterly 30 % win rate: 30 %), or the days-weighted mean of the targets
   covering it;
4. a company row with no target of its own, of a measure that adds up, gets the sum of its
   members' targets (of one dimension: the first of the KPI's dimensions whose members'
   targets all cover the row).

A filter on a member (or a rep's own view) makes the row that member's: it is measured
against that member's targets. A team's view (a set of reps) measures a row without a
dimension against the sum of its reps' targets, and a row by rep only against its own reps'.
Only targets of the row's calendar count (a Gregorian target never applies to a Jalali row).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sanjeh.calendar import Period, parse_period, steps
from sanjeh.errors import InvalidPeriod
from sanjeh.kpis.model import KPI, Measure
from sanjeh.kpis.query import Plan
from sanjeh.text import member_key, normalize_member


@dataclass(frozen=True)
class Target:
    """The target of one step (and member) of a query, for one measure."""

    measure: str
    step: str
    member: str | None  # the member's key (normalised, lower case); None for the whole row
    member_label: str | None
    value: float


@dataclass(frozen=True)
class _Set:
    """A target as set: a unit of one calendar (its days) and its value."""

    start: dt.date
    end: dt.date
    value: float

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, other: _Set) -> bool:
        return (
            self.start <= other.start and other.end <= self.end and (self.start, self.end) != (other.start, other.end)
        )


def _rest_per_day(t: _Set, sets: Sequence[_Set]) -> float:
    """What ``t`` leaves per day once the targets set inside it (the largest ones) take theirs."""
    inner = [s for s in sets if t.holds(s)]
    top = [s for s in inner if not any(o.holds(s) for o in inner)]
    days = t.days - sum(s.days for s in top)
    if days <= 0:
        return 0.0
    return max(0.0, t.value - sum(s.value for s in top)) / days


def resolve(start: dt.date, end: dt.date, sets: Sequence[_Set], rollup: str) -> float | None:
    """The target of the days ``start..end`` from the targets ``sets`` (one measure, member and
    calendar); None when they do not cover every day. ``rollup``: ``sum`` (the measure adds up
    over time), ``same`` (a rate or an average) or ``none`` (only a target set for exactly these
    days)."""
    for s in sets:
        if (s.start, s.end) == (start, end):
            return s.value
    if rollup == "none" or not sets:
        return None
    cuts = {start, end + dt.timedelta(days=1)}
    for s in sets:
        for d in (s.start, s.end + dt.timedelta(days=1)):
            if start < d <= end:
                cuts.add(d)
    edges = sorted(cuts)
    total = 0.0
    weighted = 0.0
    for a, b in itertools.pairwise(edges):
        covering = [s for s in sets if s.start <= a and b - dt.timedelta(days=1) <= s.end]
        if not covering:
            return None
        finest = min(covering, key=lambda s: s.days)
        days = (b - a).days
        if rollup == "sum":
            total += _rest_per_day(finest, sets) * days
        else:
            weighted += finest.value * days
    return total if rollup == "sum" else weighted / ((end - start).days + 1)


def rollup_of(m: Measure) -> str:
    """How a measure's targets combine over time: ``sum``, ``same`` or ``none``."""
    if m.target_rollup:
        return m.target_rollup
    if m.kind in ("sum", "count"):
        return "sum"
    if m.kind in ("nunique", "cumulative", "lookup", "previous"):
        return "none"
    return "same"


def _span(label: str) -> tuple[str, dt.date, dt.date] | None:
    """(calendar, first day, last day) of a target's period label; None when it does not parse."""
    try:
        p = parse_period(label)
    except InvalidPeriod:
        return None
    return p.calendar, p.start, p.end


def resolve_targets(
    raw: Iterable[Mapping[str, Any]], plan: Plan, *, rep_scope: str | frozenset[str] | None = None
) -> list[Target]:
    """The targets of ``plan``'s rows, from the rows of the ``targets`` table."""
    kpi: KPI = plan.kpi
    visible = {m.name: m for m in kpi.visible_measures}
    cal = plan.period.calendar
    # measure -> dimension ('' for the company) -> member key -> (label, sets)
    found: dict[str, dict[str, dict[str, tuple[str, list[_Set]]]]] = {}
    for r in raw:
        if str(r.get("kpi") or "").strip().lower() != kpi.name or r.get("target") is None:
            continue
        measure = str(r.get("measure") or "").strip() or kpi.headline
        span = _span(str(r.get("period") or ""))
        if measure not in visible or span is None or span[0] != cal:
            continue
        dim = str(r.get("dimension") or "").strip().lower()
        member = str(r.get("member") or "").strip()
        key = member_key(dim, member) if dim else ""
        label = normalize_member(dim, member) if dim else ""
        entry = found.setdefault(measure, {}).setdefault(dim, {}).setdefault(key, (label, []))
        entry[1].append(_Set(span[1], span[2], float(r["target"])))
    if not found:
        return []
    constraints = list(plan.filters)
    team: frozenset[str] | None = None  # a team's view: the keys of its reps
    if isinstance(rep_scope, str):
        constraints.append(("rep", rep_scope))
    elif rep_scope is not None:
        team = frozenset(member_key("rep", r) for r in rep_scope)
    out: list[Target] = []
    for measure, by_dim in found.items():
        rollup = rollup_of(visible[measure])
        for step in _steps(plan.period, plan.grain):
            label, start, end = step
            if (
                len(plan.by) == 1
                and all(d == plan.by[0] for d, _ in constraints)
                and (team is None or plan.by[0] == "rep")
            ):
                dim = plan.by[0]
                for key, (member, sets) in by_dim.get(dim, {}).items():
                    if constraints and any(member_key(d, m) != key for d, m in constraints):
                        continue
                    if team is not None and key not in team:
                        continue
                    value = resolve(start, end, sets, rollup)
                    if value is not None:
                        out.append(Target(measure, label, key, member, value))
            elif not plan.by:
                value = _row_target(start, end, by_dim, constraints, kpi, rollup, team)
                if value is not None:
                    out.append(Target(measure, label, None, None, value))
    return out


def _row_target(
    start: dt.date,
    end: dt.date,
    by_dim: dict[str, dict[str, tuple[str, list[_Set]]]],
    constraints: list[tuple[str, str]],
    kpi: KPI,
    rollup: str,
    team: frozenset[str] | None = None,
) -> float | None:
    """The target of a row without a dimension: the company's, the filtered member's, or a team's
    (the sum of its reps' targets)."""
    if len(constraints) > 1:
        return None
    if constraints:
        dim, member = constraints[0]
        if team is not None and dim != "rep":
            return None  # a region's target is the whole company's region, not the team's part of it
        hit = by_dim.get(dim, {}).get(member_key(dim, member))
        return resolve(start, end, hit[1], rollup) if hit else None
    if team is not None:
        reps = [sets for key, (_, sets) in by_dim.get("rep", {}).items() if key in team]
        values = [resolve(start, end, sets, rollup) for sets in reps] if rollup == "sum" else []
        if not values or any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)
    company = by_dim.get("", {}).get("")
    if company is not None:
        value = resolve(start, end, company[1], rollup)
        if value is not None or rollup != "sum":
            return value
    if rollup != "sum":
        return None
    for dim in kpi.dimensions:
        members = by_dim.get(dim)
        if not members:
            continue
        values = [resolve(start, end, sets, rollup) for _, sets in members.values()]
        if all(v is not None for v in values):
            return sum(v for v in values if v is not None)
    return None


def _steps(period: Period, grain: str | None) -> list[tuple[str, dt.date, dt.date]]:
    """(label, first day, last day) of each row of a query (a clipped step: its days in the period)."""
    if grain is None:
        return [(period.label, period.start, period.end)]
    return [(s.label, s.start, s.end) for s in steps(period, grain)]  # type: ignore[arg-type]
