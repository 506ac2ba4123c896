"""A report as one workbook: a summary sheet (the scorecard) and one sheet per KPI.

Numbers stay numbers with formats that say their unit: amounts in the workspace's money (its
name in the format, thousands separated), rates as percentages, the change of a rate in
percentage points. A period is its label as text (Jalali in a Jalali workspace) with a real
date beside it, so a spreadsheet sorts and filters by it. Sheets read right to left in Persian;
headers stay on top (frozen). Text is always text: imported values starting with ``=``, ``+``,
``-`` or ``@`` are stored as strings, never as formulas.

Written with XlsxWriter (a streaming writer: a workbook of the whole catalogue in about a third of
openpyxl's time, docs/reports.md); openpyxl still reads workbooks (the import, the tests).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any

from sanjeh.calendar import parse_period
from sanjeh.i18n import member_label, period_label, t, t_or
from sanjeh.kpis.columns import STEP, Columns, name_column
from sanjeh.reports.build import Page, Report

_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _money_format(report: Report) -> str:
    decimals = "." + "0" * report.money.decimals if report.money.decimals else ""
    return f'#,##0{decimals} "{report.money.word(report.lang)}"'


def number_format(unit: str, report: Report) -> str:
    """The spreadsheet format of a unit (the value written by :func:`cell_value`)."""
    if unit == "money":
        return _money_format(report)
    if unit == "rate":
        return "0.0%"
    if unit == "points":
        word = t("report.points", report.lang)
        return f'+0.0" {word}";-0.0" {word}";0.0" {word}"'
    if unit == "change":
        return "+0.0%;-0.0%;0.0%"
    if unit == "count":
        return "#,##0"
    if unit in ("days", "hours"):
        return f'#,##0.0" {t("report." + unit, report.lang)}"'
    return "#,##0.00"


def cell_value(v: Any, unit: str, report: Report) -> Any:
    """A number as the workbook stores it: amounts in the workspace's money unit (tomans ÷ 10),
    percentage points as points (0.031 -> 3.1)."""
    if not isinstance(v, int | float) or isinstance(v, bool):
        return v
    if unit == "money":
        return v / report.money.divisor
    if unit == "points":
        return v * 100
    return v


def _sheet_name(title: str, taken: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", title).strip()[:31] or "KPI"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


class _Book:
    """One workbook being written: its formats made once each, and a writer of any value."""

    def __init__(self, report: Report) -> None:
        import xlsxwriter

        self.report = report
        self.buf = io.BytesIO()
        # text is never read as a formula, a number or a link: a name like ``=cmd|…`` stays text
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
        self.wb = xlsxwriter.Workbook(self.buf, {**options, "strings_to_urls": False})
        self.header = self.wb.add_format({"bold": True, "bg_color": "#E8EEF1", "text_wrap": True, "valign": "vcenter"})
        self.bold = self.wb.add_format({"bold": True})
        self._formats: dict[str, Any] = {}
        self.taken: set[str] = set()

    def fmt(self, number_format: str) -> Any:
        if number_format not in self._formats:
            self._formats[number_format] = self.wb.add_format({"num_format": number_format})
        return self._formats[number_format]

    def sheet(self, title: str) -> Any:
        ws = self.wb.add_worksheet(_sheet_name(title, self.taken))
        if self.report.lang == "fa":
            ws.right_to_left()
        return ws

    def put(self, ws: Any, row: int, col: int, v: Any, number_format: str | None = None) -> None:
        """``v`` at (row, col), zero-based: text as text, numbers and dates as numbers (a number
        that is not finite is left empty, as an empty cell)."""
        fmt = self.fmt(number_format) if number_format else None
        if v is None:
            return
        if isinstance(v, bool):
            ws.write_boolean(row, col, v, fmt)
        elif isinstance(v, int | float) or type(v).__name__ == "Decimal":
            if math.isfinite(float(v)):
                ws.write_number(row, col, float(v), fmt)
        elif isinstance(v, dt.date):
            ws.write_datetime(row, col, v, fmt or self.fmt("yyyy-mm-dd"))
        else:
            ws.write_string(row, col, _clean(str(v)), fmt)

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def workbook(report: Report) -> bytes:
    book = _Book(report)
    _summary(book, book.sheet(t("report.summary", report.lang)), report)
    for page in report.pages:
        title = page.kpi.title.get(report.lang) or page.kpi.name
        _kpi_sheet(book, book.sheet(title), page, report)
    return book.close()


def _header(book: _Book, ws: Any, titles: list[str], widths: list[int] | None = None) -> None:
    for i, title in enumerate(titles):
        ws.write_string(0, i, title, book.header)
        ws.set_column(i, i, widths[i] if widths else max(12, min(40, len(title) + 4)))
    ws.freeze_panes(1, 0)


def _summary(book: _Book, ws: Any, report: Report) -> None:
    lang = report.lang
    sc = report.scorecard
    keys = ("kpi", "measure", "value", "target", "attainment", "vs_previous", "vs_year_ago", "status")
    _header(book, ws, [t(f"report.col.{k}", lang) for k in keys], [34, 24, 22, 22, 12, 16, 16, 14])
    cards = [*sc.get("primary", []), *sc.get("secondary", [])]
    r = 0
    for r, card in enumerate(cards, start=1):
        unit = str(card.get("unit") or "number")
        points = card.get("change_in") == "points"
        change_unit = "points" if points else "change"
        change = card.get("change") if points else card.get("change_rate")
        yoy = card.get("year_ago_change") if points else card.get("year_ago_change_rate")
        status = (card.get("data") or {}).get("status", "ok")
        measure = str(card.get("measure") or "")
        kpi = report.catalogue.get(str(card.get("kpi")))
        measure_title = measure
        if kpi is not None and measure in {m.name for m in kpi.measures}:
            measure_title = kpi.measure(measure).title.get(lang) or measure
        cells: list[tuple[Any, str | None]] = [
            ((card.get("title") or {}).get(lang) or card.get("kpi"), None),
            (measure_title, None),
            (cell_value(card.get("value"), unit, report), number_format(unit, report)),
            (cell_value(card.get("target"), unit, report), number_format(unit, report)),
            (card.get("attainment"), number_format("rate", report)),
            (cell_value(change, change_unit, report), number_format(change_unit, report)),
            (cell_value(yoy, change_unit, report), number_format(change_unit, report)),
            (t_or(f"report.status.{status}", lang, status), None),
        ]
        for col, (v, f) in enumerate(cells):
            book.put(ws, r, col, v, f)
    r += 2  # a blank row, then what stands out
    ws.write_string(r, 0, t("insight.heading", lang), book.bold)
    insights = sc.get("insights") or []
    for text in [item["text"][lang] for item in insights] or [t("insight.none", lang)]:
        r += 1
        book.put(ws, r, 0, text)
    r += 2
    book.put(ws, r, 0, t("report.period", lang))
    book.put(ws, r, 1, period_label(report.period, lang))
    book.put(ws, r + 1, 0, t("report.period_start", lang))
    book.put(ws, r + 1, 1, parse_period(report.period).start)


def _kpi_sheet(book: _Book, ws: Any, page: Page, report: Report) -> None:
    from sanjeh.web import views

    lang, k, result = report.lang, page.kpi, page.result
    rows = list(result.get("rows") or [])
    dims = list(result.get("by") or [])
    info = Columns.of(result, k)
    columns = [c.name for c in views.result_table(result, k, lang, report.money).columns if c.name != STEP]
    titles = [t("report.col.period", lang), t("report.col.date", lang)]
    for col in columns:
        unit = info.unit(col)
        titles.append(views.title_of(info, col, k, lang) + (f" ({report.money.word(lang)})" if unit == "money" else ""))
    titles += [t("col.id_of", lang, dim=t_or(f"dim.{d}", lang, d)) for d in dims]
    _header(book, ws, titles)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 12)
    units = {col: info.unit(col) for col in columns}
    for n, r in enumerate(rows, start=1):
        label = str(r.get("period") or report.period)
        book.put(ws, n, 0, period_label(label, lang))
        book.put(ws, n, 1, parse_period(label).start)
        for i, col in enumerate(columns, start=2):
            v = r.get(col)
            if col in dims:
                book.put(ws, n, i, member_label(col, v, r.get(name_column(col)), lang))
            elif units[col] == "text":
                book.put(ws, n, i, v)
            else:
                book.put(ws, n, i, cell_value(v, units[col], report), number_format(units[col], report))
        for i, d in enumerate(dims, start=2 + len(columns)):
            book.put(ws, n, i, r.get(d))


def _clean(v: Any) -> Any:
    if isinstance(v, str):  # XML cannot hold control characters
        return "".join(ch for ch in v if ch in "\t\n\r" or ord(ch) >= 32)
    return v
