"""Planning helpers of the targets editor: copy a year's targets to another year, spread a year's
target over its months. Both write through :func:`sanjeh.targets.apply_changes` (checked, one
transaction, audited) and never overwrite a target that is already set.

- **Copy** (:func:`copy_year`): every target of year Y (the year itself, its quarters, months,
  weeks and days) is set for the same label of year Z; amounts and counts are multiplied by a
  factor (exactly, in decimal), rates, averages and durations are copied as they are. A label
  that does not exist in Z (the 30th of Esfand of a leap year, a week 53) is skipped.
- **Spread** (:func:`spread_year`): a year's target of a measure that adds up (revenue, calls)
  gets one target per month, each its share by days as the engine derives it
  (:mod:`sanjeh.kpis.targeting`: months and quarters already set inside the year keep theirs),
  rounded to whole units so that the months add up to the year; a rate's months get the
  rate that holds them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sanjeh.calendar import parse_period
from sanjeh.currency import DECIMALS
from sanjeh.errors import InvalidPeriod, UserError
from sanjeh.kpis.targeting import _Set, resolve, rollup_of
from sanjeh.targets import Change, apply_changes, for_reps, normal_key, read_targets
from sanjeh.workspace import Workspace

#: Units a copy multiplies by its factor; the others (rates, days, ratios) are copied as they are.
SCALED_UNITS = ("money", "count", "hours", "number")
MAX_FACTOR = Decimal(1000)


@dataclass
class Planned:
    """What a copy or a spread did: targets set, and those left because one was already set."""

    added: int = 0
    kept: int = 0
    skipped: int = 0  # labels that do not exist in the other year

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "kept": self.kept, "skipped": self.skipped}


def parse_factor(text: str | float | Decimal) -> Decimal:
    """A copy's factor (``1.1``, ``۱٫۱``, ``110%``): a decimal from 0 to 1000."""
    from sanjeh.formatting import parse_number

    raw = str(text).strip()
    try:
        value = parse_number(raw) if raw else 1.0
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0 or Decimal(repr(value)) > MAX_FACTOR:
        raise UserError(
            f"the factor must be a number from 0 to {MAX_FACTOR}, e.g. 1.1",
            details={"factor": raw, "why": "bad_factor"},
        )
    return Decimal(repr(value))


def _year(text: str) -> str:
    t = str(text).strip()
    if not (len(t) == 4 and t.isdigit()):
        raise UserError(f"{text!r} is not a year (e.g. 1403)", details={"year": text, "why": "not_a_year"})
    return t


def _decimals(unit: str, currency: str) -> int:
    return {"money": DECIMALS.get(currency, 2), "count": 0}.get(unit, 2)


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def copy_year(
    ws: Workspace,
    from_year: str,
    to_year: str,
    factor: Decimal,
    *,
    username: str,
    kpi: str | None = None,
    reps: Iterable[str] | None = None,
) -> Planned:
    """Set year ``to_year``'s targets from ``from_year``'s (of one KPI, or all; a team's reps only)."""
    src, dst = _year(from_year), _year(to_year)
    if src == dst:
        raise UserError("copy to another year", details={"year": src, "why": "same_year"})
    if (int(src) < 1700) != (int(dst) < 1700):
        raise UserError(
            "both years must be of the same calendar (Jalali or Gregorian)", details={"why": "calendars_differ"}
        )
    catalogue = ws.engine().catalogue()
    kpis = {k.name: k for k in catalogue}
    allowed = list(reps) if reps is not None else None
    stored = read_targets(ws)
    have = {normal_key(r, kpis) for r in stored}
    out = Planned()
    changes: list[Change] = []
    for r in stored:
        k = kpis.get(str(r["kpi"] or "").lower())
        label = str(r["period"] or "")
        if k is None or (kpi and k.name != kpi) or label[:4] != src or r["target"] is None:
            continue
        if allowed is not None and not for_reps(r, allowed):
            continue
        try:
            new_label = parse_period(dst + label[4:]).label
        except InvalidPeriod:
            out.skipped += 1
            continue
        name = str(r["measure"] or k.headline)
        measure = k.measure(name) if name in {m.name for m in k.measures} else None
        value = Decimal(repr(float(r["target"])))
        if measure is not None and measure.unit in SCALED_UNITS:
            value = value * factor
            if measure.unit in ("money", "count"):
                value = _round(value, _decimals(measure.unit, ws.settings.currency))
        new = {**r, "period": new_label, "target": float(value)}
        if normal_key(new, kpis) in have:
            out.kept += 1
            continue
        have.add(normal_key(new, kpis))
        changes.append(Change(None, new))
    if changes:
        out.added = apply_changes(ws, changes, username=username, via="copy", reps=reps).added
    return out


def spread_year(ws: Workspace, target: dict[str, Any], *, username: str, reps: Iterable[str] | None = None) -> Planned:
    """Give the year of ``target`` (a stored target of a year: kpi, measure, period, dimension,
    member) one target per month, as the engine would derive them; months already set are kept."""
    catalogue = ws.engine().catalogue()
    kpis = {k.name: k for k in catalogue}
    key = normal_key(target, kpis)
    k = kpis.get(key[0])
    try:
        year = parse_period(key[2])
    except InvalidPeriod:
        year = None
    if k is None or year is None or year.unit_kind != "year":
        raise UserError(
            "only a target set for a whole year can be spread over its months",
            details={"period": key[2], "why": "not_a_year_target"},
        )
    if key[1] not in {m.name for m in k.visible_measures}:
        raise UserError(f"{k.name} has no measure {key[1]!r}", details={"measure": key[1]})
    measure = k.measure(key[1])
    rollup = rollup_of(measure)
    if rollup == "none":
        raise UserError(
            f"targets of {k.name}.{measure.name} apply to exactly their period; they cannot be spread",
            details={"kpi": k.name, "measure": measure.name, "why": "no_spread"},
        )
    stored = read_targets(ws)
    series = [r for r in stored if normal_key(r, kpis)[:2] == key[:2] and normal_key(r, kpis)[3:] == key[3:]]
    sets: list[_Set] = []
    set_labels: set[str] = set()
    for r in series:
        try:
            p = parse_period(str(r["period"]))
        except InvalidPeriod:
            continue
        if p.calendar == year.calendar and r["target"] is not None:
            sets.append(_Set(p.start, p.end, float(r["target"])))
            set_labels.add(p.label)
    months = [parse_period(f"{year.label}-{m:02d}") for m in range(1, 13)]
    missing = [p for p in months if p.label not in set_labels]
    out = Planned(kept=12 - len(missing))
    shares: list[Decimal] = []
    for p in missing:
        value = resolve(p.start, p.end, sets, rollup)
        if value is None:
            raise UserError(f"no target covers {p.label}", details={"period": p.label, "why": "not_covered"})
        shares.append(Decimal(repr(value)))
    if rollup == "sum":
        shares = _largest_remainder(shares, _decimals(measure.unit, ws.settings.currency))
    base = {c: target.get(c) for c in ("kpi", "measure", "dimension", "member")}
    base["measure"] = measure.name
    changes = [
        Change(None, {**base, "period": p.label, "target": float(v)}) for p, v in zip(missing, shares, strict=True)
    ]
    if changes:
        out.added = apply_changes(ws, changes, username=username, via="spread", reps=reps).added
    return out


def _largest_remainder(values: list[Decimal], places: int) -> list[Decimal]:
    """``values`` rounded to ``places`` decimals so that they add up to their rounded sum."""
    if not values:
        return values
    unit = Decimal(1).scaleb(-places)
    try:
        total = _round(sum(values, Decimal(0)), places)
        floors = [(v / unit).to_integral_value(rounding="ROUND_FLOOR") * unit for v in values]
    except InvalidOperation as exc:  # pragma: no cover - values are finite floats
        raise UserError("cannot round these targets") from exc
    left = int(((total - sum(floors, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[: max(0, left)]:
        floors[i] += unit
    return floors
