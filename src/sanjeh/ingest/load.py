"""Write an import into the warehouse: one transaction, all tables, rejects, warnings and the log row."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from sanjeh.errors import ImportRefused
from sanjeh.ingest.normalize import ident
from sanjeh.ingest.results import ImportSummary, TableCounts
from sanjeh.schema import SYSTEM_TABLES, TABLES_BY_NAME, children
from sanjeh.workspace import Workspace


class Loader:
    def __init__(self, ws: Workspace, staging: Any, progress: Callable[[str, float], None]) -> None:
        self.ws = ws
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

        ``accepted`` names each table's parked rows: shadow tables of the warehouse when it is
        DuckDB (the staging connection is the warehouse's), else tables of the staging
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
        wh = self.ws.warehouse
        same = wh.kind == "duckdb"
        deleted: dict[str, int] = {}
        with wh.transaction():
            for i, name in enumerate(order):
                self.progress(f"loading {name}", i / max(len(order), 1))
                t = TABLES_BY_NAME[name]
                cols = ", ".join(ident(c) for c in t.column_names)
                acc = accepted[name]
                keys = ", ".join(ident(k) for k in t.replace_key)
                # nothing to replace or upsert in an empty table (a first import): skip the key scan
                empty = not wh.fetch(f"SELECT 1 FROM {ident(name)} LIMIT 1")
                counts = summary.tables[name]
                if replace and not empty and not force and counts.accepted == 0:
                    raise self._empty_replace(name, counts)
                if same and (replace or empty):
                    wh.execute(f"DROP TABLE {ident(name)}")
                    wh.execute(f"ALTER TABLE {acc} RENAME TO {ident(name)}")
                    wh.forget(name)
                elif same:
                    if replace and not empty:
                        wh.execute(f"DELETE FROM {ident(name)}")
                    elif not empty:
                        cond = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM k.{ident(k)}" for k in t.replace_key)
                        wh.execute(
                            f"DELETE FROM {ident(name)} AS t USING (SELECT DISTINCT {keys} FROM {acc}) AS k "
                            f"WHERE {cond}"
                        )
                    wh.execute(f"INSERT INTO {ident(name)} ({cols}) SELECT {cols} FROM {acc}")
                    wh.execute(f"DROP TABLE {acc}")
                else:
                    if replace and not empty:
                        wh.truncate(name)
                    elif not empty:
                        wh.delete_matching(
                            name, self.staging.execute(f"SELECT DISTINCT {keys} FROM {acc}").to_arrow_table()
                        )
                    wh.insert_arrow(name, self.staging.execute(f"SELECT {cols} FROM {acc}").to_arrow_table())
                if replace and not empty:
                    deleted.update(self._orphans(name, order, force))
                self.progress(f"loaded {name}", (i + 1) / max(len(order), 1))
            for system, rel in (("_rejects", rejects), ("_warnings", warnings)):
                cols = ", ".join(ident(c) for c in SYSTEM_TABLES[system])
                if same:
                    wh.execute(f"INSERT INTO {ident(system)} ({cols}) SELECT {cols} FROM {rel}")
                else:
                    wh.insert_arrow(system, self.staging.execute(f"SELECT {cols} FROM {rel}").to_arrow_table())
            summary.deleted = deleted
            if marks:  # the database sources' incremental marks (ingest/sources.py)
                wh.insert_arrow(
                    "_source_marks",
                    pa.Table.from_pylist(
                        [{"source": k, "mark": v, "import_id": log["import_id"]} for k, v in marks],
                        schema=pa.schema([("source", pa.string()), ("mark", pa.string()), ("import_id", pa.string())]),
                    ),
                )
            row = pa.Table.from_pylist(
                [{**log, "summary": json.dumps(summary.to_dict(), ensure_ascii=False)}],
                schema=pa.schema(
                    [
                        ("import_id", pa.string()),
                        ("started_at", pa.timestamp("us")),
                        ("finished_at", pa.timestamp("us")),
                        ("files", pa.string()),
                        ("summary", pa.string()),
                    ]
                ),
            )
            wh.insert_arrow("_imports", row)

    def check(
        self, *, order: list[str], accepted: dict[str, str], replace: bool, force: bool, summary: ImportSummary
    ) -> None:
        """A dry run's :meth:`load`: the same refusals (a replace that would empty a table or leave
        child rows without their parent), and the rows a forced replace would delete (in
        ``summary.deleted``), with nothing written. ``accepted`` are tables of the staging
        connection here (a dry run parks nothing in the warehouse)."""
        if not replace:
            return
        wh = self.ws.warehouse
        deleted: dict[str, int] = {}
        for name in order:
            counts = summary.tables[name]
            if not wh.fetch(f"SELECT 1 FROM {ident(name)} LIMIT 1"):
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
        wh = self.ws.warehouse
        if wh.kind == "duckdb":  # the staging connection is the warehouse's
            return int(
                wh.fetch(
                    f"SELECT count(*) FROM {ident(child)} AS c WHERE c.{ident(col)} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parked} AS p WHERE p.{ident(pcol)} = c.{ident(col)})"
                )[0][0]
            )
        rows = wh.fetch(f"SELECT {ident(col)}, count(*) FROM {ident(child)} WHERE {ident(col)} IS NOT NULL GROUP BY 1")
        if not rows:
            return 0
        view = "__sanjeh_child_keys"
        self.staging.register(
            view, pa.table({"k": pa.array([str(r[0]) for r in rows]), "n": pa.array([int(r[1]) for r in rows])})
        )
        try:
            got = self.staging.execute(
                f"SELECT coalesce(sum(n), 0) FROM {view} AS c WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parked} AS p WHERE p.{ident(pcol)} = c.k)"
            ).fetchone()
        finally:
            self.staging.unregister(view)
        return int(got[0])

    def _orphan_refusal(self, parent: str, child: str, title: str, n: int) -> ImportRefused:
        return ImportRefused(
            f"replacing {parent} would leave {n:,} {title} without their {parent.rstrip('s')} "
            f"(theirs are not in the new {parent}); import {child} with {parent} (they are then "
            f"replaced together), or pass --force to delete those {title}; nothing was imported",
            details={"table": parent, "child": child, "rows": n},
        )

    def _empty_replace(self, name: str, counts: TableCounts) -> ImportRefused:
        stored = int(self.ws.warehouse.fetch(f"SELECT count(*) FROM {ident(name)}")[0][0])
        what = "its files have no rows" if counts.read == 0 else f"none of the {counts.read:,} rows read was accepted"
        return ImportRefused(
            f"replacing {name} would empty it ({stored:,} rows stored): {what}; nothing was imported "
            "(--force replaces it anyway)",
            details={"table": name, "stored": stored, **counts.to_dict()},
        )

    def _orphans(self, parent: str, order: list[str], force: bool) -> dict[str, int]:
        """After ``parent`` was replaced: the rows of each child table not imported with it whose
        parent is gone are deleted with ``force`` (table -> count), else the import is refused."""
        wh = self.ws.warehouse
        out: dict[str, int] = {}
        for child, col, pcol in children(parent):
            if child.name in order:  # imported with its parent: replaced together
                continue
            gone = (
                f"c.{ident(col)} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ident(parent)} AS p WHERE p.{ident(pcol)} = c.{ident(col)})"
            )
            n = int(wh.fetch(f"SELECT count(*) FROM {ident(child.name)} AS c WHERE {gone}")[0][0])
            if n and not force:
                raise self._orphan_refusal(parent, child.name, child.title, n)
            if n:
                wh.execute(f"DELETE FROM {ident(child.name)} AS c WHERE {gone}")
                out[child.name] = n
        return out
