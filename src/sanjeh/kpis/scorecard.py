"""The scorecard: the goals' primary KPIs first, each against its target and its past.

Each card shows what its KPI declares (``KPI.card``, data in the catalogue): the company-wide
headline, and spotlights — the best-selling product and its share, the region furthest below
its target, the median and the top rep, the contact method that wins most — each computed from
an ordinary query ``Query(kpi, period, by=(dimension,))`` through a ``run`` function (the
engine's by default; the web app passes its cached one, so a card and the KPI page it links to
share the result).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sanjeh.calendar import Period, parse_period, unit_of
from sanjeh.kpis.columns import (
    Against,
    Columns,
    Role,
    attainment_column,
    name_column,
    possible,
    target_column,
)
from sanjeh.kpis.compile import Buckets, MultiBuckets
from sanjeh.kpis.insights import findings
from sanjeh.kpis.query import Query

SPARK = "spark:"

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine
    from sanjeh.kpis.model import KPI, Spotlight

#: Members that say no more than "we do not know" (KPIS.md: empty values): never a spotlight.
VAGUE = frozenset({"unknown", "unspecified"})
#: The mark of a member a spotlight counts at nothing though the data has no row of it (a target
#: and no sale yet): it is named (``no_rows`` in the spotlight), but there is nothing of it to open.
NO_ROWS = "\0no_rows"
#: ``run(query) -> Result.to_dict()``: how spotlights get their rows.
Runner = Callable[[Query], dict[str, Any]]
#: Computes a KPI's card in a period with a sparkline of so many steps (:func:`card`, or a cache of it).
CardMaker = Callable[["KPI", str, int], dict[str, Any]]


@dataclass
class Scorecard:
    period: str
    calendar: str
    goals: list[str]
    primary: list[dict[str, Any]] = field(default_factory=list)
    secondary: list[dict[str, Any]] = field(default_factory=list)
    #: What stands out, in words (kpis/insights.py): ``{"kind", "kpi", "text": {"fa", "en"}}``.
    insights: list[dict[str, Any]] = field(default_factory=list)
    #: What data is there: ``empty``, ``missing`` tables, KPIs with ``no_data`` or none in the
    #: period (``outside``), and the ``last_day`` with data.
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "calendar": self.calendar,
            "goals": self.goals,
            "primary": self.primary,
            "secondary": self.secondary,
            "insights": self.insights,
            "data": self.data,
        }


def _spark_period(period: Period, n: int) -> tuple[str, str]:
    kind = period.unit_kind
    grain = "month" if kind in ("year", "quarter", "month") else kind
    last = unit_of(period.end, period.calendar, grain)  # type: ignore[arg-type]
    first = last.shift(-(n - 1))
    return f"{first.label}..{last.label}", grain


def card(engine: Engine, kpi: KPI, period: str, spark_steps: int) -> dict[str, Any]:
    """The card of ``kpi`` in ``period`` with a sparkline of ``spark_steps`` steps (0: none, and
    nothing of it computed)."""
    h = kpi.headline
    # only the headline: the card shows nothing else (a distinct count nobody reads is most of a query)
    base = dataclasses.replace(
        engine.plan(Query(kpi.name, period), whole=True), grain=None, compare="both", measures=(h,)
    )
    buckets = None
    if spark_steps > 0:
        spark_label, grain = _spark_period(base.period, spark_steps)
        spark_plan = dataclasses.replace(base, period=parse_period(spark_label), grain=grain)  # type: ignore[arg-type]
        # one query: the period's value with both comparisons, and the sparkline's steps
        buckets = MultiBuckets((Buckets.main(base), Buckets.main(spark_plan, tag=SPARK)))
    result = engine.run_plan(base, buckets)
    rows = result.rows
    cols = Columns(result.column_info)

    def of(role: Role, against: Against | None = None) -> Any:
        name = cols.name_of(role, h, against=against)
        return now.get(name) if name is not None else None

    now = next((r for r in rows if r["period"] == base.period.label), {})
    spark = [{"period": r["period"][len(SPARK) :], "value": r[h]} for r in rows if str(r["period"]).startswith(SPARK)]
    hm = kpi.headline_measure
    return {
        "kpi": kpi.name,
        "number": kpi.number,
        "measure": h,
        "title": dict(kpi.title),
        "description": dict(kpi.description),
        "unit": hm.unit,
        "direction": kpi.direction,
        # a rate's change is read in percentage points (change); other measures' relative change
        "change_in": "points" if hm.unit == "rate" else "percent",
        # a KPI always split by a dimension ("calls per rep") whose card shows the whole company's
        # sum: the card says so, lest 248 calls read as each rep's
        "all_of": kpi.fixed[0] if kpi.fixed and kpi.split_of(h) == "additive" else None,
        "data": result.data.to_dict(),
        "value": now.get(h),
        "target": of("target"),
        "attainment": of("attainment"),
        "previous": of("previous"),
        "change": of("change", "previous"),
        "change_rate": of("change_rate", "previous"),
        "year_ago": of("year_ago"),
        "year_ago_change": of("change", "year_ago"),
        "year_ago_change_rate": of("change_rate", "year_ago"),
        "spark": spark,
    }


def spotlight_query(kpi: KPI, spot: Spotlight, period: str) -> Query:
    """The ordinary query a spotlight reads: the KPI over the whole period as one step (the
    step its card shows; a KPI's default grain would give a year's months, and the spotlight would
    pick among those), by the spotlight's dimension (a fixed dimension is the KPI's own split),
    and only the measures the spotlight reads."""
    by = () if not spot.by or spot.by in kpi.fixed else (spot.by,)
    # only what the spotlight reads (the KPI's other measures can cost more than all of these)
    wanted = dict.fromkeys([spot.measure or kpi.headline, *spot.show, *spot.base])
    visible = {m.name for m in kpi.visible_measures}
    measures = tuple(wanted) if all(m in visible for m in wanted) else ()
    return Query(kpi.name, period, by=by, measures=measures, one_step=True)


def _measure_info(kpi: KPI, name: str) -> dict[str, Any]:
    try:
        m = kpi.measure(name)
    except KeyError:
        known = possible(kpi, (), "previous").get(name)
        return {"measure": name, "title": {"fa": name, "en": name}, "unit": known.unit if known else "text"}
    return {"measure": name, "title": dict(m.title), "unit": m.unit}


def spotlight(kpi: KPI, spot: Spotlight, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The spotlight's answer from the rows of :func:`spotlight_query`, or None when it has none
    (no member qualifies, no member below target, no data)."""
    measure = spot.measure or kpi.headline
    out: dict[str, Any] = {"pick": spot.pick, "by": spot.by, "label": dict(spot.label), **_measure_info(kpi, measure)}

    def shown(row: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(_measure_info(kpi, m), value=row.get(m)) for m in spot.show if row.get(m) is not None]

    if spot.pick == "company":
        if not rows:
            return None
        items = shown(rows[0])
        return dict(out, show=items) if items else None

    def base(r: dict[str, Any]) -> float:
        return sum(float(r.get(b) or 0) for b in spot.base)

    def named(r: dict[str, Any]) -> bool:  # a spotlight names a member one can act on
        return r.get(spot.by) is not None and str(r.get(spot.by)) not in VAGUE

    bases = sorted(base(r) for r in rows if named(r))
    median = bases[len(bases) // 2] if bases else 0.0  # the upper median: a floor, not a statistic
    floor = max(spot.least, spot.least_share * sum(base(r) for r in rows), spot.least_of_median * median)
    members = [r for r in rows if r.get(measure) is not None and named(r) and base(r) >= floor]
    if not members:
        return None
    if spot.pick == "below_target":
        att, tgt = attainment_column(kpi, kpi.headline), target_column(kpi, kpi.headline)
        short = [r for r in members if r.get(att) is not None and float(r[att]) < 1.0]
        m = next((x for x in kpi.measures if x.name == measure), None)
        if kpi.direction == "up" and m is not None and m.kind in ("sum", "count", "nunique"):
            # nothing yet against a target is 0 % of it, the furthest below (the table's attainment
            # stays null, as KPIS.md says: a ratio of nothing; a region with a target and no sale
            # was left out, and the card named another)
            short += [
                dict(r, **{att: 0.0, measure: float(r.get(measure) or 0), NO_ROWS: True})
                for r in rows
                if float(r.get(tgt) or 0) > 0
                and not float(r.get(measure) or 0) > 0
                and r.get(spot.by) is not None
                and str(r.get(spot.by)) not in VAGUE
            ]
        if not short:
            return None
        # the lowest share of its target; among equal shares (nothing yet), the largest target
        row = min(short, key=lambda r: (float(r[att]), -float(r.get(tgt) or 0), str(r.get(spot.by))))
        out.update(attainment=row[att], target=row.get(tgt))
    elif spot.pick == "bottom":
        if len(members) < 2:  # the lowest of one is also the highest: say it once
            return None
        row = min(members, key=lambda r: (float(r[measure]), str(r.get(spot.by))))
    else:
        row = max(members, key=lambda r: (float(r[measure]), str(r.get(spot.by))))
    out.update(member=row.get(spot.by), member_name=row.get(name_column(spot.by)), value=row.get(measure))
    if row.get(NO_ROWS):  # a target and nothing yet: the member has no row of the data to open
        out["no_rows"] = True
    m = kpi.measure(measure) if measure in {x.name for x in kpi.measures} else None
    if m is not None and m.kind in ("sum", "count") and spot.pick in ("top", "bottom"):
        total = sum(float(r.get(measure) or 0) for r in rows)
        out["share"] = float(row[measure]) / total if total > 0 and len(rows) > 1 else None
    if spot.pick == "median":
        out["median"] = statistics.median(float(r[measure]) for r in members)
        out["members"] = len(members)
    out["show"] = shown(row)
    return out


def spotlights(engine: Engine, kpi: KPI, period: str, run: Runner) -> list[dict[str, Any]]:
    """The card's spotlights that have an answer, in their declared order. A rep's own view skips
    the ones that compare reps (a rep sees only themselves)."""
    out = []
    for spot in kpi.card.spotlights:
        if spot.by == "rep" and engine.rep_scope is not None:
            continue
        if spot.by and spot.by not in kpi.dimensions:
            continue
        result = run(spotlight_query(kpi, spot, period))
        if (result.get("data") or {}).get("status") in ("no_data", "outside"):
            continue
        found = spotlight(kpi, spot, list(result.get("rows") or []))
        if found is not None:
            out.append(found)
    return out


def explained(
    engine: Engine,
    k: KPI,
    period: str,
    against: str,
    *,
    measure: str | None = None,
    filters: tuple[tuple[str, str], ...] = (),
    by: str | None = None,
    rose: bool | None = None,
    said: set[tuple[object, ...]] | None = None,
) -> dict[str, str]:
    """The members that explain most of ``k``'s ``measure`` (default: its headline) in ``period``
    against ``against`` (kpis/why.py, split by ``by``, default the KPI's first dimension not
    filtered), in each language: «تهران و اصفهان ۸۹٪ این فاصله را توضیح می‌دهند». Empty when no
    split can say it (a measure that does not split, no dimension, a why refused). ``rose``: which
    way the asked measure moved (another measure that moved the other way explains nothing of it);
    ``said``: the explanations given already (measure, comparison, split): none is given twice."""
    from sanjeh.errors import UserError
    from sanjeh.kpis.insights import LANGS, explainers
    from sanjeh.kpis.why import WhyQuery, suggestion

    asked = measure or k.headline
    name: str | None = asked
    if name is not None and k.split_of(name) == "none":
        # a growth's move is its revenue's; a target of a median is not a sum of members'
        name = suggestion(k, k.measure(name)) if against != "target" else None
    if name is None:
        return {}
    # one rep's view split by rep says "this rep: 100 %": split by the next dimension instead
    filtered = {d for d, _ in filters}
    dims = [by] if by else [d for d in k.dimensions if d not in filtered]
    dims = [d for d in dims if not (d == "rep" and isinstance(engine.rep_scope, str))]
    if not dims:
        return {}
    key = (k.cohort, repr(k.measure(name)), against, dims[0], filters)  # the same split of the same measure
    if said is not None and key in said:
        return {}  # a growth's explanation is its revenue's, said already beside the revenue
    try:
        why = engine.why(WhyQuery(k.name, period, name, against, (dims[0],), filters=filters)).to_dict()
    except UserError:
        return {}
    of = dict(k.measure(name).title) if name != asked else {}  # another measure's change: say which
    change = float(why.get("change") or 0)
    if of and rose is not None and change != 0 and (change > 0) != rose:
        return {}  # it moved the other way: its movers would "explain" a fall by a rise
    out = {lang: text for lang in LANGS if (text := explainers(why, lang, of.get(lang)))}
    if out and said is not None:
        said.add(key)
    return out


def explain_findings(engine: Engine, found: list[dict[str, Any]], period: str, kpis: dict[str, KPI]) -> None:
    """Add to each missed target or large move the members that explain most of it (kpis/why.py,
    split by the KPI's first dimension): «… تهران و اصفهان ۸۹٪ این فاصله را توضیح می‌دهند»."""
    rose = {id(f): f.pop("_rose", None) for f in found}  # which way each move went (a target's gap: None)
    said: set[tuple[object, ...]] = set()
    # the findings explained by their own measure first, so that an explanation two findings share
    # (a growth's is its revenue's) is said once, beside the KPI it is about
    for own in (True, False):
        for f in found:
            k = kpis.get(f["kpi"])
            against = f.get("against")
            if k is None or against is None or (k.split_of(k.headline) != "none") != own:
                continue
            for lang, text in explained(engine, k, period, against, rose=rose[id(f)], said=said).items():
                f["text"][lang] = f"{f['text'][lang]} {text}"


def build_scorecard(
    engine: Engine, period: str, *, spark_steps: int = 12, run: Runner | None = None, make_card: CardMaker | None = None
) -> Scorecard:
    """The scorecard of ``period``, each card with a sparkline of ``spark_steps`` steps (0: none).
    ``run`` computes the spotlights' queries (default: the engine's ``run``; the web app passes its
    cached one, a report one that its KPI pages share); ``make_card`` the cards (default: :func:`card`;
    the web app passes its cached one, so a target change computes only the changed KPIs' cards)."""

    def engine_run(q: Query) -> dict[str, Any]:
        return dict(engine.run(q).to_dict())

    runner = run or engine_run
    p = parse_period(period)
    primary_names = engine.primary()
    sc = Scorecard(period=p.label, calendar=p.calendar, goals=list(engine.ws.settings.goals))
    kpis = {k.name: k for k in engine.catalogue()}

    def full_card(k: KPI) -> dict[str, Any]:
        c = dict(make_card(k, p.label, spark_steps) if make_card else card(engine, k, p.label, spark_steps))
        found = spotlights(engine, k, p.label, runner) if c["data"]["status"] not in ("no_data", "outside") else []
        # a card whose headline is another card's number shows its spotlight instead, when it has one
        c["shows"] = "spotlight" if k.card.value == "spotlight" and found else "headline"
        c["spotlights"] = found
        return c

    for name in primary_names:
        if name in kpis:
            sc.primary.append(full_card(kpis[name]))
    for name, k in kpis.items():
        if name not in primary_names:
            sc.secondary.append(full_card(k))
    cards = [dict(c, primary=True) for c in sc.primary] + [dict(c, primary=False) for c in sc.secondary]
    sc.insights = findings(cards, currency=engine.ws.settings.money_format)
    explain_findings(engine, sc.insights, p.label, kpis)
    cov = engine.coverage()
    missing = sorted({t for c in cards for t in c["data"]["missing"]})
    sc.data = {
        "empty": cov.empty,
        "missing": missing,
        "no_data": [c["kpi"] for c in cards if c["data"]["status"] == "no_data"],
        "outside": [c["kpi"] for c in cards if c["data"]["status"] == "outside"],
        "last_day": cov.last_day.isoformat() if cov.last_day else None,
    }
    return sc
