"""What data a workspace holds: each table's rows and the days its events span.

A KPI over an empty table has no data (which is not a zero), and a period before the
first order or after the last says nothing either. :func:`read_coverage` asks the
warehouse once per data version (two queries of aggregates over whole tables); the engine then
tells every result which of these it is (:meth:`Coverage.status`), and the surfaces say
so in words instead of drawing zeros. The last day with data also decides where "this
month" is when a workspace's data ends before today (:meth:`Coverage.as_of`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import ibis

from sanjeh.calendar import CalendarName, Grain, Period, latest_complete, unit_of
from sanjeh.schema import TABLES

if TYPE_CHECKING:
    from sanjeh.kpis.sources import Cohort
    from sanjeh.warehouse import Warehouse

Status = Literal["ok", "partial", "outside", "no_data"]

#: The events whose days place rows in periods: name -> (table, timestamp or date column, condition).
EVENTS: dict[str, tuple[str, str, tuple[str, tuple[str, ...]] | None]] = {
    "ordered": ("orders", "ordered_at", None),
    "created": ("opportunities", "created_at", None),
    "closed": ("opportunities", "closed_at", ("status", ("won", "lost"))),
    "won_closed": ("opportunities", "closed_at", ("status", ("won",))),
    "mql": ("leads", "mql_at", None),
    "activity": ("activities", "occurred_at", None),
    "time": ("time_entries", "day", None),
}


@dataclass(frozen=True)
class Span:
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class DataStatus:
    """How a result's period stands against the data it is computed from."""

    status: Status
    missing: tuple[str, ...] = ()  # empty tables the KPI needs (status no_data)
    span: Span | None = None  # the days the KPI's events span

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "missing": list(self.missing),
            "first_day": self.span.first.isoformat() if self.span else None,
            "last_day": self.span.last.isoformat() if self.span else None,
        }


@dataclass(frozen=True)
class Coverage:
    rows: dict[str, int]
    spans: dict[str, Span] = field(default_factory=dict)  # event -> its days (none: no such event)

    @property
    def no_orders(self) -> bool:
        return self.rows.get("orders", 0) == 0

    @property
    def empty(self) -> bool:
        """No data imported yet (targets and the price index are not data about sales)."""
        return not any(n for name, n in self.rows.items() if name not in ("targets", "cpi"))

    @property
    def last_day(self) -> dt.date | None:
        """The last day of any event (the day the workspace's data ends)."""
        return max((s.last for s in self.spans.values()), default=None)

    def status(self, cohort: Cohort, period: Period) -> DataStatus:
        tables, event = cohort.sources(no_orders=self.no_orders)
        missing = tuple(t for t in tables if self.rows.get(t, 0) == 0)
        span = self.spans.get(event)
        if missing or span is None:
            if self.no_orders and "orders" in cohort.tables:  # name what to import, not the stand-in
                missing = tuple(t for t in cohort.tables if self.rows.get(t, 0) == 0)
            return DataStatus("no_data", missing or tables)
        last = dt.date.max if cohort.snapshot else span.last  # an open deal stays open after it
        if period.end < span.first or period.start > last:
            return DataStatus("outside", (), span)
        if period.start < span.first or period.end > last:
            return DataStatus("partial", (), span)
        return DataStatus("ok", (), span)

    def as_of(self, today: dt.date, calendar: CalendarName) -> dt.date:
        """Today; or the last day with data when the data ends before last month began (a demo,
        an old export), so that periods counted from it ("this month", "last quarter") land on
        data. Data that reaches last month (a monthly import) keeps today."""
        last = self.last_day
        if last is not None and last < latest_complete(today, calendar, "month").start:
            return last
        return today

    def default_period(self, today: dt.date, calendar: CalendarName, kind: Grain) -> str:
        """The latest complete unit of ``kind`` by ``today``, or the one of the last day with data
        when the data ends before that unit starts."""
        latest = latest_complete(today, calendar, kind)
        last = self.last_day
        if last is None or last >= latest.start:
            return latest.label
        return unit_of(last, calendar, kind).label


def _day(col: ibis.Value) -> ibis.Value:
    return col.cast("date")


def read_coverage(wh: Warehouse) -> Coverage:
    """Row counts of the canonical tables and the day span of every event, from the warehouse."""
    parts = [wh.table(t.name).aggregate(t=ibis.literal(t.name), n=ibis._.count()) for t in TABLES]
    counts = wh.rows(ibis.union(*parts, distinct=False))
    rows = {str(r["t"]): int(r["n"]) for r in counts}
    events = []  # the spans of the events of tables with rows, in one query (one round trip, one Spark job)
    for event, (table, column, cond) in EVENTS.items():
        if not rows.get(table):
            continue
        t = wh.table(table)
        if cond is not None:
            t = t.filter(t[cond[0]].isin(cond[1]))
        col = t[column]
        events.append(t.aggregate(e=ibis.literal(event), first=_day(col.min()), last=_day(col.max())))
    spans: dict[str, Span] = {}
    got = wh.rows(ibis.union(*events, distinct=False)) if events else []
    for r in got:
        if r["first"] is not None and r["last"] is not None:
            spans[str(r["e"])] = Span(_as_date(r["first"]), _as_date(r["last"]))
    return Coverage(rows, spans)


def _as_date(v: Any) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v  # type: ignore[no-any-return]
