"""Reject and warning reasons in the user's language, translated when they are shown.

The importer (:mod:`sanjeh.ingest`) writes each reason into ``_rejects`` / ``_warnings`` as an
English sentence (``month 13 does not exist``, ``ordered_at is required``). The surfaces (the
Data page, ``sanjeh rejects``) show them in the user's language: each sentence the importer
writes is matched by a pattern here and rendered from the catalogue (``reason.<key>``) with its
parts in that language — a column by its name (``ordered_at`` → «زمان سفارش»), numbers in
Persian digits. A sentence no pattern knows (a mapping's own reject rule, a reason added to the
importer later) is shown as written: never lost, only untranslated. ``tests/test_reasons.py``
holds every sentence the importer writes today.

What the importer should emit instead, one day: a key and parameters per reject (like
:class:`~sanjeh.errors.UserError`), stored beside the English sentence; this table then goes.
"""

from __future__ import annotations

import re
from typing import Any

from sanjeh.errors import UserError
from sanjeh.i18n import catalogue, digits, isolate, period_label, t, t_or

_COL = r"(?P<column>[a-z_]+)"
_NUM = r"(?P<n>-?\d+)"
#: (message key under ``reason.``, the English sentence as a pattern), first match wins.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("required", rf"^{_COL} is required$"),
        ("one_of", rf"^{_COL} must be one of: (?P<values>.+)$"),
        ("not_whole", rf"^{_COL} is not a whole number$"),
        ("not_number", rf"^{_COL} is not a number$"),
        ("between", rf"^{_COL} must be between (?P<lo>\S+) and (?P<hi>\S+)$"),
        ("greater", rf"^{_COL} must be greater than (?P<lo>\S+)$"),
        ("at_least", rf"^{_COL} must be (?P<lo>\S+) or more$"),
        ("at_most", rf"^{_COL} must be (?P<hi>\S+) or less$"),
        ("not_date", rf"^{_COL} is not a date \(use .*\)$"),
        ("too_large", rf"^{_COL} is too large to store .*$"),
        ("net_too_large", r"^net amount \(quantity × unit_price − discount\) is too large to store .*$"),
        ("ambiguous", rf"^{_COL} is ambiguous \((?P<a>.+) or (?P<b>.+)\?\): (?P<why>.+)$"),
        ("month", rf"^month {_NUM} does not exist$"),
        ("day", rf"^day {_NUM} does not exist$"),
        ("day_in_month", r"^day (?P<n>\d+) does not exist in (?P<month>\d{4}-\d{2})$"),
        ("jalali_year", r"^Jalali year (?P<n>\d+) is outside the supported years 1300-1500$"),
        ("hour", rf"^hour {_NUM} does not exist$"),
        ("minute", rf"^minute {_NUM} does not exist$"),
        ("second", rf"^second {_NUM} does not exist$"),
        ("offset", r"^time zone offset (?P<offset>.+) does not exist$"),
        ("sql_before_mql", r"^sql_at is before mql_at$"),
        ("closed_required", r"^closed_at is required when status is won or lost$"),
        ("closed_before_created", r"^closed_at is before created_at$"),
        ("order_missing", r"^its order is missing or was rejected$"),
        ("net_negative", r"^net amount \(quantity × unit_price − discount\) is negative$"),
        (
            "duplicate_line",
            r"^duplicate line_no within its order \(first seen on line (?P<line>\d+)(?: of (?P<file>.+))?\)$",
        ),
        ("duplicate", rf"^duplicate {_COL} \(first seen on line (?P<line>\d+)(?: of (?P<file>.+))?\)$"),
        (
            "duplicate_key",
            r"^duplicate \((?P<columns>[a-z_, ]+)\) \(first seen on line (?P<line>\d+)(?: of (?P<file>.+))?\)$",
        ),
        ("ragged", r"^row has (?P<n>\d+) fields?, the header has (?P<header>\d+)$"),
        ("nul", r"^the value of (?P<column>.+) holds a NUL character \(U\+0000\), which no text may hold$"),
        ("unknown_reference", rf"^unknown {_COL} \(not in (?P<table>[a-z_]+)\); accepted anyway, on (?P<n>\d+) rows?$"),
        ("not_a_column", r"^column '(?P<header>.*)' is not a column of (?P<table>[a-z_]+); it was ignored$"),
    )
)
#: Whole files the importer refuses (``ImportRefused``: nothing was imported), by their sentence.
REFUSALS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("no_table", r"^(?P<file>.+?): there is no table '(?P<name>.*)'; name the file after a table .*$"),
        (
            "missing_columns",
            r"^(?P<file>.+?) lacks the required columns? (?P<columns>.+) of table (?P<table>[a-z_]+); nothing was imported$",
        ),
        ("not_importable", r"^(?P<file>.+?) is not a file Sanjeh can import; .*$"),
        ("empty_file", r"^(?P<file>.+?) is empty \(0 bytes\); nothing was imported$"),
        ("binary", r"^(?P<file>.+?) is a binary file, not a CSV text file; nothing was imported$"),
        ("no_header", r"^(?P<file>.+?) has no header (?:line|row); nothing was imported$"),
        ("twice", r"^(?P<file>.+?) has the column '(?P<name>.*)' twice in its header; nothing was imported$"),
        (
            "encoding",
            r"^(?P<file>.+?) (?:is not valid .+|cannot be read as .+: line (?P<line>\d+) has a byte .+|mixes encodings: .+)$",
        ),
        ("unreadable", r"^(?P<file>.+?) cannot be (?:read|split into rows) .*$"),
    )
)
#: The three reasons the importer gives for a number that reads two ways (``ambiguous``).
_AMBIGUOUS_WHY = {
    "this column of the file writes some decimals with a point and some with a comma": "mixed",
    "no other value of this column in the file shows whether its decimal mark is a point or a comma": "unknown",
    "this file is ;-separated, where a decimal comma is usual, and no other value of this column shows its "
    "decimal mark": "unknown_semicolon",
}


def column_title(column: Any, lang: str) -> str:
    """A canonical column by its name in ``lang`` (``ordered_at`` → «زمان سفارش»); as written otherwise."""
    if column is None or column == "":
        return "—"
    return t_or(f"column.{column}", lang, str(column))


def _part(name: str, value: str | None, lang: str) -> str:
    if value is None:
        return ""
    if name in ("column", "columns"):
        return "، ".join(column_title(c.strip(), lang) for c in value.split(",")) if lang == "fa" else value
    if name == "table":
        return t_or(f"table.{value}", lang, value)
    if name == "file":
        return t("reason.of_file", lang, file=isolate(value, lang))
    if name in ("a", "b", "values", "offset"):  # values as the file wrote them
        return isolate(value, lang)
    if name == "why":
        return t_or(f"reason.why_{_AMBIGUOUS_WHY.get(value, '')}", lang, value)
    if name == "month":  # «اسفند ۱۴۰۳», not 1403-12
        try:
            return period_label(value, lang)
        except UserError:
            return isolate(value, lang)
    if re.fullmatch(r"-?\d+", value):
        return digits(value, lang)
    return isolate(value, lang)


def match(reason: str | None) -> tuple[str, dict[str, str | None]] | None:
    """(the reason's message key, its parts), or None for a sentence no pattern knows."""
    if not reason:
        return None
    for key, pattern in PATTERNS:
        m = pattern.match(reason)
        if m:
            return key, m.groupdict()
    return None


def reason_text(reason: str | None, lang: str) -> str:
    """The reason in ``lang``: English as the importer wrote it; Persian from the catalogue when a
    pattern knows it, else as written."""
    if not reason:
        return "—"
    if lang != "fa":
        return reason
    found = match(reason)
    if found is None or f"reason.{found[0]}" not in catalogue(lang):
        return reason
    key, parts = found
    return t(f"reason.{key}", lang, **{k: _part(k, v, lang) for k, v in parts.items()})


def refusal_text(message: str, lang: str) -> str:
    """An import the importer refused as a whole, in ``lang`` (English as written)."""
    if lang != "fa":
        return message
    for key, pattern in REFUSALS:
        m = pattern.match(message)
        if m:
            parts = m.groupdict()
            if parts.get("table"):
                parts["table"] = t_or(f"table.{parts['table']}", lang, parts["table"])
            if parts.get("columns"):
                parts["columns"] = "، ".join(column_title(c.strip(), lang) for c in parts["columns"].split(","))
            return t(
                f"refusal.{key}",
                lang,
                **{k: isolate(v, lang) if k in ("file", "name") else (v or "") for k, v in parts.items()},
            )
    return message
