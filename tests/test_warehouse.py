"""The warehouse's DuckDB file format: a new file is written in ``STORAGE_VERSION``; an older
file opens as it is and keeps its format (and its compression choice)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sanjeh.warehouse import STORAGE_VERSION, connect


def _format(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    assert row is not None
    return str(row[0])


def _string_compressions(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        f"SELECT DISTINCT compression FROM pragma_storage_info('{table}') WHERE segment_type = 'VARCHAR'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def _write_strings(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"CREATE TABLE {table} AS SELECT 'member-' || (i % 50) AS m, 'id-' || i AS id FROM range(300000) r(i)")
    con.execute("CHECKPOINT")


def test_a_new_warehouse_file_is_written_in_the_newer_format(tmp_path: Path) -> None:
    wh = connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    try:
        assert _format(wh.duckdb) == STORAGE_VERSION + "+"
        _write_strings(wh.duckdb, "t")
        assert "DICT_FSST" in _string_compressions(wh.duckdb, "t")
    finally:
        wh.close()
    again = connect(f"duckdb://{tmp_path / 'w.duckdb'}", read_only=True)  # opens again, read-only too
    try:
        assert _format(again.duckdb) == STORAGE_VERSION + "+"
    finally:
        again.close()


def test_an_older_file_keeps_its_format_and_writes_without_fsst(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()  # DuckDB's default format, as earlier workspaces were made
    wh = connect(f"duckdb://{path}")
    try:
        assert _format(wh.duckdb) == "v1.0.0+"
        _write_strings(wh.duckdb, "t")
        assert _string_compressions(wh.duckdb, "t") <= {"Dictionary", "Uncompressed"}
    finally:
        wh.close()
