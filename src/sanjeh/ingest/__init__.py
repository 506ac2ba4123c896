"""Import CSV, XLSX and Parquet files into the canonical tables; nothing read is lost.

``read`` stages files as text in DuckDB, ``normalize``/``validate`` turn whole
columns into typed values and rejects in SQL, ``mapping`` turns a foreign export
into canonical tables, ``load`` writes everything in one transaction.
"""

from sanjeh.ingest.pipeline import run_import
from sanjeh.ingest.results import ImportSummary, TableCounts, list_rejects, list_warnings

__all__ = ["ImportSummary", "TableCounts", "list_rejects", "list_warnings", "run_import"]
