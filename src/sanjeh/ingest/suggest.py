"""`sanjeh map suggest FILE...`: a draft mapping from a foreign export's headers and values.

Each file is read as an import reads it (:class:`~sanjeh.ingest.read.Reader`: encodings, XLSX,
Parquet). Every header is matched to a *concept* (:mod:`sanjeh.ingest.synonyms`: Persian and
English words), and the values confirm it or decide what the header cannot (ISO, Jalali text or
Excel serial dates, day-month or month-day, numbers, money words). The concepts found decide the
file's shape: a sales-invoice export (invoice number, item, quantity) feeds orders, order lines,
customers, products and reps; a CRM deals export (status, stage, pipeline) feeds opportunities,
customers and reps; a file whose headers are a canonical table's columns feeds that table.

Each line of the draft says how sure it is (``sure``: the header says it and the values agree;
``likely``: the header contains the word, or only the values say it; ``guess``). Where the draft
cannot tell (rials or tomans; day-month or month-day) it asks instead of guessing: the column is
written as ``{ask: ..., choices: {...}}``, which an import refuses until it is answered
(:func:`sanjeh.ingest.mapping.parse_mapping`), and the question is printed. Values of an enum
column are placed on canonical values by :data:`~sanjeh.ingest.synonyms.STATUS_WORDS`; the values
that are not are listed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sanjeh.errors import UserError
from sanjeh.i18n import digits
from sanjeh.i18n import t as message
from sanjeh.ingest import staging
from sanjeh.ingest import synonyms as syn
from sanjeh.ingest.read import Reader, expand_paths
from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME
from sanjeh.text import DIGITS

SAMPLE_ROWS = 20_000
_ISO = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[ T]+\d{1,2}:\d{2}(?::\d{2})?)?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_NUMBER = re.compile(r"^[+-]?\d[\d,٬]*(?:[.٫]\d+)?$")


@dataclass
class FileColumn:
    """A column of a file: its header, a sample of its non-empty values, its concept."""

    name: str
    values: list[str]
    concept: str | None = None
    level: str = ""  # how the concept was found: sure (the header is a synonym), likely (contains one)


@dataclass
class Line:
    table: str
    column: str
    spec: Any  # an expression (str) or a column spec (dict)
    level: str  # sure | likely | guess | ask
    why: str


@dataclass
class TableDraft:
    table: str
    source: str
    lines: list[Line] = field(default_factory=list)
    distinct: bool = False
    where: str | None = None


@dataclass
class Draft:
    """A draft mapping, its questions and what it left out; :meth:`yaml` is the file."""

    name: str
    currency: str | None
    tables: list[TableDraft]
    questions: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    def lines(self) -> list[Line]:
        return [line for t in self.tables for line in t.lines]

    def to_dict(self) -> dict[str, Any]:
        """The draft as JSON-ready data (:meth:`from_dict` reads it back)."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Draft:
        tables = [
            TableDraft(t["table"], t["source"], [Line(**ln) for ln in t["lines"]], t["distinct"], t["where"])
            for t in data["tables"]
        ]
        return Draft(data["name"], data["currency"], tables, data["questions"], data["unplaced"], data["unused"])

    def yaml(self, lang: str = "en") -> str:
        out = [f"# {message('map.header', lang)}", f"name: {self.name}"]
        if self.currency:
            out.append(f"currency: {self.currency}")
        for q in self.questions:
            out.append(f"# ? {q}")
        for u in self.unplaced:
            out.append(f"# ! {u}")
        for u in self.unused:
            out.append(f"# - {u}")
        out.append("tables:")
        for t in self.tables:
            out += [f"  - table: {t.table}", f"    from: {_q(t.source)}"]
            if t.where:
                out.append(f"    where: {_q(t.where)}")
            if t.distinct:
                out.append("    distinct: true")
            out.append("    columns:")
            for line in t.lines:
                note = f"  # {message('map.level.' + line.level, lang)}: {line.why}"
                if isinstance(line.spec, str):
                    out.append(f"      {line.column}: {_q(line.spec)}{note}")
                    continue
                out.append(f"      {line.column}:{note}")
                for k, v in line.spec.items():
                    if isinstance(v, dict):
                        out.append(f"        {k}:")
                        out += [f"          {_q(str(a))}: {_q(str(b))}" for a, b in v.items()]
                    else:
                        out.append(f"        {k}: {_q(str(v))}")
        return "\n".join(out) + "\n"


def _q(text: str) -> str:
    """A YAML scalar: a JSON string is a valid double-quoted YAML one."""
    return json.dumps(text, ensure_ascii=False)


def _bt(name: str) -> str:
    """A column name in an expression (backticks always: Persian names and spaces need them)."""
    return f"`{name}`"


def suggest(paths: list[Path], *, currency: str = "IRR", lang: str = "en", sheet: str | None = None) -> Draft:
    """A draft mapping for the files (or folders) ``paths``; ``currency`` is the workspace's (the
    Rial-or-Toman question is asked only in IRR); ``lang`` the language of its notes."""
    files = expand_paths([Path(p).expanduser() for p in paths])
    con = staging.connect()
    reader = Reader(con, sheet=sheet)
    draft = Draft(_name(files[0]), None, [])
    try:
        for path in files:
            cols = _read(con, reader, path)
            _File(draft, path.name, cols, currency.upper(), lang).build()
    finally:
        reader.close()
        con.close()
    if not draft.tables:
        raise UserError(message("map.nothing", lang, files=", ".join(p.name for p in files)))
    order = {t: i for i, t in enumerate(IMPORT_ORDER)}
    draft.tables.sort(key=lambda t: order[t.table])
    return draft


def _name(path: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40]
    return f"{slug}-draft" if slug else "draft"


def _read(con: Any, reader: Reader, path: Path) -> list[FileColumn]:
    sf = reader.stage(path)
    reader.load(sf)
    names = sf.sql_names
    if not names:
        return []
    rows = con.execute(f"SELECT {', '.join(names)} FROM {sf.relation} LIMIT {SAMPLE_ROWS}").fetchall()
    cols = []
    for i, name in enumerate(sf.columns):
        values = [str(r[i]).strip().translate(DIGITS) for r in rows if r[i] is not None and str(r[i]).strip()]
        cols.append(FileColumn(name, values))
    for c in cols:
        words = syn.header_words(c.name)
        for concept, names_ in syn.CONCEPTS.items():
            if words in names_:
                c.concept, c.level = concept, "sure"
                break
    taken = {c.concept for c in cols if c.concept}
    for c in cols:  # a header that contains a synonym (the longest), for a concept no header says exactly
        if c.concept:
            continue
        words = f" {syn.header_words(c.name)} "
        best = max(
            ((len(w), k) for k, ws in syn.CONCEPTS.items() if k not in taken for w in ws if f" {w} " in words),
            default=None,
        )
        if best:
            c.concept, c.level = best[1], "likely"
            taken.add(best[1])
    return cols


class _File:
    """The draft's tables for one file."""

    def __init__(self, draft: Draft, name: str, cols: list[FileColumn], currency: str, lang: str) -> None:
        self.draft, self.name, self.cols, self.currency, self.lang = draft, name, cols, currency, lang
        self.by: dict[str, FileColumn] = {}
        for c in cols:
            if c.concept and c.concept not in self.by:
                self.by[c.concept] = c
        self.used: set[str] = set()
        self._ask_date: tuple[str, dict[str, str]] | None = None

    def m(self, key: str, **kw: Any) -> str:
        return message(f"map.{key}", self.lang, **kw)

    def col(self, concept: str) -> FileColumn | None:
        c = self.by.get(concept)
        if c is not None:
            self.used.add(c.name)
        return c

    def build(self) -> None:
        has = set(self.by)
        if "invoice_no" in has and has & {"product_code", "product_name"} and has & {"quantity", "unit_price"}:
            self._invoices()
        elif has & {"status", "stage", "pipeline"} and "invoice_no" not in has:
            self._deals()
        else:
            self._canonical()
        for c in self.cols:
            if c.name not in self.used:
                self.draft.unused.append(self.m("unused", header=c.name, file=self.name))

    # -- lines -------------------------------------------------------------------------
    def line(self, t: TableDraft, column: str, concept: str, *, fallback: str | None = None) -> FileColumn | None:
        """The plain line ``column: `header``` of a concept (or of ``fallback``'s)."""
        c = self.col(concept) or (self.col(fallback) if fallback else None)
        if c is None:
            return None
        level = c.level if c.concept == concept else "likely"
        t.lines.append(Line(t.table, column, _bt(c.name), level, self.m("why.header", header=c.name)))
        return c

    def date_line(self, t: TableDraft, column: str, concept: str) -> bool:
        c = self.col(concept)
        if c is None:
            return False
        expr, level, why = self._date(c)
        if level == "ask":
            return True
        t.lines.append(Line(t.table, column, expr, min_level(level, c.level), why))
        return True

    def money_line(self, t: TableDraft, column: str, concept: str) -> bool:
        c = self.col(concept)
        if c is None:
            return False
        # a return listed with negative amounts: its amounts as positive numbers (arithmetic reads
        # numbers, so only then; a value with its currency word is read by the import itself)
        negative = any(v.startswith("-") for v in c.values)
        base = f"abs({_bt(c.name)})" if negative else _bt(c.name)
        unit = syn.unit_note(c.name) or _value_unit(c.values)
        why = self.m("why.header", header=c.name)
        if self.currency != "IRR" or unit == "rial" or (_has_unit_words(c.values) and not negative):
            t.lines.append(Line(t.table, column, base, c.level, why))
            if unit and self.currency == "IRR":
                self.draft.currency = "IRR"
        elif unit == "toman":
            t.lines.append(Line(t.table, column, f"{base} * 10", c.level, self.m("why.toman", header=c.name)))
            self.draft.currency = "IRR"
        else:
            question = self.m("ask.money", header=c.name)
            choices = {self.m("choice.rial"): base, self.m("choice.toman"): f"{base} * 10"}
            t.lines.append(Line(t.table, column, {"ask": question, "choices": choices}, "ask", question))
            self.draft.questions.append(f"{t.table}.{column}: {question}")
        return True

    def _date(self, c: FileColumn) -> tuple[str, str, str]:
        """(expression, level, why) of a date column; level ``ask`` when day and month cannot be told
        apart (the question is then recorded and the line is written by the caller's table)."""
        vals = c.values
        name = _bt(c.name)
        if not vals:
            return name, "guess", self.m("why.no_values", header=c.name)
        if all(_ISO.match(v) for v in vals):
            jalali = int(vals[0][:4]) < 1700
            return name, "sure", self.m("why.jalali" if jalali else "why.iso", header=c.name, example=vals[0])
        dmy = [_DMY.match(v) for v in vals]
        if all(dmy):
            sep = dmy[0].group(2)  # type: ignore[union-attr]
            first = max(int(d.group(1)) for d in dmy if d)
            second = max(int(d.group(3)) for d in dmy if d)
            day_first = f"date({name}, '%d{sep}%m{sep}%Y')"
            month_first = f"date({name}, '%m{sep}%d{sep}%Y')"
            if first > 12 >= second:
                return day_first, "sure", self.m("why.day_first", header=c.name, example=vals[0])
            if second > 12 >= first:
                return month_first, "sure", self.m("why.month_first", header=c.name, example=vals[0])
            question = self.m("ask.date_order", header=c.name, example=vals[0])
            self._ask_date = (
                question,
                {self.m("choice.day_month"): day_first, self.m("choice.month_day"): month_first},
            )
            return "", "ask", question
        if all(_SERIAL.match(v) and 1 <= float(v) <= 2958465 for v in vals):
            return f"date({name}, 'excel')", "likely", self.m("why.excel", header=c.name, example=vals[0])
        return name, "guess", self.m("why.unknown_dates", header=c.name, example=vals[0])

    def ask_date(self, t: TableDraft, column: str, concept: str) -> None:
        """After :meth:`date_line`: the question of a day-month/month-day column, if it had one."""
        asked = self._ask_date
        if asked is None:
            return
        question, choices = asked
        t.lines.append(Line(t.table, column, {"ask": question, "choices": choices}, "ask", question))
        self.draft.questions.append(f"{t.table}.{column}: {question}")
        self._ask_date = None

    def dated(self, t: TableDraft, column: str, concept: str) -> bool:
        self._ask_date = None
        found = self.date_line(t, column, concept)
        self.ask_date(t, column, concept)
        return found

    def enum_line(self, t: TableDraft, column: str, c: FileColumn, words: dict[str, tuple[str, ...]]) -> list[str]:
        """A value map for an enum column from its distinct values; the values it could not place."""
        mapping: dict[str, str] = {}
        unplaced: list[str] = []
        for v in dict.fromkeys(c.values):
            hit = syn.place(v, words)
            if hit is None:
                unplaced.append(v)
            elif v.lower() != hit:
                mapping[v] = hit
        spec: dict[str, Any] = {"column": c.name}
        if mapping:
            spec["map"] = mapping
        level = "sure" if not unplaced and c.level == "sure" else "likely"
        why = self.m("why.values_placed", header=c.name, n=digits(str(len(mapping)), self.lang))
        t.lines.append(Line(t.table, column, spec, level, why))
        if unplaced:
            self.draft.unplaced.append(
                self.m(
                    "unplaced",
                    header=c.name,
                    target=f"{t.table}.{column}",
                    allowed=", ".join(words),
                    values=", ".join(unplaced[:20]),
                )
            )
        return [v for v, k in mapping.items() if k == "cancelled"]

    def add(self, t: TableDraft) -> TableDraft:
        self.draft.tables.append(t)
        return t

    # -- shapes ------------------------------------------------------------------------
    def _people(self, customer: bool = True) -> tuple[str | None, str | None]:
        """customers and reps tables of the file (distinct); the SQL of their keys."""
        cust_key = self.by.get("customer_code") or self.by.get("customer_name")
        rep = self.by.get("salesperson")
        if customer and cust_key is not None:
            t = self.add(TableDraft("customers", self.name, distinct=True, where=f"not empty({_bt(cust_key.name)})"))
            self.line(t, "customer_id", "customer_code", fallback="customer_name")
            self.line(t, "name", "customer_name", fallback="customer_code")
            self.line(t, "region", "region")
        if rep is not None:
            t = self.add(TableDraft("reps", self.name, distinct=True, where=f"not empty({_bt(rep.name)})"))
            self.line(t, "rep_id", "salesperson")
            self.line(t, "name", "salesperson")
        return (_bt(cust_key.name) if cust_key else None), (_bt(rep.name) if rep else None)

    def _invoices(self) -> None:
        self._people()
        product = self.by.get("product_code") or self.by.get("product_name")
        if product is not None:
            t = self.add(TableDraft("products", self.name, distinct=True, where=f"not empty({_bt(product.name)})"))
            self.line(t, "product_id", "product_code", fallback="product_name")
            self.line(t, "name", "product_name", fallback="product_code")
        orders = self.add(TableDraft("orders", self.name, distinct=True))
        self.line(orders, "order_id", "invoice_no")
        if not self.dated(orders, "ordered_at", "invoice_date"):
            self.dated(orders, "ordered_at", "created")
        self.line(orders, "customer_id", "customer_code", fallback="customer_name")
        self.line(orders, "rep_id", "salesperson")
        self.line(orders, "region", "region")
        kind = self.col("invoice_type") or self.col("status")
        returns: list[str] = []
        if kind is not None:
            returns = self.enum_line(orders, "status", kind, syn.STATUS_WORDS["orders"])
        else:
            orders.lines.append(Line("orders", "status", {"value": "fulfilled"}, "guess", self.m("why.all_sales")))
        date_col = self.by.get("invoice_date") or self.by.get("created")
        # the rows that are returns, when the file says which (their negative numbers are made positive)
        is_return = " or ".join(f"trim({_bt(kind.name)}) = {_sq(v)}" for v in returns) if kind is not None else ""
        if is_return and kind is not None and date_col is not None:
            date_expr = next((ln.spec for ln in orders.lines if ln.column == "ordered_at"), _bt(date_col.name))
            if isinstance(date_expr, str):
                why = self.m("why.returns", header=kind.name, values=", ".join(returns))
                orders.lines.append(
                    Line("orders", "cancelled_at", f"if({is_return}, {date_expr}, null)", "likely", why)
                )
                orders.lines.append(
                    Line("orders", "cancel_reason", f"if({is_return}, {_bt(kind.name)}, null)", "likely", why)
                )
        lines = self.add(TableDraft("order_lines", self.name))
        self.line(lines, "order_id", "invoice_no")
        self.line(lines, "product_id", "product_code", fallback="product_name")
        q = self.col("quantity")
        if q is not None:
            negative = any(v.startswith("-") for v in q.values)
            expr = f"abs({_bt(q.name)})" if negative else _bt(q.name)
            why = self.m("why.negative" if negative else "why.header", header=q.name)
            if negative and is_return:  # only a return's: a sale of −5 is rejected, not sold as 5
                expr = f"if({is_return}, abs({_bt(q.name)}), {_bt(q.name)})"
                why = self.m("why.negative_returns", header=q.name, values=", ".join(returns))
            lines.lines.append(Line("order_lines", "quantity", expr, q.level, why))
        self.money_line(lines, "unit_price", "unit_price")
        self.money_line(lines, "discount", "discount")
        for concept in ("tax", "line_total"):  # not imported: the net is quantity x unit price - discount
            c = self.col(concept)
            if c is not None:
                self.draft.unused.append(self.m("not_imported", header=c.name))

    def _deals(self) -> None:
        cust, rep = self._people()
        t = self.add(TableDraft("opportunities", self.name))
        if not self.line(t, "opportunity_id", "deal_id"):
            title = self.by.get("deal_title")
            question = self.m("ask.deal_id")
            choices = {self.m("choice.title"): _bt(title.name)} if title else {}
            t.lines.append(Line(t.table, "opportunity_id", {"ask": question, "choices": choices}, "ask", question))
            self.draft.questions.append(f"opportunities.opportunity_id: {question}")
        self.dated(t, "created_at", "created")
        if cust:
            self.line(t, "customer_id", "customer_code", fallback="customer_name")
        if rep:
            self.line(t, "rep_id", "salesperson")
        self.line(t, "source", "source")
        self.line(t, "product_id", "product_code", fallback="product_name")
        status = self.col("status")
        if status is not None:
            self.enum_line(t, "status", status, syn.STATUS_WORDS["opportunities"])
        stage, pipeline = self.col("stage"), self.col("pipeline")
        if stage is not None and pipeline is not None and len(set(pipeline.values)) > 1:
            why = self.m("why.pipeline", header=pipeline.name)
            expr = f"concat({_bt(pipeline.name)}, ' / ', {_bt(stage.name)})"
            t.lines.append(Line(t.table, "stage", expr, "likely", why))
        elif stage is not None:
            self.line(t, "stage", "stage")
        if not self.money_line(t, "amount", "amount"):
            self.money_line(t, "amount", "line_total")
        self.dated(t, "closed_at", "closed")
        self.line(t, "lost_reason", "lost_reason")

    def _canonical(self) -> None:
        """A file whose headers are a canonical table's columns (``orders.csv`` of another system)."""
        from sanjeh.ingest.pipeline import header_key

        best, hits = None, 0
        for name in IMPORT_ORDER:
            table = TABLES_BY_NAME[name]
            n = sum(1 for c in self.cols if header_key(c.name) in table.column_names)
            required = all(any(header_key(c.name) == r for c in self.cols) for r in table.required)
            if required and n > hits:
                best, hits = name, n
        if best is None:
            return
        t = self.add(TableDraft(best, self.name))
        for c in self.cols:
            key = header_key(c.name)
            if key in TABLES_BY_NAME[best].column_names and key not in {ln.column for ln in t.lines}:
                self.used.add(c.name)
                t.lines.append(Line(best, key, _bt(c.name), "sure", self.m("why.canonical", header=c.name)))


def _sq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_unit(values: list[str]) -> str | None:
    for v in values[:200]:
        unit = syn.unit_note(v)
        if unit:
            return unit
    return None


def _has_unit_words(values: list[str]) -> bool:
    """The values carry their unit (``1,200 تومان``): the import reads it by itself."""
    return bool(values) and all(syn.unit_note(v) for v in values[:200])


_LEVELS = ("sure", "likely", "guess")


def min_level(a: str, b: str) -> str:
    """The less sure of two levels."""
    return _LEVELS[max(_LEVELS.index(a) if a in _LEVELS else 2, _LEVELS.index(b) if b in _LEVELS else 2)]
