"""``date(x, FORMAT)`` of the mapping language: a date written in a file's own form, as SQL.

A format is strftime-like (``%d.%m.%Y``, ``%m/%d/%Y``, ``%Y/%m/%d``, ``%d-%m-%Y %H:%M``) or
``excel`` (a day serial number of Excel, 1 = 1900-01-01). The value (Persian digits read as ASCII)
is cut into its parts by a regular expression made from the format and rewritten as
``YYYY-MM-DD[ HH:MM:SS]``; the import's date rules then decide whether that day exists (a year
below 1700 is Jalali, so ``1403/01/31`` with ``%Y/%m/%d`` is 31 Farvardin). A value that does not
have the format's shape becomes a *failure*: :data:`FAIL` followed by the reason, which the import
turns into a reject naming the value and the format (:func:`failure_reason_sql`), instead of an
empty value that a "required" rule would then blame.
"""

from __future__ import annotations

import re

from sanjeh.errors import MappingError
from sanjeh.ingest.normalize import ascii_digits
from sanjeh.warehouse import quote_literal

#: the first character of a mapped value that failed (never in real text: a control character)
FAIL = "\u0001"
FAIL_SQL = "chr(1)"

#: directive -> (part name, regular expression)
_DIRECTIVES = {
    "Y": ("y", "([0-9]{4})"),
    "m": ("mo", "([0-9]{1,2})"),
    "d": ("d", "([0-9]{1,2})"),
    "H": ("h", "([0-9]{1,2})"),
    "M": ("mi", "([0-9]{1,2})"),
    "S": ("s", "([0-9]{1,2})"),
}
#: a time after a date whose format has none (kept: ``15.01.2024 10:30`` with ``%d.%m.%Y``)
_TAIL_TIME = r"(?:[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?"
EXCEL = "excel"
#: the largest Excel serial (9999-12-31)
_EXCEL_MAX = 2958465


def _pattern(fmt: str, where: str) -> tuple[str, list[str]]:
    """(the regular expression of a format, the names of its groups in order)."""
    out, names, i = ["^"], [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            d = fmt[i + 1 : i + 2]
            if d == "%":
                out.append("%")
            elif d in _DIRECTIVES:
                name, rx = _DIRECTIVES[d]
                if name in names:
                    raise MappingError(f"{where}: the date format {fmt!r} has %{d} twice")
                names.append(name)
                out.append(rx)
            else:
                raise MappingError(
                    f"{where}: the date format {fmt!r} has %{d}, which is not supported; use %Y %m %d %H %M %S "
                    "(or 'excel' for Excel serial numbers)"
                )
            i += 2
            continue
        out.append(r"\s+" if ch.isspace() else re.escape(ch))
        i += 1
    missing = [f"%{d}" for d, (n, _) in _DIRECTIVES.items() if n in ("y", "mo", "d") and n not in names]
    if missing:
        raise MappingError(f"{where}: the date format {fmt!r} needs {', '.join(missing)}")
    if "h" not in names:
        out.append(_TAIL_TIME)
        names += ["h", "mi", "s"]
    out.append("$")
    return "".join(out), names


def date_sql(value: str, fmt: str | None, where: str) -> str:
    """SQL (text) of ``date(value)`` or ``date(value, fmt)``: ``YYYY-MM-DD`` (with ``HH:MM:SS`` when the
    value has a time and a format is given), NULL when empty, a failure when it is no such date."""
    v = f"trim({ascii_digits(value)})"
    if fmt is not None and fmt.strip().lower() == EXCEL:
        return _excel_sql(v)
    if fmt is None:  # the day of a date the import reads: YYYY-MM-DD or YYYY/MM/DD, any time after it
        rx, names, keep_time = r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})(?:[ T].*)?$", ["y", "mo", "d"], False
        shown = "YYYY-MM-DD or YYYY/MM/DD; give its format, e.g. date(x, '%d.%m.%Y')"
    else:
        rx, names = _pattern(fmt, where)
        keep_time = True
        shown = fmt
    m = f"regexp_extract({v}, {quote_literal(rx)}, [{', '.join(quote_literal(n) for n in names)}])"

    def part(n: str) -> str:
        if n not in names:
            return "CAST(NULL AS INTEGER)"
        return f"TRY_CAST(nullif(({m}).{n}, '') AS INTEGER)"

    day = f"printf('%04d-%02d-%02d', {part('y')}, {part('mo')}, {part('d')})"
    if keep_time:
        time = (
            f"(CASE WHEN ({m}).h = '' THEN '' ELSE printf(' %02d:%02d:%02d', {part('h')}, "
            f"coalesce({part('mi')}, 0), coalesce({part('s')}, 0)) END)"
        )
        day = f"({day} || {time})"
    fail = f"({FAIL_SQL} || {v} || {quote_literal(' is not a date in the form ' + shown)})"
    return f"(CASE WHEN nullif({v}, '') IS NULL THEN NULL WHEN ({m}).y = '' THEN {fail} ELSE {day} END)"


def _excel_sql(v: str) -> str:
    num = f"TRY_CAST({v} AS DOUBLE)"
    ok = f"(regexp_full_match({v}, '[0-9]+(\\.[0-9]+)?') AND {num} BETWEEN 1 AND {_EXCEL_MAX})"
    # serials count days from 1899-12-30 (Excel's 1900 leap-year bug makes every serial from 61 on right)
    ts = f"(TIMESTAMP '1899-12-30' + to_microseconds(CAST(round({num} * 86400000000) AS BIGINT)))"
    text = (
        f"(CASE WHEN {num} = floor({num}) THEN strftime({ts}, '%Y-%m-%d') ELSE strftime({ts}, '%Y-%m-%d %H:%M:%S') END)"
    )
    fail = (
        f"({FAIL_SQL} || {v} || {quote_literal(' is not an Excel date serial number (1 to ' + str(_EXCEL_MAX) + ')')})"
    )
    return f"(CASE WHEN nullif({v}, '') IS NULL THEN NULL WHEN {ok} THEN {text} ELSE {fail} END)"


def may_fail(sql: str) -> bool:
    """Can the column's SQL give a failure (it uses ``date()``)?"""
    return FAIL_SQL in sql


def failure_reason_sql(raw: str) -> str:
    """SQL: the reason of a failed mapped value ``raw`` (NULL when it did not fail)."""
    return f"(CASE WHEN starts_with({raw}, {FAIL_SQL}) THEN substr({raw}, 2) END)"
