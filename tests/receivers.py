"""Receivers the delivery tests send to: a bot API and a webhook on a local HTTP server (real
sockets, real HTTP), recording what they got. Nothing here is a test."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

#: The bot token the receiver's bot API accepts.
TOKEN = "123456:secret-bot-token"


class Endpoint(BaseHTTPRequestHandler):
    """A bot API (``/bot<TOKEN>/sendMessage|sendDocument``) and a webhook (``/hook``) in one server.
    ``plan`` says how to answer the next requests (``fail``: 503, ``busy``: 429, ``chat``: 400 with the
    bot API's "chat not found", ``slow``: answer late); what it took is in ``seen``."""

    seen: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []
    plan: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        step = self.plan.pop(0) if self.plan else "ok"
        if step == "slow":
            time.sleep(1.5)
        refusals = {
            "fail": (503, {"ok": False}),
            "busy": (429, {"ok": False, "description": "Too Many Requests: retry after 1"}),
            "chat": (400, {"ok": False, "description": "Bad Request: chat not found"}),
        }
        if step in refusals:
            self._answer(*refusals[step])
            return
        self.seen.append((self.path, dict(self.headers.items()), body))
        if self.path.startswith("/bot") and not self.path.startswith(f"/bot{TOKEN}/"):
            self._answer(401, {"ok": False, "description": "Unauthorized"})
            return
        self._answer(200, {"ok": True, "result": {}})

    def _answer(self, status: int, data: dict[str, object]) -> None:
        out = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (its timeout)
            self.wfile.write(out)


@contextlib.contextmanager
def receiver() -> Iterator[str]:
    """Serve :class:`Endpoint` on a free port of 127.0.0.1 (its record emptied); yields its base URL."""
    Endpoint.seen, Endpoint.plan = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
