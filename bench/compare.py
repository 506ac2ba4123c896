"""Check that the engine and the baselines agree on every covered KPI (relative tolerance 1e-9)."""

from __future__ import annotations

import math
from typing import Any

REL_TOL = 1e-9
ABS_TOL = 1e-12  # only for values that should be exactly zero
NOT_MEASURES = {"period", "target", "attainment"}


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return bool(a == b)
    return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _target_only(row: dict[str, Any], by: list[str]) -> bool:
    """A row the engine adds for a member that has a target but no data (KPIS.md: sums and counts
    0, ratios null); the baselines do not compute targets."""
    has_target = any(v is not None for c, v in row.items() if c == "target" or c.endswith("_target"))
    values = [
        v
        for c, v in row.items()
        if c not in NOT_MEASURES and c not in by and not c.endswith(("_name", "_target", "_attainment"))
    ]
    empty = all(v is None or (not isinstance(v, str) and float(v) == 0.0) for v in values if not isinstance(v, str))
    return has_target and empty


def _keyed(rows: list[dict[str, Any]], by: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {(r["period"], *(r[d] for d in by)): r for r in rows}


def compare(engine: dict[str, Any], baseline: dict[str, Any], *, label: str) -> list[str]:
    """Mismatches between ``engine`` (kpi -> {by, rows}) and ``baseline``, one line each (empty = agree)."""
    problems: list[str] = []
    for name, base in baseline.items():
        if name.startswith("_"):
            continue
        if name not in engine:
            problems.append(f"{label}: {name}: the engine returned no result")
            continue
        by = list(base["by"])
        if list(engine[name]["by"]) != by:
            problems.append(f"{label}: {name}: engine split by {engine[name]['by']}, baseline by {by}")
            continue
        mine, theirs = _keyed(engine[name]["rows"], by), _keyed(base["rows"], by)
        for key in sorted(set(mine) | set(theirs), key=str):
            if key not in mine:
                problems.append(f"{label}: {name} {key}: row missing from the engine")
                continue
            if key not in theirs:
                if not _target_only(mine[key], by):
                    problems.append(f"{label}: {name} {key}: row missing from the baseline")
                continue
            for col, expected in theirs[key].items():
                if col in NOT_MEASURES or col in by:
                    continue
                got = mine[key].get(col, "<absent>")
                if not _same(got, expected):
                    problems.append(f"{label}: {name} {key} {col}: engine {got!r}, baseline {expected!r}")
    return problems


def engine_results(cli_json: list[dict[str, Any]]) -> dict[str, Any]:
    """``sanjeh kpi --all --format json`` output -> kpi -> {by, rows}."""
    return {r["kpi"]: {"by": r["by"], "rows": r["rows"]} for r in cli_json}
