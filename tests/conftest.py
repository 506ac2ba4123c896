"""Shared fixtures: real DuckDB workspaces, a real PostgreSQL server, the real datasets."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sanjeh.workspace import Workspace
from tests import pgserver

REPO = Path(__file__).resolve().parent.parent
#: The read-only shared folder beside the repository (real public data sets).
SHARED = Path(os.environ.get("SANJEH_SHARED", REPO.parent / "shared"))
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


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session for the whole test process, started once (it takes ~20 s) and
    shared by every Spark workspace of the run, each in a database of its own (``Templates``).

    Its settings suit tables of a handful of rows (tests/spark-conf/spark-defaults.conf); its
    Python workers run this interpreter (the venv's), not the system's ``python3``."""
    from sanjeh.warehouse import connect

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARK_CONF_DIR", str(REPO / "tests" / "spark-conf"))
        mp.setenv("PYSPARK_PYTHON", sys.executable)
        mp.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        wh = connect(f"pyspark://{tmp_path_factory.mktemp('spark') / 'spark-warehouse'}")
    session = wh.con._session  # type: ignore[attr-defined]
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        wh.close()  # stops the session


Fill = Callable[[Workspace], object]


class Templates:
    """Workspaces built once per test process and copied for each test that asks for one.

    Building a workspace (every table created, then filled) costs far more than copying it: a
    DuckDB workspace is a folder copied whole (settings and warehouse file), a PostgreSQL one a
    database made with ``CREATE DATABASE … TEMPLATE`` beside a copy of the folder. Each copy is
    a real, separate workspace a test may write; a template itself is never opened by a test.

    Spark has no copy: its tables live in the process's one session's catalogue (in memory), so
    a Spark workspace is made anew, in a Spark database of its own made current while it is in
    use (``opened``); no two are queried at once.
    """

    def __init__(self, base: Path, request: pytest.FixtureRequest) -> None:
        self.base = base
        self._request = request
        self._built: dict[tuple[str, str], tuple[Path, str]] = {}  # (backend, fill) -> (folder, database)
        self._pg: pgserver.PostgresServer | None = None
        self._spark_databases = 0

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

    @contextmanager
    def opened(self, dest: Path, backend: str, fill: Fill | None = None) -> Iterator[Workspace]:
        """A workspace at ``dest`` on any backend of ``SUITE_BACKENDS`` (a copy, as ``copy``
        makes it, or a new Spark one), closed (a Spark one: its database dropped) afterwards."""
        if backend != "spark":
            ws = self.copy(dest, backend, fill)
            try:
                yield ws
            finally:
                ws.close()
            return
        session = self._request.getfixturevalue("spark_session")
        before = session.catalog.currentDatabase()
        self._spark_databases += 1
        database = f"sanjeh_ws{self._spark_databases}"
        session.sql(f"CREATE DATABASE {database}")
        session.catalog.setCurrentDatabase(database)
        try:
            ws = Workspace.init(dest, warehouse="pyspark://spark-warehouse")
            # the warehouse asks for 4 shuffle partitions (warehouse.py): 1 suits a handful of rows
            # (a third less time), and outranks spark-conf/, so it is set here, after connecting
            session.conf.set("spark.sql.shuffle.partitions", "1")
            ws.clock = lambda: FIXED_TODAY
            if fill is not None:
                fill(ws)
            yield ws  # not closed: closing a Spark warehouse stops the session the process shares
        finally:
            session.catalog.setCurrentDatabase(before)
            session.sql(f"DROP DATABASE {database} CASCADE")


#: The engines of the workspaces a test module shares read-only (:func:`engines_shared`), by
#: workspace and rep scope.
_SHARED_ENGINES: dict[int, dict[Any, Any]] = {}


@contextmanager
def engines_shared(ws: Workspace) -> Iterator[Workspace]:
    """While a module's tests only read ``ws``, :func:`engine_of` gives them one engine per rep
    scope, as a server or one CLI command keeps one: its coverage and cohorts are read once per
    module, not once per test (on Spark, 2 s a test)."""
    _SHARED_ENGINES[id(ws)] = {}
    try:
        yield ws
    finally:
        del _SHARED_ENGINES[id(ws)]


def engine_of(ws: Workspace, rep_scope: str | None = None) -> Any:
    """The shared engine of a workspace shared read-only (:func:`engines_shared`), else a new one."""
    shared = _SHARED_ENGINES.get(id(ws))
    if shared is None:
        return ws.engine(rep_scope=rep_scope)
    if rep_scope not in shared:
        shared[rep_scope] = ws.engine(rep_scope=rep_scope)
    return shared[rep_scope]


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


#: The backends a workspace is written on by imports (they have transactions).
BACKENDS = ("duckdb", "postgres")
#: The backends the KPI suite (test_kpis.py, test_why.py) runs every test on: the same expected
#: numbers on each; a backend's gaps are declared on the test (``notimpl``/``never``, below).
SUITE_BACKENDS = (*BACKENDS, "spark")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend a workspace can live on, for tests that make their own (``templates.copy``)."""
    return str(request.param)


@pytest.fixture(params=SUITE_BACKENDS)
def suite_backend(request: pytest.FixtureRequest) -> str:
    """Each backend of the KPI suite, for its tests that make their own workspace (``templates.opened``)."""
    return str(request.param)


@pytest.fixture
def suite_workspace(suite_backend: str, tmp_path: Path, templates: Templates) -> Iterator[Workspace]:
    """An empty workspace on each backend of the KPI suite (Spark included), this test's own to fill."""
    with templates.opened(tmp_path / "ws", suite_backend) as ws:
        yield ws


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
    "test_kpis.py",  # on Spark too: a minute and more of one worker
    "test_why.py",
    "test_bench_smoke.py",
    "test_sqlcache.py",
    "test_empty_data.py",
    "test_web_browser.py",
    "test_web_persian.py",
    "test_local_channel.py",
    "test_web_editor.py",
    "test_reports.py",
    "test_facts.py",
    "test_cli_demo.py",
    "test_ingest_load.py",
)


#: The fixtures whose parameter is the backend a test runs on.
BACKEND_FIXTURES = ("ws", "own_ws", "suite_backend", "backend", "any_workspace")
#: A backend's declared gaps (as ibis's backend suite declares them): ``notimpl`` — not done yet,
#: could be; ``never`` — cannot be (the backend lacks what it needs). Both take the backends, the
#: exception the test raises there and the reason: ``@pytest.mark.notimpl(["spark"], raises=…, reason=…)``.
GAP_MARKERS = ("notimpl", "never")


def backend_of(item: pytest.Item) -> str | None:
    """The backend a collected test runs on (None for a test not parametrised by backend)."""
    params = getattr(item, "callspec", None)
    for name in BACKEND_FIXTURES:
        if params is not None and name in params.params:
            return str(params.params[name])
    return None


def declare_gaps(item: pytest.Item) -> None:
    """Turn a ``notimpl``/``never`` marker into a strict xfail on its backends only, expecting its
    exception: a gap that gets closed (the test passes) or a different failure fails the run."""
    for mark in item.iter_markers():
        if mark.name not in GAP_MARKERS:
            continue
        (backends,) = mark.args
        raises, reason = mark.kwargs["raises"], mark.kwargs["reason"]
        unknown = set(backends) - set(SUITE_BACKENDS)
        if unknown or not reason:
            raise pytest.UsageError(f"{item.nodeid}: @{mark.name} names unknown backends {unknown} or no reason")
        backend = backend_of(item)
        if backend is None:
            raise pytest.UsageError(f"{item.nodeid}: @{mark.name} on a test that runs on no backend fixture")
        if backend in backends:
            item.add_marker(pytest.mark.xfail(raises=raises, strict=True, reason=f"{mark.name} on {backend}: {reason}"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        declare_gaps(item)
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module keeps its order
