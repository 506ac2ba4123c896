"""The columns of a KPI result: how they are named, and what each one is.

A result's columns are made by ``compile.py`` with the naming functions here, and described by
:func:`describe` with the same functions: each column is a :class:`Column` with its role (the
step, a dimension or its members' names, a measure, a target, an attainment, a compared value, a
change or a change rate), the measure it belongs to, the comparison it is against, and the unit
its values are in. Surfaces (the CLI, the API, the dashboard, the reports) read these roles; they
never take a column's name apart to learn what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sanjeh.errors import InternalError
from sanjeh.kpis.model import KPI

#: The step (row label) column of every result.
STEP = "period"
#: Hidden columns carrying data-quality warning counts start with this (dropped from results).
WARNING_PREFIX = "warning__"

Role = Literal[
    "step",
    "dimension",
    "dimension_name",
    "measure",
    "target",
    "attainment",
    "previous",  # the headline in the compared step, against the previous step
    "year_ago",  # the headline in the compared step, against the same step a year ago
    "change",
    "change_rate",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
Against = Literal["previous", "year_ago"]
#: Measure kinds whose values add up across members (sums, counts, shares of one total).
ADDITIVE_KINDS = frozenset({"sum", "count", "share"})


# -- names -------------------------------------------------------------------------------------
def target_column(kpi: KPI, measure: str) -> str:
    """``target`` for the headline, ``{measure}_target`` for another measure."""
    return "target" if measure == kpi.headline else f"{measure}_target"


def attainment_column(kpi: KPI, measure: str) -> str:
    """``attainment`` for the headline, ``{measure}_attainment`` for another measure."""
    return "attainment" if measure == kpi.headline else f"{measure}_attainment"


def compared_column(measure: str, slot: Against) -> str:
    """The compared value of ``measure``: ``previous_{m}`` for the query's own comparison (whichever
    it is), ``year_ago_{m}`` for the year-ago one when a query asks for both."""
    return f"{slot}_{measure}"


def change_column(measure: str, slot: Against) -> str:
    return f"{measure}_change" if slot == "previous" else f"{measure}_{slot}_change"


def change_rate_column(measure: str, slot: Against) -> str:
    return f"{change_column(measure, slot)}_rate"


def name_column(dimension: str) -> str:
    """The column of a dimension's members' names (``rep_name``)."""
    return f"{dimension}_name"


def warning_column(measure: str) -> str:
    return WARNING_PREFIX + measure


def comparisons(compare: str | None) -> list[tuple[Against, Against]]:
    """The comparisons a query with ``compare`` makes, as (column slot, what it is against): its
    own in the ``previous`` slot, and with ``both`` the year-ago one in the ``year_ago`` slot."""
    if compare == "both":
        return [("previous", "previous"), ("year_ago", "year_ago")]
    if compare in ("previous", "year_ago"):
        return [("previous", compare)]  # type: ignore[list-item]
    return []


# -- what a column is --------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of a result.

    ``measure``: the measure it belongs to (None for the step and dimensions); ``dimension``: the
    dimension of a ``dimension`` or ``dimension_name`` column; ``against``: what a compared value,
    change or change rate compares with; ``unit``: the unit of its values (a measure's unit,
    ``rate`` for attainments and change rates, ``points`` for the change of a rate, ``text`` for
    the step and dimensions); ``kind``: the kind of its measure (sum, count, ratio…);
    ``additive``: whether its values add up across members (an "others" row sums them).
    """

    name: str
    role: Role
    unit: str = "text"
    measure: str | None = None
    kind: str | None = None
    dimension: str | None = None
    against: Against | None = None
    #: A year-ago comparison made beside the query's own (the scorecard compares with both): its
    #: columns are named and titled "a year ago", the query's own "the compared period".
    second: bool = False
    additive: bool = False

    @property
    def numeric(self) -> bool:
        return self.unit != "text"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> Column:
        fields: dict[str, Any] = {k: raw[k] for k in Column.__dataclass_fields__ if k in raw}
        return Column(**fields)


def _additive(kpi: KPI, measure: str) -> bool:
    """Whether a measure's values add up across members: a sum, count or share, or the previous
    value of one."""
    try:
        m = kpi.measure(measure)
    except KeyError:
        return False
    if m.kind in ADDITIVE_KINDS:
        return True
    return m.kind == "previous" and m.of != measure and _additive(kpi, m.of)


def possible(kpi: KPI, by: Sequence[str], compare: str | None) -> dict[str, Column]:
    """Every column a query of ``kpi`` split ``by`` and compared as ``compare`` may have, by name."""
    out: dict[str, Column] = {STEP: Column(STEP, "step")}
    for d in by:
        out[d] = Column(d, "dimension", dimension=d)
        out[name_column(d)] = Column(name_column(d), "dimension_name", dimension=d)
    for m in kpi.visible_measures:
        unit, add = str(m.unit), _additive(kpi, m.name)
        out[m.name] = Column(m.name, "measure", unit, m.name, m.kind, additive=add)
        t = target_column(kpi, m.name)
        out[t] = Column(t, "target", unit, m.name, m.kind, additive=add)
        a = attainment_column(kpi, m.name)
        out[a] = Column(a, "attainment", "rate", m.name, m.kind)
    hm = kpi.headline_measure
    h, unit, add = hm.name, str(hm.unit), _additive(kpi, hm.name)
    for slot, against in comparisons(compare):
        second = slot != "previous"
        c = compared_column(h, slot)
        out[c] = Column(c, against, unit, h, hm.kind, against=against, second=second, additive=add)
        c = change_column(h, slot)
        points = "points" if unit == "rate" else unit
        out[c] = Column(c, "change", points, h, hm.kind, against=against, second=second, additive=add)
        c = change_rate_column(h, slot)
        out[c] = Column(c, "change_rate", "rate", h, hm.kind, against=against, second=second)
    return out


def describe(kpi: KPI, names: Iterable[str], by: Sequence[str], compare: str | None) -> list[Column]:
    """The columns ``names`` of a result of ``kpi`` split ``by`` and compared as ``compare``."""
    known = possible(kpi, by, compare)
    out = []
    for n in names:
        if n not in known:
            raise InternalError(f"a result of {kpi.name} has a column {n!r} no query of it makes")
        out.append(known[n])
    return out


class Columns:
    """The columns of one result, looked up by name or by role."""

    def __init__(self, columns: Iterable[Column]) -> None:
        self.list = list(columns)
        self._by_name = {c.name: c for c in self.list}

    @staticmethod
    def of(result: Mapping[str, Any], kpi: KPI) -> Columns:
        """The columns of a result as a dict (``Result.to_dict()``): its ``column_info``, or (rows
        put together by hand, with the columns a query makes) described from its KPI."""
        info = result.get("column_info")
        if info is not None:
            return Columns(Column.from_dict(c) for c in info)
        names = list(result.get("columns") or [])
        by = list(result.get("by") or [])
        return Columns(describe(kpi, names, by, result.get("compare")))

    def __iter__(self) -> Iterator[Column]:
        return iter(self.list)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.list]

    def get(self, name: str) -> Column | None:
        return self._by_name.get(name)

    def unit(self, name: str) -> str:
        c = self._by_name.get(name)
        return c.unit if c is not None else "text"

    def find(self, role: Role, measure: str | None = None, *, against: Against | None = None) -> Column | None:
        """The first column of ``role`` (of ``measure``, against ``against``, when given)."""
        for c in self.list:
            mine = measure is None or c.measure == measure
            if c.role == role and mine and (against is None or c.against == against):
                return c
        return None

    def name_of(self, role: Role, measure: str | None = None, *, against: Against | None = None) -> str | None:
        c = self.find(role, measure, against=against)
        return c.name if c is not None else None

    def compared(self, measure: str) -> Column | None:
        """The compared value of ``measure`` of the query's own comparison (previous or year ago)."""
        return next((c for c in self.list if c.role in ("previous", "year_ago") and c.measure == measure), None)
