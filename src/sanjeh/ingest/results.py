"""The outcome of an import and the rejects/warnings it left in the warehouse."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import ibis

from sanjeh.warehouse import Warehouse

#: (column of ``_rejects``, key of a reject as :func:`list_rejects` gives it)
REJECT_KEYS = (
    ("table_name", "table"),
    ("file", "file"),
    ("line", "line"),
    ("column_name", "column"),
    ("value", "value"),
    ("reason", "reason"),
    ("mapped_value", "mapped_value"),
    ("row_json", "row"),
)
#: the same for ``_warnings``
WARNING_KEYS = REJECT_KEYS[:6]


@dataclass(frozen=True)
class TableCounts:
    read: int
    accepted: int
    rejected: int

    def to_dict(self) -> dict[str, int]:
        return {"read": self.read, "accepted": self.accepted, "rejected": self.rejected}


@dataclass
class ImportSummary:
    import_id: str
    tables: dict[str, TableCounts]
    warnings: int
    files: list[str]
    ignored_files: list[str] = field(default_factory=list)
    #: rows of tables not imported that a forced replace deleted (order lines of replaced orders)
    deleted: dict[str, int] = field(default_factory=dict)
    #: a dry run: every check made, nothing written (the rejects and warnings are then here)
    dry_run: bool = False
    rejects: list[dict[str, Any]] = field(default_factory=list)
    warning_rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """CLI.md's shape (``tables``), plus the import id, warning count, files and deleted rows;
        a dry run adds ``dry_run``, its ``rejects`` and its ``warning_rows``."""
        out: dict[str, Any] = {
            "tables": {name: c.to_dict() for name, c in self.tables.items()},
            "import_id": self.import_id,
            "warnings": self.warnings,
            "files": list(self.files),
            "ignored_files": list(self.ignored_files),
            "deleted": dict(self.deleted),
        }
        if self.dry_run:
            out.update(dry_run=True, rejects=list(self.rejects), warning_rows=list(self.warning_rows))
        return out


def list_imports(wh: Warehouse) -> list[dict[str, Any]]:
    """Every import (a row of ``_imports``), newest first, with its summary read."""
    out = []
    for r in wh.table("_imports").to_pyarrow().to_pylist():
        try:
            summary = json.loads(r.get("summary") or "{}")
        except ValueError:
            summary = {}
        out.append({**r, "summary": summary})
    return sorted(out, key=lambda r: r.get("finished_at") or r.get("started_at") or dt.datetime.min, reverse=True)


def _latest_imports(wh: Warehouse) -> dict[str, str]:
    """For each table, the id of the latest import that read it."""
    t = wh.table("_imports")
    got = t.order_by([t.started_at, t.finished_at]).select("import_id", "summary").to_pyarrow()
    latest: dict[str, str] = {}
    for import_id, summary in zip(got.column(0).to_pylist(), got.column(1).to_pylist(), strict=True):
        try:
            tables = json.loads(summary or "{}").get("tables", {})
        except ValueError:
            continue
        for name in tables:
            latest[name] = import_id
    return latest


def _list(
    wh: Warehouse, system_table: str, table: str | None, import_id: str | None, raw: bool
) -> list[dict[str, Any]]:
    if table is not None:
        from sanjeh.schema import table as schema_table

        schema_table(table)
    if import_id is not None:
        pairs = {(t, import_id) for t in ([table] if table else _latest_imports(wh))}
        if table is None:
            pairs = {("*", import_id)}
    else:
        latest = _latest_imports(wh)
        pairs = {(t, i) for t, i in latest.items() if table is None or t == table}
    if not pairs:
        return []
    st = wh.table(system_table)
    # rejects: the mapped value too (NULL in a workspace opened read-only before it was migrated)
    mapped = st.mapped_value if raw and "mapped_value" in st.columns else ibis.null("string")
    cols = [st.table_name, st.file, st.line, st.column_name, st.value, st.reason]
    if raw:
        cols += [st.row_json, mapped.name("mapped_value")]
    out: list[dict[str, Any]] = []
    for t, i in sorted(pairs):
        cond = st.import_id == i
        if t != "*":
            cond &= st.table_name == t
        got = st.filter(cond).select(cols).order_by(["table_name", "file", "line"]).to_pyarrow()
        for r in zip(*(c.to_pylist() for c in got.columns), strict=True):
            item: dict[str, Any] = {
                "table": r[0],
                "file": r[1],
                "line": None if r[2] is None else int(r[2]),
                "column": r[3],
                "value": r[4],
                "reason": r[5],
            }
            if raw:
                item["mapped_value"] = r[7]
                item["row"] = json.loads(r[6]) if r[6] else None
            out.append(item)
    return out


def list_rejects(wh: Warehouse, table: str | None = None, import_id: str | None = None) -> list[dict[str, Any]]:
    """Rejected rows (table, file, line, column, value as it stood in the file, reason,
    ``mapped_value`` -- what a mapping made of the value, where that differs -- and the raw
    ``row``): by default those of each table's latest import, or of the import ``import_id``."""
    return _list(wh, "_rejects", table, import_id, raw=True)


def list_warnings(wh: Warehouse, table: str | None = None, import_id: str | None = None) -> list[dict[str, Any]]:
    """Data-quality warnings (same keys as rejects, without ``row``) of each table's latest import."""
    return _list(wh, "_warnings", table, import_id, raw=False)
