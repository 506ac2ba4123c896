"""Issue 15's speed figures: a "why" against the same KPI query with a comparison.

    python -m bench.why WORKSPACE [--period 1403-Q4] [--repeat 5]

On a workspace built by ``python -m bench.run --keep DIR`` (``DIR/workspace``), in one process:
the KPI query split by one dimension and compared with the previous period, the "why" of that
change split by the same dimension, and the "why" with ``--auto`` (every dimension of the KPI
and every pair). Each runs on its own workspace object, engine and empty SQL cache: timed on its first call (the
engine reads what data there is, compiles its SQL) and warm (median of ``--repeat`` calls; the
engine recomputes each time, results are not cached). Ratios are against the compared KPI query of the same state.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(root: Path, kpi: str, period: str, dim: str, repeat: int) -> dict[str, Any]:
    import os

    from sanjeh.kpis.query import Query
    from sanjeh.kpis.why import WhyQuery
    from sanjeh.workspace import Workspace

    cases: dict[str, Callable[[Any], Any]] = {
        "kpi_compared": lambda e: e.run(Query(kpi, period, None, (dim,), (), "previous")),
        "why_one_dimension": lambda e: e.why(WhyQuery(kpi, period, None, "previous", (dim,))),
        "why_auto": lambda e: e.why(WhyQuery(kpi, period, None, "previous", (), auto=True)),
    }
    first: dict[str, float] = {}
    warm: dict[str, float] = {}
    for name, fn in cases.items():  # each on its own: a new workspace, engine and empty SQL cache
        os.environ["SANJEH_CACHE_DIR"] = tempfile.mkdtemp(prefix="sanjeh-why-bench-")
        ws = Workspace.open(root)
        engine = ws.engine()
        call = partial(fn, engine)
        first[name] = _time(call)
        warm[name] = statistics.median(_time(call) for _ in range(repeat))
        ws.close()
    out: dict[str, Any] = {"kpi": kpi, "period": period, "dimension": dim, "repeat": repeat}
    for state, got in (("first", first), ("warm", warm)):
        base = got["kpi_compared"]
        out[state] = {name: round(s, 4) for name, s in got.items()}
        out[state]["ratio_why_one"] = round(got["why_one_dimension"] / base, 2)
        out[state]["ratio_why_auto"] = round(got["why_auto"] / base, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--kpi", default="revenue")
    ap.add_argument("--period", default="1403-Q4")
    ap.add_argument("--dimension", default="region")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    print(json.dumps(measure(a.workspace, a.kpi, a.period, a.dimension, a.repeat), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
