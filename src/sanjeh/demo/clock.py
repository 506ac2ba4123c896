"""A working-time clock over the demo's span, for vectorised timestamps.

Every day has a weight (a full working day is 1, Thursday 0.5, Friday and the
fixed official holidays almost 0) and working hours. The *work clock* ``W`` is
the cumulative weight: one unit is one working day. Sampling ``W`` uniformly and
mapping it back gives timestamps on working days and hours; chains of events
(lead -> MQL -> SQL -> deal -> order) are computed as ``W`` minus durations, so
their order is kept by construction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sanjeh.calendar import jalali_month_days, jalali_to_gregorian
from sanjeh.demo.catalog import JALALI_HOLIDAYS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Clock:
    first: dt.date  # the first day of the span
    jy: I64  # Jalali year, month, day of each day
    jm: I64
    jd: I64
    weekday: I64  # Python weekday: Monday 0 .. Thursday 3, Friday 4, Saturday 5
    holiday: npt.NDArray[np.bool_]
    weight: F64
    opens: I64  # seconds after midnight
    hours: I64  # length of the working day in seconds
    cum: F64  # len = days + 1; cum[d] = W at the start of day d

    @property
    def days(self) -> int:
        return len(self.jy)

    @property
    def t0(self) -> int:
        return (self.first - _EPOCH).days * _DAY

    def day_index(self, y: int, m: int, d: int = 1) -> int:
        return (jalali_to_gregorian(y, m, d) - self.first).days

    def month_span(self, y: int, m: int) -> tuple[float, float]:
        """W at the start of Jalali month ``y-m`` and at the start of the next one."""
        a = self.day_index(y, m)
        b = a + jalali_month_days(y, m)
        return float(self.cum[a]), float(self.cum[b])

    def to_time(self, w: F64) -> I64:
        """Work-clock positions -> timestamps (seconds since 1970, local wall time)."""
        d = np.clip(np.searchsorted(self.cum, w, side="right") - 1, 0, self.days - 1)
        frac = np.clip((w - self.cum[d]) / self.weight[d], 0.0, 1.0)
        sec = self.opens[d] + np.floor(frac * self.hours[d]).astype(np.int64)
        return (self.t0 + d * _DAY + sec).astype(np.int64)

    def day_of(self, t: I64) -> I64:
        """Index of the day holding each timestamp (clipped to the span)."""
        return np.clip((t - self.t0) // _DAY, 0, self.days - 1).astype(np.int64)


def build_clock(first_jalali: tuple[int, int, int], last_year: int) -> Clock:
    """The clock from a Jalali date to the end of Jalali year ``last_year``."""
    first = jalali_to_gregorian(*first_jalali)
    y, m, d = first_jalali
    jy: list[int] = []
    jm: list[int] = []
    jd: list[int] = []
    while y <= last_year:
        jy.append(y)
        jm.append(m)
        jd.append(d)
        d += 1
        if d > jalali_month_days(y, m):
            d, m = 1, m + 1
            if m > 12:
                m, y = 1, y + 1
    n = len(jy)
    ordinals = first.toordinal() + np.arange(n)
    weekday = (ordinals - 1) % 7  # date.fromordinal(1) is a Monday
    a_jm, a_jd = np.array(jm, dtype=np.int64), np.array(jd, dtype=np.int64)
    holiday = np.array([(mm, dd) in JALALI_HOLIDAYS for mm, dd in zip(jm, jd, strict=True)], dtype=np.bool_)
    friday = weekday == 4
    thursday = weekday == 3
    off = friday | holiday
    weight = np.where(off, 0.03, np.where(thursday, 0.5, 1.0))
    opens = np.where(off, 10 * 3600, 8 * 3600).astype(np.int64)
    hours = np.where(off, 3 * 3600, np.where(thursday, 5 * 3600, 9 * 3600)).astype(np.int64)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    return Clock(
        first=first,
        jy=np.array(jy, dtype=np.int64),
        jm=a_jm,
        jd=a_jd,
        weekday=weekday.astype(np.int64),
        holiday=holiday,
        weight=weight,
        opens=opens,
        hours=hours,
        cum=cum,
    )
