"""``sanjeh demo`` prints its logins (``--no-serve`` too) and never deletes a folder that is not a
demo workspace without ``--force``; ``sanjeh users add --team`` makes a team's manager."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.users import authenticate
from sanjeh.workspace import Workspace

ORDERS = "300"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_no_serve_prints_the_logins_and_they_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "demo"
    code, out, err = _run(capsys, "demo", str(root), "--orders", ORDERS, "--no-serve")
    assert code == 0, err
    logins = dict(re.findall(r"^\s+\w+\s+(\w+) / (\S+)", out, re.M))
    assert set(logins) == {"admin", "manager", "teamlead", "rep1", "rep2"}
    # in the demo's language, Persian: nothing of it in English
    assert "ورود (کاربر / گذرواژه):" in out and "فضای کاری نمایشی: " in out and "Logins" not in out
    assert re.search(r"teamlead / \S+\s+\(تیم [\w-]+\)", out)
    assert re.search(r"rep1 / \S+\s+\(فروشنده R\d+\)", out)
    ws = Workspace.open(root)
    try:
        for name, password in logins.items():
            authenticate(ws, name, password)
    finally:
        ws.close()
    # run again: a demo workspace is rebuilt (new logins)
    code, out, err = _run(capsys, "demo", str(root), "--orders", ORDERS, "--no-serve")
    assert code == 0, err and "admin /" in out


def test_demo_keeps_a_folder_that_is_not_a_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work")
    code, _, err = _run(capsys, "demo", str(mine), "--orders", ORDERS, "--no-serve")
    assert code == 2 and "not a demo workspace" in err and "--force" in err
    assert (mine / "thesis.docx").read_text() == "years of work"
    real = tmp_path / "real"
    Workspace.init(real, company="Our company").close()
    code, _, err = _run(capsys, "demo", str(real), "--orders", ORDERS, "--no-serve")
    assert code == 2 and (real / "sanjeh.toml").is_file()  # a real workspace is not a demo either
    code, _, err = _run(capsys, "demo", str(mine), "--orders", ORDERS, "--no-serve", "--force")
    assert code == 0, err
    assert not (mine / "thesis.docx").exists() and (mine / ".sanjeh-demo").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(capsys, "demo", str(empty), "--orders", ORDERS, "--no-serve")[0] == 0  # an empty folder is used


def test_users_add_with_a_team(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    w = ["-w", str(root)]
    monkeypatch.setattr("sys.stdin", io.StringIO("long-password\n"))
    assert _run(capsys, "users", "add", "lead", "--role", "manager", "--team", "South", "--password-stdin", *w)[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("long-password\n"))
    code, _, err = _run(capsys, "users", "add", "x", "--role", "rep", "--rep-id", "R1", "--team", "South",
                        "--password-stdin", *w)  # fmt: skip
    assert code == 2 and "فقط مدیر فروش تیم دارد" in err  # a Persian workspace: its words
    code, out, _ = _run(capsys, "users", "list", "--format", "json", *w)
    assert [(u["username"], u["team"]) for u in json.loads(out)] == [("lead", "South")]


@pytest.mark.parametrize("orders", [1, 100])
def test_a_small_demo_is_built_too(orders: int) -> None:
    from sanjeh.demo import iter_demo_tables

    tables = {name for name, _ in iter_demo_tables(orders=orders)}  # a chunk without leads or deals
    assert {"orders", "opportunities", "leads"} <= tables
