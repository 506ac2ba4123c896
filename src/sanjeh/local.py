"""The local channel: the command line beside ``sanjeh serve`` on a DuckDB workspace.

DuckDB lets one process open a file for writing, and while the dashboard runs that process is
the server. So the server leaves a note in the workspace, ``server.json`` (its PID, a loopback
URL and a random token; readable by its owner only, like the warehouse), and the command line,
finding it, sends its command to the server instead of opening the file: the server runs the
command on its own open workspace, under the lock every page view takes, and answers with the
command's exit status and output. Nothing else changes for the user: the same command, the same
output, the same exit status, and the next page view shows what an import or a user change did.

This module holds both ends' plumbing: the note (:func:`write_server_file`, :func:`find_server`,
:func:`remove_server_file`) and the client (:func:`forward`). The server's route is
``sanjeh.web.channel``; what runs a command is ``sanjeh.cli.run_served``. Only the standard
library is used on the client's side (it runs before anything heavy is imported).

The answer streams: a newline every :data:`HEARTBEAT` seconds while the command runs (so a long
import keeps its request open however long it takes, and a server that has stopped is told
apart from one that is busy), a JSON line ``{"progress": [what, fraction]}`` at each step of an
import (the client draws the progress bar a local import draws), then the answer's JSON line. The client gives up when nothing at all
arrives for :data:`SILENCE` seconds.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sanjeh.errors import WorkspaceBusy

SERVER_FILE = "server.json"
#: The route the server answers the command line on (never in the OpenAPI document).
PATH = "/_local/cli"
#: The header carrying the token of ``server.json``.
TOKEN_HEADER = "x-sanjeh-local"
#: Seconds between two keep-alive newlines of a running command's answer.
HEARTBEAT = 1.0
#: Seconds the client waits for the server to accept the request and start answering.
CONNECT_TIMEOUT = 10.0
#: Seconds without a byte (not even a keep-alive newline) after which the client gives up.
SILENCE = 60.0


@dataclass(frozen=True)
class ServerInfo:
    """What ``server.json`` says: who serves the workspace, where, and the channel's token."""

    pid: int
    url: str
    token: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def loopback_url(host: str, port: int) -> str:
    """The URL a process of this machine reaches the server at: a loopback address when the
    server listens on every address (``0.0.0.0``, ``::``), else the address it listens on."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def write_server_file(root: Path, host: str, port: int, token: str) -> Path:
    """Write ``ROOT/server.json`` for this process: created 0600 under a temporary name, then
    renamed over any old one (a reader sees the whole old note or the whole new one)."""
    path = root / SERVER_FILE
    data = {"pid": os.getpid(), "url": loopback_url(host, port), "token": token}
    tmp = root / f".{SERVER_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_server_file(root: Path, token: str) -> None:
    """Remove ``server.json`` if it is still this server's (its token)."""
    info = _read(root / SERVER_FILE)
    if info is not None and secrets.compare_digest(info.token, token):
        (root / SERVER_FILE).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID runs (signal 0 checks without signalling; on Windows,
    where signal 0 is CTRL_C_EVENT, every PID counts as alive: a stale note is not detected)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


def find_server(root: Path) -> ServerInfo | None:
    """The server of the workspace at ``root``, if one runs: a ``server.json`` whose process is
    alive. A note left by a server that died (``kill -9``, a crash) is removed."""
    path = root / SERVER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:  # none, or not ours to read: the command runs here (DuckDB's lock decides)
        return None
    info = _parse(text)
    if info is None or not pid_alive(info.pid):
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:  # not a new server's note, written meanwhile
                path.unlink()
        return None
    return info


def _read(path: Path) -> ServerInfo | None:
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def _parse(text: str) -> ServerInfo | None:
    """The note's content; None if it is not one (the note is written whole, so: not a note)."""
    try:
        data = json.loads(text)
        return ServerInfo(int(data["pid"]), str(data["url"]), str(data["token"]))
    except (ValueError, KeyError, TypeError):
        return None


def forward(
    info: ServerInfo, request: dict[str, Any], progress: Callable[[str, float], None] | None = None
) -> dict[str, Any] | None:
    """Send a command to the server; its answer ``{"exit_code", "stdout", "stderr"}``. An
    import's progress lines (``{"progress": [what, fraction]}``) go to ``progress`` as they come.

    None when nothing listens at the note's address (the server is stopping or starting: the
    caller runs the command itself, and DuckDB's lock says whether that can be). A server that
    accepts nothing within :data:`CONNECT_TIMEOUT` or falls silent for :data:`SILENCE` seconds,
    breaks the connection, or refuses the request raises :class:`WorkspaceBusy`, worded to say
    what to do.
    """
    parts = urlsplit(info.url)
    body = json.dumps(request).encode("utf-8")
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=CONNECT_TIMEOUT)
    params = {"pid": str(info.pid)}
    try:
        try:
            conn.connect()
        except ConnectionRefusedError:
            return None
        headers = {"Content-Type": "application/json", TOKEN_HEADER: info.token}
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            raise WorkspaceBusy(key="workspace.server_refused", params={**params, "status": str(response.status)})
        if conn.sock is not None:
            conn.sock.settimeout(SILENCE)
        while True:
            line = response.readline()
            if not line:
                raise WorkspaceBusy(key="workspace.server_lost", params=params)
            if not line.strip():
                continue  # a keep-alive newline
            answer: dict[str, Any] = json.loads(line)
            if "progress" in answer:
                if progress is not None:
                    what, fraction = answer["progress"]
                    progress(str(what), float(fraction))
                continue
            return answer
    except TimeoutError:
        raise WorkspaceBusy(key="workspace.server_silent", params=params) from None
    except (OSError, http.client.HTTPException, ValueError):
        raise WorkspaceBusy(key="workspace.server_lost", params=params) from None
    finally:
        conn.close()
