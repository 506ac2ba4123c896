"""The dashboard's scorecard page under load: a real uvicorn server on 127.0.0.1, real HTTP.

:func:`measure` adds a benchmark user to the workspace, starts
``python -m bench.web serve WORKSPACE PORT`` (uvicorn, one process), logs in through
the login form, then times ``GET /?period=…`` (the scorecard page) as a client on
the loopback sees it: cold pages (each period asked for the first time) from
``CLIENTS`` concurrent clients, the same pages again (cached) from ``CLIENTS``
clients, and one repeated view from a single client. The concurrent clients are coroutines that
write HTTP/1.1 by hand (:func:`_concurrent`), so that on a small machine the load generator does
not measure itself; the warm figure is also taken with a thread and an httpx client per client, as
before stop 24 (``warm_concurrent_httpx_threads``).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.measure import proc_status_mb, python_module

USER = "bench-admin"
PASSWORD = "bench-password-1403"
CLIENTS = 20
WARM_ROUNDS = 5  # cached requests per client
REPEATS = 20  # a single client's repeated view
#: Concurrent first views of distinct periods. Kept small: the app computes one scorecard at a
#: time (AppState lock), so N cold pages take about N times one, and one takes seconds.
COLD = 3


def _periods(n: int) -> list[str]:
    """``n`` Jalali months ending at 1403-12 (each a scorecard not yet computed)."""
    out = []
    y, m = 1403, 12
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_user(workspace: Path) -> None:
    from sanjeh.users import add_user, get_user
    from sanjeh.workspace import Workspace

    ws = Workspace.open(workspace)
    try:
        if get_user(ws, USER) is None:
            add_user(ws, USER, "admin", password=PASSWORD)
    finally:
        ws.close()


def login(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=600) as c:
        page = c.get("/login")
        m = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        if m is None:
            raise RuntimeError("no CSRF token on the login page")
        r = c.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": m.group(1)})
        if r.status_code != 303:  # a redirect with the session cookie; anything else is a failed login
            raise RuntimeError(f"login failed: HTTP {r.status_code}")
        return c.cookies


def _get(base: str, cookies: httpx.Cookies, paths: list[str]) -> list[float]:
    out = []
    with httpx.Client(base_url=base, cookies=cookies, timeout=600) as c:
        for p in paths:
            t = time.perf_counter()
            r = c.get(p)
            out.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"GET {p}: HTTP {r.status_code}: {r.text[:200]}")
    return out


def _stats(ts: list[float]) -> dict[str, Any]:
    s = sorted(ts)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {
        "requests": len(s),
        "median_ms": round(statistics.median(s) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(s[-1] * 1000, 1),
    }


def _concurrent_httpx(base: str, cookies: httpx.Cookies, per_client: list[list[str]]) -> list[float]:
    """:func:`_concurrent` as it was measured until stop 24: a thread and an httpx client per
    client. Kept to show the difference: on this 2-core machine the 20 clients' own Python (about
    1.5 ms of CPU per request, more than the server's 1 ms) shares the cores and one interpreter lock,
    and its queue is most of what it times."""
    with ThreadPoolExecutor(len(per_client)) as pool:
        results = list(pool.map(lambda paths: _get(base, cookies, paths), per_client))
    return [t for r in results for t in r]


async def _client(base: str, cookie: str, paths: list[str], out: list[float]) -> None:
    """One client: a keep-alive HTTP/1.1 connection asking ``paths`` in turn; each time from
    writing the request to the response's last byte."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for p in paths:
            t = time.perf_counter()
            writer.write(
                f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                "Accept-Encoding: identity\r\n\r\n".encode("latin-1")
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            fields = {k.strip().lower(): v.strip() for k, _, v in (f.partition(b":") for f in head.split(b"\r\n")[1:])}
            length = fields.get(b"content-length")
            if length is None:
                raise RuntimeError(f"GET {p}: no Content-Length")
            body = await reader.readexactly(int(length))
            out.append(time.perf_counter() - t)
            if status != b"200":
                raise RuntimeError(f"GET {p}: HTTP {status.decode()}: {body[:200]!r}")
    finally:
        writer.close()


def server_cpu_ms(pid: int, base: str, cookies: httpx.Cookies, path: str, n: int = 200) -> float:
    """The server's CPU time (user + system, from ``/proc/PID/stat``) per request over ``n``
    requests for ``path`` in a row from one client: what one view costs the server itself."""

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = cpu()
    _get(base, cookies, [path] * n)
    return round((cpu() - before) / n * 1000, 2)


def _concurrent(base: str, cookies: httpx.Cookies, per_client: list[list[str]]) -> list[float]:
    """Each list of paths asked in turn by its own client, all clients at once; every request's time.

    The clients are coroutines of one event loop writing HTTP/1.1 by hand (keep-alive, the session
    cookie): about 0.1 ms of CPU a request, so on a 2-core machine the figure is the server's, not
    the load generator's (:func:`_concurrent_httpx` measured mostly its own threads)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())

    async def all_clients() -> list[float]:
        out: list[float] = []
        await asyncio.gather(*(_client(base, cookie, paths, out) for paths in per_client))
        return out

    return asyncio.run(all_clients())


@contextmanager
def running(
    command: list[str], base: str, env: dict[str, str] | None = None, *, poll: float = 0.1
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process started with ``command``, once ``base``/healthz answers (asked every ``poll``
    seconds); stopped afterwards."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(poll)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def server(workspace: Path, *, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m bench.web serve WORKSPACE PORT`` on a free port (:func:`running`): yields its base
    URL and process, and stops it on leaving. ``env`` is added to this environment."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = python_module("bench.web", "serve", str(workspace), str(port))
    with running(command, base, {**os.environ, **env} if env else None) as proc:
        yield base, proc


#: A month none of :func:`measure`'s other views opens: its scorecard, seen after them, is cold.
LATER_COLD = "1403-06"
#: A month no scorecard of :func:`measure` opens: its KPI pages are cold.
KPI_PAGE_PERIOD = "1402-06"


def kpi_page_urls(period: str = KPI_PAGE_PERIOD) -> dict[str, str]:
    """Each built-in KPI's page for ``period`` split by its first dimension (if any), at its own
    grain, compared with the previous period: the page a manager opens from a card, one step on."""
    from urllib.parse import urlencode

    from sanjeh.kpis.catalogue import CATALOGUE

    out = {}
    for k in CATALOGUE:
        params = [("period", period), ("compare", "previous"), ("grain", k.view.grain or "")]
        params += [("by", d) for d in k.dimensions[:1]]
        out[k.name] = f"/kpi/{k.name}?{urlencode(params)}"
    return out


def save_a_target(base: str, period: str) -> None:
    """Change one target of ``revenue`` in ``period``'s year by 1 % through the API (add one if
    there is none), as a manager saving the targets editor does."""
    with httpx.Client(base_url=base, timeout=600) as c:
        got = c.post("/api/v1/auth/token", data={"username": USER, "password": PASSWORD})
        got.raise_for_status()
        c.headers["Authorization"] = f"Bearer {got.json()['access_token']}"
        year = period.split("-")[0]
        mine = [t for t in c.get("/api/v1/targets").json() if t["kpi"] == "revenue" and t["period"].startswith(year)]
        if mine:
            key = {k: mine[0][k] for k in ("kpi", "measure", "period", "dimension", "member")}
            change = {"old": key, "new": {**key, "target": float(mine[0]["target"]) * 1.01}}
        else:
            change = {"new": {"kpi": "revenue", "period": year, "target": 1e12}}
        c.patch("/api/v1/targets", json={"changes": [change]}).raise_for_status()


def measure(
    workspace: Path, *, clients: int = CLIENTS, cold: int = COLD, kpi_pages: bool = False, after_save: bool = False
) -> dict[str, Any]:
    """The figures of the module's docstring, and the first view of one more month
    (:data:`LATER_COLD`) once the server has served all those; with ``kpi_pages``, also the first view of each KPI's
    page (:func:`kpi_page_urls`) after them, one at a time, by KPI (ms); with ``after_save``, then a
    target saved (:func:`save_a_target`) and the first scorecard's next view (ms)."""
    ensure_user(workspace)
    with server(workspace) as (base, proc):
        cookies = login(base)
        periods = [f"/?period={p}" for p in _periods(cold + 1)]
        repeated, cold_pages = periods[0], periods[1:]
        first = _get(base, cookies, [repeated])[0]
        again = _get(base, cookies, [repeated] * REPEATS)
        cold_ts = _concurrent(base, cookies, [[p] for p in cold_pages]) if cold else []
        warm_paths = [[periods[(i + k) % len(periods)] for k in range(WARM_ROUNDS)] for i in range(clients)]
        warm = _concurrent(base, cookies, warm_paths)
        warm_httpx = _concurrent_httpx(base, cookies, warm_paths)
        cpu_ms = server_cpu_ms(proc.pid, base, cookies, repeated)
        # a month nobody opened, on a server that has served pages: what "server up" means (the very
        # first view above also pays for what a process does once: its engine, the data's coverage)
        later = _get(base, cookies, [f"/?period={LATER_COLD}"])[0]
        pages = (
            {k: round(_get(base, cookies, [url])[0] * 1000, 1) for k, url in kpi_page_urls().items()}
            if kpi_pages
            else {}
        )
        saved = None
        if after_save:
            save_a_target(base, periods[0].split("=")[1])
            saved = round(_get(base, cookies, [repeated])[0] * 1000, 1)
        return {
            "clients": clients,
            "after_target_save_ms": saved,
            "first_view_ms": round(first * 1000, 1),
            "later_cold_view_ms": round(later * 1000, 1),
            "cold_kpi_pages_ms": pages or None,
            "repeated_view": _stats(again),
            "cold_concurrent": _stats(cold_ts) if cold_ts else None,
            "warm_concurrent": _stats(warm),
            "warm_concurrent_httpx_threads": _stats(warm_httpx),
            "server_cpu_ms_per_cached_view": cpu_ms,
            "server_peak_rss_mb": round(proc_status_mb(proc.pid, "VmHWM"), 1),
        }


def serve(workspace: str, port: int) -> None:
    import uvicorn

    from sanjeh.web.app import create_app, uvicorn_config

    uvicorn.Server(uvicorn_config(create_app(workspace), "127.0.0.1", port, log_level="warning")).run()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.stderr.write("usage: python -m bench.web serve WORKSPACE PORT\n")
        raise SystemExit(2)
