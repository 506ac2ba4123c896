"""``python -m bench.calendar_table WAREHOUSE``: give a bench warehouse the ``_calendar`` table the
hand-written baselines join (one row per day with its Jalali and Gregorian labels).

The engine no longer reads such a table (its days come as query parameters), so a workspace
made by ``sanjeh init`` has none; the baselines are hand SQL over a calendar table, and this
step (untimed) adds one to the bench's scratch warehouse when it is missing.
"""

from __future__ import annotations

import sys

import duckdb

from sanjeh.calendar import date_dimension


def ensure(warehouse: str) -> bool:
    """Add ``_calendar`` to the DuckDB file ``warehouse`` if missing; True when it was added."""
    with duckdb.connect(warehouse) as con:
        if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_calendar'").fetchone()[0]:
            return False
        con.register("dim", date_dimension())
        con.execute("CREATE TABLE _calendar AS SELECT * FROM dim")
        return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m bench.calendar_table WAREHOUSE\n")
        return 2
    ensure(args[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
