"""SQL expressions (DuckDB dialect) that normalise and parse whole columns.

Every function here takes the SQL of a raw VARCHAR column and returns SQL, so the
import runs as set-based queries over whole columns (no Python loop per row).
The rules are those of SCHEMA.md ("Conventions for every table"). Every piece of
user text that ends up in SQL goes through :func:`sanjeh.warehouse.quote_literal` (a quoted literal).
"""

from __future__ import annotations

from functools import lru_cache

from sanjeh.calendar import FIRST_JALALI_YEAR, LAST_JALALI_YEAR, jalali_to_gregorian
from sanjeh.warehouse import quote_literal

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
        f"(CASE WHEN regexp_matches({sql}, {quote_literal('[' + digits + ']')}) "
        f"THEN translate({sql}, {quote_literal(digits)}, {quote_literal(ASCII_DIGITS * 2)}) ELSE {sql} END)"
    )


def letters(sql: str) -> str:
    """Arabic letter variants -> Persian, NBSP -> space."""
    return (
        f"(CASE WHEN regexp_matches({sql}, {quote_literal('[' + _LETTERS_FROM + ']')}) "
        f"THEN translate({sql}, {quote_literal(_LETTERS_FROM)}, {quote_literal(_LETTERS_TO)}) ELSE {sql} END)"
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
    nothing = quote_literal("[" + chars + "]|^\\s|\\s$")
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
        f"(CASE WHEN {sql} IS NULL THEN NULL WHEN regexp_full_match({sql}, {quote_literal(_CLEAN_CODE_RE)}) THEN {sql} "
        f"ELSE {full} END)"
    )


def number_parts(sql: str, *, money: bool) -> tuple[str, str]:
    """(the number's text without a currency word, the multiplier) of a number or money value.

    The text is then read by :func:`number_kind` and :func:`number_reading`; the multiplier is 10
    for a "ten rials" currency word (only meaningful in an IRR workspace, decided by the caller).
    """
    if not money:
        return sql, "1"
    words = "|".join(RIAL_WORDS + TOMAN_WORDS)
    parts = f"regexp_extract({sql}, '(?i)^(.*?)\\s*({words})?$', ['n', 'c'])"
    cur = f"lower(({parts}).c)"
    mult = f"(CASE WHEN {cur} IN ({', '.join(quote_literal(w) for w in TOMAN_WORDS)}) THEN 10 ELSE 1 END)"
    return f"({parts}).n", mult


# -- decimal marks (docs/import.md "Numbers") ------------------------------------------------
# A number's text (ASCII digits, no currency word) is one of these kinds:
#   n   no separator that could be a decimal mark, or Persian thousands: the same value whichever
#       mark the file uses (``12``, ``1e5``, ``1 234``, ``12٬500٫5``, ``12٬500.5``)
#   p   readable only with a decimal point (``12.5``, ``1,234.5``, ``1,234,567``)
#   c   readable only with a decimal comma (``12,50``, ``1,5``, ``1.234,5``, ``1.234.567``)
#   ac  ``1,234``: 1234 with a decimal point, 1.234 with a decimal comma
#   ad  ``1.234``: 1.234 with a decimal point, 1234 with a decimal comma
# A thousands separator comes in groups of three after 1-3 leading digits (the first not 0).
_S = "[+-]?"
_LEAD = "[1-9][0-9]{0,2}"
_EXP = "(?:[eE][+-]?[0-9]+)?"
NUMBER_KINDS: tuple[tuple[str, str], ...] = (
    ("ac", f"{_S}{_LEAD},[0-9]{{3}}"),
    ("ad", f"{_S}{_LEAD}\\.[0-9]{{3}}"),
    (
        "n",
        f"{_S}(?:[0-9]+{_EXP}|{_LEAD}(?:[ \u066c][0-9]{{3}})+(?:\u066b[0-9]+)?|{_LEAD}(?:\u066c[0-9]{{3}})+\\.[0-9]+"
        f"|[0-9]+\u066b[0-9]*|\u066b[0-9]+)",
    ),
    (
        "p",
        f"{_S}(?:{_LEAD}(?:,[0-9]{{3}})+\\.[0-9]+|{_LEAD}(?:,[0-9]{{3}}){{2,}}|{_LEAD}(?: [0-9]{{3}})+\\.[0-9]+"
        f"|(?:[0-9]+\\.[0-9]*|\\.[0-9]+){_EXP})",
    ),
    (
        "c",
        f"{_S}(?:{_LEAD}(?:\\.[0-9]{{3}})+,[0-9]+|{_LEAD}(?:\\.[0-9]{{3}}){{2,}}|{_LEAD}(?: [0-9]{{3}})+,[0-9]+"
        f"|[0-9]+,[0-9]*|,[0-9]+)",
    ),
)

#: The decimal mark of a column of a file, once decided (:func:`decimal_mark`):
#: ``point``/``comma`` (the values show it), ``mixed`` (some values show each),
#: ``unknown`` (none shows it: ``1,234`` is ambiguous, ``1.234`` is read with a point) and
#: ``unknown;`` (none shows it, in a ``;``-delimited file: ``1,234`` is read with a comma,
#: ``1.234`` is ambiguous). Before the values are seen a column has a *tentative* mark,
#: ``guess`` or ``guess;``: it reads the values every decision reads the same way, and marks
#: :data:`UNDECIDED` on the others (then the values are counted and the table checked again).
DECIMAL_MARKS = ("point", "comma", "mixed", "unknown", "unknown;", "guess", "guess;")

#: The reason a value gets while its column's decimal mark is tentative and the value's reading
#: depends on it (never stored: the table is checked again with the mark decided).
UNDECIDED = "\u0001decimal mark undecided"


def tentative_mark(delimiter: str | None) -> str:
    """The decimal mark of a file's numeric columns before their values are seen."""
    return "guess;" if delimiter == ";" else "guess"


def decimal_mark(points: int, commas: int, delimiter: str | None) -> str:
    """The decimal mark of a column from how many of its values show a point and a comma."""
    if points and commas:
        return "mixed"
    if points or commas:
        return "point" if points else "comma"
    return "unknown;" if delimiter == ";" else "unknown"


def number_kind(num: str) -> str:
    """SQL: the kind (``n``, ``p``, ``c``, ``ac``, ``ad``; NULL when it is no number) of a number's text."""
    whens = " ".join(
        f"WHEN regexp_full_match({num}, {quote_literal(rx)}) THEN {quote_literal(k)}" for k, rx in NUMBER_KINDS
    )
    return f"(CASE {whens} END)"


def number_kind_of(raw: str, *, money: bool) -> str:
    """SQL: the kind of a raw text value (normalised, its currency word cut), as the check finds it."""
    return number_kind(number_parts(text(raw, digits=True), money=money)[0])


def _point(num: str) -> str:
    return f"replace(replace({num}, ',', ''), ' ', '')"


def _comma(num: str) -> str:
    return f"replace(replace(replace({num}, '.', ''), ' ', ''), ',', '.')"


def number_reading(num: str, kind: str, mark: str) -> str:
    """SQL: the plain number text (for a cast) of a number's text of SQL ``kind`` with the column's
    decimal ``mark``; NULL when it is not a number or is ambiguous under that mark (see
    :func:`number_ambiguous`)."""
    persian = f"replace(replace(replace({num}, ' ', ''), '\u066c', ''), '\u066b', '.')"
    ac = {"point": _point(num), "comma": _comma(num), "unknown;": _comma(num), "guess;": _comma(num)}
    ad = {"point": num, "comma": _comma(num), "unknown": num, "guess": num}
    whens = [f"WHEN {kind} = 'n' THEN {persian}", f"WHEN {kind} = 'p' THEN {_point(num)}"]
    whens.append(f"WHEN {kind} = 'c' THEN {_comma(num)}")
    if mark in ac:
        whens.append(f"WHEN {kind} = 'ac' THEN {ac[mark]}")
    if mark in ad:
        whens.append(f"WHEN {kind} = 'ad' THEN {ad[mark]}")
    return f"(CASE {' '.join(whens)} END)"


def number_ambiguous(kind: str, mark: str) -> str | None:
    """SQL: the value of SQL ``kind`` reads two ways under ``mark`` (None: never under this mark)."""
    kinds = {"mixed": ("ac", "ad"), "unknown": ("ac",), "unknown;": ("ad",)}.get(mark)
    return f"{kind} IN ({', '.join(quote_literal(k) for k in kinds)})" if kinds else None


def number_undecided(kind: str, mark: str) -> str | None:
    """SQL: under a tentative ``mark``, the value's reading depends on the decision (None: never)."""
    kinds = {"guess": ("ac", "c"), "guess;": ("ac", "ad")}.get(mark)
    return f"{kind} IN ({', '.join(quote_literal(k) for k in kinds)})" if kinds else None


#: Plain numbers with a single dot and three digits after it (``1.234``): read with a point
#: unless the column's mark says otherwise, so they leave the fast path under these marks.
MARKS_READING_AD_OTHERWISE = frozenset({"comma", "mixed", "unknown;", "guess;"})


def number_or_nan(sql: str) -> str:
    """SQL: a DOUBLE of a text value read as a number outside any file's column (a mapping's
    arithmetic): its own kind decides (``1,234`` is ambiguous); NULL when empty, NaN when it is
    not a number."""
    t = text(sql, digits=True)
    reading = number_reading(t, number_kind(t), "unknown")
    return f"(CASE WHEN {t} IS NULL THEN NULL ELSE coalesce(TRY_CAST({reading} AS DOUBLE), 'NaN'::DOUBLE) END)"


def number_valid(cleaned: str) -> str:
    return f"regexp_full_match({cleaned}, {quote_literal(_NUMBER_RE)})"


def number_plain(sql: str, mark: str = "guess") -> str:
    """SQL: the text is already a plain number (no separators, no currency word) that every reading
    of this column's ``mark`` reads as DuckDB's cast does."""
    plain = number_valid(sql)
    if mark in MARKS_READING_AD_OTHERWISE:
        plain = f"({plain} AND NOT regexp_full_match({sql}, {quote_literal(NUMBER_KINDS[1][1])}))"
    return plain


#: The usual ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` as GLOB patterns (ASCII digits, as the
#: regular expression ``[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?``; DuckDB
#: matches a GLOB about twice as fast): its parts are cut out by position.
_D = "[0-9]"
_PLAIN_DATE_GLOBS = (f"{_D * 4}-{_D * 2}-{_D * 2}", f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}")


def plain_date_shape(sql: str) -> str:
    """SQL: the text is ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (digits and separators only)."""
    return "(" + " OR ".join(f"{sql} GLOB {quote_literal(g)}" for g in _PLAIN_DATE_GLOBS) + ")"


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
    parts = ", ".join(quote_literal(p) for p in DATE_PARTS)
    full = f"regexp_extract(coalesce({t}, ''), {quote_literal(DATE_RE)}, [{parts}])"

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
    return f"DATE {quote_literal(epoch.isoformat())}", "[" + ",".join(map(str, offsets)) + "]"


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
