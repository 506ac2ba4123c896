"""Issue 17's speed figures: ``sanjeh report`` against ``sanjeh kpi --all`` and a cold scorecard page.

    python -m bench.reports WORKSPACE [--rounds 3] [--period 1403] [--report-period P] [--work DIR]
                                      [--results FILE]

Targets: the XLSX of the whole catalogue ≤ 1.5× ``kpi --all``; the PDF of the scorecard and every
KPI page ≤ 3× a cold scorecard page, in the same run. The bench works on a copy of WORKSPACE in its
work folder (it adds a user to log in with), so the workspace given is never written to. Each round
measures, one after another (so that a slow spell of the shared machine falls on all four):

1. ``kpi_all``: ``sanjeh kpi --all --period P --grain month --format json``, a whole process, as
   ``bench.run`` measures it (P: ``--period``, default 1403 as ``bench.run``);
2. ``xlsx``: ``sanjeh report --period R --format xlsx`` (every KPI: the whole catalogue), a whole
   process. Both 1 and 2 read a warm SQL cache (``SANJEH_CACHE_DIR``, filled by one untimed run of
   each before the first round), as every run of an installed version after its first does;
3. ``cold_scorecard``: a fresh server process (:func:`bench.web.server`: ``create_app`` under
   uvicorn, as ``sanjeh serve`` without its background warm-up of the default period) on an empty
   SQL cache folder, a login, then one ``GET /?period=R`` timed as the client sees it;
4. ``pdf``: ``sanjeh report --period R --format pdf`` (the scorecard and every KPI page), a whole
   process, on an empty SQL cache folder too: cold against cold.

R is ``--report-period``, by default P: the same period on both sides of each ratio.

Figures: each run, the medians, and the ratios of the medians (xlsx ÷ kpi_all, pdf ÷ cold_scorecard)
with the ratio of each round beside them. JSON on stdout and in ``--results``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import DEFAULT_RSS_LIMIT_MB, Measured, run_measured, sanjeh_command

PERIOD, GRAIN = "1403", "month"  # bench.run's kpi --all
TARGETS = {"xlsx_vs_kpi_all": 1.5, "pdf_vs_cold_scorecard": 3.0}
CASES = ("kpi_all", "xlsx", "cold_scorecard", "pdf")
BASELINES = Path(__file__).resolve().parent / "baselines"


def say(text: str) -> None:
    sys.stderr.write(f"[bench.reports {dt.datetime.now():%H:%M:%S}] {text}\n")
    sys.stderr.flush()


def copy_workspace(source: Path, work: Path) -> Path:
    """``source``'s settings and warehouse copied to ``work/workspace`` (a bench user added)."""
    ws = work / "workspace"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(source, ws, ignore=shutil.ignore_patterns("server.json", "*.wal", "*.part"))
    code = "import sys; from pathlib import Path; from bench.web import ensure_user; ensure_user(Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(ws)], check=True)
    return ws


def orders_in(ws: Path) -> int:
    code = (
        "import sys; from sanjeh.workspace import Workspace; ws = Workspace.open(sys.argv[1]); "
        "print(ws.warehouse.fetch('SELECT count(*) FROM orders')[0][0]); ws.close()"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def cold_page(ws: Path, period: str, cache: Path, *, empty: bool = True) -> dict[str, Any]:
    """One first view of the scorecard of ``period`` in a new server on the SQL cache ``cache``
    (emptied first unless ``empty`` is false)."""
    from bench.measure import proc_cpu_s, proc_status_mb
    from bench.web import _get, login, server

    if empty:
        shutil.rmtree(cache, ignore_errors=True)
    with server(ws, env={"SANJEH_CACHE_DIR": str(cache)}) as (base, proc):
        cookies = login(base)
        cpu = proc_cpu_s(proc.pid)
        seconds = _get(base, cookies, [f"/?period={period}"])[0]
        return {
            "wall_s": round(seconds, 3),
            "cpu_s": round(proc_cpu_s(proc.pid) - cpu, 3),  # the server's, while it answered
            "server_peak_rss_mb": round(proc_status_mb(proc.pid, "VmHWM"), 1),
        }


class Bench:
    def __init__(
        self, ws: Path, work: Path, periods: tuple[str, str], grain: str, rss_limit: float, cold: bool
    ) -> None:
        self.ws, self.work, self.grain, self.rss_limit = ws, work, grain, rss_limit
        self.period, self.report_period = periods
        self.warm_cache = work / "sql-cache-warm"
        # cold: the page and the PDF each start from an empty SQL cache folder; else both read the warm one
        self.cold_cache = work / "sql-cache-cold" if cold else self.warm_cache
        self.cold = cold

    def _run(self, what: str, command: list[str], out: Path, cache: Path) -> Measured:
        m = run_measured(command, stdout=out, rss_limit_mb=self.rss_limit, env={"SANJEH_CACHE_DIR": str(cache)})
        if m.stopped_over_mb is not None:
            raise SystemExit(f"{what} was stopped at {m.stopped_over_mb:,.0f} MB resident (limit)")
        if m.returncode != 0:
            raise SystemExit(f"{what} failed with exit status {m.returncode}")
        return m

    def kpi_all(self) -> Measured:
        command = sanjeh_command(
            "kpi", "--all", "--period", self.period, "--grain", self.grain, "-w", str(self.ws), "--format", "json"
        )
        return self._run("sanjeh kpi --all", command, self.work / "kpi.json", self.warm_cache)

    def report(self, fmt: str, cache: Path) -> Measured:
        out = self.work / f"report.{fmt}"
        command = sanjeh_command(
            "report", "--period", self.report_period, "--format", fmt, "-o", str(out), "-w", str(self.ws)
        )
        m = self._run(f"sanjeh report --format {fmt}", command, self.work / f"report-{fmt}.txt", cache)
        if not out.exists() or out.stat().st_size == 0:
            raise SystemExit(f"sanjeh report --format {fmt} wrote no file")
        return m

    def pdf(self) -> Measured:
        if self.cold:
            shutil.rmtree(self.cold_cache, ignore_errors=True)
        return self.report("pdf", self.cold_cache)

    def round(self, i: int, rounds: int) -> dict[str, Any]:
        got: dict[str, Any] = {}
        for case in CASES:
            say(f"round {i} of {rounds}: {case} …")
            if case == "kpi_all":
                got[case] = self.kpi_all().to_dict()
            elif case == "xlsx":
                got[case] = self.report("xlsx", self.warm_cache).to_dict()
            elif case == "cold_scorecard":
                got[case] = cold_page(self.ws, self.report_period, self.cold_cache, empty=self.cold)
            else:
                got[case] = self.pdf().to_dict()
            say(f"round {i} of {rounds}: {case} {got[case]['wall_s']:.2f} s")
        got["xlsx_vs_kpi_all"] = round(got["xlsx"]["wall_s"] / got["kpi_all"]["wall_s"], 2)
        got["pdf_vs_cold_scorecard"] = round(got["pdf"]["wall_s"] / got["cold_scorecard"]["wall_s"], 2)
        return got


def measure(
    workspace: Path,
    *,
    rounds: int = 3,
    period: str = PERIOD,
    grain: str = GRAIN,
    report_period: str | None = None,
    work: Path | None = None,
    rss_limit: float = DEFAULT_RSS_LIMIT_MB,
    cold: bool = True,
) -> dict[str, Any]:
    """The four cases ``rounds`` times, alternating; see the module's docstring. ``cold=False``: the
    page and the PDF read the warm SQL cache too (warm against warm; the smoke test's choice, where
    compiling the queries is most of the time)."""
    from bench.run import machine

    own = work is None
    folder = Path(tempfile.mkdtemp(prefix="sanjeh-bench-reports-")) if work is None else work
    folder.mkdir(parents=True, exist_ok=True)
    try:
        say(f"copying {workspace} …")
        ws = copy_workspace(workspace, folder)
        out: dict[str, Any] = {
            "what": "issue 17: sanjeh report vs sanjeh kpi --all and a cold scorecard page",
            "workspace": str(workspace),
            "orders": orders_in(ws),
            "period_of_kpi_all": period,
            "grain_of_kpi_all": grain,
            "period_of_reports": report_period or period,
            "sql_cache": {
                "kpi_all": "warm",
                "xlsx": "warm",
                "cold_scorecard": "empty (new server process)" if cold else "warm (new server process)",
                "pdf": "empty" if cold else "warm",
            },
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
        }
        bench = Bench(ws, folder, (period, report_period or period), grain, rss_limit, cold)
        say("warming the SQL cache of kpi --all and the XLSX (untimed) …")
        shutil.rmtree(bench.warm_cache, ignore_errors=True)
        bench.kpi_all()
        bench.report("xlsx", bench.warm_cache)
        start = time.perf_counter()
        runs = [bench.round(i + 1, rounds) for i in range(rounds)]
        out["runs"] = runs
        out["rounds"] = rounds
        out["bench_s"] = round(time.perf_counter() - start, 1)
        out["median_s"] = {c: round(statistics.median(r[c]["wall_s"] for r in runs), 3) for c in CASES}
        med = out["median_s"]
        out["ratios"] = {
            "xlsx_vs_kpi_all": round(med["xlsx"] / med["kpi_all"], 2),
            "pdf_vs_cold_scorecard": round(med["pdf"] / med["cold_scorecard"], 2),
        }
        # CPU time (user + system; a command's includes the processes it waited for, chromium's too):
        # what the work costs whatever else the shared machine runs; the targets are on wall time
        cpu = {c: round(statistics.median(r[c]["cpu_s"] for r in runs), 3) for c in CASES}
        out["median_cpu_s"] = cpu
        out["cpu_ratios"] = {
            "xlsx_vs_kpi_all": round(cpu["xlsx"] / cpu["kpi_all"], 2),
            "pdf_vs_cold_scorecard": round(cpu["pdf"] / cpu["cold_scorecard"], 2),
        }
        out["targets"] = TARGETS
        out["met"] = {k: out["ratios"][k] <= v for k, v in TARGETS.items()}
        out["peak_rss_mb_max"] = {c: max(r[c]["peak_rss_mb"] for r in runs) for c in ("kpi_all", "xlsx", "pdf")} | {
            "cold_scorecard_server": max(r["cold_scorecard"]["server_peak_rss_mb"] for r in runs)
        }
        out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return out
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.reports", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("workspace", type=Path, help="a workspace (e.g. DIR/workspace of bench.run --keep DIR); copied")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the four cases, alternating (median)")
    ap.add_argument("--period", default=PERIOD, help=f"kpi --all's period (default {PERIOD}, as bench.run)")
    ap.add_argument("--grain", default=GRAIN, help=f"kpi --all's grain (default {GRAIN})")
    ap.add_argument("--report-period", help="the period of the reports and the page (default: --period)")
    ap.add_argument("--work", type=Path, help="work in DIR (the copy, the files written) and keep it")
    ap.add_argument("--results", type=Path, help="where to write the figures (default bench/baselines/reports-N.json)")
    ap.add_argument(
        "--warm-pages", action="store_true", help="the page and the PDF read the warm SQL cache too (not cold)"
    )
    ap.add_argument("--rss-limit-mb", type=float, default=DEFAULT_RSS_LIMIT_MB, help="stop a child above this RSS")
    a = ap.parse_args(argv)
    got = measure(
        a.workspace,
        rounds=a.rounds,
        period=a.period,
        grain=a.grain,
        report_period=a.report_period,
        work=a.work,
        rss_limit=a.rss_limit_mb,
        cold=not a.warm_pages,
    )
    results = a.results or BASELINES / f"reports-orders-{got['orders']}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
    results.write_text(text)
    say(f"figures written to {results}")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
