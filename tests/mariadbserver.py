"""A real MariaDB (or MySQL) server for the tests: mariadb-install-db + mariadbd on a temp dir and a
free port, as tests/pgserver.py does for PostgreSQL. Missing binaries are an error, never a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.pgserver import _free_port


def _bin(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (str(Path(d) / name) for d in ("/usr/sbin", "/usr/bin") if (Path(d) / name).exists()), None
        )
        if found:
            return found
    raise RuntimeError(
        f"MariaDB binary {' or '.join(names)} not found; install mariadb-server-core (Debian) to run these tests"
    )


@dataclass
class MariaDBServer:
    base: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, db: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str | None = None) -> object:
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=db, charset="utf8mb4")

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        con = self.connect()
        try:
            con.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")  # type: ignore[attr-defined]
        finally:
            con.close()  # type: ignore[attr-defined]
        return name

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> MariaDBServer:
    base = Path(tempfile.mkdtemp(prefix="sanjeh-maria-"))
    data = base / "data"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [_bin("mariadb-install-db", "mysql_install_db"), "--no-defaults", f"--datadir={data}", *user,
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    port = _free_port()
    log = (base / "log").open("wb")
    process = subprocess.Popen(
        [_bin("mariadbd", "mysqld"), "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={base / 'sock'}", f"--pid-file={base / 'pid'}", "--skip-grant-tables", "--skip-name-resolve",
         "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--skip-log-bin", *user],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = MariaDBServer(base, port, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.connect().close()  # type: ignore[attr-defined]
            return server
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                why = (base / "log").read_text(errors="replace")[-2000:]
                server.stop()
                raise RuntimeError(f"MariaDB did not start: {why}") from None
            time.sleep(0.3)
