"""The limits of what one import reads, in one place (docs/import.md "Limits").

Each protects the machine from a file that would take its memory or hours of CPU (a spreadsheet
that declares a million empty rows, a zip of gigabytes of XML, a quote never closed). A file
beyond a limit is refused with one sentence naming the limit; nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportLimits:
    #: columns of one file (CSV header, sheet, Parquet schema); the canonical tables have 13 at most
    max_columns: int = 1_000
    #: bytes of one CSV record (a line, or several when a quoted field holds newlines)
    max_record_bytes: int = 16 * 1024**2
    #: bytes of a file's name (most file systems refuse longer names)
    max_name_bytes: int = 255
    #: uncompressed bytes of an XLSX workbook, all its zip entries together (checked before parsing)
    max_xlsx_uncompressed_bytes: int = 1024**3
    #: rows of one sheet (Excel's own limit is 1,048,576)
    max_xlsx_rows: int = 1_048_576
    #: rows of a sheet held in Python before they are written to the staging table (memory, not a limit)
    xlsx_batch_rows: int = 50_000


DEFAULT_LIMITS = ImportLimits()


def mib(n: int) -> str:
    """``n`` bytes for a message: ``16 MiB``, ``1 GiB``."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"
