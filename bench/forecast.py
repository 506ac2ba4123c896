"""Issue 18's speed figure: the revenue forecast page cold against a cold revenue KPI page.

    python -m bench.forecast WORKSPACE [--today 2024-10-31] [--period 1403-Q3] [--runs 3]
    python -m bench.forecast WORKSPACE --build 200000        # first write the demo into WORKSPACE

On a workspace built by ``python -m bench.run --keep DIR`` (``DIR/workspace``), or by ``--build N``
(the demo's N orders written straight into a new DuckDB workspace, its materialised cohorts
built), with the clock fixed on ``--today`` (the middle of ``--period``): each page is timed in
its own server process (``python -m bench.forecast serve WORKSPACE PORT TODAY``: uvicorn, the
app without warming, an empty SQL cache), started fresh for every run, as a client on the
loopback sees it — the **first** view (cold: the server computes everything, statsforecast's
import included) and the view **again** (served from the result cache). The pages:

- ``kpi_page``: ``/kpi/revenue?period=P`` — the revenue page a scorecard card links to (its
  monthly trend draws the forecast's band, so it too fits the forecast's models);
- ``forecast_page``: ``/kpi/revenue/forecast?period=P`` — pace, forecast with every model's
  backtest, weighted pipeline, time to win, stale deals and track record.

The two alternate, ``--runs`` times each, so a slow spell of the shared machine falls on both;
medians are reported, and the ratio of the forecast page's cold median to the KPI page's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.measure import proc_status_mb, python_module
from bench.web import _free_port, ensure_user, login, running

TODAY = "2024-10-31"  # 1403-08-10: in the middle of 1403-Q3
PERIOD = "1403-Q3"
PAGES = {
    "kpi_page": "/kpi/revenue?period={period}",
    "forecast_page": "/kpi/revenue/forecast?period={period}",
}


def build(workspace: Path, orders: int) -> None:
    """The demo's ``orders`` written straight into a new workspace, its cohorts materialised."""
    from sanjeh.demo import iter_demo_tables
    from sanjeh.kpis.query import Query
    from sanjeh.workspace import Workspace

    ws = Workspace.init(workspace)
    try:
        with ws.warehouse.transaction():
            for name, chunk in iter_demo_tables(orders=orders):
                ws.warehouse.insert_arrow(name, chunk)
        ws.engine().run(Query("revenue", "1403"))  # builds the materialised cohorts (kpis/facts.py)
    finally:
        ws.close()


def _first_and_again(workspace: Path, path: str, today: str) -> dict[str, float]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SANJEH_CACHE_DIR=tempfile.mkdtemp(prefix="sanjeh-forecast-bench-"))
    with running(python_module("bench.forecast", "serve", str(workspace), str(port), today), base, env) as server:
        cookies = login(base)
        out: dict[str, float] = {}
        with httpx.Client(base_url=base, cookies=cookies, timeout=600) as c:
            for name in ("first", "again"):
                t = time.perf_counter()
                r = c.get(path)
                out[name] = time.perf_counter() - t
                if r.status_code != 200:
                    raise RuntimeError(f"GET {path}: HTTP {r.status_code}: {r.text[:200]}")
        out["server_peak_rss_mb"] = proc_status_mb(server.pid, "VmHWM")
        return out


def measure(workspace: Path, *, today: str = TODAY, period: str = PERIOD, runs: int = 3) -> dict[str, Any]:
    ensure_user(workspace)
    got: dict[str, list[dict[str, float]]] = {name: [] for name in PAGES}
    for _ in range(runs):
        for name, path in PAGES.items():
            got[name].append(_first_and_again(workspace, path.format(period=period), today))
    out: dict[str, Any] = {"today": today, "period": period, "runs": runs}
    for name, rs in got.items():
        out[name] = {
            "first_ms": [round(r["first"] * 1000, 1) for r in rs],
            "first_median_ms": round(statistics.median(r["first"] for r in rs) * 1000, 1),
            "again_median_ms": round(statistics.median(r["again"] for r in rs) * 1000, 1),
            "server_peak_rss_mb": round(max(r["server_peak_rss_mb"] for r in rs), 1),
        }
    out["ratio_first"] = round(out["forecast_page"]["first_median_ms"] / out["kpi_page"]["first_median_ms"], 2)
    return out


def serve(workspace: str, port: int, today: str) -> None:
    import uvicorn

    from sanjeh.web.app import create_app
    from sanjeh.workspace import Workspace

    day = dt.date.fromisoformat(today)
    ws = Workspace.open(workspace, clock=lambda: day)
    uvicorn.run(create_app(ws), host="127.0.0.1", port=port, log_level="warning")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 4 and argv[0] == "serve":
        serve(argv[1], int(argv[2]), argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--build", type=int, default=None, metavar="ORDERS", help="write the demo into a new workspace")
    ap.add_argument("--today", default=TODAY)
    ap.add_argument("--period", default=PERIOD)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    if a.build:
        t = time.perf_counter()
        build(a.workspace, a.build)
        print(f"built {a.workspace} ({a.build} orders) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    print(json.dumps(measure(a.workspace, today=a.today, period=a.period, runs=a.runs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
