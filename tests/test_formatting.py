"""Numbers for people (sanjeh.formatting): examples, and a property test that reads every
formatted value back within its rounding, in Persian and English."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sanjeh.currency import money
from sanjeh.errors import SettingsError
from sanjeh.formatting import (
    fmt_compact,
    fmt_money,
    fmt_number,
    fmt_points,
    fmt_rate,
    fmt_signed_rate,
    fmt_value,
    parse_number,
)

LRI, PDI = "\u2066", "\u2069"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1234567, "fa", "۱٬۲۳۴٬۵۶۷"),
        (1234567, "en", "1,234,567"),
        (1234.5, "fa", "۱٬۲۳۴٫۵"),
        (-12, "fa", f"{LRI}−۱۲{PDI}"),
        (None, "fa", "—"),
        (float("nan"), "en", "—"),
        (float("inf"), "fa", "—"),
        (0.0, "en", "0"),
        (-0.001, "en", "0"),
        (100, "en", "100"),
        (10, "fa", "۱۰"),
    ],
)
def test_numbers(value: object, lang: str, expected: str) -> None:
    assert fmt_number(value, lang) == expected


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1.0, "en", "100%"),
        (1.0, "fa", "۱۰۰٪"),
        (0.5, "en", "50%"),
        (0.5, "fa", "۵۰٪"),
        (0.0, "en", "0%"),
        (0.0, "fa", "۰٪"),
        (0.1, "en", "10%"),
        (2.0, "en", "200%"),
        (0.153, "fa", "۱۵٫۳٪"),
        (0.1504, "en", "15%"),
        (-0.25, "en", "−25%"),
        (12.3456, "en", "1,234.6%"),
    ],
)
def test_whole_percentages_keep_their_zeros(value: float, lang: str, expected: str) -> None:
    assert fmt_rate(value, lang) == expected


def test_rates_points_money_and_compact() -> None:
    assert fmt_rate(1.0, "en", 0) == "100%" and fmt_rate(0.0, "fa", 0) == "۰٪"
    assert fmt_signed_rate(0.05, "en") == "+5%"
    assert fmt_signed_rate(-0.05, "en") == "−5%"
    assert fmt_signed_rate(0.0001, "en") == "0%"
    assert fmt_signed_rate(-0.131, "fa") == f"{LRI}−۱۳٫۱٪{PDI}"  # isolated: the sign stays before the digits
    assert fmt_points(-0.091, "en") == "−9.1 pp"
    assert fmt_points(0.091, "en") == "+9.1 pp"
    assert fmt_points(-0.091, "fa") == f"{LRI}−۹٫۱{PDI} واحد درصد"
    assert fmt_points(-0.091, "fa", signed=False) == "۹٫۱ واحد درصد"
    assert fmt_points(0.0, "en") == "0 pp"
    assert fmt_compact(1.5e9, "fa") == "۱٫۵ میلیارد"
    assert fmt_compact(2_300_000, "en") == "2.3M"
    assert fmt_compact(999_600, "en") == "1M"
    assert fmt_compact(100_000, "en") == "100K"
    assert fmt_value(12.345, "days", "en") == "12.3 days"
    assert fmt_value(0.25, "rate", "fa") == "۲۵٪"
    assert fmt_value(0.02, "points", "en") == "+2 pp"


def test_money_in_the_workspace_currency() -> None:
    assert fmt_money(1.5e9, "fa", "IRR", compact=True) == "۱٫۵ میلیارد ریال"
    assert fmt_money(1500, "en", "IRR") == "1,500 IRR"
    assert fmt_money(1500, "en", "USD") == "1,500.00 USD"
    assert fmt_money(1500.5, "fa", "USD") == "۱٬۵۰۰٫۵۰ دلار"
    assert fmt_money(10_000_000, "fa", "USD", compact=True) == "۱۰ میلیون دلار"
    assert fmt_money(1234, "en", "KWD") == "1,234.000 KWD"
    assert fmt_money(1234, "en", "JPY") == "1,234 JPY"
    toman = money("IRR", "toman")
    assert fmt_money(1.5e9, "fa", toman, compact=True) == "۱۵۰ میلیون تومان"
    assert fmt_money(125, "en", toman) == "12 toman" or fmt_money(125, "en", toman) == "13 toman"
    assert fmt_money(None, "en", "USD") == "—"
    with pytest.raises(SettingsError):
        money("XYZ")
    with pytest.raises(SettingsError):
        money("USD", "toman")


def test_parse_reads_what_people_type() -> None:
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("۱۲٬۵۰۰") == 12500
    assert parse_number("۱۲٫۵٪") == pytest.approx(0.125)
    assert parse_number("12.5", percent=True) == pytest.approx(0.125)
    assert parse_number("1.5B") == 1.5e9
    assert parse_number("۱٫۵ میلیارد ریال") == 1.5e9
    assert parse_number("۲ هزار میلیارد") == 2e12
    assert parse_number("—") is None and parse_number("") is None
    with pytest.raises(ValueError, match="not a number"):
        parse_number("lots")
    with pytest.raises(ValueError, match="not a number"):
        parse_number("12 34")


def _close(got: float | None, want: float, tolerance: float) -> bool:
    assert got is not None
    return abs(got - want) <= tolerance + abs(want) * 1e-12


FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
SPECIAL = [0.0, -0.0, 1.0, 100.0, 1e-9, -1e-9, 5e-7, 0.5, 1234567.891, 1e15, 123456789012345678.0, -2.5e12]


@settings(max_examples=300, deadline=None)
@given(x=FINITE, lang=st.sampled_from(["fa", "en"]))
@example(x=float("nan"), lang="fa")
@example(x=float("inf"), lang="en")
@example(x=float("-inf"), lang="fa")
def test_every_format_reads_back_within_its_rounding(x: float, lang: str) -> None:
    if math.isnan(x) or math.isinf(x):
        for text in (fmt_number(x, lang), fmt_rate(x, lang), fmt_compact(x, lang), fmt_money(x, lang, "USD")):
            assert text == "—" and parse_number(text) is None
        return
    assert _close(parse_number(fmt_number(x, lang)), x, 0.005)
    assert _close(parse_number(fmt_rate(x, lang)), x, 0.0005)
    assert _close(parse_number(fmt_points(x, lang)), x, 0.0005)
    assert _close(parse_number(fmt_money(x, lang, "IRR")), x, 0.5)
    assert _close(parse_number(fmt_money(x, lang, "USD")), x, 0.005)
    assert _close(parse_number(fmt_money(x, lang, money("IRR", "toman"))), x / 10, 0.5)
    compact = parse_number(fmt_compact(x, lang))
    scale = next((s for s in (1e12, 1e9, 1e6, 1e3) if abs(x) >= s * 0.9995), 1.0)
    assert _close(compact, x, 0.005 if scale == 1.0 else 0.5 * scale if abs(x) / scale >= 99.95 else 0.05 * scale)


@pytest.mark.parametrize("x", SPECIAL)
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_special_values_read_back(x: float, lang: str) -> None:
    test_every_format_reads_back_within_its_rounding.hypothesis.inner_test(x=x, lang=lang)  # type: ignore[attr-defined]


def test_attainment_is_never_rounded_across_100_percent() -> None:
    """A missed win-rate target (40.9 of 41: 99.7 %) read «۱۰۰٪ از هدف» beside an amber bar."""
    from sanjeh.formatting import fmt_attainment

    assert fmt_attainment(0.997, "fa") == "۹۹٫۷٪" and fmt_attainment(0.9999, "en") == "99.9%"
    assert fmt_attainment(0.994, "en") == "99%" and fmt_attainment(1.0, "en") == "100%"
    assert fmt_attainment(1.004, "en") == "100%" and fmt_attainment(0.5, "fa") == "۵۰٪"


def test_a_money_column_steps_down_a_scale_so_its_smallest_amount_shows() -> None:
    """A year's reps: 1.1 thousand bn at the top and 40 bn at the bottom read «۱٫۱» and «۰٫۰»
    (thousand bn); in bn they read «۱٬۱۰۰٫۰» and «۴۰٫۰»."""
    from sanjeh.formatting import money_column

    assert money_column([1.1e12, 4e10], "en") == (1e9, "B IRR")
    assert money_column([1.1e12, 5e11], "en") == (1e12, "T IRR")  # every amount shows: kept
    assert money_column([2.5e13, 1e6], "en") == (1e12, "T IRR")  # a step down would need 5 digits
    assert money_column([9e8], "en") == (1e6, "M IRR") and money_column([], "en") == (1.0, "IRR")
