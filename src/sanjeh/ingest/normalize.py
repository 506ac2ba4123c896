"""SQL expressions (DuckDB dialect) that normalise and parse whole columns.

Every function here takes the SQL of a raw VARCHAR column and returns SQL, so the
import runs as set-based queries over whole columns (no Python loop per row).
The rules are those of SCHEMA.md ("Conventions for every table"). Every piece of
user text that ends up in SQL goes through :func:`lit` (a quoted literal).
"""

from __future__ import annotations

from functools import lru_cache

from sanjeh.calendar import FIRST_JALALI_YEAR, LAST_JALALI_YEAR, jalali_to_gregorian

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


def plain_ascii(sql: str) -> str:
    """SQL: the value is ASCII (bytes = characters), does not start with whitespace or a control
    character and does not end with whitespace (``\\s`` of the regular expressions: space, tab,
    LF, CR, FF) -- then no normalisation of :func:`text` changes it (no regex runs). Suffix tests
    instead of cutting out the last character: half the cost on large files."""
    ends = " OR ".join(f"suffix({sql}, chr({c}))" for c in (32, 9, 10, 13, 12))
    return f"(strlen({sql}) = length({sql}) AND ascii({sql}) > 32 AND NOT ({ends}))"


def text(sql: str, *, digits: bool = False) -> str:
    """Trimmed text with Persian letters (and ASCII digits when ``digits``); empty -> NULL.

    Fast paths (same result): a missing value stays missing without the rules (DuckDB would
    run them over its empty slot); a plain ASCII value is kept as is; any other value that has
    nothing to change (one regex finds no letter variant, digit or edge whitespace) too.
    """
    inner = letters(sql)
    chars = _LETTERS_FROM
    if digits:
        inner = ascii_digits(inner)
        chars += PERSIAN_DIGITS + ARABIC_DIGITS
    nothing = lit("[" + chars + "]|^\\s|\\s$")
    return (
        f"(CASE WHEN {sql} IS NULL THEN NULL WHEN {plain_ascii(sql)} THEN {sql} "
        f"WHEN NOT regexp_matches({sql}, {nothing}) THEN nullif({sql}, '') "
        f"ELSE {strip_ws(inner)} END)"
    )


#: A code that is already canonical (lower case, single ``_`` between parts): kept as is.
_CLEAN_CODE_RE = "[a-z0-9]+(?:_[a-z0-9]+)*"


def code(sql: str) -> str:
    """A code: normalised text, lower case, runs of spaces/hyphens/underscores -> one ``_``."""
    full = f"lower(regexp_replace({text(sql, digits=True)}, '[\\s_-]+', '_', 'g'))"
    return (
        f"(CASE WHEN {sql} IS NULL THEN NULL WHEN regexp_full_match({sql}, {lit(_CLEAN_CODE_RE)}) THEN {sql} "
        f"ELSE {full} END)"
    )


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


def number_plain(sql: str) -> str:
    """SQL: the text is already a plain number (no separators, no currency word): the same test
    as :func:`number_valid`, asked of the text before any cleaning."""
    return number_valid(sql)


#: The usual ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` as GLOB patterns (ASCII digits, as the
#: regular expression ``[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?``; DuckDB
#: matches a GLOB about twice as fast): its parts are cut out by position.
_D = "[0-9]"
_PLAIN_DATE_GLOBS = (f"{_D * 4}-{_D * 2}-{_D * 2}", f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}")


def plain_date_shape(sql: str) -> str:
    """SQL: the text is ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (digits and separators only)."""
    return "(" + " OR ".join(f"{sql} GLOB {lit(g)}" for g in _PLAIN_DATE_GLOBS) + ")"


def plain_timestamp(sql: str) -> str:
    """SQL: the TIMESTAMP of a raw value in the usual Gregorian form ``YYYY-MM-DD[ HH:MM:SS]``, read
    by DuckDB's own cast; else NULL, and the value takes the full rules (:func:`date_struct`).

    A fast path (most values of a large file take it): digits in the usual places, year 1700 or
    later and hour before 24 (the cast would roll 24:00 over) are checked here, and the cast
    refuses the rest of what is not a real moment (month 13, 30 February, minute 60). The cast
    alone is looser (it reads ``10:20:5.`` and ``2024-01-3T 10:20:30``): tests/test_ingest_speed.py
    fuzzes the difference.
    """
    shape = f"{plain_date_shape(sql)} AND {sql} >= '1700' AND (strlen({sql}) = 10 OR substr({sql}, 12, 2) < '24')"
    return f"(CASE WHEN {shape} THEN TRY_CAST({sql} AS TIMESTAMP) END)"


def date_struct(sql: str) -> str:
    """A struct of the text parts of a normalised date/time value (all '' when it does not match).

    The usual forms take a fast path (substrings instead of the capturing regex; same struct).
    """
    t = sql
    parts = ", ".join(lit(p) for p in DATE_PARTS)
    full = f"regexp_extract(coalesce({t}, ''), {lit(DATE_RE)}, [{parts}])"

    def cut(start: int, timed: bool) -> str:
        piece = f"substr({t}, {start}, {4 if start == 1 else 2})"
        return f"(CASE WHEN strlen({t}) = 19 THEN {piece} ELSE '' END)" if timed else piece

    fast = (
        f"struct_pack(y := {cut(1, False)}, mo := {cut(6, False)}, d := {cut(9, False)}, h := {cut(12, True)}, "
        f"mi := {cut(15, True)}, s := {cut(18, True)}, f := '', tz := '')"
    )
    return f"(CASE WHEN {plain_date_shape(t)} THEN {fast} ELSE {full} END)"


def gregorian_days_in_month(y: str, m: str) -> str:
    # no IN list of seven months: DuckDB plans one as a join, once per use of this expression
    leap = f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"
    return (
        f"(CASE WHEN ({m}) = 2 THEN (CASE WHEN {leap} THEN 29 ELSE 28 END) "
        f"WHEN ({m}) IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    )


@lru_cache(maxsize=1)
def _farvardin_firsts() -> tuple[str, str]:
    """(the Gregorian date of 1 Farvardin of the first supported Jalali year as SQL, the SQL list of
    the day offsets of 1 Farvardin of every supported year and the next one, from that date)."""
    epoch = jalali_to_gregorian(FIRST_JALALI_YEAR, 1, 1)
    offsets = [(jalali_to_gregorian(y, 1, 1) - epoch).days for y in range(FIRST_JALALI_YEAR, LAST_JALALI_YEAR + 2)]
    return f"DATE '{epoch.isoformat()}'", "[" + ",".join(map(str, offsets)) + "]"


def jalali_day(y: str, m: str, d: str) -> str:
    """SQL: the Gregorian DATE of the Jalali date (integer SQL ``y``, ``m``, ``d``); NULL when that day
    does not exist or the year is outside the supported years.

    Arithmetic over a constant list (1 Farvardin of each year, from :mod:`sanjeh.calendar`), so the
    import reads Jalali dates without joining a calendar table; months 1-6 have 31 days, 7-11 have
    30, and Esfand has what is left before the next 1 Farvardin.
    """
    epoch, firsts = _farvardin_firsts()
    i = f"(({y}) - {FIRST_JALALI_YEAR - 1})"
    esfand = f"({firsts}[{i} + 1] - {firsts}[{i}] - 336)"
    month_days = f"(CASE WHEN ({m}) <= 6 THEN 31 WHEN ({m}) <= 11 THEN 30 ELSE {esfand} END)"
    before = f"(CASE WHEN ({m}) <= 7 THEN (({m}) - 1) * 31 ELSE 186 + (({m}) - 7) * 30 END)"
    return (
        f"(CASE WHEN ({y}) BETWEEN {FIRST_JALALI_YEAR} AND {LAST_JALALI_YEAR} AND ({m}) BETWEEN 1 AND 12 "
        f"AND ({d}) BETWEEN 1 AND {month_days} THEN {epoch} + ({firsts}[{i}] + {before} + ({d}) - 1) END)"
    )
