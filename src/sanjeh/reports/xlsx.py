"""A report as one workbook: a summary sheet (the scorecard) and one sheet per KPI.

Numbers stay numbers with formats that say their unit: amounts in the workspace's money (its
name in the format, thousands separated), rates as percentages, the change of a rate in
percentage points. A period is its label as text (Jalali in a Jalali workspace) with a real
date beside it, so a spreadsheet sorts and filters by it. Sheets read right to left in Persian;
headers stay on top (frozen). Text is always text: imported values starting with ``=``, ``+``,
``-`` or ``@`` are stored as strings, never as formulas.
"""

from __future__ import annotations

import io
import re
from typing import Any

from sanjeh.calendar import parse_period
from sanjeh.export import FORMULA_STARTS
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


def workbook(report: Report) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    summary = wb.active
    assert summary is not None
    taken: set[str] = set()
    summary.title = _sheet_name(t("report.summary", report.lang), taken)
    _summary(summary, report)
    for page in report.pages:
        title = page.kpi.title.get(report.lang) or page.kpi.name
        _kpi_sheet(wb.create_sheet(_sheet_name(title, taken)), page, report)
    for ws in wb.worksheets:
        ws.sheet_view.rightToLeft = report.lang == "fa"
        _text_not_formulas(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header(ws: Any, titles: list[str], widths: list[int] | None = None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws.append(titles)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF1")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = "A2"
    for i, title in enumerate(titles, start=1):
        width = widths[i - 1] if widths else max(12, min(40, len(title) + 4))
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width


def _summary(ws: Any, report: Report) -> None:
    lang = report.lang
    sc = report.scorecard
    keys = ("kpi", "measure", "value", "target", "attainment", "vs_previous", "vs_year_ago", "status")
    _header(ws, [t(f"report.col.{k}", lang) for k in keys], [34, 24, 22, 22, 12, 16, 16, 14])
    cards = [*sc.get("primary", []), *sc.get("secondary", [])]
    for card in cards:
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
        row = [
            (card.get("title") or {}).get(lang) or card.get("kpi"),
            measure_title,
            cell_value(card.get("value"), unit, report),
            cell_value(card.get("target"), unit, report),
            card.get("attainment"),
            cell_value(change, change_unit, report),
            cell_value(yoy, change_unit, report),
            t_or(f"report.status.{status}", lang, status),
        ]
        ws.append(row)
        r = ws.max_row
        for col, u in ((3, unit), (4, unit), (5, "rate"), (6, change_unit), (7, change_unit)):
            ws.cell(row=r, column=col).number_format = number_format(u, report)
    insights = sc.get("insights") or []
    ws.append([])
    ws.append([t("insight.heading", lang)])
    from openpyxl.styles import Font

    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    if not insights:
        ws.append([t("insight.none", lang)])
    for item in insights:
        ws.append([item["text"][lang]])
    ws.append([])
    ws.append([t("report.period", lang), period_label(report.period, lang)])
    ws.append([t("report.period_start", lang), parse_period(report.period).start])
    ws.cell(row=ws.max_row, column=2).number_format = "yyyy-mm-dd"


def _kpi_sheet(ws: Any, page: Page, report: Report) -> None:
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
    _header(ws, titles)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 12
    for r in rows:
        label = str(r.get("period") or report.period)
        out: list[Any] = [period_label(label, lang), parse_period(label).start]
        for col in columns:
            v = r.get(col)
            out.append(member_label(col, v, r.get(name_column(col)), lang) if col in dims else v)
        out += [r.get(d) for d in dims]
        ws.append([_clean(v) for v in out])
        n = ws.max_row
        ws.cell(row=n, column=2).number_format = "yyyy-mm-dd"
        for i, col in enumerate(columns, start=3):
            unit = info.unit(col)
            if col in dims or unit == "text":
                continue
            cell = ws.cell(row=n, column=i)
            cell.value = cell_value(cell.value, unit, report)
            cell.number_format = number_format(unit, report)


def _clean(v: Any) -> Any:
    if isinstance(v, str):  # XML cannot hold control characters
        return "".join(ch for ch in v if ch in "\t\n\r" or ord(ch) >= 32)
    return v


def _text_not_formulas(ws: Any) -> None:
    """Every text cell is stored as text: ``=cmd|…`` imported as a name is shown, never run."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"
