"""Pace: where an additive measure lands if the rest of the period goes as it has so far
(docs/forecast.md, "Pace").

For a KPI measure that adds up over time (a sum or a count: revenue, orders, calls) and a
period, the **value so far** is the engine's value over the period's days up to the as-of day
(included); the **run-rate** is that value per working day elapsed, and the **projection** adds
the run-rate times the working days left. Attainment is the projection over the period's target
(the engine's target of the whole period, kpis/targeting.py).

Working days: in a Jalali workspace Fridays and Iran's official holidays (the ``holidays``
package's ``Iran``: Nowruz, 12 and 13 Farvardin, the religious days on the lunar calendar…) are
off; in a Gregorian workspace Saturdays and Sundays are off and there are no holidays, unless the
caller passes a country (``WorkWeek.for_calendar("gregorian", "DE")``; not a workspace setting yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sanjeh.calendar import CalendarName, Period, parse_period, unit_of
from sanjeh.errors import InvalidQuery
from sanjeh.kpis.model import KPI, Measure
from sanjeh.kpis.query import Query
from sanjeh.kpis.targeting import rollup_of

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

FRIDAY, SATURDAY, SUNDAY = 4, 5, 6  # date.weekday()


@dataclass(frozen=True)
class WorkWeek:
    """Which days are worked: weekdays off (``date.weekday()`` numbers) and holidays."""

    off: frozenset[int]
    country: str | None = None
    extra: frozenset[dt.date] = field(default_factory=frozenset)

    @staticmethod
    def for_calendar(calendar: CalendarName, country: str | None = None) -> WorkWeek:
        """Jalali: Fridays and Iran's official holidays off. Gregorian: Saturdays and Sundays off,
        and the holidays of ``country`` when one is configured (none by default)."""
        if calendar == "jalali":
            return WorkWeek(frozenset({FRIDAY}), country or "IR")
        return WorkWeek(frozenset({SATURDAY, SUNDAY}), country)

    def holidays(self, start: dt.date, end: dt.date) -> set[dt.date]:
        if not self.country:
            return set(self.extra)
        import holidays

        days = holidays.country_holidays(self.country, years=range(start.year, end.year + 1))
        return {d for d in days if start <= d <= end} | set(self.extra)

    def days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The working days of ``start..end`` (both included)."""
        if end < start:
            return []
        off = self.holidays(start, end)
        n = (end - start).days + 1
        all_days = (start + dt.timedelta(days=i) for i in range(n))
        return [d for d in all_days if d.weekday() not in self.off and d not in off]

    def count(self, start: dt.date, end: dt.date) -> int:
        return len(self.days(start, end))


@dataclass(frozen=True)
class Pace:
    kpi: KPI
    measure: Measure
    period: Period
    as_of: dt.date
    so_far: float
    target: float | None
    days_elapsed: int  # working days from the period's start to the as-of day, included
    days_left: int  # working days after the as-of day to the period's end
    #: the value per working day so far; None before the first working day
    run_rate: float | None
    projected: float | None
    rule: str  # "fri+IR", "sat+sun", …: which days are off
    #: the data's last day, when it ends before the running period began (no pace: nothing so far
    #: is no rows yet, not no sales)
    data_end: dt.date | None = None
    #: the KPI has no rows at all yet (a new workspace): no pace either
    no_data: bool = False
    #: the last day the KPI's rows reach (None: no rows, or no days): what is booked ends there
    last_data_day: dt.date | None = None

    @property
    def projected_attainment(self) -> float | None:
        if self.projected is None or not self.target or self.target <= 0:
            return None
        return self.projected / self.target

    @property
    def attainment_so_far(self) -> float | None:
        return self.so_far / self.target if self.target and self.target > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi.name,
            "measure": self.measure.name,
            "period": self.period.label,
            "as_of": self.as_of.isoformat(),
            "so_far": self.so_far,
            "target": self.target,
            "attainment_so_far": self.attainment_so_far,
            "working_days_elapsed": self.days_elapsed,
            "working_days_left": self.days_left,
            "run_rate": self.run_rate,
            "projected": self.projected,
            "projected_attainment": self.projected_attainment,
            "days_off": self.rule,
            "data_end": self.data_end.isoformat() if self.data_end else None,
            "no_data": self.no_data,
        }


def additive_measure(kpi: KPI, measure: str | None) -> Measure:
    """The measure (default: the headline) when it adds up over time; else a user error."""
    name = measure or kpi.headline
    found = {m.name: m for m in kpi.visible_measures}
    m = found.get(name)
    if m is None:
        raise InvalidQuery(
            key="query.measure",
            params={"kpi": kpi.name, "measure": name, "measures": list(found)},
            details={"measure": name, "allowed": list(found)},
        )
    if rollup_of(m) != "sum":
        additive = [x.name for x in kpi.visible_measures if rollup_of(x) == "sum"]
        raise InvalidQuery(
            key="query.forecast_not_additive",
            params={"kpi": kpi.name, "measure": name, "measure_titles": additive},
            details={"measure": name, "additive": additive},
        )
    return m


def day_label(d: dt.date, calendar: CalendarName) -> str:
    return unit_of(d, calendar, "day").label


def value_between(
    engine: Engine,
    kpi: KPI,
    measure: Measure,
    start: dt.date,
    end: dt.date,
    calendar: CalendarName,
    filters: tuple[tuple[str, str], ...] = (),
) -> float:
    """The measure's company-wide (or the engine's scope's, or ``filters``') value over the days ``start..end``."""
    if end < start:
        return 0.0
    label = f"{day_label(start, calendar)}..{day_label(end, calendar)}"
    rows = engine.run(Query(kpi.name, label, filters=filters, measures=(measure.name,)), whole=True).rows
    return float(sum(r.get(measure.name) or 0.0 for r in rows))


def period_target(
    engine: Engine, kpi: KPI, measure: Measure, period: Period, filters: tuple[tuple[str, str], ...] = ()
) -> float | None:
    """The target of the whole period (set, summed or spread: kpis/targeting.py)."""
    rows = engine.run(Query(kpi.name, period.label, filters=filters, measures=(measure.name,)), whole=True).rows
    col = "target" if measure.name == kpi.headline else f"{measure.name}_target"
    values = [r.get(col) for r in rows if r.get(col) is not None]
    return float(values[0]) if len(values) == 1 and values[0] is not None else None


def pace(
    engine: Engine,
    kpi_name: str,
    period: str,
    *,
    measure: str | None = None,
    as_of: dt.date | None = None,
    week: WorkWeek | None = None,
    filters: tuple[tuple[str, str], ...] = (),
) -> Pace:
    """The pace of ``kpi_name``'s additive ``measure`` in ``period`` as of ``as_of`` (default:
    the workspace's today), of the rows ``filters`` keep (default: all). Before the period: nothing
    so far; after it: its final value."""
    kpi = engine.kpi(kpi_name)
    m = additive_measure(kpi, measure)
    p = parse_period(period)
    day = as_of or engine.ws.today()
    week = week or WorkWeek.for_calendar(p.calendar)
    last = min(day, p.end)
    dated, span = _span(engine, kpi)
    data_end, no_data = None, False
    if span is not None and span.last < p.start <= day:
        # the data ends before the period began: its days so far are days without rows yet, not
        # days without sales, so there is no pace (it read «0 so far, on pace for 0»)
        data_end = last = span.last
    elif dated and span is None and p.start <= day:  # nothing imported yet: the same
        no_data, last = True, p.start - dt.timedelta(days=1)
    so_far = value_between(engine, kpi, m, p.start, last, p.calendar, filters) if last >= p.start else 0.0
    elapsed = week.count(p.start, last)
    left = week.count(max(p.start, day + dt.timedelta(days=1)), p.end)
    rate = so_far / elapsed if elapsed > 0 else None
    projected = so_far + rate * left if rate is not None else (so_far if left == 0 else None)
    rule = "+".join(["fri"] if FRIDAY in week.off and SATURDAY not in week.off else ["sat", "sun"])
    if week.country:
        rule += f"+{week.country}"
    target = period_target(engine, kpi, m, p, filters)
    last_data_day = span.last if span is not None else None
    return Pace(kpi, m, p, day, so_far, target, elapsed, left, rate, projected, rule, data_end, no_data, last_data_day)


def _span(engine: Engine, kpi: KPI) -> tuple[bool, Any]:
    """(whether the KPI's rows have a day that places them, its cohort's span of days or None)."""
    from sanjeh.kpis.sources import COHORTS

    cohort = COHORTS.get(kpi.cohort)
    if cohort is None or cohort.snapshot:  # an open deal has no last day
        return False, None
    cov = engine.coverage()
    return True, cov.spans.get(cohort.sources(no_orders=cov.no_orders)[1])
