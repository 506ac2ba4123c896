"""A workspace: a folder with ``sanjeh.toml`` and its warehouse.

:class:`Workspace` is the Python API (``sanjeh.open(path)``) and what every
surface (CLI, API, dashboard) holds: settings, the warehouse connection and the
clock, built once and passed down.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sanjeh.calendar import date_dimension
from sanjeh.errors import UserError
from sanjeh.settings import SETTINGS_FILE, Settings
from sanjeh.warehouse import Warehouse, connect

CALENDAR_TABLE = "_calendar"


def _today() -> dt.date:
    return dt.date.today()


@dataclass
class Workspace:
    settings: Settings
    warehouse: Warehouse
    clock: Callable[[], dt.date] = field(default=_today)

    @property
    def root(self) -> Path:
        return self.settings.root

    # -- life cycle -------------------------------------------------------------------
    @staticmethod
    def init(path: Path | str, *, warehouse: str | None = None, **settings: Any) -> Workspace:
        """Create a workspace folder (settings file + warehouse with every table)."""
        root = Path(path).expanduser().resolve()
        if (root / SETTINGS_FILE).exists():
            raise UserError(f"{root} is already a Sanjeh workspace", details={"path": str(root)})
        root.mkdir(parents=True, exist_ok=True)
        s = Settings(root=root, secret=secrets.token_hex(32))
        if warehouse:
            s = replace(s, warehouse=warehouse)
        if settings:
            s = replace(s, **settings)
        s.save()
        ws = Workspace.open(root)
        return ws

    @staticmethod
    def open(path: Path | str, *, clock: Callable[[], dt.date] | None = None, read_only: bool = False) -> Workspace:
        settings = Settings.load(path)
        wh = connect(settings.warehouse_url, read_only=read_only)
        ws = Workspace(settings, wh, clock or _today)
        if not read_only:
            ws.ensure_ready()
        return ws

    def ensure_ready(self) -> None:
        """Create missing tables (canonical, system, the date dimension)."""
        self.warehouse.ensure_tables()
        if not self.warehouse.has_table(CALENDAR_TABLE):
            self.warehouse.con.create_table(CALENDAR_TABLE, date_dimension())

    def close(self) -> None:
        self.warehouse.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def today(self) -> dt.date:
        return self.clock()
