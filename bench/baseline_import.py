"""Baseline of ``sanjeh import``: the same CSVs into typed DuckDB tables with plain ``read_csv``.

``python -m bench.baseline_import CSV_DIR DB_FILE``: one DuckDB file, one ``CREATE TABLE``
per canonical table with the canonical types of :mod:`sanjeh.schema`, then
``INSERT … SELECT * FROM read_csv(…)`` with those types. No normalisation, no
validation, no rejects: the floor an import cannot go below.

``--storage-version V`` writes the file in DuckDB's storage format ``V`` instead of DuckDB's
default (v1.0.0): with ``sanjeh.warehouse.STORAGE_VERSION``, the format a new workspace is
written in, it is the same floor for the same file format (bench/run.py reports both).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME

#: DuckDB type of each storage type of schema.py.
DUCKDB_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP", "date": "DATE", "float64": "DOUBLE", "int64": "BIGINT"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(csv_dir: Path, db_file: Path, storage_version: str | None = None) -> dict[str, int]:
    """Load every ``<table>.csv`` of ``csv_dir`` into ``db_file``; returns rows per table."""
    if db_file.exists():
        db_file.unlink()
    counts: dict[str, int] = {}
    config = {"storage_compatibility_version": storage_version} if storage_version else {}
    with duckdb.connect(str(db_file), config=config) as con:
        for name in IMPORT_ORDER:
            path = csv_dir / f"{name}.csv"
            if not path.exists():
                continue
            t = TABLES_BY_NAME[name]
            types = {c.name: DUCKDB_TYPES[c.storage_type] for c in t.columns}
            con.execute(f"CREATE TABLE {_q(name)} ({', '.join(f'{_q(c)} {ty}' for c, ty in types.items())})")
            columns = "{" + ", ".join(f"'{c}': '{ty}'" for c, ty in types.items()) + "}"
            path_sql = "'" + str(path).replace("'", "''") + "'"
            con.execute(
                f"INSERT INTO {_q(name)} SELECT * FROM read_csv({path_sql}, header=true, delim=',', quote='\"', "
                f"auto_detect=false, columns={columns})"
            )
            counts[name] = int(con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0])  # type: ignore[index]
    return counts


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    version = None
    if "--storage-version" in args:
        i = args.index("--storage-version")
        version = args[i + 1] if i + 1 < len(args) else ""
        del args[i : i + 2]
    if len(args) != 2 or version == "":
        sys.stderr.write("usage: python -m bench.baseline_import CSV_DIR DB_FILE [--storage-version V]\n")
        return 2
    counts = load(Path(args[0]), Path(args[1]), version)
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
