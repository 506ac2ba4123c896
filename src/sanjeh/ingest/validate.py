"""Validate one canonical table in set-based SQL: typed values, first error per row.

The input is a staging relation with ``__file``, ``__line``, ``__fidx``, ``__row``,
``__pre_col``/``__pre_reason`` (a mapping's own reject rules) and one raw VARCHAR
column ``r_<name>`` per canonical column present. :func:`check_sql` turns it into
typed ``v_<name>`` columns plus ``__col``/``__value``/``__reason`` (the first rule
the row breaks, in column order, then the cross-column rules). Uniqueness and
parents are checked afterwards over the rows that are still valid (``pipeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sanjeh.ingest import normalize as n
from sanjeh.schema import CODE_COLUMNS, Column, Table
from sanjeh.warehouse import quote_ident, quote_literal

SQL_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "enum": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "money": "DOUBLE",
    "decimal": "DOUBLE",
    "integer": "BIGINT",
}


@dataclass(frozen=True)
class CheckOptions:
    timezone: str = "Asia/Tehran"
    toman_times_ten: bool = True  # the workspace currency is IRR
    #: the decimal mark of the numeric columns (normalize.DECIMAL_MARKS): ``marks`` by column,
    #: else ``default_mark`` (a tentative one until the values are seen, docs/import.md "Numbers")
    default_mark: str = "guess"
    marks: tuple[tuple[str, str], ...] = ()

    def mark(self, column: str) -> str:
        return dict(self.marks).get(column, self.default_mark)


def text_value_sql(c: Column, raw: str) -> str:
    """The value the check stores for the text column ``c`` from its raw text (SQL ``raw``): a code
    lower-cased, other text trimmed with Persian letters (and ASCII digits for ids and the like)."""
    if c.type in ("code", "enum") or c.name in CODE_COLUMNS:
        return n.code(raw)
    return n.text(raw, digits=_is_digit_text(c))


def _is_digit_text(c: Column) -> bool:
    return c.name.endswith("_id") or c.name in n.DIGIT_TEXT_COLUMNS


def _bound_reason(c: Column) -> tuple[str, str] | None:
    """(SQL condition that breaks the bounds of v, reason) for a numeric column with bounds."""
    v = quote_ident("v_" + c.name)
    lo, hi = c.min, c.max
    if lo is None and hi is None:
        return None

    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    conds = []
    if lo is not None:
        conds.append(f"{v} <= {lo}" if c.min_exclusive else f"{v} < {lo}")
    if hi is not None:
        conds.append(f"{v} > {hi}")
    if lo is not None and hi is not None:
        reason = f"{c.name} must be between {fmt(lo)} and {fmt(hi)}"
    elif lo is not None:
        reason = (
            f"{c.name} must be greater than {fmt(lo)}" if c.min_exclusive else f"{c.name} must be {fmt(lo)} or more"
        )
    else:
        assert hi is not None
        reason = f"{c.name} must be {fmt(hi)} or less"
    return " OR ".join(conds), reason


def _ambiguous_reason(name: str, x: str, kind: str, mark: str) -> str:
    """SQL of the reason a number that reads two ways is rejected under ``mark``."""
    point = f"(CASE WHEN {kind} = 'ac' THEN replace({x}, ',', '') ELSE {x} END)"
    comma = f"(CASE WHEN {kind} = 'ac' THEN replace({x}, ',', '.') ELSE replace({x}, '.', '') END)"
    why = {
        "mixed": "this column of the file writes some decimals with a point and some with a comma",
        "unknown": "no other value of this column in the file shows whether its decimal mark is a point or a comma",
        "unknown;": "this file is ;-separated, where a decimal comma is usual, and no other value of this column "
        "shows its decimal mark",
    }[mark]
    return (
        f"({quote_literal(name + ' is ambiguous (')} || {point} || ' or ' || {comma} || {quote_literal('?): ' + why)})"
    )


class _Col:
    """SQL pieces of one column: items of CTEs pre (defaults), a (normalise), a0 (parse), a1, a2 (parts, numbers),
    b (value, error)."""

    def __init__(self, c: Column, present: bool, opts: CheckOptions, default: str | None) -> None:
        self.c = c
        self.opts = opts
        name = c.name
        self.r = quote_ident("r_" + name) if present else "CAST(NULL AS VARCHAR)"
        #: items of the first CTE (``pre``): a column with a default is worked out once there
        self.pre: list[str] = []
        if default is not None:
            self.pre.append(f"coalesce({n.strip_ws(self.r)}, {quote_literal(default)}) AS {self.q('dr_')}")
            self.r = self.q("dr_")
        self.a: list[str] = []
        self.a1: list[str] = []
        self.a2: list[str] = []
        self.a3: list[str] = []
        self.b: list[str] = []
        #: SQL: this row's value waits for its column's decimal mark (numbers under a tentative mark)
        self.undecided: str | None = None
        kind = c.type
        if kind in ("timestamp", "date"):
            self._date()
        elif kind in ("money", "decimal", "integer"):
            self._number()
        else:
            self._text()

    def q(self, prefix: str) -> str:
        return quote_ident(prefix + self.c.name)

    def _required(self, nsql: str) -> str:
        return f"WHEN {nsql} IS NULL THEN {quote_literal(self.c.name + ' is required')} " if self.c.required else ""

    def _text(self) -> None:
        c = self.c
        self.a.append(f"{text_value_sql(c, self.r)} AS {self.q('v_')}")
        err = self._required(self.q("v_"))
        if c.type == "enum":
            allowed = ", ".join(quote_literal(v) for v in c.values)
            err += f"WHEN {self.q('v_')} NOT IN ({allowed}) THEN {quote_literal(f'{c.name} must be one of: ' + ', '.join(c.values))} "
        self.b.append(f"CASE {err}END AS {self.q('e_')}" if err else f"CAST(NULL AS VARCHAR) AS {self.q('e_')}")
        self.b.append(self.q("v_"))

    def _number(self) -> None:
        c = self.c
        mark = self.opts.mark(c.name)
        x, m, t, kd, d = self.q("x_"), self.q("m_"), self.q("n_"), self.q("kd_"), self.q("d_")
        k = self.q("k_")
        # a raw value that is already a plain number (the usual case) skips the text rules too
        self.a.append(f"{n.number_plain(self.r, mark)} AS {k}")
        self.a1.append(f"(CASE WHEN {k} THEN {self.r} ELSE {n.text(self.r, digits=True)} END) AS {t}")
        num, mult = n.number_parts(t, money=c.type == "money")
        # a plain number (the usual case) and a missing one skip the currency words and the kinds
        self.a2.append(f"(CASE WHEN {k} THEN {t} WHEN {t} IS NOT NULL THEN {num} END) AS {x}")
        if c.type == "money" and self.opts.toman_times_ten:
            self.a2.append(f"(CASE WHEN {k} THEN 1 ELSE {mult} END) AS {m}")
        else:
            self.a2.append(f"1 AS {m}")
        # the kind of the others (a plain number's is not needed): from the text itself, in the same step
        self.a2.append(f"(CASE WHEN NOT {k} AND {t} IS NOT NULL THEN {n.number_kind(num)} END) AS {kd}")
        reading = n.number_reading(x, kd, mark)
        self.a3.append(
            f"(CASE WHEN {k} THEN TRY_CAST({x} AS DOUBLE) WHEN {kd} IS NOT NULL THEN TRY_CAST({reading} AS DOUBLE) * {m} "
            f"END) AS {d}"
        )
        if c.type == "integer":
            value = f"CASE WHEN {d} = floor({d}) AND abs({d}) < 9e18 THEN CAST({d} AS BIGINT) END"
            bad = f"{c.name} is not a whole number"
        else:
            value = d
            bad = f"{c.name} is not a number"
        self.b.append(f"{value} AS {self.q('v_')}")
        # what breaks a plain number (the usual case) is asked of it alone; the rest of the others
        too_large = f"WHEN NOT isfinite({d}) THEN {quote_literal(f'{c.name} is too large to store (beyond ±1.8e308)')} "
        not_whole = f"WHEN ({value}) IS NULL THEN {quote_literal(bad)} " if c.type == "integer" else ""
        bounds = _bound_reason(c)
        out_of_bounds = ""
        if bounds:
            cond = bounds[0].replace(quote_ident("v_" + c.name), f"({value})")
            out_of_bounds = f"WHEN {cond} THEN {quote_literal(bounds[1])} "
        plain = too_large + not_whole + out_of_bounds
        other = ""
        undecided = n.number_undecided(kd, mark)
        if undecided:
            self.undecided = undecided
            other += f"WHEN {undecided} THEN {quote_literal(n.UNDECIDED)} "
        ambiguous = n.number_ambiguous(kd, mark)
        if ambiguous:
            other += f"WHEN {ambiguous} THEN {_ambiguous_reason(c.name, x, kd, mark)} "
        other += f"WHEN {d} IS NULL THEN {quote_literal(bad)} " + plain
        err = self._required(t) + f"WHEN {t} IS NULL THEN NULL WHEN {k} THEN CASE {plain}END ELSE CASE {other}END "
        self.b.append(f"CASE {err}END AS {self.q('e_')}")

    def _date(self) -> None:
        c = self.c
        p, t = self.q("p_"), self.q("n_")
        # the usual Gregorian form is read from the raw text by DuckDB's cast (it has nothing to
        # normalise); the rest is normalised and parsed by the full rules
        fast = self.q("fa_")
        self.a.append(f"{n.plain_timestamp(self.r)} AS {fast}")
        # an empty value (often most of an optional date column) skips the rules too
        self.a1.append(
            f"(CASE WHEN {fast} IS NULL AND {self.r} IS NOT NULL THEN {n.text(self.r, digits=True)} END) AS {t}"
        )
        self.a2.append(f"(CASE WHEN {fast} IS NULL AND {t} IS NOT NULL THEN {n.date_struct(t)} END) AS {p}")
        y, mo, d = self.q("y_"), self.q("mo_"), self.q("d_")
        h, mi, s, f, tz = self.q("h_"), self.q("mi_"), self.q("s_"), self.q("f_"), self.q("tz_")

        def part(k: str) -> str:
            return f"TRY_CAST(nullif({p}.{k}, '') AS INTEGER)"

        self.a3 += [
            f"{p}.y <> '' AS {self.q('ok_')}",
            f"{part('y')} AS {y}",
            f"{part('mo')} AS {mo}",
            f"{part('d')} AS {d}",
            f"coalesce({part('h')}, 0) AS {h}",
            f"coalesce({part('mi')}, 0) AS {mi}",
            f"coalesce({part('s')}, 0) AS {s}",
            f"(CASE WHEN {p}.f = '' THEN 0 ELSE CAST(rpad(left({p}.f, 6), 6, '0') AS BIGINT) END) AS {f}",
            f"nullif({p}.tz, '') AS {tz}",
        ]
        gdim = n.gregorian_days_in_month(y, mo)
        day = (
            f"(CASE WHEN {y} >= 1700 AND {mo} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {gdim} "
            f"THEN make_date({y}, {mo}, {d}) WHEN {y} < 1700 THEN {n.jalali_day(y, mo, d)} END)"
        )
        tzp = f"regexp_extract({tz}, '^([+-])([0-9]{{1,2}}):?([0-9]{{2}})?$', ['sg', 'hh', 'mm'])"
        off_h = f"TRY_CAST(nullif(({tzp}).hh, '') AS INTEGER)"
        off_m = f"coalesce(TRY_CAST(nullif(({tzp}).mm, '') AS INTEGER), 0)"
        offset = (
            f"(CASE WHEN {tz} IS NULL THEN NULL WHEN upper({tz}) = 'Z' THEN 0 "
            f"ELSE (CASE WHEN ({tzp}).sg = '-' THEN -1 ELSE 1 END) * ({off_h} * 60 + {off_m}) END)"
        )
        naive = f"(CAST({day} AS TIMESTAMP) + to_microseconds(CAST({h} * 3600 + {mi} * 60 + {s} AS BIGINT) * 1000000 + {f}))"
        local = (
            f"(CASE WHEN {tz} IS NULL THEN {naive} ELSE timezone({quote_literal(self.opts.timezone)}, "
            f"({naive} - to_minutes(CAST({offset} AS BIGINT))) AT TIME ZONE 'UTC') END)"
        )
        ym = f"printf('%04d-%02d', {y}, {mo})"
        err = (
            f"WHEN {fast} IS NOT NULL THEN NULL "
            + self._required(t)
            + f"WHEN {t} IS NOT NULL AND NOT {self.q('ok_')} THEN "
            + quote_literal(f"{c.name} is not a date (use YYYY-MM-DD or YYYY/MM/DD, optionally with a time HH:MM[:SS])")
            + " "
            + f"WHEN {t} IS NULL THEN NULL "
            + f"WHEN {mo} NOT BETWEEN 1 AND 12 THEN 'month ' || {mo} || ' does not exist' "
            + f"WHEN {d} < 1 THEN 'day ' || {d} || ' does not exist' "
            + f"WHEN {y} < 1700 AND {y} NOT BETWEEN 1300 AND 1500 THEN "
            + f"'Jalali year ' || {y} || ' is outside the supported years 1300-1500' "
            + f"WHEN {day} IS NULL THEN 'day ' || {d} || ' does not exist in ' || {ym} "
            + f"WHEN {h} > 23 THEN 'hour ' || {h} || ' does not exist' "
            + f"WHEN {mi} > 59 THEN 'minute ' || {mi} || ' does not exist' "
            + f"WHEN {s} > 59 THEN 'second ' || {s} || ' does not exist' "
            + f"WHEN {tz} IS NOT NULL AND ({offset} IS NULL OR abs({offset}) > 14 * 60) THEN "
            + f"'time zone offset ' || {tz} || ' does not exist' "
        )
        self.b.append(f"CASE {err}END AS {self.q('e_')}")
        value = (
            f"(CASE WHEN {fast} IS NOT NULL THEN {fast} "
            f"WHEN {day} IS NOT NULL AND {h} <= 23 AND {mi} <= 59 AND {s} <= 59 THEN {local} END)"
        )
        if c.type == "date":
            value = f"CAST({value} AS DATE)"
        self.b.append(f"{value} AS {self.q('v_')}")


def rule_checks(table: Table, ref: Callable[[str], str] = quote_ident) -> list[tuple[str, str, str]]:
    """(SQL condition that breaks it, column, reason) of each cross-column rule of ``table`` (not
    the parents), in order, over the typed columns ``ref(column name)``."""
    rules: list[tuple[str, str, str]] = []
    for r in table.rules:
        v, o, w = ref(r.column), ref(r.other or r.column), ref(r.when_column or r.column)
        when = f"{w} IN ({', '.join(quote_literal(x) for x in r.when_values)})" if r.when_values else "TRUE"
        if r.kind == "gte":
            rules.append((f"{v} < {o}", r.column, r.reason))
        elif r.kind == "required_when":
            rules.append((f"{when} AND {v} IS NULL", r.column, r.reason))
        elif r.kind == "gte_when":
            rules.append((f"{when} AND {v} < {o}", r.column, r.reason))
        elif r.kind == "net_amount_nonneg":
            q, u, d = (ref(c) for c in ("quantity", "unit_price", "discount"))
            net = f"{q} * {u} - coalesce({d}, 0)"
            too_large = "net amount (quantity × unit_price − discount) is too large to store (beyond ±1.8e308)"
            rules.append((f"NOT isfinite({net})", r.column, too_large))
            rules.append((f"{net} < 0", r.column, r.reason))
    return rules


def check_sql(
    table: Table,
    source: str,
    present: set[str],
    opts: CheckOptions,
) -> str:
    """SELECT over ``source`` giving, row by row, ``__fidx``, ``__line``,
    the first error of each row (``__reason``, ``__col``, ``__value``) and the typed ``v_*``
    columns."""
    cols = [_Col(c, c.name in present, opts, table.defaults.get(c.name)) for c in table.columns]
    pre_items = ", ".join(i for col in cols for i in col.pre)
    a_items = ", ".join(i for col in cols for i in col.a)
    a1_items = ", ".join(i for col in cols for i in col.a1)
    a2_items = ", ".join(i for col in cols for i in col.a2)
    a3_items = ", ".join(i for col in cols for i in col.a3)
    b_items = ", ".join(i for col in cols for i in col.b)
    rules = rule_checks(table, lambda c: quote_ident("v_" + c))
    errors = [quote_ident("e_" + c.name) for c in table.columns]
    rule_reason = " ".join(f"WHEN {cond} THEN {quote_literal(reason)}" for cond, _, reason in rules)
    col_name = " ".join(
        f"WHEN {quote_ident('e_' + c.name)} IS NOT NULL THEN {quote_literal(c.name)}" for c in table.columns
    )
    col_value = " ".join(
        f"WHEN {quote_ident('e_' + c.name)} IS NOT NULL THEN {_raw(c, present)}" for c in table.columns
    )
    rule_name = " ".join(f"WHEN {cond} THEN {quote_literal(col)}" for cond, col, _ in rules)
    rule_value = " ".join(f"WHEN {cond} THEN {_raw(table.column(col), present)}" for cond, col, _ in rules)
    # the first reason: the mapping's, then the columns' in order, then the rules'. The column
    # and value of a reason are only worked out for the (few) rows that have one. A value waiting
    # for its column's decimal mark comes before all (the table is then checked again).
    undecided = [col.undecided for col in cols if col.undecided]
    if undecided:
        b_items += f", ({' OR '.join(undecided)}) AS __und"
    first = f"CASE WHEN __und THEN {quote_literal(n.UNDECIDED)} END, " if undecided else ""
    reason = f"coalesce({first}__pre_reason, {', '.join(errors)}{', CASE ' + rule_reason + ' END' if rules else ''})"
    kept = ", ".join(quote_ident("v_" + c.name) for c in table.columns)
    return (
        f"WITH pre AS (SELECT *{', ' + pre_items if pre_items else ''} FROM {source}), "
        f"a AS (SELECT *, {a_items} FROM pre), "
        f"a0 AS (SELECT *{', ' + a1_items if a1_items else ''} FROM a), "
        f"a1 AS (SELECT *{', ' + a2_items if a2_items else ''} FROM a0), "
        f"a2 AS (SELECT *{', ' + a3_items if a3_items else ''} FROM a1), "
        f"b AS (SELECT a2.__line, a2.__fidx, a2.__pre_col, a2.__pre_reason, "
        f"{', '.join(_raw(c, present) + ' AS ' + quote_ident('r_' + c.name) for c in table.columns)}, {b_items} "
        f"FROM a2), "
        f"c AS (SELECT *, {reason} AS __reason FROM b) "
        f"SELECT __fidx, __line, __reason, "
        f"CASE WHEN __reason IS NULL THEN NULL WHEN __pre_reason IS NOT NULL THEN __pre_col "
        f"{col_name} {rule_name} END AS __col, "
        f"CASE WHEN __reason IS NULL OR __pre_reason IS NOT NULL THEN NULL {col_value} {rule_value} END AS __value, "
        f"{kept} "
        f"FROM c"
    )


def fill_defaults_sql(table: Table, checked: str, rows: str, cline: str) -> str | None:
    """An UPDATE of the checked rows (``checked``, canonical column names) that fills the
    defaults computed across rows, or None. ``rows`` reads them with their ``__line``;
    ``cline`` is the line of the row ``c`` being updated.

    An order line without ``line_no`` takes its position among its order's lines in its file.
    It touches only the orders with such a line (usually none), so the check itself stays a
    row-by-row projection that keeps the file's order without a sort.
    """
    if table.name != "order_lines":
        return None
    return (
        f"UPDATE {checked} AS c SET line_no = w.n FROM (SELECT l.__fidx, l.__line, row_number() OVER "
        f"(PARTITION BY l.__fidx, l.order_id ORDER BY l.__line) AS n FROM {rows} AS l SEMI JOIN "
        f"(SELECT DISTINCT __fidx, order_id FROM {checked} WHERE line_no IS NULL) AS o "
        f"ON l.__fidx = o.__fidx AND l.order_id = o.order_id) AS w "
        f"WHERE c.line_no IS NULL AND c.__fidx = w.__fidx AND {cline} = w.__line"
    )


def _raw(c: Column, present: set[str]) -> str:
    return quote_ident("r_" + c.name) if c.name in present else "CAST(NULL AS VARCHAR)"
