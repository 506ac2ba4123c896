"""When a schedule runs: a five-field cron line, or a rule people say (docs/reports.md, "When").

A rule is one line, in English words, read in the schedule's time zone::

    daily 08:00
    weekly sat 08:00                 # sat sun mon tue wed thu fri; several: weekly sat,tue 08:00
    monthly first-working-day 08:00  # of each month of the workspace's calendar (Jalali by default)
    monthly last-working-day 17:00
    monthly 15 08:00                 # day 15; a month without that day: its last day

Working days are those of :class:`sanjeh.kpis.pace.WorkWeek`: in a Jalali workspace Fridays and
Iran's official holidays are off (Farvardin 1-4, 12 and 13, the lunar holidays…), in a Gregorian
one Saturdays and Sundays. Both kinds answer the same two questions: the latest planned time up
to now (:meth:`Plan.latest`, what the runner runs) and the next one (:meth:`Plan.upcoming`, what
the page shows); :func:`words` says either in Persian or English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from sanjeh.calendar import CalendarName, Unit, unit_of
from sanjeh.errors import UserError
from sanjeh.i18n import digits, isolate, join, t
from sanjeh.text import DIGITS

#: Days of the week as a rule names them, in the Iranian week's order, with ``date.weekday()``.
WEEKDAYS = {"sat": 5, "sun": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}
#: What ``monthly`` takes besides a day number.
MONTH_DAYS = ("first-working-day", "last-working-day")
KINDS = ("daily", "weekly", "monthly")
#: How far a planned time is looked for (a cron line of 29 February runs once in four years).
HORIZON = 4 * 366 + 1
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class Plan:
    """The planned times of a schedule: each of ``times`` on each day that ``day_matches``."""

    text: str

    def day_matches(self, d: dt.date) -> bool:
        raise NotImplementedError

    @property
    def times(self) -> tuple[dt.time, ...]:
        """The times of a planned day, latest first."""
        raise NotImplementedError

    def latest(self, now: dt.datetime, zone: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
        """The latest planned time ≤ ``now`` and > ``after`` (aware datetimes), or None."""
        local = now.astimezone(zone)
        for back in range(HORIZON):
            day = local.date() - dt.timedelta(days=back)
            if dt.datetime.combine(day, dt.time(23, 59), zone) <= after:
                return None
            if not self.day_matches(day):
                continue
            for at in self.times:
                planned = dt.datetime.combine(day, at, zone)
                if planned <= local:
                    return planned if planned > after else None
        return None

    def upcoming(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
        """The first planned time after ``now``, or None within four years."""
        local = now.astimezone(zone)
        for ahead in range(HORIZON):
            day = local.date() + dt.timedelta(days=ahead)
            if not self.day_matches(day):
                continue
            for at in reversed(self.times):
                planned = dt.datetime.combine(day, at, zone)
                if planned > local:
                    return planned
        return None


@dataclass(frozen=True)
class Cron(Plan):
    """Five fields: minute, hour, day of month, month, day of week (0 or 7 Sunday … 6 Saturday);
    each ``*``, a number, ``a-b``, ``*/n``, ``a-b/n`` or a comma list of those. Days and months are
    Gregorian (cron's own)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @staticmethod
    def parse(text: str) -> Cron:
        parts = str(text).split()
        if len(parts) != 5:
            raise UserError(key="schedule.cron", params={"cron": text})
        sets = [_field(p, lo, hi, text) for p, (lo, hi) in zip(parts, _RANGES, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return Cron(
            " ".join(parts),
            tuple(sorted(sets[0], reverse=True)),
            tuple(sorted(sets[1], reverse=True)),
            frozenset(sets[2]),
            frozenset(sets[3]),
            weekdays,
            parts[2] == "*",
            parts[4] == "*",
        )

    def day_matches(self, d: dt.date) -> bool:
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.days, (d.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:  # cron: when both are restricted, either may match
            return dom and dow
        return dom or dow

    @property
    def times(self) -> tuple[dt.time, ...]:
        return tuple(dt.time(h, m) for h in self.hours for m in self.minutes)


def _field(part: str, lo: int, hi: int, text: str) -> set[int]:
    out: set[int] = set()
    try:
        for item in part.split(","):
            rng, _, step = item.partition("/")
            n = int(step) if step else 1
            if rng == "*":
                a, b = lo, hi
            elif "-" in rng:
                a, b = (int(x) for x in rng.split("-", 1))
            else:
                a = b = int(rng)
            if n < 1 or a < lo or b > hi or a > b:
                raise ValueError(item)
            out.update(range(a, b + 1, n))
    except ValueError:
        raise UserError(key="schedule.cron", params={"cron": text}) from None
    return out


@dataclass(frozen=True)
class Rule(Plan):
    """``daily``, ``weekly DAYS`` or ``monthly DAY`` at one time of day (the module's doc)."""

    text: str
    kind: str  # daily | weekly | monthly
    at: dt.time
    weekdays: frozenset[int] = frozenset()  # weekly: date.weekday() numbers
    day: str = ""  # monthly: first-working-day | last-working-day | a day number
    calendar: CalendarName = "jalali"

    def day_matches(self, d: dt.date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "weekly":
            return d.weekday() in self.weekdays
        month = unit_of(d, self.calendar, "month")
        if self.day in MONTH_DAYS:
            worked = working_days(month)
            return bool(worked) and d == (worked[0] if self.day == "first-working-day" else worked[-1])
        return d == min(month.start + dt.timedelta(days=int(self.day) - 1), month.end)

    @property
    def times(self) -> tuple[dt.time, ...]:
        return (self.at,)


@lru_cache(maxsize=64)
def working_days(month: Unit) -> tuple[dt.date, ...]:
    """The working days of a month (kpis/pace.py's week: Jalali, Fridays and Iran's holidays off)."""
    from sanjeh.kpis.pace import WorkWeek

    return tuple(WorkWeek.for_calendar(month.calendar).days(month.start, month.end))


def parse(text: str, calendar: CalendarName = "jalali") -> Cron | Rule:
    """A cron line or a rule (Persian digits read as digits); a user error says what is accepted."""
    said = " ".join(str(text).split())
    line = said.translate(DIGITS)
    words = line.lower().split()
    if not words or words[0] not in KINDS:
        if len(words) == 5:
            return Cron.parse(line)
        raise UserError(key="schedule.when", params={"when": said})
    kind, *rest = words
    if kind == "weekly" and len(rest) == 1:
        raise UserError(key="schedule.weekdays", params={"when": said})
    try:
        at = _time(rest[-1])
        if kind == "daily" and len(rest) == 1:
            return Rule(f"daily {at:%H:%M}", kind, at, calendar=calendar)
        if kind == "weekly" and len(rest) == 2:
            names = [w[:3] for w in rest[0].split(",")]
            days = frozenset(WEEKDAYS[w] for w in names)  # KeyError: not a day
            order = ",".join(w for w in WEEKDAYS if WEEKDAYS[w] in days)
            return Rule(f"weekly {order} {at:%H:%M}", kind, at, days, calendar=calendar)
        if kind == "monthly" and len(rest) == 2:
            day = rest[0]
            if day not in MONTH_DAYS and not (day.isdigit() and 1 <= int(day) <= 31):
                raise ValueError(day)
            day = day if day in MONTH_DAYS else str(int(day))
            return Rule(f"monthly {day} {at:%H:%M}", kind, at, day=day, calendar=calendar)
    except (ValueError, KeyError, IndexError):
        pass
    raise UserError(key="schedule.when", params={"when": said})


def time_of_day(text: str) -> dt.time:
    """A typed time of day («۰۸:۳۰» or ``8:30``); a user error that says it is not one (a form's
    time read as a whole rule said «weekly sat 25:70 زمان‌بندی نیست», to a person who typed a time)."""
    try:
        return _time(str(text).strip().translate(DIGITS))
    except ValueError:
        raise UserError(key="schedule.at", params={"at": text}, details={"why": "at"}) from None


def _time(text: str) -> dt.time:
    h, sep, m = text.partition(":")
    if not sep or not h.isdigit() or not m.isdigit() or len(m) != 2:
        raise ValueError(text)
    return dt.time(int(h), int(m))


# -- in words -------------------------------------------------------------------------------------
def words(plan: Cron | Rule, lang: str) -> str:
    """The plan as people say it: «هر شنبه ساعت ۰۸:۰۰», "on the first working day of each Jalali
    month at 08:00"; a cron line that says nothing simpler is shown as it is."""
    if isinstance(plan, Rule):
        at = digits(f"{plan.at:%H:%M}", lang)
        if plan.kind == "daily":
            return t("schedules.rule.daily", lang, time=at)
        if plan.kind == "weekly":
            return t("schedules.rule.weekly", lang, days=_days(plan.weekdays, lang), time=at)
        month = t(f"schedules.month.{plan.calendar}", lang)
        if plan.day in MONTH_DAYS:
            return t(f"schedules.rule.{plan.day.replace('-', '_')}", lang, month=month, time=at)
        return t("schedules.rule.month_day", lang, day=digits(plan.day, lang), month=month, time=at)
    if len(plan.minutes) == 1 and len(plan.hours) == 1 and len(plan.months) == 12:
        at = digits(f"{plan.hours[0]:02d}:{plan.minutes[0]:02d}", lang)
        if plan.any_day and plan.any_weekday:
            return t("schedules.rule.daily", lang, time=at)
        if plan.any_day:
            python_days = frozenset((d - 1) % 7 for d in plan.weekdays)  # cron 0 = Sunday
            return t("schedules.rule.weekly", lang, days=_days(python_days, lang), time=at)
        if plan.any_weekday and len(plan.days) == 1:
            month = t("schedules.month.gregorian", lang)
            day = digits(str(next(iter(plan.days))), lang)
            return t("schedules.rule.month_day", lang, day=day, month=month, time=at)
    return t("schedules.rule.cron", lang, cron=isolate(plan.text, lang))


def _days(weekdays: frozenset[int], lang: str) -> str:
    """«شنبه، دوشنبه و چهارشنبه» / "Saturday, Monday and Wednesday", in the Iranian week's order."""
    names = [t(f"weekday.{w}", lang) for w in WEEKDAYS if WEEKDAYS[w] in weekdays]
    return names[0] if len(names) == 1 else join(names[:-1], lang) + t("schedules.and", lang) + names[-1]
