"""Alert rules (``[[alerts]]`` in ``sanjeh.toml``), read and checked before anything runs.

A rule watches a KPI's measure, or the data's health, and says whom to tell (destinations of
``deliver.py``, as schedules name them: secrets by their environment variables only)::

    [[alerts]]
    name = "revenue-pace"
    kind = "pace"               # above | below | pace | change | rejects | no_import
    kpi = "revenue"
    measure = "revenue"         # default: the KPI's headline
    threshold = "70%"           # attainment so far below 70 % …
    elapsed = "50%"             # … once half of the period's working days have passed
    period = "quarter"          # the running quarter
    filter = {region = "Tehran"}
    lang = "fa"
    to = [{kind = "bale", chat_id = "123456789", token_env = "BALE_TOKEN"}]

Kinds and their threshold:

- ``above`` / ``below``: the measure's value in the period, in the measure's unit (an amount in
  the workspace's currency, a count, days; a rate as a fraction, ``0.25``, or ``"25%"``).
- ``pace``: attainment so far (kpis/pace.py: the value up to today over the whole period's
  target) below ``threshold`` once ``elapsed`` of the period's working days have passed.
- ``change``: the change against ``against`` (``previous``, the default, or ``year_ago``), in
  percentage points for a rate (``"5pp"``, ``0.05``) and relative for anything else (``"10%"``,
  ``0.1``); a positive threshold watches a rise of at least that much, a negative one a fall.
- ``rejects``: an import rejected more than ``threshold`` rows.
- ``no_import``: no import for more than ``threshold`` days.

A KPI rule's ``period`` is the running ``week``, ``month``, ``quarter`` or ``year``, or the last
complete one (``last_month``…), in the workspace's calendar; ``pace`` defaults to ``month``, the
others to ``last_month``. ``filter`` keeps one member per dimension; ``by`` names the dimension
whose members explain the alert (default: the KPI's first one not filtered).

:func:`check_rules` gives every rule it could read and every mistake (one per rule, naming it),
so a workspace check can list them all; :func:`rules` refuses the first mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sanjeh.errors import SanjehError, SettingsError, UserError
from sanjeh.formatting import parse_number
from sanjeh.kpis.model import KPI
from sanjeh.kpis.pace import additive_measure
from sanjeh.kpis.query import COMPARISONS, Query, find_kpi, plan
from sanjeh.reports import deliver

KINDS = ("above", "below", "pace", "change", "rejects", "no_import")
KPI_KINDS = ("above", "below", "pace", "change")
PERIODS = ("week", "month", "quarter", "year", "last_week", "last_month", "last_quarter", "last_year")
#: What a ``change`` rule compares with: the comparisons a query makes.
AGAINST = COMPARISONS
#: Fields that apply to some kinds only (a field given to another kind is refused).
ONLY = {
    "kpi": KPI_KINDS,
    "measure": KPI_KINDS,
    "period": KPI_KINDS,
    "filter": KPI_KINDS,
    "by": KPI_KINDS,
    "elapsed": ("pace",),
    "against": ("change",),
}
FIELDS = {"name", "kind", "threshold", "lang", "to", *ONLY}
#: Marks of a percentage or of points in a threshold written as text.
_PERCENT_MARKS = ("%", "٪", "pp", "واحد درصد")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    threshold: float
    to: tuple[deliver.Destination, ...]
    lang: str | None = None
    kpi: str = ""
    measure: str = ""
    #: How the value and the threshold read: the measure's unit; ``count`` (rejects), ``days`` (no import).
    unit: str = "number"
    period: str = "last_month"
    elapsed: float | None = None
    against: str = "previous"
    filters: tuple[tuple[str, str], ...] = ()
    by: str | None = None

    @property
    def change_in(self) -> str:
        """A rate changes in percentage points, anything else relatively (the engine's comparisons)."""
        return "points" if self.unit == "rate" else "percent"


def check_rules(raw: Iterable[Mapping[str, Any]], kpis: Mapping[str, KPI]) -> tuple[list[Rule], list[SettingsError]]:
    """The rules of ``sanjeh.toml`` that are right, and one error per rule that is not, naming it
    (``alert 'revenue-pace': …``), with the reason in the reader's language. ``kpis``: the
    workspace's catalogue by name (workspace KPIs included)."""
    found: list[Rule] = []
    problems: list[SettingsError] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        name = str(r.get("name") or "").strip() if isinstance(r, Mapping) else ""
        label = name or f"#{i + 1}"
        try:
            if not isinstance(r, Mapping):
                raise UserError(key="alert.not_a_table")
            if not name:
                raise UserError(key="alert.no_name")
            if name in seen:
                raise UserError(key="alert.duplicate")
            seen.add(name)
            found.append(_rule(name, r, kpis))
        except SanjehError as exc:
            problems.append(SettingsError(key="alert.invalid", params={"name": label, "why": exc}))
    return found, problems


def rules(ws: Any) -> list[Rule]:
    """The workspace's rules, all checked: the first mistake is a user error naming its rule."""
    if not ws.settings.alerts:
        return []
    found, problems = check_rules(ws.settings.alerts, {k.name: k for k in ws.engine().catalogue()})
    if problems:
        raise problems[0]
    return found


def _rule(name: str, r: Mapping[str, Any], kpis: Mapping[str, KPI]) -> Rule:
    unknown = sorted(set(r) - FIELDS)
    if unknown:
        raise UserError(key="alert.unknown", params={"names": unknown})
    kind = str(r.get("kind") or "")
    if kind not in KINDS:
        raise UserError(key="alert.kind", params={"given": kind or "—", "kinds": list(KINDS)})
    for f, kinds in ONLY.items():
        if f in r and kind not in kinds:
            raise UserError(key="alert.not_for_kind", params={"field": f, "kind": kind})
    lang = r.get("lang")
    if lang is not None and lang not in ("fa", "en"):
        raise UserError(key="alert.lang", params={"given": str(lang)})
    given_to = r.get("to") or ()
    if not isinstance(given_to, list | tuple) or not all(isinstance(d, Mapping) for d in given_to):
        raise UserError(key="alert.to")
    to = tuple(deliver.destination(d) for d in given_to)
    if not to:
        raise UserError(key="deliver.no_recipients", params={"target": name})
    if "threshold" not in r:
        raise UserError(key="alert.no_threshold")
    given = r["threshold"]
    if kind == "rejects":
        return Rule(name, kind, _count(given, 0), to, lang, unit="count")
    if kind == "no_import":
        return Rule(name, kind, _count(given, 1), to, lang, unit="days")
    return _kpi_rule(name, kind, r, kpis, to, lang)


def _kpi_rule(
    name: str, kind: str, r: Mapping[str, Any], kpis: Mapping[str, KPI], to: tuple[deliver.Destination, ...], lang: Any
) -> Rule:
    if not r.get("kpi"):
        raise UserError(key="alert.no_kpi", params={"kind": kind})
    k = find_kpi(str(r["kpi"]), dict(kpis))
    measure = str(r.get("measure") or k.headline)
    raw_filter = r.get("filter") or {}
    if not isinstance(raw_filter, Mapping) or not all(isinstance(v, str | int) for v in raw_filter.values()):
        raise UserError(key="alert.filter")
    by = r.get("by")
    if by is not None and not isinstance(by, str):
        raise UserError(key="alert.by")
    # the engine's own checks of the measure, the dimensions and the members as written (the
    # period is any label: it plays no part in them)
    filters = tuple((str(d), str(v)) for d, v in raw_filter.items())
    q = Query(k.name, "1403", by=(by,) if by else (), filters=filters, measures=(measure,))
    checked = plan(q, dict(kpis), whole=True)
    m = additive_measure(k, measure) if kind == "pace" else k.measure(measure)  # pace: a measure that adds up
    if kind == "pace" and k.direction != "up":  # its attainment so far is not a shortfall
        raise UserError(key="alert.pace_down", params={"kpi": k.name})
    period = str(r.get("period") or ("month" if kind == "pace" else "last_month"))
    if period not in PERIODS:
        raise UserError(key="alert.period", params={"given": period, "periods": list(PERIODS)})
    against = str(r.get("against") or "previous")
    if against not in AGAINST:
        raise UserError(key="alert.against", params={"given": against, "allowed": list(AGAINST)})
    given = r["threshold"]
    elapsed = None
    if kind == "pace":
        threshold = _fraction(given, "threshold", positive=True)
        if "elapsed" not in r:
            raise UserError(key="alert.no_elapsed")
        elapsed = _fraction(r["elapsed"], "elapsed", positive=True)
        if elapsed > 1:
            raise UserError(key="alert.elapsed", params={"given": str(r["elapsed"])})
    elif kind == "change":
        threshold = _fraction(given, "threshold")
        if threshold == 0:
            raise UserError(key="alert.change_zero")
    elif m.unit == "rate":
        threshold = _fraction(given, "threshold")
    else:
        threshold = _number(given)
    return Rule(
        name,
        kind,
        threshold,
        to,
        lang,
        kpi=k.name,
        measure=m.name,
        unit=m.unit,
        period=period,
        elapsed=elapsed,
        against=against,
        filters=checked.filters,
        by=checked.by[0] if checked.by else None,
    )


# -- thresholds as written ------------------------------------------------------------------------------
def _read(given: Any) -> tuple[float, bool]:
    """(the number, whether it was written as a percentage or points): a TOML number, or text such
    as ``"25%"``, ``"5pp"``, ``"1.5B"``, ``"۲۵٪"``."""
    if isinstance(given, bool) or not isinstance(given, int | float | str):
        raise ValueError(given)
    if isinstance(given, str):
        value = parse_number(given)
        if value is None:
            raise ValueError(given)
        marked = any(mark in given for mark in _PERCENT_MARKS)
    else:
        value, marked = float(given), False
    if not math.isfinite(value):
        raise ValueError(given)
    return value, marked


def _number(given: Any) -> float:
    try:
        return _read(given)[0]
    except ValueError:
        raise UserError(key="alert.threshold", params={"given": str(given)}) from None


def _fraction(given: Any, field: str, *, positive: bool = False) -> float:
    """A share, a rate or a change: ``0.25`` or ``"25%"``; a bare number beyond ±1 is refused
    (25 could mean 25 % or 2,500 %: it is written ``"25%"``)."""
    try:
        value, marked = _read(given)
    except ValueError:
        value, marked = math.nan, False
    if math.isnan(value) or (not marked and abs(value) > 1) or (positive and value <= 0):
        raise UserError(key=f"alert.{field}_fraction", params={"given": str(given)})
    return value


def _count(given: Any, least: int) -> float:
    if isinstance(given, bool) or not isinstance(given, int) or given < least:
        raise UserError(key="alert.threshold_count", params={"given": str(given), "least": least})
    return float(given)
