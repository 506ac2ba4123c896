"""Numbers for people, in Persian and English: one module, and its inverse.

Every number a surface shows goes through here: plain numbers and counts, money in
the workspace's currency (:mod:`sanjeh.currency`), rates as percentages, changes of a
rate in percentage points, days and hours, and a compact form with a word for big
numbers (``1.5B`` / ``۱٫۵ میلیارد``). Persian uses Persian digits, ``٬`` between
thousands, ``٫`` as the decimal separator and ``٪``; a signed Persian number is
isolated left-to-right so its sign stays before its digits inside right-to-left text.
A missing value (None, NaN, ±inf) is ``—``.

:func:`parse_number` reads every one of these forms back (``tests/test_formatting.py``
checks the round trip on many values in both languages), and also what people type:
``1,234.5``, ``۱۲٬۵۰۰``, ``12.5%``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from sanjeh.calendar import unit_of
from sanjeh.currency import Money, as_money
from sanjeh.i18n import digits, period_label, t

#: Units a value can be shown in: a measure's own, or ``points`` for the change of a rate.
UNITS = ("money", "count", "rate", "points", "days", "hours", "number", "ratio")
MISSING = "—"
_LRI, _PDI = "\u2066", "\u2069"
#: Scales of the compact form, largest first (message keys ``number.<word>``).
SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


def is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        v = float(x)
    except (TypeError, ValueError):
        return True
    return math.isnan(v) or math.isinf(v)


def _signed(text: str, lang: str) -> str:
    """A signed Persian number isolated left-to-right, so the sign stays before the digits in RTL text."""
    if lang == "fa" and text[:1] in ("−", "+", "-"):
        return _LRI + text + _PDI
    return text


def _trim(text: str) -> str:
    """Drop the zeros after a decimal point (and the point itself): ``15.30`` -> ``15.3``, ``100`` stays."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _plain(v: float, decimals: int | None) -> str:
    """ASCII text of ``v`` with thousands separators; no negative zero."""
    if decimals is None:
        text = f"{int(v):,}" if v == int(v) and abs(v) < 1000000000000000.0 else _trim(f"{v:,.2f}")
    else:
        text = f"{v:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # -0, -0.00: no sign on zero
        text = text.lstrip("-")
    return text.replace("-", "−")


def fmt_number(x: Any, lang: str = "fa", decimals: int | None = None) -> str:
    """A number with thousands separators: integers whole, others with up to 2 decimals
    (``decimals`` fixes their number); ``—`` for a missing value."""
    if is_missing(x):
        return MISSING
    return _signed(digits(_plain(float(x), decimals), lang), lang)


def fmt_compact(x: Any, lang: str = "fa") -> str:
    """A big number shortened with a word (``1.5B`` / ``۱٫۵ میلیارد``); 1 decimal below 100 of its scale."""
    if is_missing(x):
        return MISSING
    v = float(x)
    for scale, word in SCALES:
        if abs(v) >= scale * 0.9995:  # 999,600 reads 1M, not 1,000K
            n = v / scale
            text = _trim(f"{n:,.1f}") if abs(n) < 99.95 else f"{n:,.0f}"
            return t(f"number.{word}", lang, n=_signed(digits(text.replace("-", "−"), lang), lang))
    return fmt_number(round(v, 2), lang)


def fmt_money(x: Any, lang: str = "fa", currency: str | Money = "IRR", compact: bool = False) -> str:
    """An amount in the workspace's money unit, always named: ``12,500 USD``, ``۱٫۲ میلیارد تومان``."""
    if is_missing(x):
        return MISSING
    m = as_money(currency)
    v = float(x) / m.divisor
    n = fmt_compact(v, lang) if compact and abs(v) >= 1e3 else fmt_number(v, lang, decimals=m.decimals)
    return t("number.money", lang, n=n, currency=m.word(lang))


def money_column(values: Any, lang: str = "fa", currency: str | Money = "IRR") -> tuple[float, str]:
    """How a column of amounts is shown so its numbers line up: (the divisor of the column's
    scale, the column's unit) — the scale of its largest amount, e.g. ``(1e9, "میلیارد ریال")``;
    each cell is then :func:`fmt_in` of the amount and the unit goes once, in the header."""
    m = as_money(currency)
    amounts = [abs(float(v)) / m.divisor for v in values if not is_missing(v)]
    top = max(amounts, default=0.0)
    low = min((a for a in amounts if a > 0), default=0.0)
    fits = [(scale, word) for scale, word in SCALES if top >= scale * 0.9995]
    # the largest amount's scale, one smaller while the smallest amount would read «0.0» there and
    # the largest still reads in under five digits (a year's reps: «۰٫۰ هزار میلیارد» beside «۱٫۱»)
    while len(fits) > 1 and low / fits[0][0] < 0.05 and top / fits[1][0] < 10_000:
        fits.pop(0)
    if fits:
        scale, word = fits[0]
        return scale * m.divisor, t(f"number.{word}", lang, n="").strip() + " " + m.word(lang)
    return m.divisor, m.word(lang)


def fmt_in(x: Any, divisor: float, lang: str = "fa", decimals: int = 1) -> str:
    """An amount in a column's scale (:func:`money_column`), with a fixed number of decimals so
    the column's digits line up: ``87.6``, ``166.0`` / ``۸۷٫۶``, ``۱۶۶٫۰``."""
    if is_missing(x):
        return MISSING
    v = float(x) / divisor
    return fmt_number(v, lang, decimals=decimals if divisor > 1 else None)


def fmt_rate(x: Any, lang: str = "fa", decimals: int = 1) -> str:
    """A fraction as a percentage: 0.153 -> ``15.3%`` / ``۱۵٫۳٪``; 1 -> ``100%``."""
    if is_missing(x):
        return MISSING
    text = _trim(_plain(float(x) * 100, decimals)) + "%"
    return _signed(digits(text, lang), lang)


def fmt_attainment(x: Any, lang: str = "fa") -> str:
    """Attainment of a target in whole percent, never rounded across 100 %: 0.997 is ``99.7%``, not
    ``100%`` beside a bar that says it was missed (and never ``100.0%`` either: ``99.9%``)."""
    if is_missing(x):
        return MISSING
    v = float(x)
    if v < 1 and round(v * 100) >= 100:
        return fmt_rate(min(v, 0.999), lang, 1)
    return fmt_rate(v, lang, 0)


def _sign(x: float, text: str, lang: str) -> str:
    """``text`` with a ``+`` for a positive value that does not round to zero."""
    if x > 0 and text.strip("0.,%") != "":
        text = "+" + text
    return _signed(digits(text, lang), lang)


def fmt_signed_rate(x: Any, lang: str = "fa", decimals: int = 1) -> str:
    """A relative change: ``+12.5%``, ``−3%``, ``0%``."""
    if is_missing(x):
        return MISSING
    return _sign(float(x), _trim(_plain(float(x) * 100, decimals)) + "%", lang)


def fmt_points(x: Any, lang: str = "fa", decimals: int = 1, *, signed: bool = True) -> str:
    """A change of a rate in percentage points: 0.091 -> ``+9.1 pp`` / ``+۹٫۱ واحد درصد``."""
    if is_missing(x):
        return MISSING
    v = float(x)
    text = _trim(_plain((v if signed else abs(v)) * 100, decimals))
    n = _sign(v, text, lang) if signed else digits(text, lang)
    return t("number.points", lang, n=n)


def fmt_value(x: Any, unit: str, lang: str = "fa", currency: str | Money = "IRR", compact: bool = False) -> str:
    """A value by its unit (money, count, rate, points, days, hours, number, ratio)."""
    if is_missing(x):
        return MISSING
    v = float(x)
    if unit == "money":
        return fmt_money(v, lang, currency, compact=compact)
    if unit == "rate":
        return fmt_rate(v, lang)
    if unit == "points":
        return fmt_points(v, lang)
    if unit == "count":
        return fmt_compact(v, lang) if compact and abs(v) >= 1e6 else fmt_number(round(v), lang)
    if unit in ("days", "hours"):
        return t(f"number.{unit}", lang, n=fmt_number(round(v, 1), lang))
    if unit == "ratio":
        return fmt_number(v, lang, decimals=2)
    return fmt_compact(v, lang) if compact else fmt_number(v, lang)


# -- reading numbers back -------------------------------------------------------------------
_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫−", "01234567890123456789.-")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _words(lang: str) -> list[tuple[str, float]]:
    """(word, scale) of the compact form in ``lang``, the longest words first."""
    out = []
    for scale, word in SCALES:
        pattern = t(f"number.{word}", lang, n="\0")
        out.append((pattern.replace("\0", "").strip(), scale))
    return sorted(out, key=lambda ws: -len(ws[0]))


def parse_number(text: str, *, percent: bool | None = None) -> float | None:
    """The number a formatted text stands for, in either language; None for ``—`` or empty.

    Thousands separators (``,`` ``٬``), Persian/Arabic digits, ``٫``, ``−``, a compact word
    (``1.5M``, ``۱٫۵ میلیارد``) and a unit word are understood. A percentage (``%``, ``٪``,
    ``pp``, ``واحد درصد``) is returned as a fraction; ``percent=True`` reads a bare number
    as one too. Anything else is a :class:`ValueError`.
    """
    s = str(text).replace(_LRI, "").replace(_PDI, "").replace("\u200e", "").replace("\u200f", "").strip()
    if s in ("", MISSING):
        return None
    s = s.translate(_TO_ASCII)
    pct = percent is True
    for mark in ("%", "٪", "واحد درصد", "pp"):
        if mark in s:
            s, pct = s.replace(mark, ""), True
    scale = 1.0
    for lang in ("fa", "en"):
        for word, value in _words(lang):
            if word and re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", s):
                s, scale = s.replace(word, "", 1), value
                break
        if scale != 1.0:
            break
    s = s.replace(",", "").replace("٬", "").strip()
    m = _NUMBER.search(s)
    if m is None:
        raise ValueError(f"{text!r} is not a number")
    rest = (s[: m.start()] + s[m.end() :]).strip()
    if rest and not re.fullmatch(r"[^\d.]*", rest):  # a unit word may remain, never more digits
        raise ValueError(f"{text!r} is not a number")
    value = float(m.group(0)) * scale
    return value / 100 if pct else value


# -- exact numbers, for inputs people edit --------------------------------------------------
class NumberError(ValueError):
    """A typed number that cannot be stored as typed (``code``): ``decimal_comma`` — a comma that
    is not a thousands separator (``12,50``, ``۴۲,۵``: its groups are not of three digits), read
    neither way rather than guessed; ``too_precise`` — more significant digits than a stored
    number holds (about 16), so what is kept would differ from what was typed."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{text!r}: {code}")
        self.code = code


#: Thousands separators in groups of three digits (``12,500,000``; with a decimal part after ``.``).
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[,٬]\d{3})+(?:\.\d*)?")


def ascii_number(text: str) -> str:
    """A typed number with ASCII digits, ``.`` for «٫» and ``-`` for ``−`` (separators kept)."""
    return str(text).translate(_TO_ASCII).strip()


def check_separators(text: str) -> None:
    """Refuse a number whose comma is not a thousands separator (:class:`NumberError`)."""
    s = ascii_number(text)
    if ("," in s or "٬" in s) and not _GROUPED.fullmatch(re.sub(r"\s+", "", s)):
        raise NumberError("decimal_comma", text)


def exact_float(d: Any, text: str) -> float:
    """The float of the decimal ``d``, refused (:class:`NumberError`) when the float is not ``d``
    written back (``repr``: the shortest text that reads as the same float)."""
    from decimal import Decimal

    value = float(d)
    if Decimal(repr(value)) != Decimal(d):
        raise NumberError("too_precise", text)
    return value


def fmt_exact(x: Any, lang: str = "fa", *, divisor: float = 1.0, percent: bool = False) -> str:
    """Every digit of a stored number, with thousands separators, in a display unit (``divisor``:
    money shown in toman is ÷ 10; ``percent``: a fraction as percent) — never rounded, so that
    :func:`parse_exact` gives back the very same float (the targets editor's round trip)."""
    if is_missing(x):
        return ""
    from decimal import Decimal

    d = Decimal(repr(float(x)))
    if percent:
        d = d * 100
    d = d / Decimal(repr(float(divisor)))
    text = f"{d.normalize():,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.,") == "":
        text = "0"
    return digits(text.replace("-", "−"), lang)


def parse_exact(text: str, *, divisor: float = 1.0, percent: bool = False) -> float | None:
    """The stored number a text in a display unit stands for (the inverse of :func:`fmt_exact`,
    computed in decimal so that it is exact; anything :func:`parse_number` reads is understood,
    ``%`` too). None for an empty text."""
    from decimal import Decimal

    s = str(text).replace(_LRI, "").replace(_PDI, "").replace("\u200e", "").replace("\u200f", "").strip()
    marked = any(mark in s for mark in ("%", "٪"))
    bare = s.replace("%", "").replace("٪", "").translate(_TO_ASCII).strip()
    if re.fullmatch(r"[+-]?[\d,٬]+(?:\.\d*)?", bare):
        check_separators(bare)
    plain = bare.replace(",", "").replace("٬", "").strip()
    if re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", plain):
        d = Decimal(plain)
    else:
        for token in re.findall(r"\d[\d,٬.]*", bare):  # ۱,۵ میلیارد: the same rule for a compact number
            check_separators(token)
        value = parse_number(s.replace("%", "").replace("٪", ""))
        if value is None:
            return None
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a number")
        d = Decimal(repr(value))
    d = d * Decimal(repr(float(divisor)))
    if percent or marked:  # "30%" is 30 percent in any field
        d = d / 100
    return exact_float(d, text)  # what is typed is what is stored, or it is refused


# -- moments ----------------------------------------------------------------------------------
#: ``date.weekday()`` -> the catalogue's word for the day (``weekday.sat``…).
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def fmt_moment(when: Any, zone: str, calendar: str, lang: str = "fa", *, weekday: bool = False) -> str:
    """A moment in a time zone and calendar: «۱۲ فروردین ۱۴۰۴، ساعت ۱۴:۰۵» / ``12 Farvardin 1404,
    14:05`` (with ``weekday``: «شنبه ۱۶ فروردین…» / ``Saturday 16 Farvardin…``). A naive time is
    this machine's wall-clock time; an ISO text is read; nothing is ``—``."""
    if not when:
        return MISSING
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    try:
        local = when.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        local = when
    day = period_label(unit_of(local.date(), calendar, "day").label, lang)  # type: ignore[arg-type]
    if weekday:
        day = f"{t('weekday.' + WEEKDAY_KEYS[local.weekday()], lang)} {day}"
    return t("data.when", lang, day=day, time=digits(local.strftime("%H:%M"), lang))


def when_text(when: Any, ws: Any, lang: str) -> str:
    """A moment in the workspace's time zone and calendar (:func:`fmt_moment`): an import's, a
    target change's, an alert's."""
    return fmt_moment(when, ws.settings.timezone, ws.settings.calendar, lang)
