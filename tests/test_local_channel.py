"""The command line beside the server (issue 13, sanjeh/local.py): while ``sanjeh serve`` holds a
DuckDB workspace, the CLI's commands run in the server and give what they give without it.

Real parts only: the server is ``sanjeh serve`` in a process of its own, every command is the CLI
in a process of its own, on a real DuckDB workspace (the web tests' demo data, 1,500 orders); the
page views go through the real API.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sanjeh.cli import FORWARDED, app, main
from sanjeh.i18n import t as message
from sanjeh.ingest.mapping import save_mapping
from sanjeh.local import PATH, SERVER_FILE, TOKEN_HEADER
from sanjeh.settings import Settings
from sanjeh.workspace import Workspace
from tests.test_web_support import PASSWORD, build_demo_workspace, free_port

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from sanjeh.cli import main; raise SystemExit(main())"]
PERIOD = "1403-12"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SANJEH_WORKSPACE", "SANJEH_LANG")}
    return {**env, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "160", **extra}


def cli(*args: str, cwd: Path | None = None, stdin: str | None = None, **env: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [*CLI, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=_env(**env), timeout=300
    )
    return done.returncode, done.stdout, done.stderr


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    root: Path
    url: str
    token: str

    def api(self, username: str = "admin") -> httpx.Client:
        r = httpx.post(f"{self.url}/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@contextmanager
def serving(root: Path, log: Path, *args: str, **env: str) -> Iterator[Server]:
    """``sanjeh serve`` on ``root`` (and ``args``) in its own process, with ``env`` added to its
    environment, until it has written ``server.json``."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "-w", str(root), "--port", str(port), *args], stdout=out, stderr=out, env=_env(**env)
        )
    try:
        note = root / SERVER_FILE
        deadline = time.monotonic() + 60
        while not (note.exists() and json.loads(note.read_text() or "{}").get("pid") == proc.pid):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        info = json.loads(note.read_text())
        assert info["url"] == f"http://127.0.0.1:{port}"
        yield Server(proc, root, info["url"], info["token"])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace (Persian, DuckDB), closed; each test works on a copy."""
    ws = build_demo_workspace(tmp_path_factory.mktemp("channel") / "ws")
    root = ws.root
    ws.close()
    return root


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "ws"))


def _counts(root: Path) -> dict[str, int]:
    with Workspace.open(root) as ws:
        return {t: ws.warehouse.fetch(f"SELECT count(*) FROM {t}")[0][0] for t in ("orders", "order_lines", "_imports")}


def test_an_import_while_served_shows_on_the_next_page_view(root: Path, tmp_path: Path) -> None:
    nightly = tmp_path / "nightly"
    nightly.mkdir()
    (nightly / "orders.csv").write_text(
        "order_id,ordered_at,customer_id,status\n"
        + "".join(f"NEW{i},2025-03-0{i + 1} 10:00,C000035,fulfilled\n" for i in range(3))
    )
    (nightly / "order_lines.csv").write_text(
        "order_id,line_no,product_id,quantity,unit_price\n" + "".join(f"NEW{i},1,P066,1,1000000000\n" for i in range(3))
    )
    orders = _counts(root)["orders"]
    columns = "{order_id: order_id, ordered_at: ordered_at, customer_id: customer_id, status: status}"
    save_mapping(root, "nightly", f"name: nightly\ntables:\n  - table: orders\n    from: '*'\n    columns: {columns}\n")
    with serving(root, tmp_path / "serve.log") as server, server.api() as api:
        before = api.get(f"/api/v1/kpis/revenue?period={PERIOD}").json()["rows"][0]
        # a relative path: the client's folder, not the server's
        code, out, err = cli("import", "nightly", "-w", str(root), "--format", "json", cwd=tmp_path)
        assert code == 0, err
        assert json.loads(out)["tables"]["orders"] == {"read": 3, "accepted": 3, "rejected": 0}
        after = api.get(f"/api/v1/kpis/revenue?period={PERIOD}").json()["rows"][0]  # at once, no waiting
        assert after["orders"] == before["orders"] + 3
        assert after["revenue"] == pytest.approx(before["revenue"] + 3e9)
        code, out, err = cli("import", "nightly/missing.csv", "-w", str(root), cwd=tmp_path, SANJEH_LANG="en")
        assert code == 2 and "missing.csv" in err and "Traceback" not in err
        # a mapping saved in the workspace (as the Data page's wizard saves them), by its name
        code, out, err = cli(
            "import", "nightly/orders.csv", "--mapping", "nightly", "--dry-run", "-w", str(root), "--format", "json",
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["tables"]["orders"] == {"read": 3, "accepted": 3, "rejected": 0}
    assert not (root / SERVER_FILE).exists()  # a server that stops removes its note
    assert _counts(root)["orders"] == orders + 3


COMMANDS = [
    ("kpi", "revenue", "--period", PERIOD, "--compare", "previous"),
    ("kpi", "sales_by_region", "--period", "1403-Q4", "--format", "json"),
    ("kpis", "--format", "csv"),
    ("scorecard", "--period", PERIOD),
    ("rejects", "--format", "json"),
    ("users", "list"),
    ("alerts", "--format", "json"),
    ("kpi", "revenue", "--period", "1403-13"),  # an error: the same sentence, the same exit status
]


def test_commands_give_the_same_output_served_or_not(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (the client's side of ``main()``; the server is its own process), then
    through the real command line for what needs a terminal or standard input."""
    monkeypatch.setenv("COLUMNS", "160")

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "-w", str(root)])
        out = capsys.readouterr()
        return code, out.out, out.err

    alone = [run(*c) for c in COMMANDS]
    assert alone[0][0] == 0 and alone[-1][0] == 2
    with serving(root, tmp_path / "serve.log") as server:
        served = [run(*c) for c in COMMANDS]
        for command, a, s in zip(COMMANDS, alone, served, strict=True):
            assert s == a, command
        # users: added through the channel, able to log in at once
        args = ("users", "add", "nightly", "--role", "manager", "--password-stdin", "-w", str(root))
        code, out, err = cli(*args, stdin=PASSWORD + "\n")
        said = message("cli.user_created", Settings.load(root).language, name="nightly", role="manager")
        assert (code, out.strip()) == (0, said), err
        with server.api("nightly") as api:
            assert api.get("/api/v1/me").json()["username"] == "nightly"
        # no terminal to ask a password on, and no --password-stdin: said here, nothing sent
        code, _, err = cli("users", "passwd", "nightly", "-w", str(root), SANJEH_LANG="en")
        assert code == 2 and "--password-stdin" in err
        code, _, err = cli("users", "disable", "nightly", "-w", str(root))
        assert code == 0, err
        r = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "nightly", "password": PASSWORD})
        assert r.status_code == 401  # the server forgot the user it had cached
        # $SANJEH_WORKSPACE and the current folder name the workspace as -w does
        code, out, _ = cli("users", "list", "--format", "csv", SANJEH_WORKSPACE=str(root))
        assert code == 0 and "nightly,manager" in out
        assert cli("users", "list", "--format", "csv", cwd=root)[1] == out


def test_every_command_that_opens_a_workspace_is_forwarded_or_says_why_not() -> None:
    import typer.main

    group = typer.main.get_command(app)
    commands = set(group.commands)  # type: ignore[attr-defined]
    # make a workspace, are the server, read files (map suggest; check reads the declarations, never the
    # warehouse, and must see the files as they are now, not as the server read them), or run for ever
    # (scheduler: beside a DuckDB server it cannot open the file, and it says so)
    local_only = {"init", "demo", "serve", "map", "check", "scheduler"}
    assert commands - local_only <= set(FORWARDED)


def test_the_channel_answers_only_its_token_from_this_machine(root: Path, tmp_path: Path) -> None:
    with serving(root, tmp_path / "serve.log") as server, server.api() as api:
        assert (root / SERVER_FILE).stat().st_mode & 0o777 == 0o600
        body = {"argv": ["users", "list"], "cwd": str(tmp_path), "workspace": str(root), "lang": "en"}
        nothing = api.post("/_local/nothing", json=body)
        assert nothing.status_code == 404
        wrong = [
            api.post(
                PATH, json=body, headers={TOKEN_HEADER: ("y" if server.token[0] == "x" else "x") + server.token[1:]}
            ),
            api.post(PATH, json=body),
            api.post(PATH, json=body, headers={TOKEN_HEADER: server.token, "X-Forwarded-For": "127.0.0.1"}),
            api.post(PATH, json=body, headers={TOKEN_HEADER: server.token, "Forwarded": "for=127.0.0.1"}),
            api.get(PATH, headers={TOKEN_HEADER: server.token}),
        ]
        for r in wrong:  # what a path that does not exist gets
            assert r.status_code == 404 and r.headers["content-type"] == nothing.headers["content-type"]
            assert r.text.replace(PATH, "/_local/nothing") == nothing.text
        stranger = httpx.post(f"{server.url}/_local/nothing", json=body)
        strange = httpx.post(f"{server.url}{PATH}", json=body, headers={TOKEN_HEADER: "wrong"})
        assert stranger.status_code == strange.status_code == 303  # to the login page
        assert PATH not in json.dumps(api.get("/api/v1/openapi.json").json())
        right = httpx.post(f"{server.url}{PATH}", json=body, headers={TOKEN_HEADER: server.token}, timeout=60)
        assert right.status_code == 200
        answer = json.loads(right.text.strip().splitlines()[-1])
        assert answer["exit_code"] == 0 and "admin" in answer["stdout"]
        refused = httpx.post(
            f"{server.url}{PATH}",
            json={**body, "argv": ["init", str(tmp_path / "other")]},
            headers={TOKEN_HEADER: server.token},
            timeout=60,
        )
        answer = json.loads(refused.text.strip().splitlines()[-1])
        assert answer["exit_code"] == 2 and "init" in answer["stderr"] and not (tmp_path / "other").exists()


def _big_import(folder: Path, n_orders: int = 40_000, per_order: int = 5) -> None:
    """Orders and their lines: checking the lines takes a second or two, time to kill the server."""
    folder.mkdir()
    with (folder / "orders.csv").open("w") as fh:
        fh.write("order_id,ordered_at,status\n")
        fh.writelines(f"B{i},2024-01-{i % 28 + 1:02d} 10:00,placed\n" for i in range(n_orders))
    with (folder / "order_lines.csv").open("w") as fh:
        fh.write("order_id,line_no,product_id,quantity,unit_price\n")
        fh.writelines(
            f"B{i // per_order},{i % per_order + 1},P066,{i % 7 + 1},{i % 100}.5\n" for i in range(n_orders * per_order)
        )


def test_a_server_killed_mid_import_leaves_the_workspace_as_it_was(root: Path, tmp_path: Path) -> None:
    """The import runs in the server for a command line whose standard error is a terminal (it
    draws the import's progress as a local import does); the server is killed once the orders
    are checked and parked and the lines are being checked."""
    import pty

    before = _counts(root)
    _big_import(tmp_path / "big")
    with serving(root, tmp_path / "serve.log") as server:
        terminal, other_end = pty.openpty()
        proc = subprocess.Popen(
            [*CLI, "import", str(tmp_path / "big"), "-w", str(root)],
            stdout=subprocess.PIPE,
            stderr=other_end,
            text=True,
            env=_env(SANJEH_LANG="en"),
        )
        os.close(other_end)
        shown = b""
        deadline = time.monotonic() + 120
        while b"checking order_lines" not in shown:  # the progress bar, drawn from the server's steps
            assert time.monotonic() < deadline and proc.poll() is None, shown
            shown += os.read(terminal, 4096)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        out, _ = proc.communicate(timeout=60)
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the other end is closed
                break
            if not chunk:
                break
            shown += chunk
        os.close(terminal)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))  # without the bar's colours
    said = [line for line in re.split(r"[\r\n]", text) if line.strip()][-1]
    assert proc.returncode == 1 and out == ""
    assert said == (
        f"error: the server of this workspace (`sanjeh serve`, PID {server.proc.pid}) stopped before it answered "
        "(an import it had not finished is not kept): start the server again, or run the command without it"
    ), said
    assert (root / SERVER_FILE).exists()  # left behind by the killed server
    code, out, err = cli("kpis", "--format", "csv", "-w", str(root))  # runs here: the note is stale
    assert code == 0 and out.startswith("name,"), err
    assert not (root / SERVER_FILE).exists()
    with Workspace.open(root) as ws:
        assert not [t for t in ws.warehouse.con.list_tables() if t.startswith("__import_")]
    assert _counts(root) == before


HOLD = """
import sys, time
from sanjeh.workspace import Workspace
ws = Workspace.open(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_workspace_held_by_another_process_says_which_and_what_to_do(
    root: Path, lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process (not a server: no server.json) holds the DuckDB file. The command line is
    this process's ``main()``; ``sanjeh serve`` runs as a process of its own."""
    if lang == "en":  # the demo workspace is Persian; an English one says it in English
        text = (root / "sanjeh.toml").read_text().replace('language = "fa"', 'language = "en"')
        assert text != (root / "sanjeh.toml").read_text()
        (root / "sanjeh.toml").write_text(text)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        said = []
        for command in (("kpis",), ("import", str(root / "nothing.csv")), ("users", "list"), ("scorecard",)):
            code = main([*command, "-w", str(root)])
            out, err = capsys.readouterr()
            assert (code, out) == (1, ""), (command, err)
            said.append(err)
        if lang == "en":
            code, out, err = cli("serve", "-w", str(root), "--port", str(free_port()))
            assert (code, out) == (1, "")
            said.append(err)
        for err in said:
            [line] = err.strip().splitlines()
            if lang == "fa":
                assert line.startswith("خطا: فضای کاری در دست برنامه‌ی دیگری است (python")
                assert f"شناسه‌ی فرایند {holder.pid})" in line and line.endswith("دوباره اجرا کنید.")
            else:
                assert re.fullmatch(
                    rf"error: the workspace is open in another process \(python[\d.]*, PID {holder.pid}\): "
                    "wait for it to finish, or stop it, then run the command again",
                    line,
                ), line
            assert "duckdb" not in line.lower() and "lock" not in line.lower()
    finally:
        holder.kill()
        holder.wait()


def test_a_server_that_does_not_answer_is_named_in_one_sentence(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that is alive but answers nothing (stopped with SIGSTOP, stuck): a socket that
    accepts connections and never reads them stands for it, and this process's PID for its own."""
    import socket

    from sanjeh import local

    monkeypatch.setattr(local, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen()
        local.write_server_file(root, "127.0.0.1", stuck.getsockname()[1], local.new_token())
        code = main(["kpis", "-w", str(root)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    [line] = err.strip().splitlines()
    assert line == (
        f"خطا: کارگزار این فضای کاری (sanjeh serve، شناسه‌ی فرایند {os.getpid()}) پاسخ نمی‌دهد: کمی صبر کنید و "
        "فرمان را دوباره اجرا کنید، یا کارگزار را متوقف کنید (فرمان بی آن اجرا می‌شود)."
    )
    assert (root / SERVER_FILE).exists()  # its process lives: the note is not stale
