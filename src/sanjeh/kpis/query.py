"""A KPI query, checked against the catalogue before anything is compiled."""

from __future__ import annotations

from dataclasses import dataclass

from sanjeh.calendar import Grain, Period, parse_grain, parse_period
from sanjeh.errors import InvalidQuery, UnknownKPI
from sanjeh.kpis.model import KPI
from sanjeh.text import normalize_member

COMPARISONS = ("previous", "year_ago")


@dataclass(frozen=True)
class Query:
    """What a user asks: one KPI over a period, split by grain and dimensions, filtered, compared."""

    kpi: str
    period: str
    grain: str | None = None
    by: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    compare: str | None = None
    measures: tuple[str, ...] = ()  # only these measures (default: all)
    #: the period as one step, whatever the KPI's default grain (``grain`` is then ignored): a
    #: scorecard's spotlight reads the step its card shows, not the months of a year
    one_step: bool = False


@dataclass(frozen=True)
class Plan:
    """A checked query: every name is known and allowed, the period is parsed."""

    kpi: KPI
    period: Period
    grain: Grain | None
    by: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]
    compare: str | None
    measures: tuple[str, ...]

    @property
    def calendar_prefix(self) -> str:
        return "j" if self.period.calendar == "jalali" else "g"


def find_kpi(name: str, catalogue: dict[str, KPI]) -> KPI:
    kpi = catalogue.get(name.strip().lower()) if isinstance(name, str) else None
    if kpi is None:
        raise UnknownKPI(
            key="query.unknown_kpi",
            params={"kpi": name, "kpis": list(catalogue)},
            details={"kpi": name, "allowed": list(catalogue)},
        )
    return kpi


def _dimension(kpi: KPI, name: str, verb: str) -> str:
    """A dimension the KPI allows (normalised), or an error naming the allowed ones."""
    d = name.strip().lower()
    if d not in kpi.dimensions:
        keys = {
            ("split", True): "query.cannot_split",
            ("split", False): "query.cannot_split_at_all",
            ("filtered", True): "query.cannot_filtered",
            ("filtered", False): "query.cannot_filtered_at_all",
        }
        raise InvalidQuery(
            key=keys[verb, bool(kpi.dimensions)],
            params={"kpi": kpi.name, "dim": d, "dims": list(kpi.dimensions)},
            details={"dimension": d, "allowed": list(kpi.dimensions)},
        )
    return d


#: What may stand between a filter's dimension and its member: ``region:Markazi`` (the web's
#: spelling) or ``region=Markazi`` (the CLI's).
FILTER_SEPARATORS = (":", "=")


def parse_filter(text: str, *, key: str = "query.filter_syntax") -> tuple[str, str]:
    """``region:Markazi`` or ``region=Markazi`` -> ``("region", "Markazi")``, split at the first
    separator (a dimension's name has neither, a member may: ``city=a:b`` is the city «a:b»).
    Without a separator, a dimension or a member it is :class:`InvalidQuery` with message ``key``
    (each surface says the syntax it shows its users)."""
    at = [i for i in (text.find(sep) for sep in FILTER_SEPARATORS) if i >= 0]
    dim, member = (text[: min(at)], text[min(at) + 1 :]) if at else ("", "")
    if not dim.strip() or not member.strip():
        raise InvalidQuery(key=key, params={"filter": text}, details={"filter": text})
    return dim.strip(), member.strip()


def plan(query: Query, catalogue: dict[str, KPI], *, whole: bool = False) -> Plan:
    """Check ``query``. ``whole`` leaves a KPI's fixed dimensions out (one company-wide row)."""
    kpi = find_kpi(query.kpi, catalogue)
    period = parse_period(query.period)
    if query.one_step:
        grain = None
    elif query.grain:
        grain = parse_grain(query.grain)
    else:
        grain = parse_grain(kpi.default_grain) if kpi.default_grain else None
    by: list[str] = []
    for raw in query.by:
        d = _dimension(kpi, raw, "split")
        if d not in by:
            by.append(d)
    if not whole:
        for d in kpi.fixed:
            if d not in by:
                by.insert(0, d)
    filters: list[tuple[str, str]] = []
    for raw, member in query.filters:
        d = _dimension(kpi, raw, "filtered")
        m = normalize_member(d, member)
        if not m:
            raise InvalidQuery(key="query.filter_member", params={"dim": d}, details={"dimension": d})
        filters.append((d, m))
    compare = query.compare.strip().lower() if query.compare else None
    if compare is not None and compare not in COMPARISONS:
        raise InvalidQuery(
            key="query.compare",
            params={"given": query.compare},
            details={"compare": query.compare, "allowed": list(COMPARISONS)},
        )
    visible = [m.name for m in kpi.visible_measures]
    for m in query.measures:
        if m not in visible:
            raise InvalidQuery(
                key="query.measure",
                params={"kpi": kpi.name, "measure": m, "measures": visible},
                details={"measure": m, "allowed": visible},
            )
    return Plan(kpi, period, grain, tuple(by), tuple(filters), compare, tuple(query.measures))
