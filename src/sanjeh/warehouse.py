"""URL -> one Ibis connection: the only module that names DuckDB, PostgreSQL or Spark.

``duckdb://path/to/file.duckdb`` (the default, a file inside the workspace),
``postgresql://user:pass@host:port/db``, ``pyspark://`` (a local session) or
``spark-connect://host:port`` (Spark Connect). Everything else in Sanjeh talks to
the warehouse through :class:`Warehouse`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import ibis
import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from sanjeh.errors import InternalError, UserError, WorkspaceBusy
from sanjeh.schema import SYSTEM_TABLES, SYSTEM_UNIQUE, TABLES, Table

#: Prefix of the tables an import parks its checked rows in until its final transaction
#: (``__import_<pid>_<import id>_<table>``); see :func:`shadow_name`.
SHADOW_PREFIX = "__import_"


def shadow_name(import_id: str, table: str) -> str:
    """The table where an import of this process parks ``table``'s accepted rows."""
    return f"{SHADOW_PREFIX}{os.getpid()}_{import_id}_{table}"


#: Arrow types of the storage types.
_ARROW_TYPES = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
}

#: SQL types (DuckDB and PostgreSQL agree) of the storage types, for columns added to a system table.
_SQL_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE PRECISION",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


#: The dialect SQL text is quoted in: DuckDB (the import's staging engine) and PostgreSQL quote
#: identifiers and string literals alike (sqlglot writes the same text for both).
_QUOTING_DIALECT = "duckdb"


@functools.lru_cache(maxsize=4096)
def quote_ident(name: str, dialect: str = _QUOTING_DIALECT) -> str:
    """An identifier as SQL text: the one helper every SQL statement written as text quotes its
    names with (table, column and alias names; docs/architecture.md "SQL as text"). ``dialect``
    (sqlglot's names) for a source database's own SQL: ``"mysql"`` quotes with backticks."""
    return str(sge.to_identifier(name, quoted=True).sql(dialect))


@functools.lru_cache(maxsize=4096)
def quote_literal(value: str) -> str:
    """A string literal as SQL text: the one helper every SQL statement written as text quotes its
    values with (numbers are written by Python's ``int``/``float``)."""
    return str(sge.Literal.string(value).sql(_QUOTING_DIALECT))


def sql_value(value: Any) -> str:
    """A Python value as a DuckDB SQL literal: text by :func:`quote_literal`, a float by its
    ``repr`` (exact), a naive date or timestamp by its ISO text, None as NULL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"CAST({quote_literal(repr(value))} AS DOUBLE)"
    if isinstance(value, str):
        return quote_literal(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return f"TIMESTAMP {quote_literal(value.isoformat(sep=' '))}"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"DATE {quote_literal(value.isoformat())}"
    raise TypeError(f"no SQL literal for {value!r}")


@dataclass(frozen=True)
class Param:
    """A parameter table of a compiled query (kpis/compile.py): its rows as a ``SELECT`` of
    literals in DuckDB's SQL, and as an Arrow table made only when asked. A DuckDB warehouse fills
    it from the ``SELECT``: no Arrow array is made from Python values, so a command that only
    answers KPIs (``kpi --all``) never imports pandas, which pyarrow imports for the first such
    array (0.3 s); the other backends take the Arrow table."""

    select: str
    arrow: Callable[[], pa.Table]


def local_file(url: str) -> Path | None:
    """The file of a warehouse URL that is one local file (a DuckDB file; None for a server or an
    in-memory database)."""
    path = url.removeprefix("duckdb://") if url.startswith("duckdb://") else ""
    return Path(path) if path and path != ":memory:" else None


def absolute_url(url: str, root: Path) -> str:
    """``url`` with a relative path of a file warehouse (DuckDB, a local Spark folder) made absolute to ``root``."""
    for scheme in ("duckdb://", "pyspark://"):
        if url.startswith(scheme):
            path = url[len(scheme) :]
            if path and path != ":memory:" and not Path(path).is_absolute():
                return scheme + str(root / path)
    return url


@dataclass
class Warehouse:
    url: str
    kind: str  # "duckdb" | "postgres" | "pyspark"
    con: BaseBackend

    _tables: dict[str, ibis.Table] = field(default_factory=dict, repr=False)

    # -- tables ---------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """The table's expression; its schema is read once (Sanjeh's tables never change shape)."""
        t = self._tables.get(name)
        if t is None:
            t = self._tables[name] = self.con.table(name)
        return t

    def forget(self, name: str) -> None:
        """Drop the cached expression of a table that was just (re)created."""
        self._tables.pop(name, None)

    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    # -- what this warehouse can do (asked instead of its kind) ---------------------------------
    @property
    def dialect(self) -> str:
        """sqlglot's (and Ibis's) name of this warehouse's SQL dialect."""
        return str(self.con.name)

    @property
    def transactional(self) -> bool:
        """Can it write several tables all or nothing (imports, stored forecasts)? Not Spark."""
        return self.kind in ("duckdb", "postgres")

    @property
    def single_process(self) -> bool:
        """Does one process hold it at a time (a DuckDB file: other processes reach it through the
        server's local channel, sanjeh/local.py)?"""
        return self.kind == "duckdb"

    @property
    def materialises(self) -> bool:
        """Does ``Workspace.refresh_facts`` store the engine's cohorts as tables after the data
        changes (kpis/facts.py)? Not on Spark, which no import writes to."""
        return self.kind != "pyspark"

    def staging_connection(self) -> Any | None:
        """The DuckDB connection an import can stage and park its rows in directly: the warehouse's
        own when it is DuckDB (its parked tables are then renamed into place), else None (the
        import stages in a DuckDB of its own, ingest/staging.py, and sends the rows over as Arrow)."""
        return self.duckdb if self.kind == "duckdb" else None

    # -- read-only questions ------------------------------------------------------------------
    def is_empty(self, name: str) -> bool:
        """Has the table no row (read without counting them)?"""
        return not self.fetch(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1")

    def rows(self, expr: ibis.Table) -> list[dict[str, Any]]:
        """The rows of a small result over the warehouse's tables (no memtable) as dicts. On
        DuckDB its SQL runs on the raw connection, whose Python values are those of Arrow's
        ``to_pylist`` (tested): Ibis's DuckDB result converter imports pandas (0.3 s of a
        command's start)."""
        if self.kind != "duckdb":
            return list(expr.to_pyarrow().to_pylist())
        cur = self.duckdb.execute(self.compile(expr))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def row_count(self, name: str) -> int:
        return int(self.table(name).count().to_pyarrow().as_py())

    def row_counts(self, names: Sequence[str]) -> dict[str, int]:
        """Each table's rows, in one query."""
        if not names:
            return {}
        parts = [self.table(n).aggregate(t=ibis.literal(n), n=ibis._.count()) for n in names]
        rows = self.rows(ibis.union(*parts, distinct=False))
        got = {r["t"]: int(r["n"]) for r in rows}
        return {n: got[n] for n in names}

    def existing_values(self, table: str, column: str, values: Sequence[str]) -> list[Any]:
        """The distinct values of ``table.column`` among ``values`` (compared as text)."""
        if not values:
            return []
        if self.kind == "postgres":  # one array parameter, however many values
            sql = (
                f"SELECT DISTINCT {quote_ident(column)} FROM {quote_ident(table)} WHERE {quote_ident(column)} = ANY(%s)"
            )
            return [r[0] for r in self.fetch(sql, [list(values)])]
        t = self.table(table)
        col = t[column]
        got = t.filter(col.cast("string").isin(list(values))).select(col).distinct()
        return list(got.to_pyarrow().column(0).to_pylist())

    def count_by(self, name: str, column: str) -> pa.Table:
        """The rows of ``name`` per value of ``column`` (``k``, as text; NULL left out) and their count (``n``)."""
        t = self.table(name)
        got = t.filter(t[column].notnull()).group_by(k=t[column].cast("string")).aggregate(n=ibis._.count())
        return got.to_pyarrow().cast(pa.schema([("k", pa.string()), ("n", pa.int64())]))

    # -- parking and moving an import's rows ------------------------------------------------
    def drop_table(self, name: str) -> None:
        """Drop a table if it exists (``name`` as SQL text: a quoted name)."""
        self.execute(f"DROP TABLE IF EXISTS {name}")

    def rename_into(self, parked: str, name: str) -> None:
        """Make the parked table ``parked`` (SQL text of a table of this warehouse) the table
        ``name``: the old one is dropped and the parked one renamed, no row copied."""
        self.execute(f"DROP TABLE {quote_ident(name)}")
        self.execute(f"ALTER TABLE {parked} RENAME TO {quote_ident(name)}")
        self.forget(name)

    def upsert_parked(self, name: str, parked: str, key: Sequence[str], columns: Sequence[str]) -> None:
        """Upsert the rows of the parked table ``parked`` (SQL text of a table of this warehouse, with
        ``columns``) into ``name``: the stored rows whose ``key`` is among the parked rows are
        deleted, the parked rows inserted, and the parked table dropped."""
        cols = ", ".join(quote_ident(c) for c in columns)
        keys = ", ".join(quote_ident(k) for k in key)
        cond = " AND ".join(f"t.{quote_ident(k)} IS NOT DISTINCT FROM k.{quote_ident(k)}" for k in key)
        self.execute(
            f"DELETE FROM {quote_ident(name)} AS t USING (SELECT DISTINCT {keys} FROM {parked}) AS k WHERE {cond}"
        )
        self.execute(f"INSERT INTO {quote_ident(name)} ({cols}) SELECT {cols} FROM {parked}")
        self.execute(f"DROP TABLE {parked}")

    def upsert_arrow(self, name: str, rows: pa.Table, keys: pa.Table | None) -> None:
        """Write ``rows`` into ``name``: every stored row goes first when ``keys`` is None, else
        those whose key columns equal a row of ``keys``."""
        if keys is None:
            self.truncate(name)
        else:
            self.delete_matching(name, keys)
        self.insert_arrow(name, rows)

    def count_missing_parents(self, child: str, col: str, parked: str, pcol: str) -> int:
        """How many rows of ``child`` have a ``col`` that is not a ``pcol`` of ``parked`` (SQL text of
        a table of this warehouse)."""
        return int(
            self.fetch(
                f"SELECT count(*) FROM {quote_ident(child)} AS c WHERE c.{quote_ident(col)} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parked} AS p WHERE p.{quote_ident(pcol)} = c.{quote_ident(col)})"
            )[0][0]
        )

    def delete_orphans(self, child: str, col: str, parent: str, pcol: str, *, count_only: bool) -> int:
        """The rows of ``child`` whose ``col`` is not a ``pcol`` of ``parent``: counted, and deleted
        unless ``count_only``."""
        gone = f"c.{quote_ident(col)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {quote_ident(parent)} AS p WHERE p.{quote_ident(pcol)} = c.{quote_ident(col)})"
        n = int(self.fetch(f"SELECT count(*) FROM {quote_ident(child)} AS c WHERE {gone}")[0][0])
        if n and not count_only:
            self.execute(f"DELETE FROM {quote_ident(child)} AS c WHERE {gone}")
        return n

    def ensure_tables(self) -> None:
        """Create every canonical and system table that does not exist yet, and drop the
        shadow tables an import left behind when its process was killed."""
        existing = set(self.con.list_tables())
        for t in TABLES:
            if t.name not in existing:
                self.create_canonical(t)
        for name, schema in SYSTEM_TABLES.items():
            if name not in existing:
                self.con.create_table(name, schema=ibis.schema(schema))
            else:
                self.add_missing_columns(name, schema)
        if self.kind in ("duckdb", "postgres"):
            for name, cols in SYSTEM_UNIQUE.items():
                index = quote_ident(f"{name}_unique")
                self.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {quote_ident(name)} ({', '.join(map(quote_ident, cols))})"
                )
        mine = f"{SHADOW_PREFIX}{os.getpid()}_"  # a live import of this process (same file opened twice)
        for name in existing:
            if name.startswith(SHADOW_PREFIX) and not name.startswith(mine):
                self.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")

    def add_missing_columns(self, name: str, schema: dict[str, str]) -> None:
        """Give a system table the columns a newer Sanjeh declares (a workspace made before them)."""
        if self.kind not in ("duckdb", "postgres"):
            return
        have = set(self.con.table(name).columns)
        for column, type_ in schema.items():
            if column not in have:
                self.execute(f"ALTER TABLE {quote_ident(name)} ADD COLUMN {quote_ident(column)} {_SQL_TYPES[type_]}")
                self.forget(name)

    def create_canonical(self, t: Table) -> None:
        """Create the canonical table ``t``."""
        self.con.create_table(t.name, schema=ibis.schema(t.ibis_schema()))

    # -- raw access for loading -------------------------------------------------
    @property
    def duckdb(self) -> Any:
        """The raw DuckDB connection (only when the warehouse is DuckDB)."""
        if self.kind != "duckdb":
            raise InternalError("the raw DuckDB connection exists only on a DuckDB warehouse")
        return self.con.con  # type: ignore[attr-defined]

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement that returns nothing (DDL/DML built from schema names)."""
        if self.kind == "duckdb":
            self.duckdb.execute(sql, params or [])
        elif self.kind == "postgres":
            with self.con.con.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute(sql, params)
        else:
            self.con.raw_sql(sql)  # type: ignore[attr-defined]

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.kind == "duckdb":
            return list(self.duckdb.execute(sql, params or []).fetchall())
        if self.kind == "postgres":
            with self.con.con.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute(sql, params)
                return list(cur.fetchall())
        return [tuple(r) for r in self.con.raw_sql(sql).collect()]  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a failure (or a killed process) leaves the warehouse as it was."""
        if self.kind == "duckdb":
            raw = self.duckdb
            raw.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        elif self.kind == "postgres":
            with self.con.con.transaction():  # type: ignore[attr-defined]
                yield
        else:
            raise UserError(key="workspace.spark_import")

    @contextlib.contextmanager
    def memory_cap(self, limit: str, threads: int | None = None) -> Iterator[None]:
        """Cap DuckDB's memory for a heavy step that orders its output explicitly (it spills beyond
        the cap); a no-op on other backends."""
        if self.kind != "duckdb":
            yield
            return
        raw = self.duckdb
        old = raw.execute(
            "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order'),"
            " current_setting('threads')"
        ).fetchone()
        try:  # settings first inside the try: a refused SET is undone too
            raw.execute(f"SET memory_limit = {quote_literal(limit)}")
            raw.execute("SET preserve_insertion_order = false")  # lets more operators spill; order is explicit
            if threads is not None:
                raw.execute(f"SET threads = {int(threads)}")
            yield
        finally:
            raw.execute(f"SET memory_limit = {quote_literal(str(old[0]))}")
            raw.execute(f"SET preserve_insertion_order = {str(old[1]).lower()}")
            raw.execute(f"SET threads = {int(old[2])}")

    def insert_arrow(self, name: str, data: pa.Table) -> None:
        """Append rows (columns by name) to an existing table."""
        if data.num_rows == 0:
            return
        cols = ", ".join(quote_ident(c) for c in data.column_names)
        if self.kind == "duckdb":
            raw = self.duckdb
            view = "__sanjeh_insert"
            raw.register(view, data)
            try:
                raw.execute(f"INSERT INTO {quote_ident(name)} ({cols}) SELECT {cols} FROM {view}")
            finally:
                raw.unregister(view)
        elif self.kind == "pyspark":
            df = data.to_pandas()
            for col in data.column_names:  # pandas 3 reads missing text as NaN; Spark needs None
                if pa.types.is_string(data.schema.field(col).type):
                    df[col] = df[col].astype(object).where(df[col].notna(), None)
            self.con.insert(name, df)
        elif self.kind == "postgres":
            import pyarrow.csv as pacsv

            buf = pa.BufferOutputStream()
            pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
            pg = self.con.con  # type: ignore[attr-defined]
            with (
                pg.cursor() as cur,
                cur.copy(f"COPY {quote_ident(name)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy,
            ):
                copy.write(buf.getvalue().to_pybytes())
        else:
            raise UserError(key="workspace.spark_import")

    def insert_row(self, name: str, row: dict[str, Any], schema: pa.Schema) -> None:
        """Append one row (``schema``: the table's Arrow types of ``row``'s columns). On DuckDB its
        values are written as SQL literals (:func:`sql_value`): a login writes a session row, and
        both an Arrow array made from Python values and a statement parameter make pyarrow or
        DuckDB import pandas (0.3 s of the first login after a start)."""
        if self.kind != "duckdb":
            self.insert_arrow(name, pa.table({k: [v] for k, v in row.items()}, schema=schema))
            return
        cols = ", ".join(quote_ident(c) for c in row)
        values = ", ".join(sql_value(v) for v in row.values())
        self.duckdb.execute(f"INSERT INTO {quote_ident(name)} ({cols}) VALUES ({values})")

    def delete_in(self, name: str, column: str, values: Sequence[str]) -> None:
        """Delete the rows whose text ``column`` is one of ``values`` (literals on DuckDB, as
        :meth:`insert_row`)."""
        if not values:
            return
        if self.kind != "duckdb":
            self.delete_matching(name, pa.table({column: pa.array(list(values), pa.string())}))
            return
        for i in range(0, len(values), 1000):
            listed = ", ".join(quote_literal(v) for v in values[i : i + 1000])
            self.duckdb.execute(f"DELETE FROM {quote_ident(name)} WHERE {quote_ident(column)} IN ({listed})")

    def delete_matching(self, name: str, keys: pa.Table) -> None:
        """Delete the rows whose key columns (``keys``' columns) equal a row of ``keys``."""
        if keys.num_rows == 0:
            return
        with self._keys(keys) as (rel, cond):
            self.execute(f"DELETE FROM {quote_ident(name)} AS t USING {rel} AS k WHERE {cond}")

    def fetch_matching(self, name: str, keys: pa.Table, columns: Sequence[str]) -> pa.Table:
        """The ``columns`` of a canonical table's rows whose key columns (``keys``' columns) equal a
        row of ``keys`` (typed as the canonical table says)."""
        t = next(t for t in TABLES if t.name == name)
        schema = pa.schema([(c, _ARROW_TYPES[t.column(c).storage_type]) for c in columns])
        if keys.num_rows == 0:
            return schema.empty_table()
        cols = ", ".join(f"t.{quote_ident(c)}" for c in columns)
        with self._keys(keys) as (rel, cond):
            sql = f"SELECT {cols} FROM {quote_ident(name)} AS t WHERE EXISTS (SELECT 1 FROM {rel} AS k WHERE {cond})"
            if self.kind == "duckdb":
                return self.duckdb.execute(sql).to_arrow_table().cast(schema)
            rows = self.fetch(sql)
        return pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows], schema=schema)

    @contextlib.contextmanager
    def _keys(self, keys: pa.Table) -> Iterator[tuple[str, str]]:
        """``keys`` as a relation the warehouse can join (its name, and the SQL condition that a row
        ``t`` of a table has the key of a row ``k`` of it)."""
        if self.kind == "duckdb":
            raw = self.duckdb
            view = "__sanjeh_keys"
            raw.register(view, keys)
            try:
                yield (
                    view,
                    " AND ".join(
                        f"t.{quote_ident(c)} IS NOT DISTINCT FROM k.{quote_ident(c)}" for c in keys.column_names
                    ),
                )
            finally:
                raw.unregister(view)
        elif self.kind == "postgres":
            # compared as text, but a timestamp as a timestamp: its text in PostgreSQL
            # ("2025-03-18 13:30:00") is not Arrow's ("2025-03-18 13:30:00.000000")
            tmp = "__sanjeh_keys"
            stamps = {c for c in keys.column_names if pa.types.is_timestamp(keys.schema.field(c).type)}
            cols = ", ".join(f"{quote_ident(c)} {'timestamp' if c in stamps else 'text'}" for c in keys.column_names)
            self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {tmp} ({cols})")
            self.execute(f"TRUNCATE {tmp}")
            str_keys = pa.table({c: keys[c] if c in stamps else keys[c].cast(pa.string()) for c in keys.column_names})
            self.insert_arrow(tmp, str_keys)
            cast = {c: "" if c in stamps else "::text" for c in keys.column_names}
            try:
                yield (
                    tmp,
                    " AND ".join(
                        f"t.{quote_ident(c)}{cast[c]} IS NOT DISTINCT FROM k.{quote_ident(c)}"
                        for c in keys.column_names
                    ),
                )
            finally:
                self.execute(f"DROP TABLE {tmp}")
        else:
            raise UserError(key="workspace.spark_import")

    # -- compiled queries with parameter tables ------------------------------------------
    def compile(self, expr: ibis.Table) -> str:
        """The SQL of ``expr`` in this warehouse's dialect (parameter tables stay as names)."""
        return str(ibis.to_sql(expr, dialect=self.con.name))

    def query_arrow(self, sql: str, params: dict[str, Param], schema: pa.Schema) -> pa.Table:
        """Run a compiled query after filling its parameter tables (temp tables of this
        connection, replaced on each run); the rows as an Arrow table of ``schema``."""
        if self.kind == "duckdb":
            raw = self.duckdb
            for name, param in params.items():  # a temp table: DuckDB plans joins on it well
                raw.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {param.select}")
            got = raw.execute(sql).to_arrow_table()
        elif self.kind == "postgres":
            for name, param in params.items():
                data = param.arrow()
                cols = ", ".join(f"{quote_ident(f.name)} {_PG_TYPES[str(f.type)]}" for f in data.schema)
                self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {quote_ident(name)} ({cols})")
                self.execute(f"TRUNCATE {quote_ident(name)}")
                self.insert_arrow(name, data)
                self.execute(f"ANALYZE {quote_ident(name)}")
            with self.con.con.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute(sql)
                names = [d.name for d in cur.description or ()]
                rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            return pa.Table.from_pylist(rows, schema=schema)
        else:
            session = self.con._session  # type: ignore[attr-defined]
            for name, param in params.items():
                data = param.arrow()
                df = data.to_pandas()
                frame = session.createDataFrame(df, schema=_spark_schema(data.schema)) if len(df) else None
                if frame is None:
                    frame = session.createDataFrame([], schema=_spark_schema(data.schema))
                frame.createOrReplaceTempView(name)
            got = pa.Table.from_pandas(session.sql(sql).toPandas(), preserve_index=False)
        return got.rename_columns(schema.names).cast(schema)

    def truncate(self, name: str) -> None:
        if self.kind == "pyspark":  # its tables (parquet files) take no DELETE
            self.execute(f"TRUNCATE TABLE {quote_ident(name, 'spark')}")
        else:
            self.execute(f"DELETE FROM {quote_ident(name)}")

    def reader(self) -> Warehouse | None:
        """A second connection to this DuckDB database, for short reads from another thread while
        this one runs something long (DuckDB runs the two side by side, each reading committed
        rows); it closes with this one. None on other backends."""
        if self.kind != "duckdb":
            return None
        return Warehouse(self.url, "duckdb", ibis.duckdb.from_connection(self.duckdb.cursor()))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.disconnect()


#: PostgreSQL types of the parameter tables' Arrow columns.
_PG_TYPES = {
    "int32": "integer",
    "int64": "bigint",
    "date32[day]": "date",
    "string": "text",
    "double": "double precision",
}


def _spark_schema(schema: pa.Schema) -> str:
    """A Spark DDL schema for a parameter table."""
    types = {"int32": "int", "int64": "bigint", "date32[day]": "date", "string": "string", "double": "double"}
    return ", ".join(f"{quote_ident(f.name, 'spark')} {types[str(f.type)]}" for f in schema)


#: DuckDB's words when another process holds the file: ``… Conflicting lock is held in PROGRAM (PID N) …``
_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _lock_holder(error: str) -> WorkspaceBusy | None:
    """The error to show when DuckDB could not lock the file because another process holds it
    (None for any other error): the holder's program and PID, and what to do, in one sentence."""
    if "Conflicting lock" not in error:
        return None
    found = _LOCK_HELD.search(error)
    if found is None:
        return WorkspaceBusy(key="workspace.busy_unknown")
    program = os.path.basename(found["program"].strip()) or "?"
    pid = int(found["pid"])
    return WorkspaceBusy(key="workspace.busy", params={"program": program, "pid": str(pid)}, details={"pid": pid})


#: The DuckDB storage format a new warehouse file is written in: from v1.3.0 on, strings are
#: compressed with a dictionary whose entries are FSST-compressed (DICT_FSST), which writes a
#: cohort 20-25 % faster than v1.0.0's dictionary and makes a smaller file (docs/import.md, "Speed
#: and memory", item 13). DuckDB before 1.3 cannot open such a file.
STORAGE_VERSION = "v1.3.0"
#: DuckDB compression methods a connection to an older (v1.0.0 to v1.2) warehouse file does not
#: use for what it writes: there FSST alone is slower to write than plain dictionaries.
_FSST_OFF = "fsst"


def _old_storage(con: Any) -> bool:
    """Is the connection's database file in a storage format before v1.3.0 (or in memory)?"""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    version = str(row[0] or "") if row else ""
    return not version or version.startswith(("v0.", "v1.0", "v1.1", "v1.2"))


def connect(url: str, *, read_only: bool = False) -> Warehouse:
    """Open the warehouse named by ``url``."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    try:
        if scheme == "duckdb":
            path = url[len("duckdb://") :] or ":memory:"
            # The format only applies to a file DuckDB creates; an older file keeps its own. Passed on
            # every open: DuckDB refuses a second connection to a file with another configuration.
            con = ibis.duckdb.connect(path, read_only=read_only, storage_compatibility_version=STORAGE_VERSION)
            con.con.execute("SET enable_progress_bar = false")  # type: ignore[attr-defined]  # output is ours
            if _old_storage(con.con):  # type: ignore[attr-defined]
                # No FSST string compression in the old format: loading and the cohort build are
                # ≈ 20 % faster (measured: docs/import.md); dictionary, RLE and the rest stay on.
                con.con.execute(f"SET disabled_compression_methods = {_FSST_OFF!r}")  # type: ignore[attr-defined]
            return Warehouse(url, "duckdb", con)
        if scheme in ("postgresql", "postgres"):
            con = ibis.connect(url.replace("postgresql://", "postgres://", 1))
            con.con.autocommit = True  # type: ignore[attr-defined]
            return Warehouse(url, "postgres", con)
        if scheme in ("pyspark", "spark-connect"):
            return _connect_spark(url)
    except UserError:
        raise
    except Exception as exc:  # a driver error: name the URL (without password)
        busy = _lock_holder(str(exc))
        if busy is not None:
            raise busy from None
        safe = parsed._replace(netloc=parsed.hostname or "").geturl()
        raise UserError(key="workspace.cannot_open", params={"url": safe, "error": str(exc)}) from exc
    raise UserError(key="workspace.bad_scheme", params={"scheme": scheme})


def _connect_spark(url: str) -> Warehouse:
    """``spark-connect://host:port`` (a real cluster) or ``pyspark://DIR`` (a local session whose
    tables live in DIR)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UserError(key="workspace.spark_extra") from exc
    if url.startswith("spark-connect://"):
        session = SparkSession.builder.remote("sc://" + url[len("spark-connect://") :]).getOrCreate()
    else:
        builder = SparkSession.builder.master("local[2]").appName("sanjeh")
        builder = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
        builder = builder.config("spark.sql.shuffle.partitions", "4")
        path = url[len("pyspark://") :]
        if path:
            builder = builder.config("spark.sql.warehouse.dir", path)
        session = builder.getOrCreate()
    return Warehouse(url, "pyspark", ibis.pyspark.connect(session))
