"""Databases as sources (issue 16 E): a mapping reads a query of a real PostgreSQL or MariaDB server,
incrementally by a column, and never changes the source."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sanjeh.cli import main
from sanjeh.errors import ImportRefused, MappingError
from sanjeh.ingest import list_rejects, run_import
from sanjeh.workspace import Workspace
from tests import mariadbserver, pgserver

T0 = dt.datetime(2024, 5, 1, 9, 0)
ROWS = [
    (1, "Ali", "won", "1250.50", T0, T0 + dt.timedelta(days=3), T0 + dt.timedelta(days=3)),
    (2, "سارا", "open", None, T0 + dt.timedelta(days=1), None, T0 + dt.timedelta(days=1)),
    (3, "رضا", "lost", "99", T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=5), T0 + dt.timedelta(days=5)),
]
CREATE = (
    "CREATE TABLE deals (id INTEGER PRIMARY KEY, owner VARCHAR(40), status VARCHAR(10), amount DECIMAL(14, 2), "
    "created TIMESTAMP NULL, closed TIMESTAMP NULL, updated_at TIMESTAMP NULL)"
)
QUERY = "SELECT id, owner, status, amount, created, closed, updated_at FROM deals"


class Source:
    """A source database on a real server: its URL and plain SQL on it."""

    def __init__(self, url: str, run: Callable[[str, list[Any] | None], list[tuple[Any, ...]]]) -> None:
        self.url, self._run = url, run

    def sql(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params)

    def snapshot(self) -> list[tuple[Any, ...]]:
        return self.sql("SELECT * FROM deals ORDER BY id")


def _postgres(server: pgserver.PostgresServer) -> Source:
    import psycopg

    url = server.create_database()

    def run(sql: str, params: list[Any] | None) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as con:
            cur = con.execute(sql, params)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description else []

    return Source(url, run)


def _mariadb(server: mariadbserver.MariaDBServer) -> Source:
    db = server.create_database()

    def run(sql: str, params: list[Any] | None) -> list[tuple[Any, ...]]:
        con: Any = server.connect(db)
        try:
            cur = con.cursor()
            cur.execute(sql, params)
            con.commit()
            return list(cur.fetchall()) if cur.description else []
        finally:
            con.close()

    return Source(server.url(db), run)


@pytest.fixture(params=["postgres", "mariadb"])
def source(request: pytest.FixtureRequest) -> Source:
    if request.param == "postgres":
        src = _postgres(request.getfixturevalue("pg_server"))
    else:
        src = _mariadb(request.getfixturevalue("mariadb_server"))
    src.sql(CREATE)
    for r in ROWS:
        src.sql("INSERT INTO deals VALUES (%s, %s, %s, %s, %s, %s, %s)", list(r))
    return src


def mapping(tmp_path: Path, url: str, query: str = QUERY, since: str | None = "updated_at") -> Path:
    body = {
        "name": "shop",
        "tables": [
            {
                "table": "opportunities",
                "from": {"database": url, "query": query, "name": "crm", **({"changed_since": since} if since else {})},
                "columns": {
                    "opportunity_id": "id",
                    "rep_id": "owner",
                    "status": "status",
                    "amount": "amount",
                    "created_at": "created",
                    "closed_at": "closed",
                },
            }
        ],
    }
    path = tmp_path / "shop.yaml"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


def stored(ws: Workspace) -> list[tuple[Any, ...]]:
    return ws.warehouse.fetch("SELECT opportunity_id, rep_id, status, amount, closed_at FROM opportunities ORDER BY 1")


def test_a_query_imports_incrementally_and_never_changes_the_source(
    source: Source, workspace: Workspace, tmp_path: Path
) -> None:
    m = mapping(tmp_path, source.url)
    before = source.snapshot()
    s = run_import(workspace.warehouse, workspace.import_options(), [], mapping=m)
    assert s.tables["opportunities"].to_dict() == {"read": 3, "accepted": 3, "rejected": 0}
    assert s.files == ["crm"]
    assert stored(workspace) == [
        ("1", "Ali", "won", 1250.5, T0 + dt.timedelta(days=3)),
        ("2", "سارا", "open", None, None),
        ("3", "رضا", "lost", 99.0, T0 + dt.timedelta(days=5)),
    ]
    assert source.snapshot() == before
    # a dry run reads what changed and stores no mark
    source.sql(
        "UPDATE deals SET status = 'won', closed = %s, updated_at = %s WHERE id = 2", [T0 + dt.timedelta(days=9)] * 2
    )
    source.sql("INSERT INTO deals VALUES (4, 'Ali', 'open', 10, %s, NULL, %s)", [T0 + dt.timedelta(days=8)] * 2)
    assert (
        run_import(workspace.warehouse, workspace.import_options(), [], mapping=m, dry_run=True)
        .tables["opportunities"]
        .read
        == 3
    )
    # rows at or after the last mark (day 5: deal 3 again, deals 2 and 4), upserted
    before = source.snapshot()
    s = run_import(workspace.warehouse, workspace.import_options(), [], mapping=m)
    assert s.tables["opportunities"].to_dict() == {"read": 3, "accepted": 3, "rejected": 0}
    assert [r[:3] for r in stored(workspace)] == [
        ("1", "Ali", "won"),
        ("2", "سارا", "won"),
        ("3", "رضا", "lost"),
        ("4", "Ali", "open"),
    ]
    assert source.snapshot() == before
    # nothing changed since: only the row at the mark is read again
    assert run_import(workspace.warehouse, workspace.import_options(), [], mapping=m).tables["opportunities"].read == 1
    # --replace reads everything
    assert (
        run_import(workspace.warehouse, workspace.import_options(), [], mapping=m, replace=True)
        .tables["opportunities"]
        .read
        == 4
    )


def test_a_query_that_would_change_the_source_is_refused(source: Source, workspace: Workspace, tmp_path: Path) -> None:
    before = source.snapshot()
    writes = "DELETE FROM deals RETURNING id" if source.url.startswith("postgresql") else "DELETE FROM deals"
    with pytest.raises(
        ImportRefused, match=r"(?i)cannot read the database source crm: .*read.only transaction; nothing was imported"
    ):
        run_import(
            workspace.warehouse,
            workspace.import_options(),
            [],
            mapping=mapping(tmp_path, source.url, query=writes, since=None),
        )
    assert source.snapshot() == before
    assert stored(workspace) == []


def test_rejects_and_a_failed_import_keep_no_mark(source: Source, workspace: Workspace, tmp_path: Path) -> None:
    source.sql("INSERT INTO deals VALUES (5, 'Ali', 'maybe', 1, %s, NULL, %s)", [T0, T0 + dt.timedelta(days=20)])
    with pytest.raises(MappingError, match="crm has no column 'owner'"):
        run_import(
            workspace.warehouse,
            workspace.import_options(),
            [],
            mapping=mapping(tmp_path, source.url, query=QUERY.replace("owner", "owner AS nope")),
        )
    s = run_import(workspace.warehouse, workspace.import_options(), [], mapping=mapping(tmp_path, source.url))
    assert s.tables["opportunities"].to_dict() == {"read": 4, "accepted": 3, "rejected": 1}
    [r] = list_rejects(workspace.warehouse)
    assert (r["file"], r["line"], r["column"], r["value"]) == ("crm", 4, "status", "maybe")
    assert r["row"]["owner"] == "Ali"


def test_the_cli_imports_a_database_without_files(
    mariadb_server: mariadbserver.MariaDBServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    src = _mariadb(mariadb_server)
    src.sql(CREATE)
    src.sql("INSERT INTO deals VALUES (1, 'Ali', 'open', 5, '2024-05-01 10:00:00', NULL, '2024-05-01 10:00:00')")
    root = tmp_path / "ws"
    Workspace.init(root, language="en").close()
    # the URL's parts may come from the environment (a password stays out of the mapping)
    monkeypatch.setenv("SHOP_DB_PORT", str(mariadb_server.port))
    url = src.url.replace(f":{mariadb_server.port}/", ":${SHOP_DB_PORT}/")
    code = main(["import", "--mapping", str(mapping(tmp_path, url)), "-w", str(root), "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["tables"]["opportunities"]["accepted"] == 1
    monkeypatch.delenv("SHOP_DB_PORT")
    assert main(["import", "--mapping", str(mapping(tmp_path, url)), "-w", str(root)]) == 2
    assert "names ${SHOP_DB_PORT}, which is not set" in capsys.readouterr().err
