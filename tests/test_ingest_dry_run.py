"""`sanjeh import --dry-run`: every check, the summary and the rejects, nothing written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.errors import ImportRefused
from sanjeh.ingest import list_rejects, run_import
from sanjeh.schema import SYSTEM_TABLES, TABLES
from sanjeh.workspace import Workspace
from tests.conftest import FIXED_TODAY

ORDERS = "order_id,ordered_at,status\no1,2024-01-01,placed\no2,2024-01-02,placed\n"
LINES = "order_id,product_id,quantity,unit_price\no1,p,1,5\no2,p,2,5\n"
# a second import: one good order, one bad date, one bad status; a line of a missing order
NEW_ORDERS = "order_id,ordered_at,status\no3,2024-02-01,placed\no4,2024-02-30,placed\no5,2024-02-03,lost\n"
NEW_LINES = "order_id,product_id,quantity,unit_price\no3,p,1,5\no9,p,1,5\n"


def _files(root: Path) -> dict[str, str]:
    """sha256 of every file of the workspace folder (the warehouse, its WAL if any, settings)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _rows(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    names = [t.name for t in TABLES] + list(SYSTEM_TABLES)
    return {n: sorted(map(repr, ws.warehouse.fetch(f'SELECT * FROM "{n}"'))) for n in names}  # type: ignore[misc]


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def test_a_dry_run_checks_everything_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    ws.import_files([_write(tmp_path / "a", orders=ORDERS, order_lines=LINES)])
    ws.close()
    before_files = _files(root)
    ws = Workspace.open(root, clock=lambda: FIXED_TODAY)
    before_rows = _rows(ws)
    s = ws.import_files([_write(tmp_path / "b", orders=NEW_ORDERS, order_lines=NEW_LINES)], dry_run=True)
    assert s.dry_run
    assert s.tables["orders"].to_dict() == {"read": 3, "accepted": 1, "rejected": 2}
    assert s.tables["order_lines"].to_dict() == {"read": 2, "accepted": 1, "rejected": 1}
    got = {(r["table"], r["line"], r["column"], r["value"], r["reason"]) for r in s.rejects}
    assert got == {
        ("orders", 3, "ordered_at", "2024-02-30", "day 30 does not exist in 2024-02"),
        ("orders", 4, "status", "lost", "status must be one of: placed, fulfilled, cancelled"),
        ("order_lines", 3, "order_id", "o9", "its order is missing or was rejected"),
    }
    assert all(r["file"] in ("orders.csv", "order_lines.csv") and r["row"] for r in s.rejects)
    assert s.to_dict()["dry_run"] is True and len(s.to_dict()["rejects"]) == 3
    # a replace that would leave order lines without their order is refused, as by a real import
    with pytest.raises(ImportRefused, match="would leave 2 order lines without their order"):
        run_import(ws.warehouse, ws.import_options(), [tmp_path / "b" / "orders.csv"], replace=True, dry_run=True)
    forced = run_import(
        ws.warehouse, ws.import_options(), [tmp_path / "b" / "orders.csv"], replace=True, force=True, dry_run=True
    )
    assert forced.deleted == {"order_lines": 2}
    assert _rows(ws) == before_rows
    assert list_rejects(ws.warehouse) == []  # the first import had none, and the dry runs stored none
    ws.close()
    assert _files(root) == before_files  # byte for byte
    # the real import then does what the dry run said
    ws = Workspace.open(root)
    s2 = ws.import_files([tmp_path / "b"])
    assert {t: c.to_dict() for t, c in s2.tables.items()} == {t: c.to_dict() for t, c in s.tables.items()}
    assert len(list_rejects(ws.warehouse)) == 3
    ws.close()


def test_a_dry_run_on_postgres_changes_no_row(pg_url: str, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", warehouse=pg_url)
    try:
        ws.import_files([_write(tmp_path / "a", orders=ORDERS, order_lines=LINES)])
        before = _rows(ws)
        s = ws.import_files([_write(tmp_path / "b", orders=NEW_ORDERS, order_lines=NEW_LINES)], dry_run=True)
        assert s.tables["orders"].rejected == 2 and len(s.rejects) == 3
        with pytest.raises(ImportRefused, match="would leave 2 order lines"):
            run_import(ws.warehouse, ws.import_options(), [tmp_path / "b" / "orders.csv"], replace=True, dry_run=True)
        assert _rows(ws) == before
    finally:
        ws.close()


def test_the_cli_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    root = tmp_path / "ws"
    Workspace.init(root, language="en").close()
    before = _files(root)
    src = _write(tmp_path / "b", orders=NEW_ORDERS, order_lines=NEW_LINES)
    (src / "notes.csv").write_text("a\n1\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "tables:\n  - table: orders\n    from: orders.csv\n    columns:\n      order_id: order_id\n"
        "      ordered_at: ordered_at\n      status: status\n"
    )
    code = main(["import", str(src), "--mapping", str(mapping), "--dry-run", "-w", str(root)])
    out = capsys.readouterr().out
    assert code == 0
    assert "dry run" in out and "day 30 does not exist in 2024-02" in out and "status must be one of" in out
    assert "Files no table reads (ignored): notes.csv, order_lines.csv" in out
    assert "nothing was written" in out
    code = main(["import", str(src / "orders.csv"), "--dry-run", "-w", str(root), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["dry_run"] is True and len(data["rejects"]) == 2
    assert _files(root) == before
