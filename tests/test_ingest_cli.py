"""The import side of the command line: --replace and --force, and what `sanjeh rejects` shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.workspace import Workspace


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_replace_and_force(workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(workspace.root)
    workspace.close()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "orders.csv").write_text(
        "order_id,ordered_at,status\no1,2024-01-01,placed\no2,2024-01-02,placed\n"
    )
    (tmp_path / "a" / "order_lines.csv").write_text("order_id,product_id,quantity,unit_price\no1,p,1,5\no2,p,2,5\n")
    assert run(capsys, "import", str(tmp_path / "a"), "-w", root)[0] == 0
    (tmp_path / "orders.csv").write_text("order_id,ordered_at,status\n")
    code, out, err = run(capsys, "import", str(tmp_path / "orders.csv"), "--replace", "-w", root)
    assert code == 2 and out == ""
    assert "replacing orders would empty it (2 rows stored): its files have no rows" in err
    assert len(err.strip().splitlines()) == 1 or "Traceback" not in err
    code, out, err = run(capsys, "import", str(tmp_path / "orders.csv"), "--replace", "--force", "-w", root)
    assert code == 0, err
    assert "۲ سطر از «اقلام سفارش» حذف شد" in out  # a Persian workspace: its words and digits
    code, out, _ = run(
        capsys, "import", str(tmp_path / "orders.csv"), "--replace", "--force", "-w", root, "--format", "json"
    )
    assert code == 0 and json.loads(out)["tables"]["orders"] == {"read": 0, "accepted": 0, "rejected": 0}


def test_rejects_show_the_files_value_and_the_mapped_one(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: the table's cells are not folded
    root = str(workspace.root)
    workspace.close()
    (tmp_path / "deals.csv").write_text("id,opened\nd1,29.02.2021\n")
    (tmp_path / "m.yaml").write_text(
        "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n      opportunity_id: id\n"
        "      created_at: \"concat(substr(opened, 7, 4), '-', substr(opened, 4, 2), '-', substr(opened, 1, 2))\"\n"
        "      status: {value: open}\n"
    )
    assert run(capsys, "import", str(tmp_path / "deals.csv"), "--mapping", str(tmp_path / "m.yaml"), "-w", root)[0] == 0
    code, out, _ = run(capsys, "rejects", "-w", root, "--format", "json")
    [r] = json.loads(out)
    assert code == 0
    assert {"table", "file", "line", "column", "value", "reason"} <= set(r)  # CLI.md's keys
    assert (r["value"], r["mapped_value"], r["reason"]) == (
        "29.02.2021",
        "2021-02-29",
        "day 29 does not exist in 2021-02",
    )
    code, out, _ = run(capsys, "rejects", "-w", root, "--format", "csv")
    assert out.splitlines()[0] == "table,file,line,column,value,mapped_value,reason"
    assert "29.02.2021,2021-02-29" in out
    code, out, _ = run(capsys, "rejects", "-w", root)
    header = next(line for line in out.splitlines() if "┃" in line)
    assert "مقدار نگاشته" in header  # the mapped value has its own column, beside the file's value
    row = next(line for line in out.splitlines() if "29.02.2021" in line)
    assert row.index("29.02.2021") < row.index("2021-02-29")  # values as in the file: not in Persian digits


def test_an_import_in_a_new_process_does_not_import_pandas(workspace: Workspace, tmp_path: Path) -> None:
    """``sanjeh import`` needs no pandas (0.3-0.45 s of the 1 M-orders import: a statement parameter,
    an Arrow table from Python values and an Ibis memtable each imported it); every table and the
    materialised cohorts are written."""
    import subprocess
    import sys

    from sanjeh.demo import write_demo_csv

    root = str(workspace.root)
    workspace.close()
    write_demo_csv(tmp_path / "csv", orders=300, seed=3)
    code = (
        "import sys; from sanjeh.cli import app\n"
        "try:\n    app(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules, file=sys.stderr)"
    )
    args = ["import", str(tmp_path / "csv"), "-w", root, "--format", "json"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["tables"]["orders"]["accepted"] == 300
    assert done.stderr.strip().splitlines()[-1] == "False"
    from sanjeh.kpis import facts

    ws = Workspace.open(root)
    try:
        assert facts.is_fresh(ws.warehouse, facts.fingerprint(ws.warehouse))
    finally:
        ws.close()
