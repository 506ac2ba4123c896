"""Write small hand-made tables straight into a real warehouse (for engine tests).

The importer has its own tests; engine tests state their rows exactly, typed as
the canonical schema says, so every expected number can be computed by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from sanjeh.schema import TABLES_BY_NAME
from sanjeh.workspace import Workspace

_ARROW = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "float64": pa.float64(),
    "int64": pa.int64(),
}


def _value(v: Any, kind: str) -> Any:
    if v is None or v == "":
        return None
    if kind == "timestamp" and isinstance(v, str):
        return dt.datetime.fromisoformat(v)
    if kind == "date" and isinstance(v, str):
        return dt.date.fromisoformat(v)
    return v


def load(ws: Workspace, **tables: list[dict[str, Any]]) -> None:
    """``load(ws, orders=[{...}], order_lines=[...])``: missing columns are null."""
    for name, rows in tables.items():
        t = TABLES_BY_NAME[name]
        cols = {}
        for c in t.columns:
            kind = c.storage_type
            cols[c.name] = pa.array([_value(r.get(c.name), kind) for r in rows], type=_ARROW[kind])
        unknown = {k for r in rows for k in r} - set(t.column_names)
        assert not unknown, f"unknown columns for {name}: {unknown}"
        ws.warehouse.insert_arrow(name, pa.table(cols))


def assert_same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    """Two KPI results hold the same rows: same keys, same values, floats to a relative 1e-9."""
    import math

    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys()
        for k, va in ra.items():
            vb = rb[k]
            if isinstance(va, float) and isinstance(vb, float):
                assert math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-12), (k, va, vb)
            else:
                assert va == vb, (k, va, vb)
