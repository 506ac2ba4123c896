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
