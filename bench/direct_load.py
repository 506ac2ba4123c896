"""A workspace filled without ``sanjeh import``: the demo tables inserted straight into the warehouse.

``python -m bench.direct_load WORKSPACE ORDERS [SEED]`` (the way tests/test_web_support.py
builds its demo workspace). The KPI and web benchmarks fall back to it when the import
step cannot finish, so the query figures do not depend on the import's; the data is the
same canonical data the generator writes as CSV.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sanjeh.demo import iter_demo_tables
from sanjeh.workspace import Workspace


def build(path: Path, orders: int, seed: int = 1403) -> None:
    shutil.rmtree(path, ignore_errors=True)
    ws = Workspace.init(path)
    try:
        with ws.warehouse.transaction():
            for name, chunk in iter_demo_tables(orders=orders, seed=seed):
                ws.warehouse.insert_arrow(name, chunk)
    finally:
        ws.close()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: python -m bench.direct_load WORKSPACE ORDERS [SEED]\n")
        raise SystemExit(2)
    build(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 1403)
