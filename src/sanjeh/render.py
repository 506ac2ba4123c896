"""Plain-text rendering shared by the CLI: numbers by unit, change arrows, CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanjeh.export import csv_text

UNIT_OF_SUFFIX = {"_rate": "rate", "_share": "rate", "attainment": "rate"}


def fmt_value(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if unit == "rate":
        return f"{value * 100:,.1f}%"
    if unit in ("money",):
        return f"{value:,.0f}"
    if unit == "count":
        return f"{int(value):,}"
    if unit in ("days", "hours", "ratio", "number"):
        return f"{value:,.2f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:,.0f}"
    return str(value)


def arrow(change: float | None, direction: str) -> tuple[str, str]:
    """An arrow for a change and its colour, knowing whether up is good."""
    if change is None or change == 0:
        return "→", "dim"
    up = change > 0
    good = up if direction == "up" else not up
    return ("▲" if up else "▼"), ("green" if good else "red")


def attainment_style(attainment: float | None) -> str:
    if attainment is None:
        return "dim"
    if attainment >= 1:
        return "green"
    if attainment >= 0.9:
        return "yellow"
    return "red"


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as CSV for ``--format csv``: the one writer of :mod:`sanjeh.export` (formulas neutralised)."""
    return csv_text(rows, columns)
