"""The import's staging engine: DuckDB, whatever the warehouse.

This is the one module outside ``warehouse.py`` that names DuckDB (STYLE.md; tests/test_layers.py
holds it): an import reads, normalises and checks its files in DuckDB SQL, and the other ingest
modules reach DuckDB only through :class:`Staging` and :func:`connect`. A DuckDB warehouse lends
its own connection (``Warehouse.staging_connection``): the checked rows are then parked in the
warehouse file and moved into place without a copy. Any other warehouse gets a DuckDB of the
import's own, whose rows it receives as Arrow tables.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sanjeh.warehouse import Warehouse, quote_literal

#: What a failed statement of the staging engine raises.
StagingError = duckdb.Error

#: DuckDB's memory during an import (it spills to disk beyond this); see docs/import.md.
#: The cap grows with the input (a third of its bytes) from the floor to the ceiling:
#: some operators (the hash tables of the key joins and aggregates, the sort of a wide
#: table) need memory that grows with the rows and cannot all spill.
MEMORY_LIMIT_BYTES = 1024**3
MEMORY_LIMIT_MAX_BYTES = 2 * 1024**3


def memory_limit(input_bytes: int) -> int:
    """DuckDB's ``memory_limit`` (bytes) for an import reading ``input_bytes`` of files."""
    return max(MEMORY_LIMIT_BYTES, min(MEMORY_LIMIT_MAX_BYTES, input_bytes // 3))


def _bytes(setting: str) -> float:
    """A DuckDB size setting ("19.0 GiB", "512.0 MiB", "1000 bytes") in bytes (inf when unknown)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGTP]?)(i?)(B|bytes)?\s*", setting, re.IGNORECASE)
    if not m:
        return float("inf")
    power = " KMGTP".index(m.group(2).upper() or " ")
    return float(m.group(1)) * float(1024 if m.group(3) else 1000) ** power


def connect() -> Any:
    """A DuckDB of its own (in memory, spilling to a temp directory) for reading files."""
    return duckdb.connect(":memory:")


@dataclass
class Staging:
    """The connection an import stages, checks and parks its rows in."""

    con: Any
    #: the warehouse's own connection: parked tables are tables of the warehouse
    shared: bool
    _restore: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, wh: Warehouse) -> Staging:
        own = wh.staging_connection()
        staging = cls(own, True) if own is not None else cls(connect(), False)
        staging.con.execute("SET enable_progress_bar = false")
        return staging

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        """A query's rows as an Arrow table."""
        return self.con.execute(sql).to_arrow_table()

    @contextlib.contextmanager
    def registered(self, name: str, data: pa.Table) -> Iterator[str]:
        """``data`` readable as the view ``name`` while the block runs."""
        self.con.register(name, data)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def copy_in(self, name: str, data: pa.Table) -> None:
        """A temp table ``name`` (SQL text) holding ``data``."""
        view = "__sanjeh_copy_in"
        with self.registered(view, data):
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {view}")

    def limit_memory(self, files: Sequence[Path], tmp_dir: str) -> None:
        """Bound DuckDB's memory during the import (:func:`memory_limit` of the input's size):
        staged and checked tables spill to disk (the connection's temp directory: ``<warehouse>.tmp``
        in the workspace, else ``tmp_dir``) instead of growing with the data. Restored by :meth:`close`."""
        rows = dict(
            self.con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'temp_directory')"
            ).fetchall()
        )
        old_limit = str(rows.get("memory_limit") or "")
        size = 0
        for f in files:
            with contextlib.suppress(OSError):
                size += f.stat().st_size
        limit = memory_limit(size)
        if _bytes(old_limit) > limit:
            self.con.execute(f"SET memory_limit = {quote_literal(f'{limit // 1024**2}MiB')}")
            self._restore.append(f"SET memory_limit = {quote_literal(old_limit)}")
        if not rows.get("temp_directory"):
            self.con.execute(f"SET temp_directory = {quote_literal(tmp_dir)}")
            self._restore.append("RESET temp_directory")

    def drop_quietly(self, names: Sequence[str]) -> None:
        """Drop these tables (SQL text) if they exist; a failure (the connection is broken) is ignored."""
        for name in names:
            with contextlib.suppress(StagingError):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        """Restore the settings changed for the import; close the connection if it is the import's own."""
        for stmt in self._restore:
            with contextlib.suppress(StagingError):
                self.con.execute(stmt)
        self._restore.clear()
        if not self.shared:
            self.con.close()
