"""Write an import into the warehouse: one transaction, all tables, rejects, warnings and the log row."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from sanjeh.errors import ImportRefused
from sanjeh.ingest.results import ImportSummary, TableCounts
from sanjeh.ingest.staging import Staging
from sanjeh.schema import SYSTEM_TABLES, TABLES_BY_NAME, children
from sanjeh.warehouse import Warehouse, quote_ident


class Loader:
    def __init__(self, wh: Warehouse, staging: Staging, progress: Callable[[str, float], None]) -> None:
        self.wh = wh
        self.staging = staging
        self.progress = progress

    def load(
        self,
        *,
        order: list[str],
        accepted: dict[str, str],
        replace: bool,
        force: bool,
        rejects: str,
        warnings: str,
        log: dict[str, Any],
        summary: ImportSummary,
        marks: list[tuple[str, str | None]] | None = None,
    ) -> None:
        """Upsert (or replace) every table, then store rejects, warnings and the ``_imports`` row
        (``log`` and the ``summary``, which gets the rows of other tables deleted with them).

        ``accepted`` names each table's parked rows: shadow tables of the warehouse when the
        staging connection is the warehouse's (``Staging.shared``), else tables of the staging
        connection. A shadow becomes the table itself when the table is empty or replaced (a
        rename, no copy); otherwise its rows are upserted (a child's rows per parent: the lines
        of an order replace all its stored lines) and it is dropped.

        A replace is refused (:class:`ImportRefused`) unless ``force`` when it would empty a table
        that has rows (no row accepted), or leave child rows without their parent (the order lines
        of orders that are gone, when the lines are not imported with them); with ``force`` those
        child rows are deleted.

        Everything happens inside ``Warehouse.transaction()``: a failure, a refusal, or a killed
        process, leaves the warehouse exactly as it was.
        """
        wh = self.wh
        shared = self.staging.shared
        deleted: dict[str, int] = {}
        with wh.transaction():
            for i, name in enumerate(order):
                self.progress(f"loading {name}", i / max(len(order), 1))
                t = TABLES_BY_NAME[name]
                acc = accepted[name]
                # nothing to replace or upsert in an empty table (a first import): skip the key scan
                empty = wh.is_empty(name)
                counts = summary.tables[name]
                if replace and not empty and not force and counts.accepted == 0:
                    raise self._empty_replace(name, counts)
                if shared and (replace or empty):  # the parked table becomes the table: no copy
                    wh.rename_into(acc, name)
                elif shared:
                    wh.upsert_parked(name, acc, t.replace_key, t.column_names)
                else:
                    cols = ", ".join(quote_ident(c) for c in t.column_names)
                    keys = None
                    if not (replace or empty):
                        keys = self.staging.arrow(
                            f"SELECT DISTINCT {', '.join(map(quote_ident, t.replace_key))} FROM {acc}"
                        )
                    rows = self.staging.arrow(f"SELECT {cols} FROM {acc}")
                    if empty:
                        wh.insert_arrow(name, rows)
                    else:
                        wh.upsert_arrow(name, rows, keys)
                if replace and not empty:
                    deleted.update(self._orphans(name, order, force))
                self.progress(f"loaded {name}", (i + 1) / max(len(order), 1))
            for system, rel in (("_rejects", rejects), ("_warnings", warnings)):
                cols = ", ".join(quote_ident(c) for c in SYSTEM_TABLES[system])
                if shared:
                    wh.execute(f"INSERT INTO {quote_ident(system)} ({cols}) SELECT {cols} FROM {rel}")
                else:
                    wh.insert_arrow(system, self.staging.arrow(f"SELECT {cols} FROM {rel}"))
            summary.deleted = deleted
            if marks:  # the database sources' incremental marks (ingest/sources.py)
                wh.insert_arrow(
                    "_source_marks",
                    pa.Table.from_pylist(
                        [{"source": k, "mark": v, "import_id": log["import_id"]} for k, v in marks],
                        schema=pa.schema([("source", pa.string()), ("mark", pa.string()), ("import_id", pa.string())]),
                    ),
                )
            # one row, written as SQL literals on DuckDB: an Arrow table made from Python values imports pandas
            wh.insert_row(
                "_imports",
                {**log, "summary": json.dumps(summary.to_dict(), ensure_ascii=False)},
                pa.schema(
                    [
                        ("import_id", pa.string()),
                        ("started_at", pa.timestamp("us")),
                        ("finished_at", pa.timestamp("us")),
                        ("files", pa.string()),
                        ("summary", pa.string()),
                    ]
                ),
            )

    def check(
        self, *, order: list[str], accepted: dict[str, str], replace: bool, force: bool, summary: ImportSummary
    ) -> None:
        """A dry run's :meth:`load`: the same refusals (a replace that would empty a table or leave
        child rows without their parent), and the rows a forced replace would delete (in
        ``summary.deleted``), with nothing written. ``accepted`` are tables of the staging
        connection here (a dry run parks nothing in the warehouse)."""
        if not replace:
            return
        wh = self.wh
        deleted: dict[str, int] = {}
        for name in order:
            counts = summary.tables[name]
            if wh.is_empty(name):
                continue
            if not force and counts.accepted == 0:
                raise self._empty_replace(name, counts)
            for child, col, pcol in children(name):
                if child.name in order:
                    continue
                n = self._gone(child.name, col, accepted[name], pcol)
                if n and not force:
                    raise self._orphan_refusal(name, child.name, child.title, n)
                if n:
                    deleted[child.name] = deleted.get(child.name, 0) + n
        summary.deleted = deleted

    def _gone(self, child: str, col: str, parked: str, pcol: str) -> int:
        """How many stored rows of ``child`` have a parent (``col``) that is not among the parked
        rows ``parked`` (column ``pcol``) of the staging connection."""
        wh = self.wh
        if self.staging.shared:  # the parked rows are a table of the warehouse
            return wh.count_missing_parents(child, col, parked, pcol)
        rows = wh.count_by(child, col)
        if rows.num_rows == 0:
            return 0
        with self.staging.registered("__sanjeh_child_keys", rows) as view:
            got = self.staging.execute(
                f"SELECT coalesce(sum(n), 0) FROM {view} AS c WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parked} AS p WHERE p.{quote_ident(pcol)} = c.k)"
            ).fetchone()
        return int(got[0])

    def _orphan_refusal(self, parent: str, child: str, title: str, n: int) -> ImportRefused:
        return ImportRefused(
            f"replacing {parent} would leave {n:,} {title} without their {parent.rstrip('s')} "
            f"(theirs are not in the new {parent}); import {child} with {parent} (they are then "
            f"replaced together), or pass --force to delete those {title}; nothing was imported",
            details={"table": parent, "child": child, "rows": n},
        )

    def _empty_replace(self, name: str, counts: TableCounts) -> ImportRefused:
        stored = self.wh.row_count(name)
        what = "its files have no rows" if counts.read == 0 else f"none of the {counts.read:,} rows read was accepted"
        return ImportRefused(
            f"replacing {name} would empty it ({stored:,} rows stored): {what}; nothing was imported "
            "(--force replaces it anyway)",
            details={"table": name, "stored": stored, **counts.to_dict()},
        )

    def _orphans(self, parent: str, order: list[str], force: bool) -> dict[str, int]:
        """After ``parent`` was replaced: the rows of each child table not imported with it whose
        parent is gone are deleted with ``force`` (table -> count), else the import is refused."""
        out: dict[str, int] = {}
        for child, col, pcol in children(parent):
            if child.name in order:  # imported with its parent: replaced together
                continue
            n = self.wh.delete_orphans(child.name, col, parent, pcol, count_only=not force)
            if n and not force:
                raise self._orphan_refusal(parent, child.name, child.title, n)
            if n:
                out[child.name] = n
        return out
