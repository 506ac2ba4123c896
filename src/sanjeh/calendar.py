"""Periods in the Jalali and Gregorian calendars, and the date dimension.

A :class:`Unit` is one calendar unit (a year, quarter, month, week or day of one
calendar). A :class:`Period` is a unit or a range of units (``FROM..TO``). Labels
follow KPIS.md: Gregorian ``2024``, ``2024-Q1``, ``2024-03``, ``2024-W05`` (ISO
week), ``2024-03-15``; Jalali (year < 1700) ``1403``, ``1403-Q1``, ``1403-01``,
``1403-W01`` (weeks start on Saturday; week 1 holds 1 Farvardin), ``1403-01-15``.

:func:`date_dimension` builds a date dimension (one row per day with the label of every
grain in both calendars): the tests and the benchmarks' hand-written SQL check the engine
against it. The engine itself takes a query's days as parameters (kpis/compile.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import jdatetime
import pyarrow as pa

from sanjeh.errors import InvalidPeriod
from sanjeh.text import DIGITS

CalendarName = Literal["jalali", "gregorian"]
Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
_GRAIN_RANK = {g: i for i, g in enumerate(GRAINS)}
CAL_PREFIX = {"jalali": "j", "gregorian": "g"}

#: The date dimension covers Jalali 1300-01-01 .. 1500-12-29 (1921-03-21 .. 2122-03-20).
FIRST_JALALI_YEAR = 1300
LAST_JALALI_YEAR = 1500
#: The Gregorian years the date dimension touches (so every label in it parses).
FIRST_GREGORIAN_YEAR = FIRST_JALALI_YEAR + 621
LAST_GREGORIAN_YEAR = LAST_JALALI_YEAR + 622

JALALI_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
JALALI_MONTHS_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip


def calendar_of_year(year: int) -> CalendarName:
    return "jalali" if year < 1700 else "gregorian"


# -- Jalali arithmetic ------------------------------------------------------------
@lru_cache(maxsize=4096)
def jalali_is_leap(year: int) -> bool:
    return bool(jdatetime.date(year, 1, 1).isleap())


def jalali_month_days(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jalali_is_leap(year) else 29


@lru_cache(maxsize=65536)
def jalali_to_gregorian(year: int, month: int, day: int) -> dt.date:
    return jdatetime.date(year, month, day).togregorian()  # type: ignore[no-any-return]


@lru_cache(maxsize=65536)
def gregorian_to_jalali(d: dt.date) -> tuple[int, int, int]:
    j = jdatetime.date.fromgregorian(date=d)
    return j.year, j.month, j.day


@lru_cache(maxsize=4096)
def _jalali_week1_start(year: int) -> dt.date:
    """The Saturday on or before 1 Farvardin of ``year``."""
    nowruz = jalali_to_gregorian(year, 1, 1)
    # Python: Monday=0 .. Saturday=5, Sunday=6
    return nowruz - dt.timedelta(days=(nowruz.weekday() - 5) % 7)


def _jalali_weeks_in_year(year: int) -> int:
    return (_jalali_week1_start(year + 1) - _jalali_week1_start(year)).days // 7


def _iso_weeks_in_year(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar()[1]


# -- units --------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Unit:
    """One calendar unit. ``number`` is the quarter, month or week number (day: month)."""

    calendar: CalendarName
    kind: Grain
    year: int
    number: int = 0
    day: int = 0

    # canonical label
    @property
    def label(self) -> str:
        y = f"{self.year:04d}"
        if self.kind == "year":
            return y
        if self.kind == "quarter":
            return f"{y}-Q{self.number}"
        if self.kind == "month":
            return f"{y}-{self.number:02d}"
        if self.kind == "week":
            return f"{y}-W{self.number:02d}"
        return f"{y}-{self.number:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> dt.date:
        j = self.calendar == "jalali"
        if self.kind == "year":
            return jalali_to_gregorian(self.year, 1, 1) if j else dt.date(self.year, 1, 1)
        if self.kind == "quarter":
            m = 3 * (self.number - 1) + 1
            return jalali_to_gregorian(self.year, m, 1) if j else dt.date(self.year, m, 1)
        if self.kind == "month":
            return jalali_to_gregorian(self.year, self.number, 1) if j else dt.date(self.year, self.number, 1)
        if self.kind == "week":
            if j:
                return _jalali_week1_start(self.year) + dt.timedelta(weeks=self.number - 1)
            return dt.date.fromisocalendar(self.year, self.number, 1)
        return jalali_to_gregorian(self.year, self.number, self.day) if j else dt.date(self.year, self.number, self.day)

    @property
    def end(self) -> dt.date:
        """The last day (inclusive)."""
        if self.kind == "day":
            return self.start
        if self.kind == "week":
            return self.start + dt.timedelta(days=6)
        return self.shift(1).start - dt.timedelta(days=1)

    def _ordinal(self) -> int:
        if self.kind == "year":
            return self.year
        if self.kind == "quarter":
            return self.year * 4 + self.number - 1
        if self.kind == "month":
            return self.year * 12 + self.number - 1
        raise AssertionError(self.kind)

    def shift(self, n: int) -> Unit:
        """The unit ``n`` units later (earlier when negative)."""
        if n == 0:
            return self
        if self.kind in ("day", "week"):
            step = 1 if self.kind == "day" else 7
            return unit_of(self.start + dt.timedelta(days=step * n), self.calendar, self.kind)
        o = self._ordinal() + n
        if self.kind == "year":
            return Unit(self.calendar, "year", o)
        if self.kind == "quarter":
            return Unit(self.calendar, "quarter", o // 4, o % 4 + 1)
        return Unit(self.calendar, "month", o // 12, o % 12 + 1)

    def year_ago(self) -> Unit | None:
        """The same label one year earlier, or None where it does not exist."""
        u = Unit(self.calendar, self.kind, self.year - 1, self.number, self.day)
        return u if _valid(u) else None

    def year_later(self) -> Unit | None:
        u = Unit(self.calendar, self.kind, self.year + 1, self.number, self.day)
        return u if _valid(u) else None

    def contains(self, d: dt.date) -> bool:
        return self.start <= d <= self.end


def _valid(u: Unit) -> bool:
    if u.kind == "year":
        return True
    if u.kind == "quarter":
        return 1 <= u.number <= 4
    if u.kind == "month":
        return 1 <= u.number <= 12
    if u.kind == "week":
        n = _jalali_weeks_in_year(u.year) if u.calendar == "jalali" else _iso_weeks_in_year(u.year)
        return 1 <= u.number <= n
    if not 1 <= u.number <= 12 or u.day < 1:
        return False
    if u.calendar == "jalali":
        return u.day <= jalali_month_days(u.year, u.number)
    try:
        dt.date(u.year, u.number, u.day)
    except ValueError:
        return False
    return True


def unit_of(d: dt.date, calendar: CalendarName, kind: Grain) -> Unit:
    """The unit of ``kind`` in ``calendar`` that holds day ``d``."""
    if calendar == "gregorian":
        if kind == "week":
            iy, iw, _ = d.isocalendar()
            return Unit("gregorian", "week", iy, iw)
        y, m, dd = d.year, d.month, d.day
    else:
        y, m, dd = gregorian_to_jalali(d)
        if kind == "week":
            year = y + 1 if d >= _jalali_week1_start(y + 1) else y
            return Unit("jalali", "week", year, (d - _jalali_week1_start(year)).days // 7 + 1)
    if kind == "year":
        return Unit(calendar, "year", y)
    if kind == "quarter":
        return Unit(calendar, "quarter", y, (m - 1) // 3 + 1)
    if kind == "month":
        return Unit(calendar, "month", y, m)
    return Unit(calendar, "day", y, m, dd)


# -- periods ------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One row's span: a grain unit clipped to the period."""

    label: str
    start: dt.date
    end: dt.date
    clipped: bool
    unit: Unit


@dataclass(frozen=True)
class Period:
    """A unit or an inclusive range of units of one calendar."""

    first: Unit
    last: Unit

    @property
    def calendar(self) -> CalendarName:
        return self.first.calendar

    @property
    def is_range(self) -> bool:
        return self.first != self.last

    @property
    def label(self) -> str:
        return self.first.label if not self.is_range else f"{self.first.label}..{self.last.label}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> dt.date:
        return self.first.start

    @property
    def end(self) -> dt.date:
        return self.last.end

    @property
    def unit_kind(self) -> Grain:
        """The finer kind of the two ends: the unit a range is counted in."""
        a, b = self.first.kind, self.last.kind
        return a if _GRAIN_RANK[a] <= _GRAIN_RANK[b] else b

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def units(self) -> int:
        """How many units of :attr:`unit_kind` the period spans."""
        k = self.unit_kind
        return len(steps(self, k))

    def previous(self) -> Period:
        """The same calendar units just before (KPIS.md, Previous period)."""
        if not self.is_range:
            p = self.first.shift(-1)
            return Period(p, p)
        k = self.unit_kind
        n = self.units()
        first = unit_of(self.start, self.calendar, k).shift(-n)
        return Period(first, first.shift(n - 1))

    def year_ago(self) -> Period | None:
        a, b = self.first.year_ago(), self.last.year_ago()
        if a is None or b is None:
            return None
        return Period(a, b)

    def covers(self, unit: Unit) -> bool:
        return self.start <= unit.start and unit.end <= self.end


def steps(period: Period, grain: Grain) -> list[Step]:
    """The grain units that overlap ``period``, clipped to it, in order."""
    out: list[Step] = []
    u = unit_of(period.start, period.calendar, grain)
    while u.start <= period.end:
        s, e = max(u.start, period.start), min(u.end, period.end)
        out.append(Step(u.label, s, e, (s, e) != (u.start, u.end), u))
        u = u.shift(1)
    return out


#: Persian and Arabic digits as ASCII, and the dashes a period may be typed or pasted with (the
#: minus sign the pages print, hyphens, en and em dashes) as "-".
_DIGITS = DIGITS | str.maketrans("\u2212\u2010\u2011\u2012\u2013\u2014", "------")
_UNIT_RE = re.compile(
    r"^(?P<y>\d{4})(?:-(?:(?P<q>[qQ]\d{1,2})|(?P<w>[wW]\d{1,2})|(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?))?$"
)


def parse_unit(text: str) -> Unit:
    """Parse one period label (not a range)."""
    raw = text
    s = text.strip().translate(_DIGITS)
    m = _UNIT_RE.match(s)
    if not m:
        raise InvalidPeriod(key="period.not_label", params={"period": raw}, details={"period": raw})
    year = int(m["y"])
    cal = calendar_of_year(year)
    if cal == "jalali" and not FIRST_JALALI_YEAR <= year <= LAST_JALALI_YEAR:
        raise InvalidPeriod(
            key="period.jalali_year",
            params={"year": year, "first": FIRST_JALALI_YEAR, "last": LAST_JALALI_YEAR},
            details={"period": raw},
        )
    if cal == "gregorian" and not FIRST_GREGORIAN_YEAR <= year <= LAST_GREGORIAN_YEAR:
        raise InvalidPeriod(
            key="period.gregorian_year",
            params={"year": year, "first": FIRST_GREGORIAN_YEAR, "last": LAST_GREGORIAN_YEAR},
            details={"period": raw},
        )
    what: tuple[str, dict[str, Any]] = ("", {})
    if m["q"]:
        unit = Unit(cal, "quarter", year, int(m["q"][1:]))
        what = ("period.quarter", {"quarter": unit.number})
    elif m["w"]:
        unit = Unit(cal, "week", year, int(m["w"][1:]))
        n = _jalali_weeks_in_year(year) if cal == "jalali" else _iso_weeks_in_year(year)
        what = ("period.week", {"week": unit.number, "year": year, "weeks": n})
    elif m["d"]:
        unit = Unit(cal, "day", year, int(m["m"]), int(m["d"]))
        what = (
            ("period.month", {"month": unit.number})
            if not 1 <= unit.number <= 12
            else ("period.day", {"day": unit.day, "month": f"{year}-{unit.number:02d}"})
        )
    elif m["m"]:
        unit = Unit(cal, "month", year, int(m["m"]))
        what = ("period.month", {"month": unit.number})
    else:
        unit = Unit(cal, "year", year)
    if not _valid(unit):
        raise InvalidPeriod(key=what[0], params={"period": raw, **what[1]}, details={"period": raw})
    return unit


def parse_period(text: str) -> Period:
    """Parse a period label or a range ``FROM..TO`` (both ends included)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidPeriod(key="period.required", details={"period": text})
    if ".." in text:
        a_text, _, b_text = text.partition("..")
        if not a_text.strip() or not b_text.strip() or ".." in b_text:
            raise InvalidPeriod(key="period.not_range", params={"period": text}, details={"period": text})
        a, b = parse_unit(a_text), parse_unit(b_text)
        if a.calendar != b.calendar:
            raise InvalidPeriod(key="period.mixed_calendars", params={"period": text}, details={"period": text})
        if b.end < a.start:
            raise InvalidPeriod(key="period.reversed", params={"period": text}, details={"period": text})
        return Period(a, b)
    u = parse_unit(text)
    return Period(u, u)


def parse_grain(text: str | None) -> Grain | None:
    if text is None or text == "":
        return None
    g = text.strip().lower()
    if g not in GRAINS:
        raise InvalidPeriod(
            key="period.grain",
            params={"given": text, "grains": list(GRAINS)},
            details={"grain": text, "allowed": list(GRAINS)},
        )
    return g  # type: ignore[return-value]


def current_unit(today: dt.date, calendar: CalendarName, kind: Grain) -> Unit:
    return unit_of(today, calendar, kind)


def latest_complete(today: dt.date, calendar: CalendarName, kind: Grain) -> Unit:
    """The last unit of ``kind`` that ended before ``today``."""
    return unit_of(today, calendar, kind).shift(-1)


# -- the date dimension ----------------------------------------------------------------
def dimension_columns() -> list[str]:
    cols = ["day", "j_y", "j_m", "j_d"]
    for cal in ("j", "g"):
        cols += [f"{cal}_{g}" for g in GRAINS]
    return cols


@lru_cache(maxsize=2)
def date_dimension(first_year: int = FIRST_JALALI_YEAR, last_year: int = LAST_JALALI_YEAR) -> pa.Table:
    """One row per day of Jalali years ``first_year..last_year``.

    Columns: ``day`` (date), ``j_y``/``j_m``/``j_d`` (Jalali parts, used by import to
    read Jalali dates), and for each calendar prefix ``c`` in (j, g) and grain ``g``
    a column ``c_g``: the label of the unit of that grain holding the day. The
    engine joins facts to this table on ``day`` to bucket them into steps.
    """
    start = jalali_to_gregorian(first_year, 1, 1)
    end = jalali_to_gregorian(last_year + 1, 1, 1) - dt.timedelta(days=1)
    one = dt.timedelta(days=1)
    days: list[dt.date] = []
    jy: list[int] = []
    jm: list[int] = []
    jd: list[int] = []
    d, y, m, dd = start, first_year, 1, 1
    while d <= end:
        days.append(d)
        jy.append(y)
        jm.append(m)
        jd.append(dd)
        d += one
        dd += 1
        if dd > jalali_month_days(y, m):
            dd, m = 1, m + 1
            if m > 12:
                m, y = 1, y + 1
    cols: dict[str, Sequence[object]] = {"day": days, "j_y": jy, "j_m": jm, "j_d": jd}
    cols["j_day"] = [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(jy, jm, jd, strict=True)]
    cols["j_month"] = [f"{a:04d}-{b:02d}" for a, b in zip(jy, jm, strict=True)]
    cols["j_quarter"] = [f"{a:04d}-Q{(b - 1) // 3 + 1}" for a, b in zip(jy, jm, strict=True)]
    cols["j_year"] = [f"{a:04d}" for a in jy]
    week: list[str] = []
    for i, day in enumerate(days):
        week.append(unit_of(day, "jalali", "week").label if i == 0 or day.weekday() == 5 else week[-1])
    cols["j_week"] = week
    cols["g_day"] = [x.isoformat() for x in days]
    cols["g_month"] = [x.isoformat()[:7] for x in days]
    cols["g_quarter"] = [f"{x.year:04d}-Q{(x.month - 1) // 3 + 1}" for x in days]
    cols["g_year"] = [f"{x.year:04d}" for x in days]
    cols["g_week"] = [f"{c[0]:04d}-W{c[1]:02d}" for c in (x.isocalendar() for x in days)]
    schema = pa.schema(
        [("day", pa.date32()), ("j_y", pa.int32()), ("j_m", pa.int32()), ("j_d", pa.int32())]
        + [(c, pa.string()) for c in dimension_columns()[4:]]
    )
    return pa.table({c: cols[c] for c in schema.names}, schema=schema)
