"""The command line contract of CLI.md: commands, JSON shapes, exit statuses, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.workspace import Workspace
from tests import kpi_data


@pytest.fixture
def ws_path(workspace: Workspace) -> Path:
    kpi_data.fill(workspace)
    root = workspace.root
    workspace.close()
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_kpi_json_shape(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kpi", "sales_by_region", "--period", "1403-Q1", "-w", str(ws_path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {"kpi", "period", "calendar", "grain", "by", "rows"} <= set(data)
    assert data["kpi"] == "sales_by_region" and data["calendar"] == "jalali" and data["by"] == ["region"]
    tehran = next(r for r in data["rows"] if r["region"] == "Tehran")
    assert tehran["revenue"] == 240.0 and tehran["period"] == "1403-Q1"


def test_kpi_all_is_an_array_of_every_kpi(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kpi", "--all", "--period", "1403-Q1", "-w", str(ws_path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert len(data) == 16 and {d["kpi"] for d in data} >= {"revenue", "pipeline", "sales_cycle"}
    by_region = next(d for d in data if d["kpi"] == "sales_by_region")
    assert by_region["by"] == ["region"]


def test_kpi_csv_and_table(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "kpi", "revenue", "--period", "1403-Q1", "--grain", "month", "-w", str(ws_path), "--format", "csv"
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("period,revenue") and len(lines) == 4
    code, out, _ = run(capsys, "kpi", "revenue", "--period", "1403-Q1", "--compare", "previous", "-w", str(ws_path))
    assert code == 0 and "۱٬۲۶۵" in out and "▲" in out  # a Persian workspace: Persian digits


def test_explain_prints_sql(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kpi", "win_rate", "--period", "1403", "--by", "rep", "--explain", "-w", str(ws_path))
    assert code == 0 and "SELECT" in out and "opportunities" in out


def test_scorecard_json(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scorecard", "--period", "1403-Q1", "-w", str(ws_path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["primary"][0]["kpi"] == "revenue" and data["primary"][0]["value"] == 1265.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["kpi", "nope", "--period", "1403"], "unknown KPI"),
        (["kpi", "revenue", "--period", "1403-13"], "month 13"),
        (["kpi", "revenue", "--period", "2024-Q5"], "quarter 5"),
        (["kpi", "revenue", "--period", "1403-02..1403-01"], "ends before it starts"),
        (["kpi", "revenue", "--period", "1403..2024-01"], "mix"),
        (["kpi", "revenue", "--period", "1403", "--by", "stage"], "cannot be split by 'stage'"),
        (["kpi", "revenue", "--period", "1403", "--filter", "region=Atlantis"], "no region 'Atlantis'"),
        (["kpi", "revenue", "--period", "1403", "--filter", "nonsense"], "DIMENSION=MEMBER"),
        (["kpi", "revenue"], "--period is required"),
        (["kpi", "revenue", "--period", "1403", "--format", "xml"], "unknown format"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    ws_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], needle: str
) -> None:
    monkeypatch.setenv("SANJEH_LANG", "en")  # English whatever the workspace's language
    code, out, err = run(capsys, *args, "-w", str(ws_path))
    assert code == 2
    assert needle in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["kpi", "nope", "--period", "1403"], "شاخصی به نام «nope» نداریم"),
        (["kpi", "revenue", "--period", "1403-13"], "ماه ۱۳ وجود ندارد"),
        (["kpi", "revenue", "--period", "1403", "--by", "stage"], "نمی‌توان بر پایه‌ی مرحله (stage) تفکیک کرد"),
        (["kpi", "revenue", "--period", "1403", "--filter", "region=Atlantis"], "«Atlantis» در داده‌ها نیست"),
        (["kpi", "revenue"], "دوره را بدهید"),
    ],
)
def test_a_persian_workspace_says_its_errors_in_persian(
    ws_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], needle: str
) -> None:
    monkeypatch.delenv("SANJEH_LANG", raising=False)
    code, out, err = run(capsys, *args, "-w", str(ws_path))
    assert code == 2 and out == ""
    assert err.startswith("خطا: ") and needle in err, err
    assert "\u2066" not in err  # no bidi marks in a terminal


def test_not_a_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "kpis", "-w", str(tmp_path))
    assert code == 2 and "not a Sanjeh workspace" in err


def test_init_import_rejects_as_a_real_process(tmp_path: Path) -> None:
    """The installed console script, end to end: init, import a file with a bad row, list the reject."""
    ws = tmp_path / "acme"
    exe = Path(sys.executable).parent / "sanjeh"
    subprocess.run([exe, "init", str(ws)], check=True, capture_output=True)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,ordered_at,status\nO1,1403/01/05 10:00,placed\nO2,1403/13/01,placed\n", encoding="utf-8"
    )
    res = subprocess.run(
        [exe, "import", str(orders), "-w", str(ws), "--format", "json"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["tables"]["orders"] == {"read": 2, "accepted": 1, "rejected": 1}
    strict = subprocess.run([exe, "import", str(orders), "-w", str(ws), "--strict"], capture_output=True, text=True)
    assert strict.returncode == 2
    res = subprocess.run([exe, "rejects", "-w", str(ws), "--format", "json"], capture_output=True, text=True)
    (reject,) = json.loads(res.stdout)
    assert reject["line"] == 3 and reject["column"] == "ordered_at" and reject["value"] == "1403/13/01"
    assert "month 13" in reject["reason"]


def test_tables_speak_the_workspaces_language(
    ws_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Persian workspace: Persian headers, names, period labels and digits in every table."""
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "kpi", "sales_by_region", "--period", "1403-Q1", "-w", str(ws_path))
    assert code == 0
    assert "فروش بر اساس منطقه · فصل ۱ سال ۱۴۰۳" in out
    assert "درآمد" in out and "منطقه" in out and "سهم از درآمد" in out
    assert "revenue_share" not in out and "1403-Q1" not in out and "۲۴۰" in out
    code, out, _ = run(capsys, "scorecard", "--period", "1403-Q1", "-w", str(ws_path))
    assert code == 0 and "نکته" in out and "Valve" in out  # the spotlight: the best-selling product by name
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,ordered_at,status\nO77,1403/01/05 10:00,placed\nO78,1403/13/01,placed\n", encoding="utf-8"
    )
    code, out, _ = run(capsys, "import", str(orders), "-w", str(ws_path))
    assert code == 0
    assert "خوانده" in out and "پذیرفته" in out and "ردشده" in out and "سفارش‌ها" in out and "۲" in out
    code, out, _ = run(capsys, "rejects", "-w", str(ws_path))
    assert code == 0 and "دلیل" in out and "ماه ۱۳ وجود ندارد" in out and "month 13" not in out
    monkeypatch.setenv("SANJEH_LANG", "en")  # the language of errors only; tables follow the workspace
    code, out, _ = run(capsys, "rejects", "-w", str(ws_path), "--format", "json")
    assert json.loads(out)[0]["reason"] == "month 13 does not exist"  # JSON keeps the importer's words
