"""Shared fixtures: real DuckDB workspaces, a real PostgreSQL server, the real datasets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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
    """Compiled queries (kpis/sqlcache.py) are cached for this test session only: a run starts
    cold, as on a new machine, and never reads SQL an earlier run compiled."""
    import os

    folder = tmp_path_factory.mktemp("sql-cache")
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


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace on a real DuckDB file, with a fixed clock."""
    ws = Workspace.init(tmp_path / "ws")
    ws.clock = lambda: FIXED_TODAY
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(params=["duckdb", "postgres"])
def any_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace on each backend: the same test runs on DuckDB and PostgreSQL."""
    if request.param == "duckdb":
        ws = Workspace.init(tmp_path / "ws")
    else:
        url = request.getfixturevalue("pg_url")
        ws = Workspace.init(tmp_path / "ws", warehouse=url)
    ws.clock = lambda: FIXED_TODAY
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
