"""The one CSV writer of every table Sanjeh exports (dashboard, API, CLI).

Imported text reaches exports as it was typed (a customer called ``=HYPERLINK(…)``, a
rejected value ``@SUM(1+1)``), and a spreadsheet opening the CSV would run it as a
formula. So a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading ``'`` (the spreadsheet shows the text, runs nothing).
Numbers stay numbers: an ``int`` or ``float`` (a negative one too) is written as it is,
and so is text that is a plain decimal number (``-12``, ``+3.5``, ``1e-3``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Characters a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: Byte-order mark that makes Excel read a CSV as UTF-8 (Persian text stays readable).
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """The value as a CSV cell that no spreadsheet runs as a formula (``None`` -> empty)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, *, bom: bool = False) -> str:
    """Rows (dicts) as CSV text: a header of ``columns`` (default: the first row's keys), then
    one line per row, every cell through :func:`safe_cell`. ``bom`` prefixes the UTF-8 BOM
    (downloads from the dashboard, which spreadsheets open)."""
    rows = list(rows)
    cols = list(columns) if columns else (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(c) for c in cols])
    for r in rows:
        w.writerow([safe_cell(r.get(c)) for c in cols])
    return (BOM if bom else "") + buf.getvalue()


def xlsx_bytes(
    rows: Iterable[Sequence[Any]], titles: Sequence[str], *, sheet: str = "Sanjeh", rtl: bool = False
) -> bytes:
    """A workbook of one sheet: a header of ``titles`` (in the reader's language), then the rows with
    numbers as numbers (a spreadsheet sums and sorts them). ``rtl`` sets the sheet right to left
    (Persian). Text is always text: a cell starting with ``=`` is stored as a string, never as a
    formula, so nothing imported runs when the file is opened."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.sheet_view.rightToLeft = rtl
    ws.append([str(x) for x in titles])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_xlsx_value(v) for v in r])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, title in enumerate(titles, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(10, min(40, len(str(title)) + 4))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool | int | float):
        return v
    text = str(v)
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)  # XML cannot hold control characters
