"""The calendar: the date dimension against two Jalali libraries, weeks, period labels,
ranges, previous / year-ago periods, leap years, grain steps and bad labels (KPIS.md,
"Periods and calendars").
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import jdatetime
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from persiantools.jdatetime import JalaliDate

from sanjeh.calendar import (
    FIRST_JALALI_YEAR,
    GRAINS,
    LAST_JALALI_YEAR,
    CalendarName,
    Grain,
    Period,
    Unit,
    date_dimension,
    dimension_columns,
    jalali_is_leap,
    jalali_month_days,
    jalali_to_gregorian,
    latest_complete,
    parse_grain,
    parse_period,
    parse_unit,
    steps,
    unit_of,
)
from sanjeh.errors import InvalidPeriod, UserError

ONE_DAY = dt.timedelta(days=1)
YEARS = range(FIRST_JALALI_YEAR, LAST_JALALI_YEAR + 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def jalali_parts_persiantools(day: dt.date) -> tuple[int, int, int]:
    j = JalaliDate(day)
    return j.year, j.month, j.day


def nowruz(year: int) -> dt.date:
    """1 Farvardin of ``year`` in the Gregorian calendar, by persiantools (not by sanjeh)."""
    return JalaliDate(year, 1, 1).to_gregorian()


def saturday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - 5) % 7)  # Monday=0 .. Saturday=5


# ---------------------------------------------------------------------------------------
# the date dimension
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dim() -> pa.Table:
    return date_dimension()


@pytest.fixture(scope="module")
def days(dim: pa.Table) -> list[dt.date]:
    return dim.column("day").to_pylist()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ordinals(days: list[dt.date]) -> np.ndarray:
    return np.fromiter((x.toordinal() for x in days), dtype=np.int64, count=len(days))


def col(dim: pa.Table, name: str) -> list[object]:
    return dim.column(name).to_pylist()


def test_dimension_columns_and_types(dim: pa.Table) -> None:
    assert dim.column_names == dimension_columns()
    assert dim.column_names[:4] == ["day", "j_y", "j_m", "j_d"]
    assert {f"{c}_{g}" for c in ("j", "g") for g in GRAINS} == set(dim.column_names[4:])
    assert dim.schema.field("day").type == pa.date32()
    for name in ("j_y", "j_m", "j_d"):
        assert dim.schema.field(name).type == pa.int32()
    for name in dim.column_names[4:]:
        assert dim.schema.field(name).type == pa.string()
    for name in dim.column_names:
        assert dim.column(name).null_count == 0, name


def test_dimension_covers_jalali_1300_to_1500_without_gaps(dim: pa.Table, ordinals: np.ndarray) -> None:
    first, last = dim.slice(0, 1).to_pylist()[0], dim.slice(dim.num_rows - 1, 1).to_pylist()[0]
    assert (first["j_y"], first["j_m"], first["j_d"]) == (1300, 1, 1)
    assert first["day"] == d("1921-03-21")
    assert (last["j_y"], last["j_m"], last["j_d"]) == (1500, 12, 29 if not JalaliDate.is_leap(1500) else 30)
    assert last["day"] == nowruz(1501) - ONE_DAY
    # contiguous: each day is the one after the previous (no gap, no duplicate, sorted)
    assert np.all(np.diff(ordinals) == 1)
    assert dim.num_rows == nowruz(1501).toordinal() - nowruz(1300).toordinal()
    assert len(set(col(dim, "j_day"))) == dim.num_rows
    assert len(set(col(dim, "g_day"))) == dim.num_rows


def test_every_day_agrees_with_jdatetime(dim: pa.Table, days: list[dt.date]) -> None:
    ours = list(zip(col(dim, "j_y"), col(dim, "j_m"), col(dim, "j_d"), strict=True))
    theirs = []
    for x in days:
        j = jdatetime.date.fromgregorian(date=x)
        theirs.append((j.year, j.month, j.day))
    mismatches = [(x, a, b) for x, a, b in zip(days, ours, theirs, strict=True) if a != b]
    assert mismatches == []


def test_every_day_agrees_with_persiantools(dim: pa.Table, days: list[dt.date]) -> None:
    ours = list(zip(col(dim, "j_y"), col(dim, "j_m"), col(dim, "j_d"), strict=True))
    theirs = [jalali_parts_persiantools(x) for x in days]
    mismatches = [(x, a, b) for x, a, b in zip(days, ours, theirs, strict=True) if a != b]
    assert mismatches == []
    # and the other way round: every Jalali date of the table maps back to its day
    back = [JalaliDate(y, m, dd).to_gregorian() for y, m, dd in ours[::3]]
    assert back == days[::3]


def test_jalali_label_columns_are_built_from_the_parts(dim: pa.Table) -> None:
    y, m, dd = col(dim, "j_y"), col(dim, "j_m"), col(dim, "j_d")
    assert col(dim, "j_day") == [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y, m, dd, strict=True)]
    assert col(dim, "j_month") == [f"{a:04d}-{b:02d}" for a, b in zip(y, m, strict=True)]
    assert col(dim, "j_quarter") == [f"{a:04d}-Q{(b + 2) // 3}" for a, b in zip(y, m, strict=True)]
    assert col(dim, "j_year") == [str(a) for a in y]


def test_gregorian_label_columns(dim: pa.Table, days: list[dt.date]) -> None:
    assert col(dim, "g_day") == [f"{x.year:04d}-{x.month:02d}-{x.day:02d}" for x in days]
    assert col(dim, "g_month") == [f"{x.year:04d}-{x.month:02d}" for x in days]
    assert col(dim, "g_quarter") == [f"{x.year}-Q{(x.month + 2) // 3}" for x in days]
    assert col(dim, "g_year") == [str(x.year) for x in days]
    # ISO weeks: Monday start, the ISO week-year
    iso = [x.isocalendar() for x in days]
    assert col(dim, "g_week") == [f"{c.year:04d}-W{c.week:02d}" for c in iso]


def test_jalali_year_lengths_and_leap_years_agree_with_both_libraries(dim: pa.Table) -> None:
    counts = {r["values"]: r["counts"] for r in pc.value_counts(dim.column("j_y")).to_pylist()}
    for year in YEARS:
        leap = JalaliDate.is_leap(year)
        assert jalali_is_leap(year) is leap, year
        assert bool(jdatetime.date(year, 1, 1).isleap()) is leap, year
        assert counts[year] == (366 if leap else 365), year
        assert jalali_month_days(year, 12) == (30 if leap else 29)
        assert [jalali_month_days(year, m) for m in range(1, 12)] == [31] * 6 + [30] * 5


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1300, 1, 1), "1921-03-21"),
        ((1357, 11, 22), "1979-02-11"),
        ((1399, 12, 30), "2021-03-20"),
        ((1400, 1, 1), "2021-03-21"),
        ((1402, 12, 29), "2024-03-19"),
        ((1403, 1, 1), "2024-03-20"),
        ((1403, 12, 30), "2025-03-20"),
        ((1404, 1, 1), "2025-03-21"),
    ],
)
def test_known_dates(dim: pa.Table, jalali: tuple[int, int, int], gregorian: str) -> None:
    assert jalali_to_gregorian(*jalali) == d(gregorian)
    row = dim.filter(pc.equal(dim.column("day"), pa.scalar(d(gregorian), pa.date32()))).to_pylist()
    assert [(r["j_y"], r["j_m"], r["j_d"]) for r in row] == [jalali]


# -- Jalali weeks -------------------------------------------------------------------------
def test_jalali_weeks_match_an_independent_computation(dim: pa.Table, ordinals: np.ndarray) -> None:
    """Week 1 starts on the Saturday on or before 1 Farvardin (nowruz from persiantools)."""
    week_years = np.arange(FIRST_JALALI_YEAR, LAST_JALALI_YEAR + 2)
    starts = np.array([saturday_on_or_before(nowruz(int(y))).toordinal() for y in week_years])
    idx = np.searchsorted(starts, ordinals, side="right") - 1
    number = (ordinals - starts[idx]) // 7 + 1
    expected = [f"{y}-W{n:02d}" for y, n in zip(week_years[idx].tolist(), number.tolist(), strict=True)]
    assert col(dim, "j_week") == expected


def test_jalali_week_starts_saturday_and_week_1_holds_1_farvardin(dim: pa.Table, days: list[dt.date]) -> None:
    weeks = col(dim, "j_week")
    for i in range(1, len(days)):
        if days[i].weekday() == 5:  # Saturday: a new week
            assert weeks[i] != weeks[i - 1], days[i]
        else:
            assert weeks[i] == weeks[i - 1], days[i]
    jm, jd, jy = col(dim, "j_m"), col(dim, "j_d"), col(dim, "j_y")
    firsts = [(y, weeks[i]) for i, (y, m, dd) in enumerate(zip(jy, jm, jd, strict=True)) if (m, dd) == (1, 1)]
    assert len(firsts) == len(YEARS)
    assert all(w == f"{y}-W01" for y, w in firsts)


def test_each_week_has_seven_days_except_at_the_ends(dim: pa.Table) -> None:
    for name in ("j_week", "g_week"):
        labels = col(dim, name)
        counts = {r["values"]: r["counts"] for r in pc.value_counts(dim.column(name)).to_pylist()}
        ends = {labels[0], labels[-1]}
        assert {lab: n for lab, n in counts.items() if n != 7 and lab not in ends} == {}, name
        assert all(1 <= counts[lab] <= 7 for lab in ends)


def test_jalali_week_labels_match_unit_of(dim: pa.Table, days: list[dt.date]) -> None:
    assert col(dim, "j_week") == [unit_of(x, "jalali", "week").label for x in days]


@pytest.mark.parametrize("name", [c for c in dimension_columns()[4:] if c != "j_week"])
def test_every_label_column_matches_unit_of(dim: pa.Table, days: list[dt.date], name: str) -> None:
    """A sample (every 11th day, which walks through all weekdays and month days)."""
    cal: CalendarName = "jalali" if name.startswith("j_") else "gregorian"
    grain: Grain = name[2:]  # type: ignore[assignment]
    labels = col(dim, name)[::11]
    assert labels == [unit_of(x, cal, grain).label for x in days[::11]]


def _spans(dim: pa.Table, name: str) -> Iterator[tuple[str, dt.date, dt.date, int]]:
    agg = dim.group_by(name).aggregate([("day", "min"), ("day", "max"), ("day", "count")])
    yield from zip(
        agg.column(name).to_pylist(),
        agg.column("day_min").to_pylist(),
        agg.column("day_max").to_pylist(),
        agg.column("day_count").to_pylist(),
        strict=True,
    )


@pytest.mark.parametrize("name", [c for c in dimension_columns()[4:] if not c.endswith("_day")])
def test_each_label_of_the_dimension_parses_to_its_days(dim: pa.Table, days: list[dt.date], name: str) -> None:
    """The days carrying a label are exactly the span ``parse_period(label)`` names."""
    first, last = days[0], days[-1]
    checked = 0
    for label, lo, hi, n in _spans(dim, name):
        p = parse_period(label)
        assert p.label == label
        if lo == first or hi == last:  # clipped by the ends of the table
            assert p.start <= lo, label
            assert hi <= p.end, label
            continue
        assert (p.start, p.end, p.days) == (lo, hi, n), label
        checked += 1
    assert checked > 100 or name.endswith("_year")


@pytest.mark.parametrize("name", ["j_day", "g_day"])
def test_each_day_label_parses_to_its_day(dim: pa.Table, days: list[dt.date], name: str) -> None:
    labels = col(dim, name)
    assert [parse_period(lab).start for lab in labels[::2]] == days[::2]


# ---------------------------------------------------------------------------------------
# period labels
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "label", "calendar", "kind", "start", "end"),
    [
        # Gregorian
        ("2024", "2024", "gregorian", "year", "2024-01-01", "2024-12-31"),
        ("2024-Q1", "2024-Q1", "gregorian", "quarter", "2024-01-01", "2024-03-31"),
        ("2024-Q4", "2024-Q4", "gregorian", "quarter", "2024-10-01", "2024-12-31"),
        ("2024-03", "2024-03", "gregorian", "month", "2024-03-01", "2024-03-31"),
        ("2024-02", "2024-02", "gregorian", "month", "2024-02-01", "2024-02-29"),
        ("2023-02", "2023-02", "gregorian", "month", "2023-02-01", "2023-02-28"),
        ("2024-W05", "2024-W05", "gregorian", "week", "2024-01-29", "2024-02-04"),
        ("2024-W01", "2024-W01", "gregorian", "week", "2024-01-01", "2024-01-07"),
        ("2021-W01", "2021-W01", "gregorian", "week", "2021-01-04", "2021-01-10"),
        ("2020-W53", "2020-W53", "gregorian", "week", "2020-12-28", "2021-01-03"),
        ("2024-03-15", "2024-03-15", "gregorian", "day", "2024-03-15", "2024-03-15"),
        ("2024-02-29", "2024-02-29", "gregorian", "day", "2024-02-29", "2024-02-29"),
        # Jalali
        ("1403", "1403", "jalali", "year", "2024-03-20", "2025-03-20"),
        ("1402", "1402", "jalali", "year", "2023-03-21", "2024-03-19"),
        ("1403-Q1", "1403-Q1", "jalali", "quarter", "2024-03-20", "2024-06-20"),  # Farvardin–Khordad
        ("1403-Q2", "1403-Q2", "jalali", "quarter", "2024-06-21", "2024-09-21"),
        ("1403-Q3", "1403-Q3", "jalali", "quarter", "2024-09-22", "2024-12-20"),
        ("1403-Q4", "1403-Q4", "jalali", "quarter", "2024-12-21", "2025-03-20"),
        ("1403-01", "1403-01", "jalali", "month", "2024-03-20", "2024-04-19"),
        ("1403-07", "1403-07", "jalali", "month", "2024-09-22", "2024-10-21"),
        ("1403-12", "1403-12", "jalali", "month", "2025-02-19", "2025-03-20"),
        ("1400-12", "1400-12", "jalali", "month", "2022-02-20", "2022-03-20"),
        ("1403-W01", "1403-W01", "jalali", "week", "2024-03-16", "2024-03-22"),  # Sat..Fri, holds 1 Farvardin
        ("1404-W01", "1404-W01", "jalali", "week", "2025-03-15", "2025-03-21"),
        ("1403-W52", "1403-W52", "jalali", "week", "2025-03-08", "2025-03-14"),
        ("1404-W53", "1404-W53", "jalali", "week", "2026-03-14", "2026-03-20"),
        ("1403-01-15", "1403-01-15", "jalali", "day", "2024-04-03", "2024-04-03"),
        ("1403-12-30", "1403-12-30", "jalali", "day", "2025-03-20", "2025-03-20"),
        # case-insensitive, one-digit forms, Persian / Arabic-Indic digits, spaces
        ("1403-q1", "1403-Q1", "jalali", "quarter", "2024-03-20", "2024-06-20"),
        ("1403-1", "1403-01", "jalali", "month", "2024-03-20", "2024-04-19"),
        ("1403-1-5", "1403-01-05", "jalali", "day", "2024-03-24", "2024-03-24"),
        ("1403-w1", "1403-W01", "jalali", "week", "2024-03-16", "2024-03-22"),
        ("2024-w5", "2024-W05", "gregorian", "week", "2024-01-29", "2024-02-04"),
        ("2024-3", "2024-03", "gregorian", "month", "2024-03-01", "2024-03-31"),
        ("2024-3-5", "2024-03-05", "gregorian", "day", "2024-03-05", "2024-03-05"),
        ("2024-q4", "2024-Q4", "gregorian", "quarter", "2024-10-01", "2024-12-31"),
        ("۱۴۰۳-۰۱", "1403-01", "jalali", "month", "2024-03-20", "2024-04-19"),
        ("۱۴۰۳", "1403", "jalali", "year", "2024-03-20", "2025-03-20"),
        ("۱۴۰۳-q۱", "1403-Q1", "jalali", "quarter", "2024-03-20", "2024-06-20"),
        ("۱۴۰۳-۱-۱۵", "1403-01-15", "jalali", "day", "2024-04-03", "2024-04-03"),
        ("١٤٠٣-٠١", "1403-01", "jalali", "month", "2024-03-20", "2024-04-19"),
        ("  1403-01 ", "1403-01", "jalali", "month", "2024-03-20", "2024-04-19"),
    ],
)
def test_labels_parse_to_their_span(text: str, label: str, calendar: str, kind: str, start: str, end: str) -> None:
    p = parse_period(text)
    assert not p.is_range
    assert p.label == label == str(p)
    assert p.calendar == calendar
    assert p.first.kind == kind == p.unit_kind
    assert (p.start, p.end) == (d(start), d(end))
    assert p.days == (d(end) - d(start)).days + 1
    assert parse_unit(text) == p.first
    assert parse_period(p.label) == p  # the canonical label reads back to the same period


def test_1403_01_holds_the_days_of_kpis_md() -> None:
    p = parse_period("1403-01")
    assert p.first.contains(d("2024-03-20"))
    assert p.first.contains(d("2024-04-19"))
    assert not p.first.contains(d("2024-03-19"))
    assert not p.first.contains(d("2024-04-20"))


@pytest.mark.parametrize(
    ("year", "leap"),
    [(1399, True), (1400, False), (1401, False), (1402, False), (1403, True), (1404, False), (1408, True)],
)
def test_jalali_leap_years(year: int, leap: bool) -> None:
    assert jalali_is_leap(year) is leap
    assert parse_period(f"{year}").days == (366 if leap else 365)
    assert parse_period(f"{year}-12").days == (30 if leap else 29)
    if leap:
        assert parse_period(f"{year}-12-30").start == parse_period(f"{year + 1}-01-01").start - ONE_DAY
    else:
        with pytest.raises(InvalidPeriod, match="day 30 does not exist"):
            parse_period(f"{year}-12-30")


def test_esfand_1400_has_29_days_and_1403_12_30_exists() -> None:
    assert parse_period("1400-12").days == 29
    assert parse_period("1403-12-30").end == d("2025-03-20")
    with pytest.raises(InvalidPeriod):
        parse_period("1402-12-30")


# -- ranges -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "label", "start", "end", "unit_kind", "units"),
    [
        ("1402-07..1403-Q2", "1402-07..1403-Q2", "2023-09-23", "2024-09-21", "month", 12),
        ("1402..1403", "1402..1403", "2023-03-21", "2025-03-20", "year", 2),
        ("1403-Q1..1403-05", "1403-Q1..1403-05", "2024-03-20", "2024-08-21", "month", 5),
        ("1403-01-10..1403-01-20", "1403-01-10..1403-01-20", "2024-03-29", "2024-04-08", "day", 11),
        ("2024-01..2024-Q2", "2024-01..2024-Q2", "2024-01-01", "2024-06-30", "month", 6),
        ("2023..2024-03", "2023..2024-03", "2023-01-01", "2024-03-31", "month", 15),
        ("2024-W01..2024-W04", "2024-W01..2024-W04", "2024-01-01", "2024-01-28", "week", 4),
        ("۱۴۰۲-۰۷..۱۴۰۳-q۲", "1402-07..1403-Q2", "2023-09-23", "2024-09-21", "month", 12),
        ("1402-7 .. 1403-q2", "1402-07..1403-Q2", "2023-09-23", "2024-09-21", "month", 12),
        ("1403-01..1403-01", "1403-01", "2024-03-20", "2024-04-19", "month", 1),  # one unit: its own label
    ],
)
def test_ranges(text: str, label: str, start: str, end: str, unit_kind: str, units: int) -> None:
    p = parse_period(text)
    assert p.label == label
    assert (p.start, p.end) == (d(start), d(end))
    assert p.unit_kind == unit_kind
    assert p.units() == units
    assert parse_period(p.label) == p


# -- previous period --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("1403-01", "1402-12"),
        ("1403-07", "1403-06"),
        ("2024-01", "2023-12"),
        ("2024-03", "2024-02"),
        ("1403-Q1", "1402-Q4"),
        ("1403-Q3", "1403-Q2"),
        ("2024-Q1", "2023-Q4"),
        ("1403", "1402"),
        ("2024", "2023"),
        ("1403-W01", "1402-W52"),
        ("1400-W01", "1399-W53"),
        ("2024-W01", "2023-W52"),
        ("2021-W01", "2020-W53"),
        ("1403-01-01", "1402-12-29"),
        ("1404-01-01", "1403-12-30"),
        ("2024-03-01", "2024-02-29"),
        ("2024-01-01", "2023-12-31"),
        # ranges: the same number of their units just before
        ("1402-07..1403-Q2", "1401-07..1402-06"),
        ("1403-Q1..1403-Q2", "1402-Q3..1402-Q4"),
        ("1402..1403", "1400..1401"),
        ("1403-Q1..1403-05", "1402-08..1402-12"),
        ("1403-01-10..1403-01-20", "1402-12-28..1403-01-09"),
        ("2024-01-01..2024-01-31", "2023-12-01..2023-12-31"),
        ("2024-W01..2024-W04", "2023-W49..2023-W52"),
    ],
)
def test_previous_period(text: str, previous: str) -> None:
    p = parse_period(text)
    prev = p.previous()
    assert prev.label == previous
    assert prev == parse_period(previous)
    assert prev.end == p.start - ONE_DAY  # just before, no gap, no overlap
    assert prev.units() == p.units()
    if p.unit_kind == "day":
        assert prev.days == p.days


@pytest.mark.parametrize(
    ("text", "year_ago"),
    [
        ("1403", "1402"),
        ("1403-Q2", "1402-Q2"),
        ("1403-01", "1402-01"),
        ("1403-W10", "1402-W10"),
        ("1403-01-15", "1402-01-15"),
        ("1404-12-29", "1403-12-29"),
        ("1400-W53", None),  # 1399 has 53 weeks, but 1400 does not: parse check below
        ("2024", "2023"),
        ("2024-03", "2023-03"),
        ("2024-03-15", "2023-03-15"),
        ("2024-W05", "2023-W05"),
        ("1402-07..1403-Q2", "1401-07..1402-Q2"),
        # no such label a year earlier: the comparison is null
        ("1403-12-30", None),
        ("2024-02-29", None),
        ("2020-W53", None),  # 2019 has 52 ISO weeks
        ("1404-W53", None),  # 1403 has 52 Jalali weeks
        ("1403-12-01..1403-12-30", None),
    ],
)
def test_year_ago(text: str, year_ago: str | None) -> None:
    if text == "1400-W53":
        with pytest.raises(InvalidPeriod, match="week 53"):
            parse_period(text)
        assert parse_period("1399-W53").first.year_ago() is None  # 1398 has 52 weeks
        return
    p = parse_period(text)
    got = p.year_ago()
    if year_ago is None:
        assert got is None
    else:
        assert got is not None
        assert got.label == year_ago
        assert got == parse_period(year_ago)


def test_year_ago_exists_when_both_years_have_the_label() -> None:
    # 1404-12-30 does not exist (1404 is not leap); 1408 is leap, 1407 is not
    assert parse_period("1408-12-30").year_ago() is None
    assert parse_unit("1404-W53").year_later() is None
    assert parse_unit("1403-W52").year_later() == parse_unit("1404-W52")


# -- steps --------------------------------------------------------------------------------
def test_steps_of_1403_by_week_end_with_a_short_1404_w01() -> None:
    s = steps(parse_period("1403"), "week")
    assert s[0].label == "1403-W01"
    assert (s[0].start, s[0].end, s[0].clipped) == (d("2024-03-20"), d("2024-03-22"), True)
    assert s[-1].label == "1404-W01"
    assert (s[-1].start, s[-1].end, s[-1].clipped) == (d("2025-03-15"), d("2025-03-20"), True)
    assert s[-1].unit == parse_unit("1404-W01")
    assert len(s) == 53
    assert all(not x.clipped and (x.end - x.start).days == 6 for x in s[1:-1])
    assert [x.label for x in s[1:-1]] == [f"1403-W{n:02d}" for n in range(2, 53)]


@pytest.mark.parametrize(
    ("period", "grain", "labels", "clipped"),
    [
        ("1403", "month", [f"1403-{m:02d}" for m in range(1, 13)], []),
        ("1403", "quarter", ["1403-Q1", "1403-Q2", "1403-Q3", "1403-Q4"], []),
        ("1403", "year", ["1403"], []),
        ("1403-Q1", "month", ["1403-01", "1403-02", "1403-03"], []),
        ("1403-01", "day", [f"1403-01-{x:02d}" for x in range(1, 32)], []),
        ("1403-01", "month", ["1403-01"], []),
        ("1403-01", "quarter", ["1403-Q1"], ["1403-Q1"]),
        ("1403-01", "year", ["1403"], ["1403"]),
        ("1402-07..1403-Q2", "quarter", ["1402-Q3", "1402-Q4", "1403-Q1", "1403-Q2"], []),
        ("1402-08..1403-Q2", "quarter", ["1402-Q3", "1402-Q4", "1403-Q1", "1403-Q2"], ["1402-Q3"]),
        ("1402-07..1403-Q2", "year", ["1402", "1403"], ["1402", "1403"]),
        ("2024", "quarter", ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"], []),
        ("2024-Q1", "month", ["2024-01", "2024-02", "2024-03"], []),
        ("2025-01", "week", ["2025-W01", "2025-W02", "2025-W03", "2025-W04", "2025-W05"], ["2025-W01", "2025-W05"]),
        ("1403-12", "week", ["1403-W49", "1403-W50", "1403-W51", "1403-W52", "1404-W01"], ["1403-W49", "1404-W01"]),
    ],
)
def test_steps(period: str, grain: Grain, labels: list[str], clipped: list[str]) -> None:
    p = parse_period(period)
    s = steps(p, grain)
    assert [x.label for x in s] == labels
    assert [x.label for x in s if x.clipped] == clipped
    # the steps tile the period exactly, in order
    assert s[0].start == p.start
    assert s[-1].end == p.end
    for a, b in itertools.pairwise(s):
        assert b.start == a.end + ONE_DAY
    for x in s:
        assert x.unit.kind == grain
        assert x.unit.label == x.label
        assert x.clipped == ((x.start, x.end) != (x.unit.start, x.unit.end))
        assert x.unit.start <= x.start <= x.end <= x.unit.end


def test_steps_of_a_gregorian_year_by_day_and_week() -> None:
    by_day = steps(parse_period("2024"), "day")
    assert len(by_day) == 366
    assert not any(x.clipped for x in by_day)
    by_week = steps(parse_period("2021"), "week")
    assert by_week[0].label == "2020-W53"
    assert by_week[0].clipped
    assert by_week[-1].label == "2021-W52"
    assert by_week[-1].clipped
    by_week = steps(parse_period("2024"), "week")  # 2024-01-01 is a Monday, 2024-12-30 starts 2025-W01
    assert [x.label for x in by_week if x.clipped] == ["2025-W01"]
    assert len(by_week) == 53


def test_shift_walks_units_without_gaps() -> None:
    for kind in ("month", "quarter", "week", "year"):
        u = unit_of(d("2024-03-20"), "jalali", kind)  # type: ignore[arg-type]
        for _ in range(80):
            nxt = u.shift(1)
            assert nxt.start == u.end + ONE_DAY
            assert nxt.shift(-1) == u
            u = nxt


def test_latest_complete_and_unit_of() -> None:
    today = d("2025-04-01")  # 1404-01-12
    assert latest_complete(today, "jalali", "month").label == "1403-12"
    assert latest_complete(today, "jalali", "year").label == "1403"
    assert latest_complete(today, "gregorian", "month").label == "2025-03"
    assert unit_of(today, "jalali", "day") == Unit("jalali", "day", 1404, 1, 12)
    assert unit_of(d("2025-03-15"), "jalali", "week").label == "1404-W01"  # Saturday before nowruz
    assert unit_of(d("2025-03-14"), "jalali", "week").label == "1403-W52"


@pytest.mark.parametrize(
    ("text", "grain"), [("day", "day"), ("Week", "week"), (" MONTH ", "month"), (None, None), ("", None)]
)
def test_parse_grain(text: str | None, grain: str | None) -> None:
    assert parse_grain(text) == grain


def test_parse_grain_rejects_unknown() -> None:
    with pytest.raises(InvalidPeriod, match="unknown grain 'hour'") as e:
        parse_grain("hour")
    assert e.value.details["allowed"] == list(GRAINS)


# ---------------------------------------------------------------------------------------
# bad labels
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1403-13", "month 13 does not exist"),
        ("1403-00", "month 0 does not exist"),
        ("2024-13", "month 13 does not exist"),
        ("1403-13-01", "month 13 does not exist"),
        ("2024-Q5", "quarter 5 does not exist"),
        ("1403-Q0", "quarter 0 does not exist"),
        ("2024-02-30", "day 30 does not exist in 2024-02"),
        ("2023-02-29", "day 29 does not exist in 2023-02"),
        ("2024-04-31", "day 31 does not exist in 2024-04"),
        ("1403-12-31", "day 31 does not exist in 1403-12"),
        ("1402-12-30", "day 30 does not exist in 1402-12"),
        ("1403-07-31", "day 31 does not exist in 1403-07"),
        ("1403-01-00", "day 0 does not exist"),
        ("1403-W54", "week 54 does not exist in 1403"),
        ("2024-W54", "week 54 does not exist in 2024"),
        ("2024-W53", "week 53 does not exist in 2024 \\(it has 52 weeks\\)"),
        ("1403-W53", "week 53 does not exist in 1403 \\(it has 52 weeks\\)"),
        ("1403-W00", "week 0 does not exist"),
        ("1403-02..1403-01", "ends before it starts"),
        ("1403..1402", "ends before it starts"),
        ("2024-03..2024-01-15", "ends before it starts"),
        ("1403..2024", "cannot mix the Jalali and Gregorian"),
        ("2024-03..1403-01", "cannot mix the Jalali and Gregorian"),
        ("hello", "is not a period label"),
        ("1403-", "is not a period label"),
        ("1403/01", "is not a period label"),
        ("1403-01-01-01", "is not a period label"),
        ("03-1403", "is not a period label"),
        ("14030", "is not a period label"),
        ("1403-H1", "is not a period label"),
        ("1403-Q", "is not a period label"),
        ("1403..", "is not a range; write FROM..TO with both ends"),
        ("..1403", "is not a range"),
        (" .. ", "is not a range"),
        ("1402..1403..1404", "is not a range"),
        ("1402-13..1403", "'1402-13': month 13 does not exist"),
        ("1402..1403-Q9", "'1403-Q9': quarter 9 does not exist"),
        ("", "a period is required"),
        ("   ", "a period is required"),
        ("1299", "outside the supported years"),
        ("1501-01", "outside the supported years"),
        ("1800", "outside the supported years"),
        ("2200-01", "outside the supported years"),
        ("1920-12", "outside the supported years 1921–2122"),
        ("2123", "outside the supported years 1921–2122"),
    ],
)
def test_bad_labels_raise_invalid_period(text: str, message: str) -> None:
    with pytest.raises(InvalidPeriod, match=message) as e:
        parse_period(text)
    err = e.value
    assert isinstance(err, UserError)
    assert err.code == "invalid_period"
    assert err.status == 422
    assert err.exit_code == 2
    assert err.details["period"] in (text, *text.split(".."))  # a bad end of a range names that end
    assert err.to_dict()["error"]["code"] == "invalid_period"


def test_non_text_period_is_invalid() -> None:
    with pytest.raises(InvalidPeriod, match="a period is required"):
        parse_period(None)  # type: ignore[arg-type]


def test_garbage_message_names_the_accepted_forms() -> None:
    with pytest.raises(InvalidPeriod) as e:
        parse_period("last month")
    msg = str(e.value)
    assert "'last month'" in msg
    for example in ("1403-Q1", "1403-01", "1403-W01", "2024-03", "2024-W05", "FROM..TO"):
        assert example in msg


def test_period_dataclass_is_hashable_and_comparable() -> None:
    a, b = parse_period("1403-q1"), parse_period("1403-Q1")
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert Period(a.first, a.first) == a


def test_a_period_typed_with_persian_digits_or_other_dashes_is_read() -> None:
    """The period box shows «۱۴۰۳−Q۴» (Persian digits, a minus sign): it reads back, as do pasted
    hyphens and en dashes."""
    from sanjeh.calendar import parse_period

    assert parse_period("۱۴۰۳−Q۴").label == "1403-Q4"
    assert parse_period("۱۴۰۲−۰۷..۱۴۰۳−۰۳").label == "1402-07..1403-03"
    assert parse_period("1403\u201301").label == "1403-01" and parse_period("1403\u201001").label == "1403-01"
