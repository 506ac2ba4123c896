"""A real PostgreSQL server for the tests: initdb + pg_ctl on a temp dir and a free port.

As root the server runs as the ``postgres`` user (``runuser -u postgres``), as the
PostgreSQL binaries refuse to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    raise RuntimeError(f"PostgreSQL binary {name} not found; install postgresql (make test does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    datadir: Path
    port: int
    user: str

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def create_database(self, template: str = "") -> str:
        """A new database (a copy of ``template``, when given: no session may be connected to it)."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""))
        return self.url(name)

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._run([_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def _run(self, args: list[str], check: bool = True) -> None:
        _run_as_pg(args, check=check)


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_pg(args: list[str], check: bool = True) -> None:
    if _as_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=check, capture_output=True, timeout=120)


def start() -> PostgresServer:
    base = Path(tempfile.mkdtemp(prefix="sanjeh-pg-"))
    datadir = base / "data"
    user = "postgres" if _as_root() else os.environ.get("USER", "postgres")
    if _as_root():
        shutil.chown(base, "postgres", "postgres")
    _run_as_pg([_bin("initdb"), "-D", str(datadir), "-U", user, "-A", "trust", "-E", "UTF8", "--no-locale"])
    port = _free_port()
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    _run_as_pg([_bin("pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(base / "log"), "-w", "start"])
    return PostgresServer(datadir, port, user)
