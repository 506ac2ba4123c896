"""Sanjeh (سنجه): B2B sales KPIs, Jalali-first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sanjeh.workspace import Workspace


def open(path: str | Path = ".") -> Workspace:  # noqa: A001 - the public name is sanjeh.open
    """Open a workspace: ``sanjeh.open("my-company").kpi("revenue", period="1403-Q1")``."""
    from sanjeh.workspace import Workspace

    return Workspace.open(path)
