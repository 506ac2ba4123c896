"""Loading: upsert, replace, every backend (Spark refuses), and all-or-nothing even when the process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanjeh.errors import ImportRefused, UserError
from sanjeh.ingest import list_rejects, run_import
from sanjeh.workspace import Workspace
from tests.conftest import REPO


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


@pytest.mark.never(
    ["spark"], raises=UserError, reason="an import writes its tables all or nothing: Spark has no transactions"
)
def test_import_upsert_replace_on_every_backend(suite_workspace: Workspace, tmp_path: Path) -> None:
    ws = suite_workspace
    write(
        tmp_path / "a", "orders.csv", "order_id,ordered_at,status\no1,1403/01/01 10:00,placed\no2,2024-01-02,placed\n"
    )
    write(tmp_path / "a", "order_lines.csv", "order_id,product_id,quantity,unit_price\no1,p,1,10\no1,p,2,5\no3,p,1,1\n")
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path / "a"])
    assert s.to_dict()["tables"] == {
        "orders": {"read": 2, "accepted": 2, "rejected": 0},
        "order_lines": {"read": 3, "accepted": 2, "rejected": 1},
    }
    assert [r["reason"] for r in list_rejects(ws.warehouse)] == ["its order is missing or was rejected"]
    # re-import: o2 is replaced (upsert), o3 is new, o1 stays
    write(tmp_path / "b", "orders.csv", "order_id,ordered_at,status\no2,2024-01-02,cancelled\no3,2024-01-03,placed\n")
    run_import(ws.warehouse, ws.import_options(), [tmp_path / "b"])
    got = ws.warehouse.fetch("SELECT order_id, status FROM orders ORDER BY 1")
    assert got == [("o1", "placed"), ("o2", "cancelled"), ("o3", "placed")]
    # replacing the orders would leave o1's two lines without their order: refused, unless forced
    with pytest.raises(ImportRefused, match="would leave 2 order lines without their order"):
        run_import(ws.warehouse, ws.import_options(), [tmp_path / "b" / "orders.csv"], replace=True)
    assert ws.warehouse.fetch("SELECT order_id FROM orders ORDER BY 1") == [("o1",), ("o2",), ("o3",)]
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path / "b" / "orders.csv"], replace=True, force=True)
    assert ws.warehouse.fetch("SELECT order_id FROM orders ORDER BY 1") == [("o2",), ("o3",)]
    assert s.deleted == {"order_lines": 2} and ws.warehouse.fetch("SELECT count(*) FROM order_lines") == [(0,)]
    assert ws.warehouse.fetch("SELECT count(*) FROM _imports") == [(3,)]


def test_imported_tables_keep_the_canonical_shape(workspace: Workspace, tmp_path: Path) -> None:
    """The checked rows are written once and become the table (rejected rows deleted, helper
    columns dropped): its columns, in order, and their types are the canonical table's, on a
    first import (a rename) and on an upsert (a copy), with rejects and defaults filled."""
    fresh = Workspace.init(tmp_path / "fresh")
    tables = ["orders", "order_lines"]
    shape = "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = ? "
    shape += "ORDER BY ordinal_position"
    want = {t: fresh.warehouse.fetch(shape, [t]) for t in tables}
    fresh.close()
    write(tmp_path / "a", "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,placed\no1,2024-01-01,placed\n")
    write(tmp_path / "a", "order_lines.csv", "order_id,product_id,quantity,unit_price\no1,p,1,10\no9,p,1,1\no1,p,x,1\n")
    for folder in ("a", "a"):  # the second import upserts into non-empty tables
        s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / folder])
        assert s.to_dict()["tables"]["order_lines"] == {"read": 3, "accepted": 1, "rejected": 2}
        for t in tables:
            assert workspace.warehouse.fetch(shape, [t]) == want[t]
        assert workspace.warehouse.fetch("SELECT order_id, line_no, quantity FROM order_lines") == [("o1", 1, 1)]
    left = workspace.warehouse.fetch("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '__im%'")
    assert left == []


def test_failed_import_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "a", "customers.csv", "customer_id,name\nc1,A\n")
    run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "a"])
    write(tmp_path / "b", "customers.csv", "customer_id,name\nc1,B\nc2,C\n")
    write(tmp_path / "b", "orders.csv", "order_id,status\no1,placed\n")  # refused: no ordered_at
    with pytest.raises(Exception, match="ordered_at"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "b"])
    assert workspace.warehouse.fetch("SELECT customer_id, name FROM customers") == [("c1", "A")]


SCRIPT = """
import sys, time
from sanjeh.ingest import run_import
from sanjeh.workspace import Workspace

def progress(message, fraction):
    print(message, flush=True)
    if message == sys.argv[3]:
        time.sleep(60)  # the test kills us here

ws = Workspace.open(sys.argv[1])
run_import(ws.warehouse, ws.import_options(), [sys.argv[2]], progress=progress)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_at",
    [
        "loaded orders",  # inside the final transaction: orders written, order lines still to come
        "reading and checking order_lines",  # orders checked and parked in a shadow table
    ],
)
def test_killed_import_leaves_the_workspace_unchanged(tmp_path: Path, kill_at: str) -> None:
    ws = Workspace.init(tmp_path / "ws")
    write(tmp_path / "first", "orders.csv", "order_id,ordered_at,status\nold,2024-01-01,placed\n")
    run_import(ws.warehouse, ws.import_options(), [tmp_path / "first"])
    ws.close()
    big = tmp_path / "big"
    big.mkdir()
    n_orders, per_order = 200_000, 10  # 2,000,000 order lines
    with (big / "orders.csv").open("w") as fh:
        fh.write("order_id,ordered_at,status\n")
        fh.writelines(f"o{i},2024-01-{i % 28 + 1:02d} 10:00,placed\n" for i in range(n_orders))
    with (big / "order_lines.csv").open("w") as fh:
        fh.write("order_id,product_id,quantity,unit_price\n")
        fh.writelines(f"o{i // per_order},p{i % 50},{i % 7 + 1},{i % 100}.5\n" for i in range(n_orders * per_order))
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}  # this tree's sanjeh
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "ws"), str(big), kill_at],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline().strip()
        seen.append(line)
        if line == kill_at or not line:
            break
    assert seen[-1] == kill_at, seen  # the import is under way
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Workspace.open(tmp_path / "ws", read_only=True) as ro:  # read-only: nothing is swept yet
        shadows = [name for name in ro.warehouse.con.list_tables() if name.startswith("__import_")]
        assert shadows and all(name.endswith("_orders") or name.endswith("_order_lines") for name in shadows)
        assert ro.warehouse.fetch("SELECT order_id FROM orders") == [("old",)]
    ws = Workspace.open(tmp_path / "ws")  # opening for writing drops the killed import's shadow tables
    try:
        assert not [name for name in ws.warehouse.con.list_tables() if name.startswith("__import_")]
        assert ws.warehouse.fetch("SELECT order_id FROM orders") == [("old",)]
        assert ws.warehouse.fetch("SELECT count(*) FROM order_lines") == [(0,)]
        assert ws.warehouse.fetch("SELECT count(*) FROM _imports") == [(1,)]
    finally:
        ws.close()


def test_a_killed_imports_scratch_folder_is_swept_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's spill files of an import killed mid-way would stay in the temp dir for good: the
    next import removes the folders whose lock no live process holds, never a running one's."""
    import tempfile

    from sanjeh.ingest.read import SCRATCH_PREFIX, Scratch, sweep_scratch

    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO / "src")}
    code = (
        "import time; from sanjeh.ingest.read import Scratch; s = Scratch(); print(s.path, flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    live = Path(proc.stdout.readline().strip())
    (live / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 1000)  # a spill file
    old = tmp_path / f"{SCRATCH_PREFIX}old"  # an earlier version's folder: no lock file
    old.mkdir()
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    young = tmp_path / f"{SCRATCH_PREFIX}young"  # unlocked, but maybe being created right now
    young.mkdir()
    try:
        assert live.parent == tmp_path and sweep_scratch(str(tmp_path)) == [str(old)]
        assert live.is_dir() and young.is_dir()  # a running import's folder stays
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mine = Scratch()  # the next import sweeps
    assert not live.exists() and young.is_dir()
    assert sweep_scratch(str(tmp_path)) == []  # its own folder is locked while it lives
    mine.close()
    assert not Path(mine.path).exists()
