"""Seeded demo data: a realistic Iranian B2B company over Jalali 1401–1403.

One builder shared by ``sanjeh demo``, the tests and the benchmarks. It fills
every canonical table of SCHEMA.md: provinces as regions, reps in teams with
managers, products in categories (a few tied to initiatives), customers, leads
through MQL and SQL, deals, orders with lines (a Nowruz dip in Farvardin, an
Esfand push, growth a little above inflation), activities with outcomes, time
entries on Iranian working days, targets and a Jalali-month CPI series.

The big tables are generated one chunk (at most ``CHUNK_ORDERS`` orders, within
one Jalali month) at a time with numpy and streamed to CSV, so memory stays
bounded whatever ``orders`` is. The same ``orders`` and ``seed`` give the same bytes.
See docs/demo-data.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sanjeh.demo.facts import Counters, make_chunk
from sanjeh.demo.plan import CHUNK_ORDERS, month_plan, targets, time_entries
from sanjeh.demo.totals import Totals
from sanjeh.demo.world import build_world
from sanjeh.errors import UserError
from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME

__all__ = ["CHUNK_ORDERS", "MAX_ORDERS", "iter_demo_tables", "write_demo_csv"]

MAX_ORDERS = 100_000_000
Progress = Callable[[str, float], None]


def _check(orders: int) -> None:
    if not isinstance(orders, int) or not 1 <= orders <= MAX_ORDERS:
        raise UserError(
            f"the number of demo orders must be a whole number from 1 to {MAX_ORDERS:,}, not {orders!r}",
            details={"orders": orders},
        )


def iter_demo_tables(
    *,
    orders: int = 20_000,
    seed: int = 1403,
    progress: Progress | None = None,
    chunk_orders: int = CHUNK_ORDERS,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(table name, chunk)`` pairs; a table may come in many chunks, columns in canonical order.

    At most ``chunk_orders`` orders (and their deals, leads, lines, activities) are
    in memory at once; the output depends on it, so keep the default for stable data.

    Small tables come first, then the chunks of the big ones, then time entries,
    targets and CPI (targets are set from what was generated).
    """
    _check(orders)
    world = build_world(orders, seed)
    for name in ("reps", "initiatives", "products", "customers"):
        yield name, _canonical(name, world.tables[name])
    plan = month_plan(orders, chunk_orders)
    counters = Counters(width=max(7, len(str(orders * 4))))
    totals = Totals(regions=len(world.regions), reps=len(world.rep_ids), customers=len(world.customer_join))
    done = 0
    for i, (y, m, n) in enumerate(plan):
        if n == 0:
            continue
        rng = np.random.default_rng([seed, 1, i])
        for name, table in make_chunk(world, rng, y, m, n, counters, totals).items():
            yield name, _canonical(name, table)
        done += n
        if progress is not None:
            progress(f"{y}-{m:02d}", done / orders)
    entries, data_entry_share = time_entries(world, seed)
    yield "time_entries", _canonical("time_entries", entries)
    yield "targets", _canonical("targets", targets(world, totals, data_entry_share, seed))
    yield "cpi", _canonical("cpi", world.tables["cpi"])


def write_demo_csv(
    out_dir: Path, *, orders: int = 20_000, seed: int = 1403, progress: Progress | None = None
) -> dict[str, int]:
    """Write one CSV per canonical table (reps.csv … cpi.csv) into ``out_dir``.

    Canonical column names, UTF-8, comma-delimited, one header row; timestamps
    ``YYYY-MM-DD HH:MM:SS`` (Gregorian, local time), dates ``YYYY-MM-DD``, money
    in whole rials. Returns the number of rows written per table.
    """
    _check(orders)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(IMPORT_ORDER, 0)
    files = {name: (out_dir / f"{name}.csv").open("wb") for name in IMPORT_ORDER}
    writers: dict[str, pacsv.CSVWriter] = {}
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)
    try:
        for name, f in files.items():
            f.write((",".join(TABLES_BY_NAME[name].column_names) + "\n").encode())
        for name, table in iter_demo_tables(orders=orders, seed=seed, progress=progress):
            writer = writers.get(name)
            if writer is None:
                writer = writers[name] = pacsv.CSVWriter(files[name], table.schema, write_options=options)
            writer.write_table(table)
            counts[name] += table.num_rows
    finally:
        for w in writers.values():
            w.close()
        for f in files.values():
            f.close()
    return counts


def _canonical(name: str, table: pa.Table) -> pa.Table:
    columns = TABLES_BY_NAME[name].column_names
    if set(table.column_names) != set(columns):  # a bug here, never the user's
        raise AssertionError(f"{name}: {sorted(table.column_names)} != {sorted(columns)}")
    return table.select(list(columns))
