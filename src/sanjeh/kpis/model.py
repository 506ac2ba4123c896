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

from sanjeh.errors import Problem

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
    def part_of_whole(self) -> bool:
        """A rate that is a part of its whole (a share, or a ratio in unit ``rate``: won of closed,
        SQLs of MQLs), so never above 100 %: a target above it can never be met (targets.py). A
        ratio that may pass 1 is declared in unit ``ratio``; growth is not a ratio of parts."""
        return self.kind == "share" or (self.kind == "ratio" and self.unit == "rate")

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
    ``least`` (a win rate of one deal is no news), ``least_share`` of all members' ``base`` and
    ``least_of_median`` of the median member's."""

    pick: Pick
    by: str = ""
    measure: str = ""  # default: the KPI's headline
    show: tuple[str, ...] = ()
    base: tuple[str, ...] = ()
    least: float = 0.0
    #: ... and at least this share of all members' ``base`` (a region's growth from almost nothing
    #: is +2,000 %, and no news either)
    least_share: float = 0.0
    #: ... and at least this fraction of the median member's ``base`` (the best win rate of a year
    #: was a rep's 2 of 3 deals while the median rep closed 31 or 32)
    least_of_median: float = 0.0
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
    empty: the latest complete month. ``chart``: how its page draws it — ``auto`` (a trend for a
    grain, bars for a split), ``funnel`` (the two stages of a conversion, its ``mqls`` and ``sqls``
    measures side by side, when the page has neither grain nor split) or ``cycle`` (its
    ``median_days`` as bars whose whiskers reach ``p90_days``, ``mean_days`` as diamonds). The
    measures a chart draws are checked up front (sanjeh/check.py)."""

    period: Literal["", "month", "quarter", "year"] = ""
    grain: str | None = None
    by: tuple[str, ...] = ()
    compare: str | None = None
    chart: Literal["auto", "funnel", "cycle"] = "auto"


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

    def split_misfit(self, m: Measure, row_keys: Mapping[str, str] | None = None) -> Problem | None:
        """Why ``m``'s declared split kind does not fit its formula (a problem of the declaration,
        at the measure's ``split``); None when it does.

        ``row_keys``: each cohort's column that is unique per row (a distinct count of it is a
        count of rows, so additive: ``new_customers`` counts first orders, one per customer).
        """
        kind = self.split_of(m.name)
        params = {"kpi": self.name, "measure": m.name, "kind": m.kind}
        if kind not in SPLIT_KINDS:
            return Problem(("split",), "check.split_kind", {**params, "given": kind, "allowed": list(SPLIT_KINDS)})
        row_key = (row_keys or {}).get(m.cohort or self.cohort, "")
        if kind == "additive" and not (
            m.kind in ("sum", "count") or (m.kind == "nunique" and row_key and m.column == row_key)
        ):
            return Problem(("split",), "check.split_additive", params)
        if kind == "distinct" and m.kind != "nunique":
            return Problem(("split",), "check.split_distinct", params)
        if kind == "ratio" and not (m.kind == "mean" or (m.kind == "ratio" and self._ratio_parts_split(m))):
            return Problem(("split",), "check.split_ratio", params)
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
_MEASURE_KEYS = (
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
)
_KPI_KEYS = (
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
)
#: The TOML type of each key (``text``, ``texts``: a list of text, ``bool``, ``number``; see the
#: message catalogue's ``type.*``); ``where`` and ``measures`` are read by their own parsers.
_TYPES = {
    "title_fa": "text",
    "title_en": "text",
    "description_fa": "text",
    "description_en": "text",
    "formula_fa": "text",
    "formula_en": "text",
    "name": "text",
    "kind": "text",
    "column": "text",
    "cohort": "text",
    "headline": "text",
    "num": "text",
    "den": "text",
    "of": "text",
    "offset": "text",
    "unit": "text",
    "direction": "text",
    "default_grain": "text",
    "target_rollup": "text",
    "split": "text",
    "dimensions": "texts",
    "fixed": "texts",
    "goals": "texts",
    "ignore_dims": "texts",
    "hidden": "bool",
    "q": "number",
}
_OPS = ("eq", "ne", "in", "not_in", "null", "not_null", "lt", "gt")
UNITS: tuple[str, ...] = Unit.__args__  # type: ignore[attr-defined]
KINDS: tuple[str, ...] = MeasureKind.__args__  # type: ignore[attr-defined]


def _fits(value: Any, kind: str) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "texts":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _typed(raw: Mapping[str, Any], keys: tuple[str, ...], params: dict[str, Any], out: list[Problem]) -> dict[str, Any]:
    """``raw`` without its unknown keys and values of the wrong type, each a problem."""
    kept: dict[str, Any] = {}
    for key, value in raw.items():
        in_measure = "measure" in params
        if key not in keys:
            message = "check.measure_key" if in_measure else "check.key"
            out.append(Problem((key,), message, {**params, "name": key, "names": list(keys)}))
        elif key in _TYPES and not _fits(value, _TYPES[key]):
            message = "check.measure_type" if in_measure else "check.type"
            out.append(Problem((key,), message, {**params, "name": key, "type": _TYPES[key]}))
        else:
            kept[key] = value
    return kept


def _conds(raw: Any, params: dict[str, Any], out: list[Problem]) -> tuple[Cond, ...]:
    """``where = [["type", "eq", "meeting"], ["outcome", "not_null"]]``."""
    if raw is None:
        return ()
    conds = []
    for i, item in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(item, list) or not 2 <= len(item) <= 3 or not isinstance(item[0], str):
            out.append(Problem(("where", i), "check.condition", {**params, "given": str(item)}))
        elif item[1] not in _OPS:
            out.append(Problem(("where", i), "check.operator", {**params, "given": str(item[1]), "ops": list(_OPS)}))
        else:
            conds.append(Cond(item[0], item[1], item[2] if len(item) == 3 else None))
    return tuple(conds)


def _choice(
    m: dict[str, Any], key: str, default: str, allowed: tuple[str, ...], message: str
) -> tuple[str, Problem | None]:
    value = m.get(key, default)
    if value in allowed:
        return value, None
    return default, Problem((key,), message, {"given": value, "allowed": [a for a in allowed if a]})


def _measure(raw: Any, j: int, kpi: str, out: list[Problem]) -> Measure | None:
    """One ``[[kpis.measures]]``; None when it cannot be built (its problems are in ``out``)."""
    if not isinstance(raw, dict):
        out.append(Problem(("measures", j), "check.measures", {"kpi": kpi}))
        return None
    found: list[Problem] = []
    name = raw.get("name")
    label = name if isinstance(name, str) and name else f"#{j + 1}"
    params = {"kpi": kpi, "measure": label}
    m = _typed(raw, _MEASURE_KEYS, params, found)
    if "name" not in m:
        found.append(Problem(("name",), "check.measure_name", params))
    chosen = {}
    for key, default, allowed, message in (
        ("kind", "", KINDS, "check.kind"),
        ("unit", "number", UNITS, "check.unit"),
        ("offset", "previous", ("previous", "year_ago"), "check.offset"),
        ("target_rollup", "", ("", "sum", "same", "none"), "check.rollup"),
        ("split", "", ("", *SPLIT_KINDS), "check.split_kind"),
    ):
        chosen[key], problem = _choice(m, key, default, allowed, message)
        if problem is not None:
            found.append(Problem(problem.where, problem.key, {**params, **problem.params}))
    q = float(m.get("q", 0.5))
    if not 0 < q < 1:
        found.append(Problem(("q",), "check.quantile", {**params, "given": str(q)}))
    where = _conds(m.get("where"), params, found)
    out.extend(p.within("measures", j) for p in found)
    if any(p.key in ("check.measure_name", "check.kind") for p in found):
        return None
    return Measure(
        name=m["name"],
        kind=chosen["kind"],  # type: ignore[arg-type]
        column=m.get("column", ""),
        where=where,
        q=q,
        num=m.get("num", ""),
        den=m.get("den", ""),
        of=m.get("of", ""),
        offset=chosen["offset"],  # type: ignore[arg-type]
        cohort=m.get("cohort", ""),
        ignore_dims=tuple(m.get("ignore_dims", ())),
        unit=chosen["unit"],  # type: ignore[arg-type]
        title={"fa": m.get("title_fa", m["name"]), "en": m.get("title_en", m["name"])},
        hidden=m.get("hidden", False),
        target_rollup=chosen["target_rollup"],
        split=chosen["split"],
    )


def parse_kpi(raw: Mapping[str, Any]) -> tuple[KPI | None, list[Problem]]:
    """A workspace KPI declared in ``sanjeh.toml`` (``[[kpis]]``) from the same blocks as the
    catalogue, and every problem of its declaration's shape (unknown keys, values of the wrong type,
    kinds, units, operators…), each with where it is in the declaration. The KPI is None when it
    cannot be built; a measure that cannot be built is left out of it. What its parts refer to
    (cohorts, columns, dimensions, other measures) is checked on the KPI by sanjeh/check.py."""
    out: list[Problem] = []
    given = raw.get("name")
    name = given if isinstance(given, str) and given else "?"
    params: dict[str, Any] = {"kpi": name}
    k = _typed(raw, _KPI_KEYS, params, out)
    if not name.isidentifier() or name != name.lower():
        out.append(Problem(("name",), "check.kpi_name", {"kpi": name}))
    measures_raw = k.get("measures", [])
    if not isinstance(measures_raw, list):
        out.append(Problem(("measures",), "check.measures", params))
        measures_raw = []
    built = [_measure(m, j, name, out) for j, m in enumerate(measures_raw)]
    measures = tuple(m for m in built if m is not None)
    if not measures_raw:
        out.append(Problem(("measures",), "check.no_measures", params))
    direction, problem = _choice(k, "direction", "up", ("up", "down"), "check.direction")
    if problem is not None:
        out.append(Problem(problem.where, problem.key, {**params, **problem.params}))
    where = _conds(k.get("where"), params, out)
    if not measures:
        return None, out
    return (
        KPI(
            name=name,
            title={"fa": k.get("title_fa", name), "en": k.get("title_en", name)},
            description={"fa": k.get("description_fa", ""), "en": k.get("description_en", "")},
            formula={"fa": k.get("formula_fa", ""), "en": k.get("formula_en", "")},
            cohort=k.get("cohort", ""),
            measures=measures,
            headline=k.get("headline", measures[0].name),
            dimensions=tuple(k.get("dimensions", ())),
            fixed=tuple(k.get("fixed", ())),
            direction=direction,  # type: ignore[arg-type]
            goals=tuple(k.get("goals", ())),
            where=where,
            default_grain=k.get("default_grain"),
            builtin=False,
        ),
        out,
    )


def kpi_from_settings(raw: Mapping[str, Any]) -> KPI:
    """A workspace KPI (:func:`parse_kpi`); its first problem of shape is raised."""
    kpi, found = parse_kpi(raw)
    errors = [p for p in found if p.level == "error"]
    if errors or kpi is None:
        raise errors[0].error()
    return kpi
