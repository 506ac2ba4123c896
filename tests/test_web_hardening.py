"""Issue 11: hostile and accidental input against the real app served by uvicorn.

Each test here failed before the hardening (docs/security.md names the test of each promise):
bodies are refused before they are read (chunked too), the web reads no file but known
mappings, password checks leave the warehouse lock free, the login limit holds by address and
by name, CSV exports carry no formula, sessions end, files are private, bad input is a 4xx.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import select
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sanjeh.cli import main
from sanjeh.errors import AuthError
from sanjeh.users import add_user, delete_user, disable_user, get_user, set_password, set_role
from sanjeh.web.state import AppState
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.test_web_support import PASSWORD, Served, csrf_of, peak_rss_growth, serve

MB = 1024 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The small hand-made company (tests/kpi_data.py), its users, served with short caches."""
    ws = Workspace.init(tmp_path_factory.mktemp("hardening") / "ws")
    kpi_data.fill(ws)
    for name, role, rep in (("admin", "admin", None), ("manager", "manager", None), ("rep1", "rep", "R1")):
        add_user(ws, name, role, rep, password=PASSWORD)
    with serve(ws, max_upload=2 * MB, credentials_ttl=0.0, login_limit=50, address_login_limit=200) as s:
        yield s
    ws.close()


def state(s: Served) -> AppState:
    st = s.app.state.sanjeh  # type: ignore[attr-defined]
    assert isinstance(st, AppState)
    return st


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"}
    if code is not None:
        assert err["code"] == code
    return dict(err)


# -- 1. bodies: refused before they are read, counted as they arrive -------------------------------------
def chunked(
    served: Served, method: str, path: str, headers: dict[str, str], chunks: Iterable[bytes]
) -> tuple[int, int, bytes]:
    """Send a chunked request on a raw socket and stop as soon as the server answers.

    Returns (status, body bytes sent before the answer came, the answer)."""
    url = urlsplit(served.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    head = f"{method} {path} HTTP/1.1\r\nHost: {url.hostname}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    sent = 0
    answer = b""
    try:
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                break
            sent += len(chunk)
        else:
            sock.sendall(b"0\r\n\r\n")
        sock.settimeout(60)
        answer = read_answer(sock)
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent, answer


def read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP response (head and Content-Length body) from a raw socket."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if len(body) >= length:
                return data
        try:
            part = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not part:
            return data
        data += part


def repeat(piece: bytes, total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    chunk = piece * max(1, size // len(piece))
    for _ in range(total // len(chunk)):
        yield chunk


TARGET = b'{"kpi":"revenue","period":"1403","target":1},'


def test_an_unauthenticated_chunked_json_body_is_refused_before_it_is_read(served: Served) -> None:
    """PUT /api/v1/targets used to parse the whole body before checking the token (395 MB -> 3.3 GB)."""
    body = [b"[", *repeat(TARGET, 64 * MB)]
    with peak_rss_growth() as growth:
        status, sent, answer = chunked(served, "PUT", "/api/v1/targets", {"Content-Type": "application/json"}, body)
    assert status == 401, answer[:300]
    assert b'"unauthorized"' in answer
    assert sent < 24 * MB  # the answer came while the body was still being sent (socket buffers hold some)
    assert growth[0] < 40 * MB, f"the server grew by {growth[0] / MB:.0f} MB"


def test_an_authenticated_chunked_body_stops_at_its_limit(served: Served) -> None:
    token = served.token("manager")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    with peak_rss_growth() as growth:
        status, sent, answer = chunked(served, "PUT", "/api/v1/targets", headers, [b"[", *repeat(TARGET, 64 * MB)])
    assert status == 413, answer[:300]
    assert b'"too_large"' in answer
    assert sent < 24 * MB
    assert growth[0] < 40 * MB, f"the server grew by {growth[0] / MB:.0f} MB"


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/login"])
def test_chunked_multipart_to_the_login_routes_is_refused_at_once(served: Served, path: str) -> None:
    """A multipart 'login' used to be written to /tmp whole (419 MB) before its 401."""
    boundary = "sanjeh" + secrets.token_hex(8)
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="username"; filename="x.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    with peak_rss_growth() as growth:
        status, sent, answer = chunked(served, "POST", path, headers, [start, *repeat(b"A", 64 * MB)])
    assert status == 413, answer[:300]
    assert sent < 24 * MB
    assert growth[0] < 40 * MB


def test_a_declared_length_over_the_limit_is_refused_without_reading(served: Served) -> None:
    with served.client() as c:
        r = c.post("/api/v1/auth/token", content=b"x" * (64 * 1024), headers={"Content-Type": "text/plain"})
        assert_error(r, 413, "too_large")
        r = c.put("/api/v1/targets", content=b"[" + b" " * (2 * MB), headers={"Content-Type": "application/json"})
        assert_error(r, 413, "too_large")  # over the 1 MB limit of a plain body: refused before auth even
    with served.api("manager") as c:
        big = [("files", ("reps.csv", b"rep_id,name\n" + b"R9,x\n" * (600 * 1024), "text/csv"))]
        assert_error(c.post("/api/v1/imports", files=big), 413, "too_large")  # 3 MB > the 2 MB upload limit
        chunks = (b"rep_id,name\n" + b"R9,x\n" * 1000 for _ in range(600))  # 3.6 MB without a length
        boundary = "b" + secrets.token_hex(6)

        def body() -> Iterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="reps.csv"\r\n\r\n'
            ).encode()
            yield from chunks
            yield f"\r\n--{boundary}--\r\n".encode()

        r = c.post(
            "/api/v1/imports", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        assert_error(r, 413, "too_large")


def test_a_stalled_body_times_out(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    add_user(ws, "admin", "admin", password=PASSWORD)
    with serve(ws, body_timeout=0.5) as s:
        token = s.token("admin")
        url = urlsplit(s.url)
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(
                b"PUT /api/v1/targets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n["
            )
            answer = read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'"timeout"' in answer
    ws.close()


# -- 2. the web reads no file but the mappings it knows by name ------------------------------------------
SECRET = "TOP-SECRET-7f3a"


@pytest.mark.parametrize(
    "content",
    [
        f"{SECRET}_key: 1\nother: 2\n".encode(),  # YAML, not a mapping: its keys used to be echoed
        f"tables: [\n  {SECRET}: : :\n".encode(),  # bad YAML: the offending line used to be echoed
        b"\x00\x01binary " + SECRET.encode(),  # binary: used to be a 500
    ],
)
def test_the_web_refuses_a_mapping_path_and_echoes_nothing(served: Served, tmp_path: Path, content: bytes) -> None:
    secret_file = tmp_path / "secret.yaml"
    secret_file.write_bytes(content)
    reps = [("files", ("reps.csv", b"rep_id,name\nR7,x\n", "text/csv"))]
    with served.api("manager") as c:
        for ref in (str(secret_file), "../../" + str(secret_file), "/etc/shadow", "secret"):
            r = c.post("/api/v1/imports", files=reps, data={"mapping": ref})
            err = assert_error(r, 422, "invalid_mapping")
            assert SECRET not in r.text
            assert "maven-crm" in str(err["message"])  # it lists the names it knows
    with served.browser_session("manager") as (b, csrf):
        r = b.post("/data/import", files=reps, data={"mapping": str(secret_file), "csrf_token": csrf})
        assert r.status_code == 422
        assert SECRET not in r.text
        assert "no mapping named" in r.text


def test_the_warehouse_file_as_a_mapping_leaves_the_servers_lock_alone(served: Served) -> None:
    db = served.ws.root / "warehouse.duckdb"
    reps = [("files", ("reps.csv", b"rep_id,name\nR7,x\n", "text/csv"))]
    with served.api("manager") as c:
        assert_error(c.post("/api/v1/imports", files=reps, data={"mapping": str(db)}), 422, "invalid_mapping")
        assert c.get("/api/v1/kpis/revenue", params={"period": "1403-Q1"}).status_code == 200
    # another process still cannot open the warehouse for writing: the server's lock holds
    probe = "import duckdb, sys\ntry:\n    duckdb.connect(sys.argv[1])\nexcept Exception:\n    sys.exit(3)\n"
    res = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, timeout=60)
    assert res.returncode == 3, res.stderr


def test_a_mapping_saved_in_the_workspace_is_used_by_name(served: Served) -> None:
    folder = served.ws.root / "mappings"
    folder.mkdir(exist_ok=True)
    (folder / "crm-reps.yaml").write_text(
        "tables:\n  - table: reps\n    from: people.csv\n    columns:\n      rep_id: code\n      name: full_name\n",
        encoding="utf-8",
    )
    with served.api("manager") as c:
        people = [("files", ("people.csv", b"code,full_name\nR8,Neda\n", "text/csv"))]
        r = c.post("/api/v1/imports", files=people, data={"mapping": "crm-reps"})
        assert r.status_code == 200, r.text
        assert r.json()["tables"]["reps"]["accepted"] == 1
    with served.browser_session("manager") as (b, _):
        assert '<option value="crm-reps">' in b.get("/data").text


# -- 3. password checks outside the warehouse lock ---------------------------------------------------------
def test_password_checks_leave_the_warehouse_lock_free(served: Served) -> None:
    """16 threads logging in with random names used to hold the app-wide lock for every Argon2 check."""
    from sanjeh.users import check_password, hash_password

    h = hash_password("some-password")
    t0 = time.perf_counter()
    with pytest.raises(AuthError):
        check_password(None, h, "x")
    one_check = time.perf_counter() - t0
    st = state(served)
    waits: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            with st.locked():
                waits.append(time.perf_counter() - t)
            time.sleep(0.005)

    def login(_: int) -> int:
        with served.client() as c:
            name = "nobody-" + secrets.token_hex(6)
            return c.post("/api/v1/auth/token", data={"username": name, "password": "wrong-password"}).status_code

    from concurrent.futures import ThreadPoolExecutor

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(login, range(16)))
    finally:
        stop.set()
        prober.join()
    assert set(codes) == {401}
    waits.sort()
    median = waits[len(waits) // 2]
    assert median < one_check / 4, (
        f"median wait {median * 1000:.0f} ms for the lock; one check {one_check * 1000:.0f} ms"
    )


# -- 4. the login limit: by address and by name, bounded, no trusted forwarding by default --------------------
def test_a_forged_forwarded_for_does_not_reset_the_limit(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    add_user(ws, "manager", "manager", password=PASSWORD)
    with serve(ws, login_limit=3) as s, s.client() as c:
        codes = [
            c.post(
                "/api/v1/auth/token",
                data={"username": "manager", "password": "bad-password"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(12)
        ]
    assert codes[:3] == [401] * 3
    assert set(codes[3:]) == {429}
    ws.close()


def test_one_address_trying_many_names_is_limited(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with serve(ws, login_limit=3, address_login_limit=6) as s, s.client() as c:
        codes = [
            c.post("/api/v1/auth/token", data={"username": f"user{i}", "password": "Winter2025!"}).status_code
            for i in range(10)
        ]
    assert codes[:6] == [401] * 6
    assert set(codes[6:]) == {429}
    ws.close()


def test_behind_a_configured_proxy_each_client_has_its_own_limit(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    add_user(ws, "manager", "manager", password=PASSWORD)
    with serve(ws, login_limit=2, forwarded_allow="127.0.0.1") as s, s.client() as c:

        def attempt(client: str | None, password: str = "bad-password") -> int:
            headers = {"X-Forwarded-For": f"203.0.113.99, {client}"} if client else {}
            data = {"username": "manager", "password": password}
            return c.post("/api/v1/auth/token", data=data, headers=headers).status_code

        assert [attempt("198.51.100.1") for _ in range(3)] == [401, 401, 429]
        # another client behind the same proxy is not locked out, and a forged left-most hop changes nothing
        assert attempt("198.51.100.2", PASSWORD) == 200
        assert attempt("198.51.100.1", PASSWORD) == 429
        # a proxy that sends no X-Forwarded-For is a configuration error, not one shared lock-out
        r = c.post("/api/v1/auth/token", data={"username": "manager", "password": PASSWORD})
        assert_error(r, 400, "bad_request")
        assert "X-Forwarded-For" in r.json()["error"]["message"]
    ws.close()


def test_the_limiter_keeps_bounded_memory() -> None:
    import tracemalloc

    from sanjeh.web.auth import RateLimiter

    now = [0.0]
    lim = RateLimiter(limit=5, address_limit=1000, window=60, max_keys=500, clock=lambda: now[0])
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(40):
        lim.failed(f"{i}" + "x" * MB, "192.0.2.1")  # 40 names of 1 MB
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000, grown
    for i in range(5000):
        lim.failed(f"name{i}", f"192.0.2.{i % 250}")
    assert len(lim) <= 500
    now[0] += 61  # every failure has left the window: the next failure drops the stale keys
    lim.failed("late", "192.0.2.7")
    assert len(lim) == 2


# -- 5. CSV exports carry no formula ------------------------------------------------------------------------
FORMULAS = ['=HYPERLINK("http://evil.test","x")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+cmd", "-2+3", "\tTAB"]


def test_csv_exports_neutralise_formulas(served: Served) -> None:
    csv_rows = "rep_id,name,region\n" + "".join(
        f'R1,"{FORMULAS[0].replace(chr(34), chr(34) * 2)}",Tehran\n' for _ in range(1)
    )
    bad_dates = "order_id,ordered_at,status\n" + "".join(
        f'O{i},"{f.replace(chr(34), chr(34) * 2)}",placed\n' for i, f in enumerate(FORMULAS)
    )
    with served.api("manager") as c:
        files = [
            ("files", ("reps.csv", csv_rows.encode(), "text/csv")),
            ("files", ("orders.csv", bad_dates.encode(), "text/csv")),
        ]
        assert c.post("/api/v1/imports", files=files).status_code == 200
    with served.browser_session("manager") as (b, _):
        rejects = b.get("/data/rejects.csv").text
        kpi = b.get("/kpi/sales_per_rep/csv", params={"period": "1403-Q1"}).text
    for text in (rejects, kpi):
        for line in text.lstrip("\ufeff").splitlines():
            for cell in next(csv.reader([line])):
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), line
                if cell.startswith("-"):
                    float(cell)  # a negative number, never text
    assert "'@SUM(1+1)" in rejects
    assert "'=HYPERLINK(" in kpi


def test_the_cli_csv_is_neutralised_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sanjeh.render import to_csv

    parsed = list(csv.reader(io.StringIO(to_csv([{"value": f, "n": -3.5} for f in FORMULAS], ["value", "n"]))))
    assert parsed[1:] == [["'" + f, "-3.5"] for f in FORMULAS]
    root = tmp_path / "ws"
    Workspace.init(root).close()
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,ordered_at,status\nO1,\"=cmd|' /C calc'!A0\",placed\n", encoding="utf-8")
    assert main(["import", str(orders), "-w", str(root)]) == 0
    capsys.readouterr()
    assert main(["rejects", "--format", "csv", "-w", str(root)]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["value"] == "'=cmd|' /C calc'!A0"


# -- 6. sessions end ------------------------------------------------------------------------------------------
def test_logging_out_ends_the_session_for_its_cookie(served: Served) -> None:
    with served.browser_session("manager") as (c, csrf):
        cookie = c.cookies.get("sanjeh_session")
        assert cookie
        assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with served.client() as replay:
        r = replay.get("/api/v1/me", headers={"Cookie": f"sanjeh_session={cookie}"})
        assert_error(r, 401, "unauthorized")
        assert (
            replay.get("/kpis", headers={"Cookie": f"sanjeh_session={cookie}"}, follow_redirects=False).status_code
            == 303
        )


def test_revoking_a_token_ends_it(served: Served) -> None:
    token = served.token("manager")
    with served.client() as c:
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/me", headers=auth).status_code == 200
        assert c.delete("/api/v1/auth/token", headers=auth).status_code == 204
        assert_error(c.get("/api/v1/me", headers=auth), 401)


@pytest.mark.parametrize("change", ["remove_and_recreate", "passwd", "disable", "role"])
def test_a_changed_user_loses_every_token_and_session(served: Served, change: str) -> None:
    st = state(served)
    name = "temp-" + change
    st.call(lambda ws: add_user(ws, name, "rep", "R2", password=PASSWORD))
    token = served.token(name)
    with served.browser_session(name) as (browser, _):
        cookie = browser.cookies.get("sanjeh_session")
    with served.client() as c:
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/me", headers=auth).status_code == 200
        if change == "remove_and_recreate":
            st.call(lambda ws: delete_user(ws, name))
            st.call(lambda ws: add_user(ws, name, "admin", password=PASSWORD))  # same name, more power
        elif change == "passwd":
            st.call(lambda ws: set_password(ws, name, "another-password"))
        elif change == "disable":
            st.call(lambda ws: disable_user(ws, name))
        else:
            st.call(lambda ws: set_role(ws, name, "manager"))
        assert_error(c.get("/api/v1/me", headers=auth), 401)
        assert_error(c.get("/api/v1/users", headers=auth), 401)
        assert_error(c.get("/api/v1/me", headers={"Cookie": f"sanjeh_session={cookie}"}), 401)
        if change == "disable":
            r = c.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert_error(r, 401)
    if st.call(lambda ws: get_user(ws, name)) is not None:
        st.call(lambda ws: delete_user(ws, name))


def test_users_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    w = ["-w", str(root)]
    monkeypatch.setenv("SANJEH_LANG", "en")  # the messages below are the English ones (a new workspace speaks Persian)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, _, err = run("users", "add", "sara", "--role", "manager", *w)  # no terminal, no --password-stdin
    assert code == 2
    assert "--password-stdin" in err
    assert "internal error" not in err
    assert run("users", "add", "sara", "--role", "manager", "--password-stdin", *w, stdin="long-password\n")[0] == 0
    assert (
        run("users", "add", "ali", "--role", "rep", "--rep-id", "R1", "--password-stdin", *w, stdin="pw-pw-pw-1\n")[0]
        == 0
    )
    code, out, _ = run("users", "list", "--format", "json", *w)
    assert code == 0
    assert [(u["username"], u["role"], u["disabled"]) for u in json.loads(out)] == [
        ("ali", "rep", False),
        ("sara", "manager", False),
    ]
    assert run("users", "disable", "ali", *w)[0] == 0
    code, out, _ = run("users", "list", "--format", "json", *w)
    assert [u["disabled"] for u in json.loads(out)] == [True, False]
    assert run("users", "passwd", "ali", "--password-stdin", *w, stdin="a-new-password\n")[0] == 0
    code, out, _ = run("users", "list", "--format", "json", *w)
    assert [u["disabled"] for u in json.loads(out)] == [False, False]
    assert run("users", "remove", "sara", *w)[0] == 0
    code, _, err = run("users", "remove", "sara", *w)
    assert code == 2
    assert "no user named 'sara'" in err
    code, out, _ = run("users", "list", *w)
    assert "ali" in out
    assert "sara" not in out


# -- 7. private files, HTTPS-only cookies -------------------------------------------------------------------
def test_workspace_files_are_private(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "new" / "ws")
    add_user(ws, "admin", "admin", password=PASSWORD)
    ws.close()
    root = tmp_path / "new" / "ws"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "sanjeh.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "warehouse.duckdb").stat().st_mode) == 0o600
    # an existing folder keeps its mode; the files are still private
    other = tmp_path / "existing"
    other.mkdir(mode=0o755)
    Workspace.init(other).close()
    assert stat.S_IMODE(other.stat().st_mode) == 0o755
    assert stat.S_IMODE((other / "sanjeh.toml").stat().st_mode) == 0o600


def test_secure_cookies_send_hsts_and_secure_cookies(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    add_user(ws, "admin", "admin", password=PASSWORD)
    with serve(ws, secure_cookies=True) as s, s.client() as c:
        page = c.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        nonce = page.headers["set-cookie"].split(";")[0]  # Secure: httpx keeps it for https only
        assert "Secure" in page.headers["set-cookie"]
        r = c.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            headers={"Cookie": nonce},
        )
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "sanjeh_session=" in v)
        assert "Secure" in cookie
    ws.close()


def test_serve_takes_the_hardening_options() -> None:
    import typer.main

    from sanjeh.cli import app

    cmd = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    opts = {o for p in cmd.params for o in p.opts}
    assert {"--secure-cookies", "--forwarded-allow", "--max-upload-mb"} <= opts


# -- 8. bad input is a 4xx, never a 500 ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    ["filter=region:%00", "period=1403%00", "by=region%0d%0a", "filter=region:Tehran%1b", "grain=month%7f"],
)
def test_control_characters_in_parameters_are_4xx(served: Served, query: str) -> None:
    with served.api("manager") as c:
        r = c.get(f"/api/v1/kpis/revenue?{query}")
        err = assert_error(r, 400, "bad_request")
        assert "control character" in str(err["message"])
    with served.browser_session("manager") as (b, _):
        r = b.get(f"/kpi/revenue?{query}")
        assert r.status_code == 400
        assert "<html" in r.text


def test_control_characters_in_json_fields_are_4xx(served: Served) -> None:
    with served.api("admin") as c:
        before = c.get("/api/v1/targets").json()
        row = {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "Teh\x00ran", "target": 5}
        assert_error(c.put("/api/v1/targets", json=[row]), 422, "invalid_request")
        assert c.get("/api/v1/targets").json() == before  # nothing stored
        user = {"username": "x\ry", "role": "admin", "password": "long-enough"}
        assert_error(c.post("/api/v1/users", json=user), 422, "invalid_request")


def test_an_upload_name_over_255_bytes_is_4xx(served: Served) -> None:
    with served.api("manager") as c:
        name = "ر" * 200 + ".csv"  # 404 bytes in UTF-8
        r = c.post("/api/v1/imports", files=[("files", (name, b"rep_id,name\nR7,x\n", "text/csv"))])
        err = assert_error(r, 400, "bad_request")
        assert "255 bytes" in str(err["message"])
        r = c.post("/api/v1/imports", files=[("files", ("a\x01b.csv", b"rep_id,name\nR7,x\n", "text/csv"))])
        assert_error(r, 400, "bad_request")


def test_a_bad_content_length_is_4xx(served: Served) -> None:
    url = urlsplit(served.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
