"""Warm, in-process KPI timings: single queries, and the covered KPIs against the SQL baseline.

``python -m bench.kpi_warm WORKSPACE OUT_JSON [REPEAT]``: opens the workspace read-only,
runs each query of :data:`SINGLE` once to warm up, then ``REPEAT`` times (median, max).
Then the KPIs of :data:`bench.kpi_sql.COVERED` (``--period 1403 --grain month``) through
the engine and through the hand-written SQL on the same connection, warm, best of 3.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.kpi_sql import COVERED
from bench.kpi_sql import run_all as sql_run_all
from sanjeh.kpis.query import Query
from sanjeh.workspace import Workspace

SINGLE: tuple[Query, ...] = (
    Query("revenue", "1403-Q4", grain="month"),
    Query("sales_by_region", "1403-Q4"),
    Query("cancelled_orders", "1403-Q4", grain="month"),
    Query("win_rate", "1403", grain="month"),
    Query("mql_to_sql", "1403-Q4", grain="month"),
    Query("sales_cycle", "1403-Q4", grain="month"),
    Query("revenue", "1403", grain="month", compare="year_ago"),
)


def _times(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _label(q: Query) -> str:
    parts = [q.kpi, q.period]
    if q.grain:
        parts.append(f"grain={q.grain}")
    if q.compare:
        parts.append(f"compare={q.compare}")
    return " ".join(parts)


def measure(ws: Workspace, repeat: int = 10) -> dict[str, Any]:
    engine = ws.engine()
    single: list[dict[str, Any]] = []
    for q in SINGLE:

        def once(q: Query = q) -> Any:
            return engine.run(q)

        first = _times(once, 1)[0]
        ts = _times(once, repeat)
        single.append(
            {
                "query": _label(q),
                "first_ms": round(first * 1000, 1),
                "median_ms": round(statistics.median(ts) * 1000, 1),
                "max_ms": round(max(ts) * 1000, 1),
                "repeat": repeat,
            }
        )
    covered = [Query(name, "1403", grain="month") for name in COVERED]
    eng = min(_times(lambda: [engine.run(q) for q in covered], 3))
    con = ws.warehouse.duckdb
    sql = min(_times(lambda: sql_run_all(con, "1403"), 3))
    return {
        "single": single,
        "covered_warm": {
            "kpis": list(COVERED),
            "engine_s": round(eng, 3),
            "sql_s": round(sql, 3),
            "ratio": round(eng / sql, 2) if sql else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        sys.stderr.write("usage: python -m bench.kpi_warm WORKSPACE OUT_JSON [REPEAT]\n")
        return 2
    ws = Workspace.open(args[0], read_only=True)
    try:
        data = measure(ws, int(args[2]) if len(args) == 3 else 10)
    finally:
        ws.close()
    Path(args[1]).write_text(json.dumps(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
