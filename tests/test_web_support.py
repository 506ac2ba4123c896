"""Shared helpers of the web tests: a demo workspace, users, and the real app served by uvicorn.

Nothing here is a test. The demo workspace is built once per test process (demo
tables inserted straight into a real DuckDB file, no import step, to keep the run
short) and copied for each module or test that needs one of its own; it is served by a
real uvicorn server on a free 127.0.0.1 port.
"""

from __future__ import annotations

import atexit
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from sanjeh.users import add_user
from sanjeh.web.app import create_app, uvicorn_config
from sanjeh.workspace import Workspace
from tests.conftest import FIXED_TODAY

PASSWORD = "correct-horse-1"
#: (username, role, rep_id) of the users every demo workspace gets
USERS = (("admin", "admin", None), ("manager", "manager", None), ("rep2", "rep", "R02"), ("rep5", "rep", "R05"))
DEMO_ORDERS = 1500
PERIOD = "1403-12"  # the latest complete Jalali month on FIXED_TODAY
#: orders -> the demo workspace built once in this process, copied by build_demo_workspace
_TEMPLATES: dict[int, Path] = {}


def _demo_template(orders: int) -> Path:
    """The demo workspace of ``orders`` orders, built once per test process in a folder of its own."""
    from sanjeh.demo import iter_demo_tables

    if orders not in _TEMPLATES:
        base = Path(tempfile.mkdtemp(prefix="sanjeh-demo-template-"))
        atexit.register(shutil.rmtree, base, True)
        ws = Workspace.init(base / "ws")
        with ws.warehouse.transaction():
            for name, chunk in iter_demo_tables(orders=orders):
                ws.warehouse.insert_arrow(name, chunk)
        for name, role, rep_id in USERS:
            add_user(ws, name, role, rep_id, password=PASSWORD)
        ws.close()
        _TEMPLATES[orders] = base / "ws"
    return _TEMPLATES[orders]


def build_demo_workspace(root: Path, orders: int = DEMO_ORDERS) -> Workspace:
    """A demo workspace of its own at ``root``, with the users of ``USERS`` and the fixed clock: a copy
    of one built once per test process (copying the folder takes a tenth of a second, building it
    several seconds)."""
    shutil.copytree(_demo_template(orders), root, dirs_exist_ok=True)
    ws = Workspace.open(root)
    ws.clock = lambda: FIXED_TODAY
    return ws


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    ws: Workspace
    url: str
    app: object

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120)

    def token(self, username: str, password: str = PASSWORD) -> str:
        with self.client() as c:
            r = c.post("/api/v1/auth/token", data={"username": username, "password": password})
            r.raise_for_status()
            return str(r.json()["access_token"])

    def api(self, username: str) -> httpx.Client:
        """A client that sends ``username``'s bearer token."""
        return httpx.Client(base_url=self.url, timeout=120, headers={"Authorization": f"Bearer {self.token(username)}"})

    @contextmanager
    def browser_session(self, username: str, password: str = PASSWORD) -> Iterator[tuple[httpx.Client, str]]:
        """A client logged in through the login form (session cookie), and its CSRF token."""
        with self.client() as c:
            login_csrf = csrf_of(c.get("/login").text)
            r = c.post("/login", data={"username": username, "password": password, "csrf_token": login_csrf})
            assert r.status_code in (200, 303), r.text
            yield c, csrf_of(c.get("/kpis").text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@contextmanager
def serve(ws: Workspace, **kw: object) -> Iterator[Served]:
    """Run the real app with uvicorn in a thread on a free port (configured as ``sanjeh serve`` runs it);
    stop it afterwards."""
    app = create_app(ws, **kw)  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Served(ws, f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rss_bytes() -> int:
    """The resident memory of this process (the test server runs in one of its threads)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Sample this process's RSS every 5 ms while the block runs; yields a list that holds,
    afterwards, the peak growth in bytes over the RSS at the start."""
    start = rss_bytes()
    peak = [start]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.005)

    out = [0]
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out[0] = max(peak[0], rss_bytes()) - start


_DEMO: dict[str, object] = {}


def shared_demo_workspace(base: Path) -> Workspace:
    """One demo workspace per test process, shared by the web test modules."""
    if "ws" not in _DEMO:
        _DEMO["ws"] = build_demo_workspace(base / "demo-ws")
    ws = _DEMO["ws"]
    assert isinstance(ws, Workspace)
    return ws


def shared_demo_server(base: Path) -> Served:
    """One server of the demo workspace per test process (its result cache is shared by the modules).

    The tests that use it only read data (and change the language of ``rep5``; the forecasts the
    pages show are kept in ``_forecasts``, kpis/track.py).
    """
    if "served" not in _DEMO:
        manager = serve(shared_demo_workspace(base))
        _DEMO["served"] = manager.__enter__()
        atexit.register(manager.__exit__, None, None, None)
    served = _DEMO["served"]
    assert isinstance(served, Served)
    return served
