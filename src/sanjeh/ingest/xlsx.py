"""Rows of an XLSX sheet, read as a stream within the import's limits.

Before anything is parsed, the workbook's zip entries are added up (what they unpack to, as the
zip declares it; the zip reader never unpacks more than that). The sheet is then read row by
row, ignoring the size the sheet *declares* for itself (``<dimension ref="A1:XFD1048576">``
would otherwise make every row 16,384 cells wide and pad a million rows): only the cells that
are there count, and a row with a cell beyond the column limit refuses the file.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sanjeh.errors import ImportRefused, UserError
from sanjeh.ingest.limits import ImportLimits, mib


def check_zip(path: Path, limits: ImportLimits) -> None:
    """Refuse a workbook that is no zip, or whose entries unpack to more than the limit."""
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRefused(
            f"{path.name} cannot be read as an Excel workbook (it is damaged, or not an .xlsx file); "
            "nothing was imported",
            details={"file": path.name},
        ) from None
    if unpacked > limits.max_xlsx_uncompressed_bytes:
        raise ImportRefused(
            f"{path.name} unpacks to {mib(unpacked)}, more than the {mib(limits.max_xlsx_uncompressed_bytes)} an "
            "import reads from a workbook; save the sheet as CSV (or split it); nothing was imported",
            details={"file": path.name, "bytes": unpacked, "limit": limits.max_xlsx_uncompressed_bytes},
        )


def sheet_rows(path: Path, sheet: str | None, limits: ImportLimits) -> Iterator[tuple[int, list[str | None]]]:
    """(row number, cell texts without the empty cells at the end) of each non-empty row."""
    import openpyxl

    check_zip(path, limits)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused(
            f"{path.name} cannot be read as an Excel workbook ({type(exc).__name__}); nothing was imported",
            details={"file": path.name},
        ) from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise UserError(f"{path.name} has no sheet {sheet!r}; its sheets are: {', '.join(wb.sheetnames)}")
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):  # read-only sheets: read the cells, not the declared size
            ws.reset_dimensions()
        line = 0
        try:
            for line, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if line > limits.max_xlsx_rows:
                    raise ImportRefused(
                        f"{path.name} has more than {limits.max_xlsx_rows:,} rows, the most an import reads from "
                        "a sheet; nothing was imported",
                        details={"file": path.name, "limit": limits.max_xlsx_rows},
                    )
                if len(row) > limits.max_columns:
                    raise ImportRefused(
                        f"{path.name}: row {line} has a cell in column {len(row):,}, beyond the "
                        f"{limits.max_columns:,} columns an import reads; delete the columns after the data "
                        "(or save the sheet as CSV); nothing was imported",
                        details={"file": path.name, "line": line, "limit": limits.max_columns},
                    )
                values = [cell_text(v) for v in row]
                while values and values[-1] is None:
                    values.pop()
                if values:
                    yield line, values
        except (ImportRefused, UserError):
            raise
        except Exception as exc:  # a damaged sheet found while reading it
            raise ImportRefused(
                f"{path.name} cannot be read as an Excel workbook after row {line} ({type(exc).__name__}); "
                "nothing was imported",
                details={"file": path.name, "line": line},
            ) from exc
    finally:
        wb.close()


def cell_text(v: Any) -> str | None:
    """An XLSX cell as text; date cells in ISO form so the date rules read them."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)
