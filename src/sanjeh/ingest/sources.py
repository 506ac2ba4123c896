"""Databases as sources: a mapping's ``from`` may be a database URL and a query (docs/mappings.md).

``from: {database: postgresql://user@host/db, query: "SELECT ...", changed_since: updated_at}``
reads the rows of the query (PostgreSQL, or MySQL/MariaDB through PyMySQL) as an import reads a
file's: every value as text, the row number as its line. The source is only ever read: the query
runs in a read-only transaction, so a query that would change something fails there and changes
nothing. With ``changed_since`` the import is incremental: it reads only the rows whose column is
at or after the largest value the last import of this source saw (``>=``: rows written in that
same instant are read again and upserted, never missed), and the new largest value is stored in
``_source_marks`` in the import's own transaction (a failed or dry run stores none).

A password may stay out of the mapping: ``${NAME}`` in the URL is the environment variable NAME
(``mysql://sanjeh:${SHOP_DB_PASSWORD}@db/shop``); PostgreSQL also reads ``PGPASSWORD`` and
``~/.pgpass``. No error shows the URL's password.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from sanjeh.errors import ImportRefused, MappingError
from sanjeh.warehouse import quote_ident

#: URL schemes of the databases a mapping may read
SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}
FETCH_ROWS = 50_000
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class DbSource:
    url: str  # as written in the mapping (``${NAME}`` not yet replaced)
    query: str
    changed_since: str | None = None
    name: str | None = None

    @property
    def kind(self) -> str:
        return SCHEMES[urlparse(self.url).scheme.lower()]

    @property
    def label(self) -> str:
        """How rejects and the summary name the source: its name, else ``host/db``."""
        if self.name:
            return self.name
        u = urlparse(self.url)
        db = u.path.strip("/") or "db"
        return f"{db}@{u.hostname or 'localhost'}".replace("/", "_")

    def key(self, mapping: str, table: str) -> str:
        """What identifies the source's incremental mark: mapping, table, database (no password) and query."""
        u = urlparse(self.url)
        where = f"{u.scheme}://{u.username or ''}@{u.netloc.rsplit('@', 1)[-1]}{u.path}"
        digest = hashlib.sha256(f"{where}\n{self.query}\n{self.changed_since}".encode()).hexdigest()[:16]
        return f"{mapping}/{table}/{digest}"


def parse_source(where: str, value: Any) -> DbSource:
    """A database source from a mapping's ``from`` object."""
    allowed = {"database", "query", "changed_since", "name"}
    if not isinstance(value, dict) or set(value) - allowed or "database" not in value or "query" not in value:
        raise MappingError(
            f"{where}: a database source is {{database: URL, query: SELECT ..., changed_since: COLUMN (optional), "
            "name: NAME (optional)}"
        )
    url, query = value["database"], value["query"]
    if not isinstance(url, str) or urlparse(url).scheme.lower() not in SCHEMES:
        raise MappingError(
            f"{where}: 'database' must be a URL of PostgreSQL (postgresql://user@host:5432/db) or MySQL/MariaDB "
            "(mysql://user@host:3306/db)"
        )
    if not isinstance(query, str) or not query.strip():
        raise MappingError(f"{where}: 'query' must be a SELECT statement")
    since = value.get("changed_since")
    if since is not None and not (isinstance(since, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", since)):
        raise MappingError(f"{where}: 'changed_since' must name a column of the query's result, not {since!r}")
    name = value.get("name")
    return DbSource(url, query.strip().rstrip(";"), since, str(name) if name is not None else None)


def _url(src: DbSource) -> Any:
    def env(m: re.Match[str]) -> str:
        v = os.environ.get(m.group(1))
        if v is None:
            raise MappingError(f"the database URL of {src.label} names ${{{m.group(1)}}}, which is not set")
        return v

    return urlparse(_ENV.sub(env, src.url))


def _refused(src: DbSource, exc: BaseException) -> ImportRefused:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) == 2 and isinstance(args[0], int):  # PyMySQL: (error code, message)
        text = str(args[1])
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    u = urlparse(src.url)
    if u.password:
        text = text.replace(u.password, "***")
    return ImportRefused(
        f"cannot read the database source {src.label}: {text[:300]}; nothing was imported",
        details={"source": src.label},
    )


def read_rows(src: DbSource, since: Any = None) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
    """(column names, batches of rows) of the source's query, read in a read-only transaction;
    with ``since`` only the rows whose ``changed_since`` column is at or after it."""
    query = src.query
    params: list[Any] = []
    if src.changed_since is not None and since is not None:
        col = quote_ident(src.changed_since, src.kind)  # sqlglot's dialect names: postgres, mysql
        query = f"SELECT * FROM ({src.query}) AS sanjeh_q WHERE sanjeh_q.{col} >= %s"
        params = [since]
    try:
        con = _connect(src)
    except ImportRefused:
        raise
    except Exception as exc:
        raise _refused(src, exc) from None
    try:
        cur = con.cursor()
        if src.kind == "postgres":
            cur.execute("SET TRANSACTION READ ONLY")
        else:
            cur.execute("START TRANSACTION READ ONLY")
        cur.execute(query, params or None)
        if cur.description is None:
            raise ImportRefused(f"the query of {src.label} returns no rows (is it a SELECT?); nothing was imported")
        names = [str(d[0]) for d in cur.description]
    except ImportRefused:
        con.close()
        raise
    except Exception as exc:
        con.close()
        raise _refused(src, exc) from None
    if src.changed_since is not None and src.changed_since not in names:
        con.close()
        raise MappingError(
            f"the query of {src.label} has no column {src.changed_since!r} (changed_since); its columns: "
            f"{', '.join(names)}"
        )

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        try:
            while True:
                rows = cur.fetchmany(FETCH_ROWS)
                if not rows:
                    break
                yield [tuple(r) for r in rows]
            con.rollback()  # read only: nothing to keep
        except Exception as exc:
            raise _refused(src, exc) from None
        finally:
            con.close()

    return names, batches()


def _connect(src: DbSource) -> Any:
    u = _url(src)
    db = unquote(u.path.lstrip("/"))
    if src.kind == "postgres":
        import psycopg

        return psycopg.connect(
            host=u.hostname or "localhost",
            port=u.port or 5432,
            user=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
            dbname=db or None,
            connect_timeout=10,
        )
    import pymysql

    return pymysql.connect(
        host=u.hostname or "localhost",
        port=u.port or 3306,
        user=unquote(u.username) if u.username else "root",
        password=unquote(u.password) if u.password else "",
        database=db or None,
        charset="utf8mb4",
        connect_timeout=10,
    )


# -- marks ---------------------------------------------------------------------------------
def mark_text(value: Any) -> str | None:
    """A mark as stored: JSON of its type and text (None for no value)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        kind = "datetime"
    elif isinstance(value, dt.date):
        kind = "date"
    elif isinstance(value, bool | int):
        kind = "int"
    elif isinstance(value, decimal.Decimal):
        kind = "decimal"
    elif isinstance(value, float):
        kind = "float"
    else:
        kind = "str"
    return json.dumps([kind, value.isoformat() if isinstance(value, dt.date) else str(value)])


def mark_value(text: str | None) -> Any:
    """The value of a stored mark, as the database driver gave it."""
    if not text:
        return None
    kind, value = json.loads(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    if kind == "float":
        return float(value)
    return value


def larger(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    try:
        return b if b > a else a
    except TypeError:
        return b if str(b) > str(a) else a
