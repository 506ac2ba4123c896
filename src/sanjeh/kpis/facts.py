"""Materialised cohorts: the joins of ``sources.py`` computed once per data change.

Every KPI query reads a cohort (revenue lines with their order's region, source,
segment…). Computing those joins on every query costs more than the KPI itself,
so after the data changes the engine stores the company-wide cohorts as tables
(``_f_*``), sorted by day so the warehouse can skip whole blocks outside a period.

Which cohorts are stored, and as which tables, is declared with the cohorts
(``sources.FACTS``). They are only used while they match the data they were built from: the engine
compares a fingerprint (the import log and the row count of every canonical table)
and falls back to the live joins when it differs, so a stale table is never read.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from sanjeh.kpis.sources import FACTS, INTERMEDIATE, STORED
from sanjeh.schema import TABLES

if TYPE_CHECKING:
    from sanjeh.warehouse import Warehouse

META = "_facts"
#: One build at a time per warehouse (by URL: the same file opened twice in a process shares it);
#: builds of different workspaces run side by side.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _build_lock(wh: Warehouse) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(wh.url, threading.Lock())


#: DuckDB's memory while building (it spills the joins and sorts to disk beyond it).
BUILD_MEMORY = "2560MiB"


def fingerprint(wh: Warehouse) -> str:
    """What the facts were built from: the import log and every canonical table's size."""
    parts = [
        wh.table(t.name).aggregate(t=ibis.literal(t.name), n=ibis._.count()) for t in TABLES if t.name != "targets"
    ]
    imports = wh.table("_imports")
    parts.append(imports.aggregate(t=imports.finished_at.max().cast("string"), n=imports.count()))
    rows = wh.rows(ibis.union(*parts, distinct=False))
    return "|".join(sorted(f"{r['t']}={r['n']}" for r in rows))


def is_fresh(wh: Warehouse, print_: str) -> bool:
    if not wh.has_table(META):
        return False
    rows = wh.rows(wh.table(META))
    return bool(rows) and rows[0]["fingerprint"] == print_ and all(wh.has_table(FACTS[c][0]) for c in STORED)


def refresh(wh: Warehouse, print_: str, *, no_orders: bool) -> None:
    """Build every fact table from the live cohorts, then record the fingerprint.

    A build that runs out of memory is tried once more on one thread (DuckDB's sorts then
    need far less memory); if that fails too the error propagates and the engine keeps
    joining live.
    """
    try:
        _build(wh, print_, no_orders=no_orders, threads=None)
    except Exception as exc:
        if "out of memory" not in str(exc).lower():
            raise
        _build(wh, print_, no_orders=no_orders, threads=1)


def _build(wh: Warehouse, print_: str, *, no_orders: bool, threads: int | None) -> None:
    from sanjeh.kpis.sources import Sources

    with _build_lock(wh), wh.memory_cap(BUILD_MEMORY, threads=threads):
        if wh.has_table(META):
            wh.con.drop_table(META)  # first, so a failure half-way leaves the facts unused
        built: list[str] = []
        try:
            for cohort, (table, _) in FACTS.items():
                src = Sources(wh, no_orders=no_orders, facts=frozenset(built))
                if cohort == "opportunities":
                    expr, order = src.opportunities_x(), "created_day"
                elif cohort == "orders_x":
                    expr, order = src.orders_x(), "day"
                else:
                    expr, order = src.cohort(cohort), "day"
                if cohort in INTERMEDIATE:
                    wh.con.create_table(table, expr, temp=True, overwrite=True)
                else:
                    wh.con.create_table(table, expr.order_by(order), overwrite=True)
                wh.forget(table)
                built.append(cohort)
        finally:
            for cohort in INTERMEDIATE:
                wh.con.drop_table(FACTS[cohort][0], force=True)
                wh.forget(FACTS[cohort][0])
        # a table and one row, not a memtable (which imports pandas: 0.3 s of an import)
        wh.con.create_table(META, schema=ibis.schema({"fingerprint": "string"}), overwrite=True)
        wh.forget(META)
        wh.insert_row(META, {"fingerprint": print_}, pa.schema([("fingerprint", pa.string())]))
