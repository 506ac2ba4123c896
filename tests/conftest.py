"""Shared fixtures: real DuckDB workspaces, a real PostgreSQL server, the real datasets."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sanjeh.workspace import Workspace
from tests import pgserver

REPO = Path(__file__).resolve().parent.parent
#: The read-only shared folder beside the repository (real public data sets).
SHARED = Path(__import__("os").environ.get("SANJEH_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"
#: The currency of each dataset's money (its README); its shipped mapping declares it, and a
#: workspace in another currency refuses the import.
DATASET_CURRENCIES = {"maven-crm": "USD", "olist-funnel": "BRL", "classicmodels": "USD", "uci-online-retail": "GBP"}
FIXED_TODAY = dt.date(2025, 4, 1)  # 1404-01-12: 1403 is the latest complete Jalali year


@pytest.fixture(scope="session", autouse=True)
def sql_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Compiled queries (kpis/sqlcache.py) are cached for this test run only: a run starts
    cold, as on a new machine, and never reads SQL an earlier run compiled. The xdist workers of
    one run share the folder (a file is written whole, then renamed), so a shape is compiled once."""
    import os

    base = tmp_path_factory.getbasetemp()
    # one folder for the whole run: with xdist every worker's basetemp is a folder of the run's own
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "sql-cache"
    folder.mkdir(exist_ok=True)
    old = os.environ.get("SANJEH_CACHE_DIR")
    os.environ["SANJEH_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("SANJEH_CACHE_DIR", None)
    else:
        os.environ["SANJEH_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PostgresServer]:
    server = pgserver.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: pgserver.PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return pg_server.create_database()


Fill = Callable[[Workspace], object]


class Templates:
    """Workspaces built once per test process and copied for each test that asks for one.

    Building a workspace (every table created, then filled) costs far more than copying it: a
    DuckDB workspace is a folder copied whole (settings and warehouse file), a PostgreSQL one a
    database made with ``CREATE DATABASE … TEMPLATE`` beside a copy of the folder. Each copy is
    a real, separate workspace a test may write; a template itself is never opened by a test.
    """

    def __init__(self, base: Path, request: pytest.FixtureRequest) -> None:
        self.base = base
        self._request = request
        self._built: dict[tuple[str, str], tuple[Path, str]] = {}  # (backend, fill) -> (folder, database)
        self._pg: pgserver.PostgresServer | None = None

    def _server(self) -> pgserver.PostgresServer:
        if self._pg is None:
            server = self._request.getfixturevalue("pg_server")
            assert isinstance(server, pgserver.PostgresServer)
            self._pg = server
        return self._pg

    def _template(self, backend: str, fill: Fill | None) -> tuple[Path, str]:
        key = (backend, "" if fill is None else f"{fill.__module__}.{fill.__qualname__}")
        if key not in self._built:
            root = self.base / f"{backend}-{len(self._built)}"
            db = ""
            if backend == "postgres":
                url = self._server().create_database()
                db = url.rsplit("/", 1)[1]
                ws = Workspace.init(root, warehouse=url)
            else:
                ws = Workspace.init(root)
            ws.clock = lambda: FIXED_TODAY
            try:
                if fill is not None:
                    fill(ws)
            finally:
                ws.close()  # a PostgreSQL template takes no copy while a session is connected to it
            self._built[key] = (root, db)
        return self._built[key]

    def copy(self, dest: Path, backend: str = "duckdb", fill: Fill | None = None) -> Workspace:
        """A new workspace at ``dest`` as ``Workspace.init`` then ``fill`` make it, on ``backend``
        ("duckdb" or "postgres"), with the fixed clock."""
        root, db = self._template(backend, fill)
        shutil.copytree(root, dest)
        if backend == "postgres":
            url = self._server().create_database(template=db)
            settings = dest / "sanjeh.toml"
            old = f'warehouse = "{self._server().url(db)}"'
            text = settings.read_text(encoding="utf-8")
            assert old in text, text
            settings.write_text(text.replace(old, f'warehouse = "{url}"'), encoding="utf-8")
        ws = Workspace.open(dest)
        ws.clock = lambda: FIXED_TODAY
        return ws


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"), request)


@pytest.fixture
def workspace(tmp_path: Path, templates: Templates) -> Iterator[Workspace]:
    """An empty workspace on a real DuckDB file, with a fixed clock (a copy of one made once)."""
    ws = templates.copy(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


BACKENDS = ("duckdb", "postgres")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend a workspace can live on, for tests that make their own (``templates.copy``)."""
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def any_workspace(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> Iterator[Workspace]:
    """An empty workspace on each backend: the same test runs on DuckDB and PostgreSQL."""
    ws = templates.copy(tmp_path / "ws", request.param)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[object]:
    """A real MariaDB server (tests/mariadbserver.py); if it cannot start, the tests using it fail."""
    from tests import mariadbserver

    server = mariadbserver.start()
    try:
        yield server
    finally:
        server.stop()


#: The modules that took longest in a whole run (`pytest --durations=0`, seconds summed per file), run
#: first: xdist hands out whole files in collection order, and a long file handed out last keeps one
#: worker busy while the other has nothing left to do.
SLOW_FIRST = (
    "test_bench_smoke.py",
    "test_sqlcache.py",
    "test_empty_data.py",
    "test_web_browser.py",
    "test_spark.py",
    "test_web_persian.py",
    "test_local_channel.py",
    "test_kpis.py",
    "test_web_editor.py",
    "test_reports.py",
    "test_facts.py",
    "test_cli_demo.py",
    "test_ingest_load.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module keeps its order
