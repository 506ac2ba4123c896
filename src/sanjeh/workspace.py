"""A workspace: a folder with ``sanjeh.toml`` and its warehouse.

:class:`Workspace` is the Python API (``sanjeh.open(path)``) and what every
surface (CLI, API, dashboard) holds: settings, the warehouse connection and the
clock, built once and passed down.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanjeh.errors import UserError
from sanjeh.kpis.sqlcache import SqlCache, default_dir
from sanjeh.settings import SETTINGS_FILE, Settings
from sanjeh.warehouse import Warehouse, connect, local_file

if TYPE_CHECKING:
    from sanjeh.ingest import ImportOptions, ImportSummary
    from sanjeh.kpis.engine import Engine
    from sanjeh.kpis.scorecard import Scorecard


def _today() -> dt.date:
    return dt.date.today()


@dataclass
class Workspace:
    settings: Settings
    warehouse: Warehouse
    clock: Callable[[], dt.date] = field(default=_today)
    read_only: bool = False
    #: Compiled KPI queries by shape (kpis/sqlcache.py): in memory, and in a cache folder.
    sql_cache: SqlCache = field(default_factory=lambda: SqlCache(default_dir()), repr=False)
    #: Lent to code that closes it (:meth:`lend`): ``close()`` does nothing meanwhile.
    _lent: bool = field(default=False, init=False, repr=False)

    @property
    def root(self) -> Path:
        return self.settings.root

    # -- life cycle -------------------------------------------------------------------
    @staticmethod
    def init(path: Path | str, *, warehouse: str | None = None, **settings: Any) -> Workspace:
        """Create a workspace folder (settings file + warehouse with every table)."""
        root = Path(path).expanduser().resolve()
        if (root / SETTINGS_FILE).exists():
            raise UserError(key="workspace.exists", params={"path": str(root)}, details={"path": str(root)})
        if not root.exists():  # a folder Sanjeh creates is its owner's only (the warehouse holds password hashes)
            root.parent.mkdir(parents=True, exist_ok=True)
            root.mkdir(mode=0o700)
        s = Settings(root=root, secret=secrets.token_hex(32))
        if warehouse:
            s = replace(s, warehouse=warehouse)
        if settings:
            s = replace(s, **settings)
        s.save()
        db = local_file(s.warehouse_url)
        created = db is not None and not db.exists()
        ws = Workspace.open(root)
        if created and db is not None and db.exists():
            db.chmod(0o600)
        return ws

    @staticmethod
    def open(path: Path | str, *, clock: Callable[[], dt.date] | None = None, read_only: bool = False) -> Workspace:
        """Open the workspace at ``path``; its declarations are checked first (sanjeh/check.py: the
        settings, workspace KPIs, schedules and alerts), and any error refuses the open with every issue listed."""
        from sanjeh.check import check, declarations, refuse

        found = declarations(path, mappings=False)
        refuse(check(found))
        settings = Settings.from_dict(found.root, found.data)
        wh = connect(settings.warehouse_url, read_only=read_only)
        ws = Workspace(settings, wh, clock or _today, read_only)
        if not read_only:
            ws.ensure_ready()
        return ws

    def ensure_ready(self) -> None:
        """Create missing tables (canonical and system). (Workspaces made before queries took their
        days as parameters also hold a ``_calendar`` table; nothing reads it any more.)"""
        self.warehouse.ensure_tables()

    def close(self) -> None:
        if not self._lent:
            self.warehouse.close()

    @contextmanager
    def lend(self) -> Iterator[Workspace]:
        """Lend this open workspace to code written to open and close its own: a command the
        server runs for the command line (sanjeh/local.py). While lent, ``close()`` does nothing,
        and the clock the borrower may set (``scorecard --as-of``) is restored afterwards."""
        clock, self._lent = self.clock, True
        try:
            yield self
        finally:
            self._lent = False
            self.clock = clock

    def reader(self) -> Workspace | None:
        """This workspace on a second connection to its warehouse, for short reads from another
        thread while this one runs something long (``Warehouse.reader``); it closes with this one.
        None when the warehouse has no such connection (only DuckDB has)."""
        wh = self.warehouse.reader()
        return None if wh is None else replace(self, warehouse=wh)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def today(self) -> dt.date:
        return self.clock()

    # -- data in ------------------------------------------------------------------------------
    def import_files(self, paths: Sequence[Path | str], **options: Any) -> ImportSummary:
        """Import files (``sanjeh.ingest.run_import`` options), then rebuild the engine's
        materialised cohorts so the first query after an import is as fast as the next, and check
        the alert rules against the new data (not after a dry run, which changes nothing). Every
        import passes here: the command line's, the Data page's and the API's."""
        from sanjeh.ingest import run_import

        summary = run_import(self.warehouse, self.import_options(), paths, **options)
        if not summary.dry_run:
            self.refresh_facts()
            if self.settings.alerts:  # the rules' own module is only loaded when there are some
                from sanjeh.reports.alerts import after_import

                after_import(self)
        return summary

    def import_options(self) -> ImportOptions:
        """What an import into this workspace needs besides its warehouse."""
        from sanjeh.ingest import ImportOptions

        return ImportOptions.of(self.settings)

    def imports(self) -> list[dict[str, Any]]:
        """Every import, newest first, with its summary read (ingest/results.py)."""
        from sanjeh.ingest import list_imports

        return list_imports(self.warehouse)

    def rejects(self, table: str | None = None) -> list[dict[str, Any]]:
        """The rejected rows of each table's latest import (of ``table`` only, when given)."""
        from sanjeh.ingest import list_rejects

        return list_rejects(self.warehouse, table=table)

    def table_rows(self) -> dict[str, int]:
        """The rows of each canonical table, in the order of an import (schema.py)."""
        from sanjeh.schema import IMPORT_ORDER

        return self.warehouse.row_counts(IMPORT_ORDER)

    def refresh_facts(self) -> None:
        """Rebuild the materialised cohorts if the data changed (a no-op when they are fresh)."""
        if self.warehouse.materialises:
            self.engine().refresh_facts()

    # -- the engine ---------------------------------------------------------------------------
    def engine(self, rep_scope: str | frozenset[str] | None = None, *, use_facts: bool = True) -> Engine:
        from sanjeh.kpis.engine import Engine

        return Engine(self, rep_scope=rep_scope, use_facts=use_facts)

    def kpi(
        self,
        name: str,
        period: str,
        *,
        grain: str | None = None,
        by: Sequence[str] | str = (),
        filters: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        compare: str | None = None,
        arrow: bool = False,
    ) -> Any:
        """One KPI as a pandas DataFrame (or an Arrow table with ``arrow=True``): the CLI's rows."""
        from sanjeh.kpis.query import Query

        by_t = (by,) if isinstance(by, str) else tuple(by)
        f = tuple(filters.items()) if isinstance(filters, Mapping) else tuple(filters)
        result = self.engine().run(Query(name, period, grain, by_t, f, compare))
        return result.to_arrow() if arrow else result.to_pandas()

    def scorecard(self, period: str) -> Scorecard:
        return self.engine().scorecard(period)

    def default_period(self, kind: str = "quarter", calendar: str | None = None) -> str:
        """The latest complete quarter (by the clock), or the one of the last day with data when
        the data ends earlier (kpis/coverage.py)."""
        return self.engine().default_period(kind, calendar)  # type: ignore[arg-type]

    def data_version(self) -> str:
        """Changes after every import: a key for caching results."""
        t = self.warehouse.table("_imports")
        v = self.warehouse.rows(t.aggregate(n=t.count(), last=t.finished_at.max()))[0]
        return f"{v['n']}:{v['last']}"
