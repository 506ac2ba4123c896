"""The server's end of the local channel (``sanjeh/local.py``): ``POST /_local/cli``.

A pure ASGI wrapper outside everything else. It takes a request only when all of these hold:
the method is POST and the path ``/_local/cli``; the ``X-Sanjeh-Local`` header is this server's
token (compared in constant time); the peer is a loopback address, or the very address the
server was reached at (a process of this machine connecting to the machine's own address); and
no ``X-Forwarded-For`` or ``Forwarded`` header says a proxy passed it on. Any other request goes
on to the app untouched, so a wrong token gets exactly what a path that does not exist gets
(a 404, or the login page for a stranger): the route cannot be told from no route.

The command runs in a worker thread holding the app state's lock for its whole length, on the
server's own open workspace (lent, so the command's ``close()`` leaves it open); page views wait
meanwhile, as they wait for an import through the Data page. Afterwards the caches the command
may have made stale are dropped (an import: results and engines; targets: results; users: the
cached users and sessions), so the next page view shows the new data.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from sanjeh.local import HEARTBEAT, PATH, TOKEN_HEADER
from sanjeh.web.state import AppState

#: Seconds between two looks at a running command (its progress, its end).
POLL = 0.1
#: The largest request body the channel reads (a command line and a password).
MAX_REQUEST = 1024 * 1024


class LocalChannel:
    """Wraps the app; see the module's docstring."""

    def __init__(self, app: ASGIApp, state: AppState, token: str | None) -> None:
        self.app = app
        self.state = state
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST" and self._trusted(scope):
            await self._handle(receive, send)
            return
        await self.app(scope, receive, send)

    def _trusted(self, scope: Scope) -> bool:
        if not self.token:
            return False
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        given = headers.get(TOKEN_HEADER, b"")
        if not hmac.compare_digest(given, self.token.encode("ascii")):
            return False
        if "x-forwarded-for" in headers or "forwarded" in headers:
            return False
        client, server = scope.get("client"), scope.get("server")
        if not client:
            return False
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:  # ::ffff:127.0.0.1
            peer = peer.ipv4_mapped
        return peer.is_loopback or (server is not None and client[0] == server[0])

    async def _handle(self, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        request = _parse(body) if body is not None else None
        if request is None or Path(request["workspace"]) != self.state.ws.root:
            await _send_status(send, 400)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        done = anyio.Event()
        answer: dict[str, Any] = {}
        steps: list[tuple[str, float]] = []  # an import's progress, appended by the worker thread

        async def work() -> None:
            try:
                answer.update(await anyio.to_thread.run_sync(self._run, request, steps.append))
            finally:
                done.set()

        gone = False
        sent = 0
        quiet = anyio.current_time()
        async with anyio.create_task_group() as tg:
            tg.start_soon(work)
            while not done.is_set():
                with anyio.move_on_after(POLL):
                    await done.wait()
                chunk = b"".join(json.dumps({"progress": p}).encode("utf-8") + b"\n" for p in steps[sent:])
                sent += chunk.count(b"\n")
                if not chunk and anyio.current_time() - quiet >= HEARTBEAT:
                    chunk = b"\n"  # keep the connection alive
                if chunk and not done.is_set() and not gone:
                    quiet = anyio.current_time()
                    try:  # the command runs to its end even if the client left
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    except OSError:
                        gone = True
        if not gone:
            await send({"type": "http.response.body", "body": json.dumps(answer).encode("utf-8") + b"\n"})

    def _run(self, request: dict[str, Any], step: Callable[[tuple[str, float]], None]) -> dict[str, Any]:
        from sanjeh.cli import command_changes, run_served

        argv: list[str] = request["argv"]
        try:
            with self.state.locked() as ws:
                code, out, err = run_served(
                    ws,
                    argv,
                    stdin=request["stdin"],
                    cwd=Path(request["cwd"]),
                    lang=request["lang"],
                    terminal=request["terminal"],
                    debug=request["debug"],
                    progress=lambda what, fraction: step((what, round(fraction, 4))),
                )
        finally:
            changes = command_changes(argv)
            if "data" in changes:
                self.state.data_changed()
            elif "targets" in changes:
                self.state.targets_changed()
            if "users" in changes:
                self.state.users_changed()
        return {"exit_code": code, "stdout": out, "stderr": err}


async def _read_body(receive: Receive) -> bytes | None:
    """The request's body, or None beyond :data:`MAX_REQUEST` bytes or a client that left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _terminal(value: Any) -> dict[str, Any]:
    """One stream's terminal as the client's own Rich console sees it: width, tty, colours."""
    if not isinstance(value, dict):
        return {"width": 80, "tty": False, "color": None, "no_color": False}
    width = value.get("width")
    color = value.get("color")
    return {
        "width": width if isinstance(width, int) and 20 <= width <= 1000 else 80,
        "tty": value.get("tty") is True,
        "color": color if color in ("standard", "256", "truecolor", "windows") else None,
        "no_color": value.get("no_color") is True,
    }


def _parse(body: bytes) -> dict[str, Any] | None:
    """The request as the client sent it (``sanjeh.cli._forward``), checked; None if malformed."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    argv, stdin, cwd, ws = data.get("argv"), data.get("stdin"), data.get("cwd"), data.get("workspace")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    if stdin is not None and not isinstance(stdin, str):
        return None
    if not isinstance(cwd, str) or not Path(cwd).is_absolute() or not isinstance(ws, str):
        return None
    terminal = data.get("terminal")
    if not isinstance(terminal, dict):
        terminal = {}
    return {
        "argv": argv,
        "stdin": stdin,
        "cwd": cwd,
        "workspace": ws,
        "lang": data.get("lang") if data.get("lang") in ("fa", "en") else "en",
        "debug": data.get("debug") is True,
        "terminal": {"out": _terminal(terminal.get("out")), "err": _terminal(terminal.get("err"))},
    }


async def _send_status(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
