"""SQL expressions (DuckDB dialect) that normalise and parse whole columns.

Every function here takes the SQL of a raw VARCHAR column and returns SQL, so the
import runs as set-based queries over whole columns (no Python loop per row).
The rules are those of SCHEMA.md ("Conventions for every table"). Every piece of
user text that ends up in SQL goes through :func:`lit` (a quoted literal).
"""

from __future__ import annotations

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ASCII_DIGITS = "0123456789"

#: Arabic letter variants -> Persian, and the no-break space -> space.
_LETTERS_FROM = "\u064a\u0649\u0643\u00a0"  # ي ى ك NBSP
_LETTERS_TO = "\u06cc\u06cc\u06a9 "  # ی ی ک space

#: Columns whose digits are turned into ASCII although they are text (ids, labels).
DIGIT_TEXT_COLUMNS = frozenset({"period", "month", "kpi", "measure", "dimension"})

#: Currency words after a money amount. "ten rials" words are multiplied by 10 in an IRR workspace.
RIAL_WORDS = ("ریال", "irr", "rial", "rials")
TOMAN_WORDS = ("تومان", "toman", "irt")

_NUMBER_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"

#: YYYY-MM-DD or YYYY/MM/DD (one-digit parts too), optional time after space or T, optional offset.
DATE_RE = (
    r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})"
    r"(?:(?:[ T]|\s+)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:[.,]([0-9]{1,9}))?)?)?"
    r"\s*([Zz]|[+-][0-9]{1,2}(?::?[0-9]{2})?)?$"
)
DATE_PARTS = ("y", "mo", "d", "h", "mi", "s", "f", "tz")


def lit(value: str) -> str:
    """A SQL string literal (standard SQL quoting; DuckDB and PostgreSQL agree)."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def strip_ws(sql: str) -> str:
    """Trim every kind of ASCII whitespace (DuckDB's trim() removes spaces only); empty -> NULL.

    The regular expressions only run on values that need them (most do not): this keeps
    the import fast on large files.
    """
    return (
        f"nullif(CASE WHEN regexp_matches({sql}, '^\\s|\\s$') "
        f"THEN regexp_replace({sql}, '^\\s+|\\s+$', '', 'g') ELSE {sql} END, '')"
    )


def ascii_digits(sql: str) -> str:
    digits = PERSIAN_DIGITS + ARABIC_DIGITS
    return (
        f"(CASE WHEN regexp_matches({sql}, {lit('[' + digits + ']')}) "
        f"THEN translate({sql}, {lit(digits)}, {lit(ASCII_DIGITS * 2)}) ELSE {sql} END)"
    )


def letters(sql: str) -> str:
    """Arabic letter variants -> Persian, NBSP -> space."""
    return (
        f"(CASE WHEN regexp_matches({sql}, {lit('[' + _LETTERS_FROM + ']')}) "
        f"THEN translate({sql}, {lit(_LETTERS_FROM)}, {lit(_LETTERS_TO)}) ELSE {sql} END)"
    )


def text(sql: str, *, digits: bool = False) -> str:
    """Trimmed text with Persian letters (and ASCII digits when ``digits``); empty -> NULL."""
    inner = letters(sql)
    if digits:
        inner = ascii_digits(inner)
    return strip_ws(inner)


def code(sql: str) -> str:
    """A code: normalised text, lower case, runs of spaces/hyphens/underscores -> one ``_``."""
    return f"lower(regexp_replace({text(sql, digits=True)}, '[\\s_-]+', '_', 'g'))"


def number_parts(sql: str, *, money: bool) -> tuple[str, str]:
    """(the cleaned numeric text, the multiplier) of a number or money value.

    The cleaned text is checked with :func:`number_valid`; the multiplier is 10 for a
    "ten rials" currency word (only meaningful in an IRR workspace, decided by the caller).
    """
    t = sql  # already normalised text (see text(..., digits=True))
    if money:
        words = "|".join(RIAL_WORDS + TOMAN_WORDS)
        parts = f"regexp_extract({t}, '(?i)^(.*?)\\s*({words})?$', ['n', 'c'])"
        num = f"({parts}).n"
        cur = f"lower(({parts}).c)"
        mult = f"(CASE WHEN {cur} IN ({', '.join(lit(w) for w in TOMAN_WORDS)}) THEN 10 ELSE 1 END)"
    else:
        num, mult = t, "1"
    cleaned = (
        f"(CASE WHEN regexp_matches({num}, '[,\u066c\u066b ]') THEN "
        f"replace(replace(replace(replace({num}, ',', ''), '\u066c', ''), '\u066b', '.'), ' ', '') ELSE {num} END)"
    )
    return cleaned, mult


def number_valid(cleaned: str) -> str:
    return f"regexp_full_match({cleaned}, {lit(_NUMBER_RE)})"


def date_struct(sql: str) -> str:
    """A struct of the text parts of a normalised date/time value (all '' when it does not match)."""
    t = sql
    parts = ", ".join(lit(p) for p in DATE_PARTS)
    return f"regexp_extract(coalesce({t}, ''), {lit(DATE_RE)}, [{parts}])"


def gregorian_days_in_month(y: str, m: str) -> str:
    leap = f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"
    return (
        f"(CASE WHEN ({m}) IN (1,3,5,7,8,10,12) THEN 31 WHEN ({m}) IN (4,6,9,11) THEN 30 "
        f"WHEN {leap} THEN 29 ELSE 28 END)"
    )
