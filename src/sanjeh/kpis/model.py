"""The building blocks KPIs are declared with: conditions, measures, KPIs.

A KPI is data: a cohort of rows (``sources.py`` knows each cohort), measures
built from a small set of kinds, the dimensions it may be split by and the good
direction. ``compile.py`` turns any such declaration into one Ibis expression,
so adding a KPI is adding a declaration (in ``catalogue.py`` or in a
workspace's ``sanjeh.toml``), never a new code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sanjeh.errors import SettingsError

CondOp = Literal["eq", "ne", "in", "not_in", "null", "not_null", "lt", "gt"]
MeasureKind = Literal[
    # aggregations over the cohort's rows in each step
    "sum",
    "count",
    "nunique",
    "mean",
    "quantile",
    # built from other measures of the same row
    "ratio",  # num / den, null when den is 0 or null
    "share",  # of / the same aggregation over the whole step (every member, no filter)
    "per_month",  # of / number of calendar months the row's span touches
    "previous",  # of, in the row's previous step (offset previous|year_ago)
    "growth",  # (of - previous of) / previous of
    # initiative blocks
    "cumulative",  # Σ column from the initiative's started_on to the row's end
    "lookup",  # a column of the dimension's own table (e.g. an initiative's investment)
]
AGGREGATIONS = ("sum", "count", "nunique", "mean", "quantile")
Unit = Literal["money", "count", "rate", "days", "hours", "number", "ratio"]
#: How a measure's change splits over the members of a dimension (shared/spec/WHY.md, kpis/why.py):
#: ``additive`` (a sum or count of rows), ``distinct`` (a count of distinct units, which may belong
#: to several members), ``ratio`` (num / den of two of those, or a mean: Σ column / rows) or
#: ``none`` (refused: medians, growth, shares of a whole, cumulative values…).
SplitKind = Literal["additive", "distinct", "ratio", "none"]
SPLIT_KINDS: tuple[str, ...] = ("additive", "distinct", "ratio", "none")
Direction = Literal["up", "down"]


@dataclass(frozen=True)
class Cond:
    """``column op value`` over a cohort's columns; values are bound, never pasted into SQL."""

    column: str
    op: CondOp = "eq"
    value: Any = None


@dataclass(frozen=True)
class Measure:
    name: str
    kind: MeasureKind
    column: str = ""
    where: tuple[Cond, ...] = ()
    q: float = 0.5
    num: str = ""
    den: str = ""
    of: str = ""
    offset: Literal["previous", "year_ago"] = "previous"
    cohort: str = ""  # aggregations over another cohort than the KPI's (joined by step and members)
    ignore_dims: tuple[str, ...] = ()  # computed as if these dimensions were not asked for
    unit: Unit = "number"
    title: dict[str, str] = field(default_factory=dict)
    hidden: bool = False  # used by other measures, not shown
    #: How its targets combine over time (kpis/targeting.py): ``sum``, ``same`` or ``none``;
    #: empty: by its kind (sums and counts add up, distinct counts do not, rates stay the same).
    target_rollup: str = ""
    #: How its change splits over members (:data:`SplitKind`); empty in a workspace KPI that does
    #: not say: then the kind its formula implies (:meth:`KPI.split_of`).
    split: str = ""

    @property
    def is_aggregation(self) -> bool:
        return self.kind in AGGREGATIONS

    @property
    def zero_when_empty(self) -> bool:
        """Sums and counts are 0 on a row without data; everything else is null."""
        return self.kind in ("sum", "count", "nunique", "cumulative")


Pick = Literal["top", "bottom", "below_target", "median", "company"]


@dataclass(frozen=True)
class Spotlight:
    """One line a scorecard card shows under (or instead of) its headline: a member of a
    dimension picked by a rule, computed from an ordinary query ``Query(kpi, period, by=(by,))``.

    ``pick``: ``top`` / ``bottom`` (the member with the highest / lowest ``measure``),
    ``below_target`` (the member furthest below its target: lowest attainment under 100 %),
    ``median`` (the median member's value, with the top member), ``company`` (the company row's
    other measures, ``show``; no dimension). ``show``: measures shown beside it (a share, a win
    rate). ``base``/``least``: a member counts only when the sum of its ``base`` measures is at least
    ``least`` (a win rate of one deal is no news) and ``least_share`` of all members' ``base``."""

    pick: Pick
    by: str = ""
    measure: str = ""  # default: the KPI's headline
    show: tuple[str, ...] = ()
    base: tuple[str, ...] = ()
    least: float = 0.0
    #: ... and at least this share of all members' ``base`` (a region's growth from almost nothing
    #: is +2,000 %, and no news either)
    least_share: float = 0.0
    label: dict[str, str] = field(default_factory=dict)  # fa/en: what the line says it is


@dataclass(frozen=True)
class CardSpec:
    """What a KPI's scorecard card shows. ``value``: ``headline`` (the company-wide headline, with
    its target, changes and sparkline) or ``spotlight`` (the first spotlight that applies, for KPIs
    whose company-wide headline is another card's number, e.g. sales by product = revenue).
    ``spotlights``: tried in order; with ``value = "spotlight"`` the first that has an answer is the
    card's figure, with ``headline`` each that has an answer is a line under it."""

    value: Literal["headline", "spotlight"] = "headline"
    spotlights: tuple[Spotlight, ...] = ()


@dataclass(frozen=True)
class View:
    """The view a KPI's page opens with when the URL does not say (docs/dashboard.md).
    ``period``: the kind of the default period (``year``: the year of the latest complete month);
    empty: the latest complete month."""

    period: Literal["", "month", "quarter", "year"] = ""
    grain: str | None = None
    by: tuple[str, ...] = ()
    compare: str | None = None


@dataclass(frozen=True)
class KPI:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    formula: dict[str, str]
    cohort: str
    measures: tuple[Measure, ...]
    headline: str
    dimensions: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()  # always split by these
    direction: Direction = "up"
    goals: tuple[str, ...] = ()
    number: str = ""
    where: tuple[Cond, ...] = ()  # which of the cohort's rows count at all
    default_grain: str | None = None
    builtin: bool = True
    #: Data-quality warnings: (a hidden count measure, message with ``{n}`` in fa/en); shown when n > 0.
    warnings: tuple[tuple[str, dict[str, str]], ...] = ()
    #: What its scorecard card shows (data, like the rest): see :class:`CardSpec`.
    card: CardSpec = field(default_factory=CardSpec)
    #: The view its page opens with: see :class:`View`.
    view: View = field(default_factory=View)

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise KeyError(name)

    def column_unit(self, name: str) -> str:
        """The unit of a result column: a measure's own, or derived from its measure (targets and
        previous values in its unit, attainment and relative changes as rates, the change of a
        rate in percentage ``points``); ``text`` for dimensions, names and labels."""
        units = {m.name: m.unit for m in self.measures}
        if name in units:
            return str(units[name])
        if name == "attainment" or name.endswith(("_attainment", "_change_rate")):
            return "rate"
        if name == "target":
            return str(units.get(self.headline, "number"))
        for suffix in ("_year_ago_change", "_change"):
            base = name.removesuffix(suffix)
            if base != name and base in units:
                return "points" if units[base] == "rate" else str(units[base])
        base = name.removesuffix("_target").removeprefix("previous_").removeprefix("year_ago_")
        if base != name and base in units:
            return str(units[base])
        return "text"

    def split_of(self, name: str) -> str:
        """How measure ``name``'s change splits over members: its declared kind, else the one its
        formula implies (sums and counts are additive, distinct counts distinct, a mean or a ratio
        of those a ratio, anything else not split)."""
        m = self.measure(name)
        if m.split:
            return m.split
        if m.kind in ("sum", "count"):
            return "additive"
        if m.kind == "nunique":
            return "distinct"
        if m.kind == "mean" or (m.kind == "ratio" and self._ratio_parts_split(m)):
            return "ratio"
        return "none"

    def _ratio_parts_split(self, m: Measure) -> bool:
        names = {x.name for x in self.measures}
        return all(ref in names and self.measure(ref).kind in ("sum", "count", "nunique") for ref in (m.num, m.den))

    def split_misfit(self, m: Measure, row_keys: Mapping[str, str] | None = None) -> str | None:
        """Why ``m``'s declared split kind does not fit its formula; None when it does.

        ``row_keys``: each cohort's column that is unique per row (a distinct count of it is a
        count of rows, so additive: ``new_customers`` counts first orders, one per customer).
        """
        kind = self.split_of(m.name)
        if kind not in SPLIT_KINDS:
            return f"unknown split kind {kind!r}; use {', '.join(SPLIT_KINDS)}"
        row_key = (row_keys or {}).get(m.cohort or self.cohort, "")
        if kind == "additive" and not (
            m.kind in ("sum", "count") or (m.kind == "nunique" and row_key and m.column == row_key)
        ):
            return (
                f"is declared additive but is a {m.kind}"
                + (f" of {m.column}" if m.column else "")
                + "; an additive measure is a sum or a count of rows"
            )
        if kind == "distinct" and m.kind != "nunique":
            return f"is declared distinct but is a {m.kind}; a distinct measure is a count of distinct values"
        if kind == "ratio" and not (m.kind == "mean" or (m.kind == "ratio" and self._ratio_parts_split(m))):
            return (
                f"is declared ratio but is a {m.kind}"
                + (f" of {m.num} / {m.den}" if m.kind == "ratio" else "")
                + "; a ratio splits when it is a mean, or num / den of two sums, counts or distinct counts"
            )
        return None

    @property
    def visible_measures(self) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if not m.hidden)

    @property
    def headline_measure(self) -> Measure:
        return self.measure(self.headline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "title": dict(self.title),
            "description": dict(self.description),
            "formula": dict(self.formula),
            "headline": self.headline,
            "measures": [
                {"name": m.name, "unit": m.unit, "title": dict(m.title), "headline": m.name == self.headline}
                for m in self.visible_measures
            ],
            "dimensions": list(self.dimensions),
            "fixed_dimensions": list(self.fixed),
            "direction": self.direction,
            "goals": list(self.goals),
            "default_grain": self.default_grain,
            "builtin": self.builtin,
            "view": {
                "period": self.view.period or None,
                "grain": self.view.grain,
                "by": list(self.view.by),
                "compare": self.view.compare,
            },
        }


# -- workspace KPIs from sanjeh.toml ------------------------------------------------------
_MEASURE_KEYS = {
    "name",
    "kind",
    "column",
    "where",
    "q",
    "num",
    "den",
    "of",
    "offset",
    "unit",
    "title_fa",
    "title_en",
    "hidden",
    "cohort",
    "ignore_dims",
    "target_rollup",
    "split",
}
_KPI_KEYS = {
    "name",
    "title_fa",
    "title_en",
    "description_fa",
    "description_en",
    "formula_fa",
    "formula_en",
    "cohort",
    "measures",
    "headline",
    "dimensions",
    "fixed",
    "direction",
    "goals",
    "where",
    "default_grain",
}


def _conds(raw: Any, where: str) -> tuple[Cond, ...]:
    """``where = [["type", "eq", "meeting"], ["outcome", "not_null"]]``."""
    if raw is None:
        return ()
    out = []
    for item in raw:
        if not isinstance(item, list | tuple) or not 2 <= len(item) <= 3:
            raise SettingsError(f"{where}: a condition is [column, op, value], not {item!r}")
        op = item[1]
        if op not in ("eq", "ne", "in", "not_in", "null", "not_null", "lt", "gt"):
            raise SettingsError(f"{where}: unknown condition operator {op!r}")
        out.append(Cond(str(item[0]), op, item[2] if len(item) == 3 else None))
    return tuple(out)


def kpi_from_settings(raw: dict[str, Any]) -> KPI:
    """Build a workspace KPI declared in ``sanjeh.toml`` (``[[kpis]]``) from the same blocks."""
    name = str(raw.get("name", ""))
    where = f"workspace KPI {name or '?'}"
    unknown = set(raw) - _KPI_KEYS
    if unknown:
        raise SettingsError(f"{where}: unknown keys {sorted(unknown)}")
    if not name.isidentifier() or name != name.lower():
        raise SettingsError(f"{where}: a KPI name is lower_snake_case")
    measures = []
    for m in raw.get("measures", []):
        bad = set(m) - _MEASURE_KEYS
        if bad:
            raise SettingsError(f"{where}: unknown measure keys {sorted(bad)}")
        kind = m.get("kind", "")
        if kind not in MeasureKind.__args__:  # type: ignore[attr-defined]
            raise SettingsError(f"{where}: unknown measure kind {kind!r}")
        if m.get("target_rollup", "") not in ("", "sum", "same", "none"):
            raise SettingsError(f"{where}: target_rollup is sum, same or none")
        if m.get("split", "") not in ("", *SPLIT_KINDS):
            raise SettingsError(
                f"{where}: measure {m.get('name')!r}: split is one of {', '.join(SPLIT_KINDS)}, not {m.get('split')!r}"
            )
        measures.append(
            Measure(
                name=str(m["name"]),
                kind=kind,
                column=str(m.get("column", "")),
                where=_conds(m.get("where"), where),
                q=float(m.get("q", 0.5)),
                num=str(m.get("num", "")),
                den=str(m.get("den", "")),
                of=str(m.get("of", "")),
                offset=m.get("offset", "previous"),
                cohort=str(m.get("cohort", "")),
                ignore_dims=tuple(m.get("ignore_dims", ())),
                unit=m.get("unit", "number"),
                title={"fa": m.get("title_fa", m["name"]), "en": m.get("title_en", m["name"])},
                hidden=bool(m.get("hidden", False)),
                target_rollup=str(m.get("target_rollup", "")),
                split=str(m.get("split", "")),
            )
        )
    if not measures:
        raise SettingsError(f"{where}: needs at least one measure")
    headline = str(raw.get("headline", measures[0].name))
    direction = raw.get("direction", "up")
    if direction not in ("up", "down"):
        raise SettingsError(f"{where}: direction is up or down")
    return KPI(
        name=name,
        title={"fa": raw.get("title_fa", name), "en": raw.get("title_en", name)},
        description={"fa": raw.get("description_fa", ""), "en": raw.get("description_en", "")},
        formula={"fa": raw.get("formula_fa", ""), "en": raw.get("formula_en", "")},
        cohort=str(raw.get("cohort", "")),
        measures=tuple(measures),
        headline=headline,
        dimensions=tuple(raw.get("dimensions", ())),
        fixed=tuple(raw.get("fixed", ())),
        direction=direction,
        goals=tuple(raw.get("goals", ())),
        where=_conds(raw.get("where"), where),
        default_grain=raw.get("default_grain"),
        builtin=False,
    )
