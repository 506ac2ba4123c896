"""Plain-text rendering shared by the CLI: values by unit, change arrows, CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanjeh import formatting
from sanjeh.currency import Money
from sanjeh.export import csv_text


def fmt_value(value: Any, unit: str, lang: str = "en", currency: str | Money = "IRR") -> str:
    """A value for a terminal table: :mod:`sanjeh.formatting`'s text in the workspace language,
    without the bidi isolation marks (terminals do not read them)."""
    if isinstance(value, str):
        return value
    return formatting.fmt_value(value, unit, lang, currency).replace("\u2066", "").replace("\u2069", "")


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
