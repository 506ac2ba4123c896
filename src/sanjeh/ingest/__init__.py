"""Import CSV, XLSX and Parquet files into the canonical tables; nothing read is lost.

``read`` stages files as text in the staging engine (``staging``: DuckDB), ``normalize``/``validate`` turn whole
columns into typed values and rejects in SQL, ``mapping`` turns a foreign export
into canonical tables, ``load`` writes everything in one transaction.
"""

from sanjeh.ingest.pipeline import ImportOptions, run_import
from sanjeh.ingest.results import ImportSummary, TableCounts, list_imports, list_rejects, list_warnings

__all__ = [
    "ImportOptions",
    "ImportSummary",
    "TableCounts",
    "list_imports",
    "list_rejects",
    "list_warnings",
    "run_import",
]
