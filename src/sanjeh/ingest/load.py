"""Write an import into the warehouse: one transaction, all tables, rejects, warnings and the log row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from sanjeh.ingest.normalize import ident
from sanjeh.schema import SYSTEM_TABLES, TABLES_BY_NAME
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
        rejects: str,
        warnings: str,
        log: dict[str, Any],
    ) -> None:
        """Upsert (or replace) every table, then store rejects, warnings and the ``_imports`` row.

        ``accepted`` names each table's parked rows: shadow tables of the warehouse when it is
        DuckDB (the staging connection is the warehouse's), else tables of the staging
        connection. A shadow becomes the table itself when the table is empty or replaced (a
        rename, no copy); otherwise its rows are upserted and it is dropped.

        Everything happens inside ``Warehouse.transaction()``: a failure, or a killed
        process, leaves the warehouse exactly as it was.
        """
        wh = self.ws.warehouse
        same = wh.kind == "duckdb"
        with wh.transaction():
            for i, name in enumerate(order):
                self.progress(f"loading {name}", i / max(len(order), 1))
                t = TABLES_BY_NAME[name]
                cols = ", ".join(ident(c) for c in t.column_names)
                acc = accepted[name]
                keys = ", ".join(ident(k) for k in t.key)
                # nothing to replace or upsert in an empty table (a first import): skip the key scan
                empty = not wh.fetch(f"SELECT 1 FROM {ident(name)} LIMIT 1")
                if same and (replace or empty):
                    wh.execute(f"DROP TABLE {ident(name)}")
                    wh.execute(f"ALTER TABLE {acc} RENAME TO {ident(name)}")
                    wh.forget(name)
                elif same:
                    if replace and not empty:
                        wh.execute(f"DELETE FROM {ident(name)}")
                    elif not empty:
                        cond = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM k.{ident(k)}" for k in t.key)
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
                self.progress(f"loaded {name}", (i + 1) / max(len(order), 1))
            for system, rel in (("_rejects", rejects), ("_warnings", warnings)):
                cols = ", ".join(ident(c) for c in SYSTEM_TABLES[system])
                if same:
                    wh.execute(f"INSERT INTO {ident(system)} ({cols}) SELECT {cols} FROM {rel}")
                else:
                    wh.insert_arrow(system, self.staging.execute(f"SELECT {cols} FROM {rel}").to_arrow_table())
            row = pa.Table.from_pylist(
                [log],
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
