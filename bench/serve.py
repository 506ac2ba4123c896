"""Issue 13: from ``sanjeh serve`` starting to the first scorecard page (target < 3 s at 1 M orders).

    python -m bench.serve WORKSPACE [--rounds 3] [--cold-sql]

Works on a copy of WORKSPACE (a bench user added). Each round starts the real command,
``sanjeh serve -w WS --port P --no-scheduler`` (which computes the default period's scorecard in
the background as soon as it starts), polls ``/healthz`` every 20 ms, logs in through the form as
soon as it answers, and asks ``GET /`` (the default period, what a manager opens first). Times are
counted from the process's start: ``listening_s`` when ``/healthz`` first answers, ``first_page_s``
when the page's 200 has arrived. The compiled-SQL cache is the user's (``SANJEH_CACHE_DIR`` or
``~/.cache/sanjeh/sql``), filled by one uncounted round first, as on every start of an installed
version after its first; ``--cold-sql`` gives each round an empty cache folder instead (the first
start after an upgrade). The package's bytecode is written first, as an install has it. Each
round is two starts (:func:`run`): a restart, which reads back the scorecard the last run kept
(``median_first_page_s``), and a start with none kept, which computes it
(``median_first_page_computed_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import sanjeh_command
from bench.reports import copy_workspace
from bench.web import _free_port, _get, login, running


def start_to_first_page(ws: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = sanjeh_command("serve", "-w", str(ws), "--port", str(port), "--no-scheduler")
    t0 = time.perf_counter()
    with running(command, base, {**os.environ, **(env or {})}, poll=0.02):
        listening = time.perf_counter() - t0
        cookies = login(base)
        _get(base, cookies, ["/"])
        first = time.perf_counter() - t0
    return {"listening_s": round(listening, 3), "first_page_s": round(first, 3)}


def installed_bytecode() -> None:
    """The package's bytecode written, as an installed version has it (pip writes it for a wheel;
    ``make bytecode`` for the editable install): without it every start compiles the modules
    again when PYTHONDONTWRITEBYTECODE is set."""
    import compileall

    import sanjeh

    compileall.compile_dir(str(Path(sanjeh.__file__).parent), quiet=1)


def run(workspace: Path, rounds: int, *, cold_sql: bool = False) -> dict[str, Any]:
    """Each round starts the server twice: once as a restart (the scorecard the last run kept is
    read back: web/saved.py) and once with nothing kept (as after an import while no server ran,
    a target or settings change, an upgrade, a new day): ``kept`` and ``computed``."""
    from sanjeh.web.saved import SAVED_FILE

    installed_bytecode()
    with tempfile.TemporaryDirectory(prefix="sanjeh-bench-serve-") as tmp:
        ws = copy_workspace(workspace, Path(tmp))
        runs = []
        for i in range(rounds + (0 if cold_sql else 1)):
            env = {"SANJEH_CACHE_DIR": str(Path(tmp) / f"sql-{i}")} if cold_sql else None
            (ws / SAVED_FILE).unlink(missing_ok=True)
            computed = start_to_first_page(ws, env)  # computes the scorecard, and keeps it
            kept = start_to_first_page(ws, env)  # a restart: reads it back
            runs.append({"computed": computed, "kept": kept})
    counted = runs if cold_sql else runs[1:]

    def median(start: str, figure: str) -> float:
        return float(statistics.median(r[start][figure] for r in counted))

    kept, computed = median("kept", "first_page_s"), median("computed", "first_page_s")
    return {
        "what": "issue 13: sanjeh serve start to the first scorecard page (the default period)",
        "sql_cache": "empty each round" if cold_sql else "the user's, filled by an uncounted first round",
        "rounds": rounds,
        "runs": runs,
        "median_listening_s": median("computed", "listening_s"),
        "median_first_page_s": kept,
        "median_first_page_computed_s": computed,
        "target_s": 3.0,
        "met": kept < 3.0,
        "met_computed": computed < 3.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workspace", type=Path, help="a workspace (e.g. DIR/workspace of bench.run --keep DIR); copied")
    ap.add_argument("--rounds", type=int, default=3, help="counted rounds")
    ap.add_argument("--cold-sql", action="store_true", help="an empty compiled-SQL cache in every round")
    args = ap.parse_args(argv)
    json.dump(run(args.workspace, args.rounds, cold_sql=args.cold_sql), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
