"""Read and replace the workspace's targets (the canonical ``targets`` table).

:func:`replace_targets` checks every row against the KPI catalogue (KPI name,
measure, dimension), the period labels (one calendar unit, not a range) and the
values, collects every problem with its row number, and only then replaces the
whole table in one transaction: all or nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from sanjeh.calendar import parse_period
from sanjeh.errors import InvalidPeriod, UserError
from sanjeh.workspace import Workspace

TARGETS_TABLE = "targets"
COLUMNS = ("kpi", "measure", "period", "dimension", "member", "target")
_SCHEMA = pa.schema(
    [
        ("kpi", pa.string()),
        ("measure", pa.string()),
        ("period", pa.string()),
        ("dimension", pa.string()),
        ("member", pa.string()),
        ("target", pa.float64()),
    ]
)


class InvalidTargets(UserError):
    status = 422
    code = "invalid_targets"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def read_targets(ws: Workspace, *, rep_id: str | None = None) -> list[dict[str, Any]]:
    """Every target, ordered by KPI, period, dimension, member.

    With ``rep_id``, only the targets set for that rep (dimension ``rep``, member ``rep_id``).
    """
    rows = ws.warehouse.table(TARGETS_TABLE).to_pyarrow().to_pylist()
    out = [{c: r.get(c) for c in COLUMNS} for r in rows]
    if rep_id is not None:
        out = [r for r in out if _text(r["dimension"]) == "rep" and _text(r["member"]).lower() == rep_id.lower()]
    out.sort(key=lambda r: tuple(_text(r[c]) for c in ("kpi", "period", "measure", "dimension", "member")))
    return out


def validate_targets(catalogue: Iterable[Any], rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check and normalise target rows against a KPI catalogue; raise one error listing every problem.

    Each issue in ``details["issues"]`` has ``row`` (1-based), ``column``, ``value`` and ``reason``.
    """
    kpis = {k.name: k for k in catalogue}
    issues: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, ...], int] = {}

    def issue(n: int, column: str, value: Any, reason: str) -> None:
        issues.append({"row": n, "column": column, "value": None if value is None else str(value), "reason": reason})

    for n, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            issue(n, "", raw, "a target must be an object with kpi, measure, period, dimension, member, target")
            continue
        unknown = sorted(set(raw) - set(COLUMNS))
        if unknown:
            issue(n, unknown[0], None, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}")
        name = _text(raw.get("kpi"))
        kpi = kpis.get(name)
        if kpi is None:
            issue(n, "kpi", name, f"unknown KPI {name!r}" if name else "the KPI is required")
            continue
        measures = [m.name for m in kpi.measures]
        measure = _text(raw.get("measure")) or kpi.headline
        if measure not in measures:
            issue(n, "measure", measure, f"{name} has no measure {measure!r}; its measures are: {', '.join(measures)}")
        period_text = _text(raw.get("period"))
        period = ""
        try:
            p = parse_period(period_text)
            if p.is_range:
                issue(n, "period", period_text, "a target is set for one period (e.g. 1403-Q1), not a range")
            period = p.label
        except InvalidPeriod as exc:
            issue(n, "period", period_text, exc.message)
        dimension = _text(raw.get("dimension"))
        member = _text(raw.get("member"))
        if dimension and dimension not in kpi.dimensions:
            allowed = ", ".join(kpi.dimensions) or "none"
            issue(n, "dimension", dimension, f"{name} cannot be split by {dimension!r}; its dimensions are: {allowed}")
        if dimension and not member:
            issue(n, "member", member, f"a target by {dimension} needs a member (e.g. a {dimension} id)")
        if member and not dimension:
            issue(n, "dimension", dimension, "a target for a member needs its dimension")
        value = raw.get("target")
        number: float | None = None
        try:
            number = float(str(value).replace(",", "").replace("٬", "")) if _text(value) else None
        except ValueError:
            number = None
        if number is None or math.isnan(number) or math.isinf(number):
            issue(n, "target", value, "the target must be a number")
        elif number < 0:
            issue(n, "target", value, "a target cannot be negative")
        key = (name, measure, period, dimension, member.lower())
        if key in seen:
            issue(n, "period", period_text, f"the same target is already set on row {seen[key]}")
        else:
            seen[key] = n
        out.append(
            {
                "kpi": name,
                "measure": measure,
                "period": period,
                "dimension": dimension or None,
                "member": member or None,
                "target": number,
            }
        )
    if issues:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise InvalidTargets(
            f"target row {first['row']}, {first['column'] or 'row'}: {first['reason']}{more}",
            details={"issues": issues},
        )
    return out


def replace_targets(ws: Workspace, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace every target with ``rows`` (validated first; all or nothing). Returns the stored rows."""
    clean = validate_targets(ws.engine().catalogue(), list(rows))
    data = pa.table({c: [r[c] for r in clean] for c in COLUMNS}, schema=_SCHEMA)
    with ws.warehouse.transaction():
        ws.warehouse.truncate(TARGETS_TABLE)
        ws.warehouse.insert_arrow(TARGETS_TABLE, data)
    return read_targets(ws)
