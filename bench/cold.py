"""Issue 13: the first view of a scorecard nobody opened, with the server up, against ``kpi --all``.

``python -m bench.cold WORKSPACE [--rounds N]`` works on a copy of WORKSPACE (e.g. the
``workspace`` of ``python -m bench.run --orders 1000000 --keep DIR``). Each round runs, one after
the other, ``sanjeh kpi --all --period 1403 --grain month`` (the whole process, as ``bench.run``)
and :func:`bench.web.measure` (a new server process, a login, the first view of ``/?period=1403-12``,
20 repeated views, three more cold months at once, 20 clients × 5 cached views, the first view of
one more month alone (``later_cold_view``: a month nobody opened on a server that has served
pages, the figure of the 0.5× target), then the first view
of each KPI's page for a month nobody opened, split and compared: ``bench.web.kpi_page_urls``,
then a target of revenue saved through the API and the first month's scorecard seen again). The
compiled-SQL cache is the user's (``SANJEH_CACHE_DIR`` or ``~/.cache/sanjeh/sql``): a server that
is up has compiled its query shapes (they do not depend on the period), so the first round, which
may compile them, is reported but left out of the medians. The rounds alternate the two, so a slow
spell of the shared machine falls on both; the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.measure import run_measured, sanjeh_command
from bench.reports import copy_workspace
from bench.web import kpi_page_urls, measure


def run(workspace: Path, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sanjeh-bench-cold-") as tmp:
        ws = copy_workspace(workspace, Path(tmp))
        runs: list[dict[str, Any]] = []
        for _ in range(rounds + 1):
            kpi = run_measured(
                sanjeh_command(
                    "kpi", "--all", "--period", "1403", "--grain", "month", "-w", str(ws), "--format", "json"
                )
            )
            if not kpi.ok:
                raise SystemExit(f"kpi --all failed: {kpi.returncode}")
            runs.append({"kpi_all_s": round(kpi.wall_s, 3), "web": measure(ws, kpi_pages=True, after_save=True)})
    counted = runs[1:]
    kpi_all = statistics.median(r["kpi_all_s"] for r in counted)
    first = statistics.median(r["web"]["first_view_ms"] / 1000 for r in counted)
    later = statistics.median(r["web"]["later_cold_view_ms"] / 1000 for r in counted)
    pages = {k: statistics.median(r["web"]["cold_kpi_pages_ms"][k] for r in counted) for k in kpi_page_urls()}
    return {
        "what": "issue 13: first view of a scorecard nobody opened (server up) vs sanjeh kpi --all",
        "rounds": rounds,
        "runs": runs,
        "median_kpi_all_s": kpi_all,
        "median_first_view_s": first,
        "first_view_vs_kpi_all": round(first / kpi_all, 2),
        "median_later_cold_view_s": later,
        "later_cold_view_vs_kpi_all": round(later / kpi_all, 2),
        "median_cold_concurrent_ms": statistics.median(r["web"]["cold_concurrent"]["median_ms"] for r in counted),
        "median_warm_p95_ms": statistics.median(r["web"]["warm_concurrent"]["p95_ms"] for r in counted),
        "after_target_save_vs_kpi_all": round(
            statistics.median(r["web"]["after_target_save_ms"] for r in counted) / 1000 / kpi_all, 3
        ),
        # each KPI's cold page: the median over the rounds, then the slowest KPI and the median KPI
        "cold_kpi_page_ms": pages,
        "slowest_cold_kpi_page_vs_kpi_all": round(max(pages.values()) / 1000 / kpi_all, 3),
        "median_cold_kpi_page_vs_kpi_all": round(statistics.median(pages.values()) / 1000 / kpi_all, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workspace", type=Path, help="a workspace (e.g. DIR/workspace of bench.run --keep DIR); copied")
    ap.add_argument("--rounds", type=int, default=3, help="counted rounds (one more, first, is left out)")
    args = ap.parse_args(argv)
    json.dump(run(args.workspace, args.rounds), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
