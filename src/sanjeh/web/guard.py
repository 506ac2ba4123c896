"""The app's outer guard (pure ASGI): nothing reaches a route before it has passed.

For every HTTP request, before the app reads a byte of its body:

1. a query string or path holding a control character (NUL, CR, …) is refused (400);
2. the body's limit is chosen by route — the upload limit only for imports, a small one
   for the login form and the token request, ``max_body`` for the rest — and a declared
   ``Content-Length`` above it is refused (413);
3. a route that needs a user is authenticated (bearer token or session cookie); a
   stranger gets 401 (the API) or the login page (pages) without the body being read.

Then, while the app reads the body, its bytes are counted as they arrive, with or
without ``Content-Length`` (chunked), and reading stops with 413 as soon as they pass
the limit; a body that pauses longer than ``body_timeout`` between two chunks ends with
408. Every response gets the security headers (and HSTS with ``secure_cookies``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import anyio
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanjeh.errors import AuthError, SanjehError, TooLarge, UserError
from sanjeh.web.deps import has_credentials, resolve
from sanjeh.web.state import AppState

#: Paths anyone may open (everything else needs a logged-in user).
PUBLIC_PATHS = ("/healthz", "/login", "/api/v1/auth/token")
PUBLIC_PREFIXES = ("/static/",)
#: Routes whose body is an upload (the upload limit); the login routes get the small limit.
UPLOAD_PATHS = ("/api/v1/imports", "/data/import", "/data/wizard")
LOGIN_PATHS = ("/login", "/api/v1/auth/token")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; font-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def size_text(n: int) -> str:
    """``209715200`` -> ``200 MB``; ``16384`` -> ``16 KB``."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class Guard:
    """Wraps the whole app (see the module's docstring)."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    def body_limit(self, path: str) -> int:
        if path in UPLOAD_PATHS:
            return self.state.max_upload
        if path in LOGIN_PATHS:
            return self.state.max_login_body
        return self.state.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        send = self._with_headers(send, csp=not path.startswith("/api/docs"))  # Swagger UI runs inline scripts
        request = Request(scope)
        limit = self.body_limit(path)
        try:
            self._check_text(scope)
            self._check_length(request, limit)
            if not path.startswith(PUBLIC_PREFIXES) and (not is_public(path) or has_credentials(request)):
                try:
                    await anyio.to_thread.run_sync(resolve, request)
                except AuthError:
                    if not is_public(path):
                        raise
        except SanjehError as exc:
            from sanjeh.web.app import render_error

            # in a worker thread: an error page may look up who is asking (the warehouse, under its lock)
            response = await anyio.to_thread.run_sync(
                render_error, request, exc.status, exc.code, exc.message, exc.details, exc
            )
            if _has_body(request):  # the unread body cannot be skipped: end the connection after the answer
                response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, self._counted(receive, path, limit), send)

    @staticmethod
    def _check_text(scope: Scope) -> None:
        raw = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
        found = _CONTROL.search(raw) or _CONTROL.search(str(scope.get("path", "")).encode("utf-8", "replace"))
        if found:
            code = f"U+{found.group()[0]:04X}"
            raise UserError(key="request.control_character", params={"character": code}, details={"character": code})

    @staticmethod
    def _check_length(request: Request, limit: int) -> None:
        declared = request.headers.get("content-length")
        if declared is None:
            return
        if not declared.strip().isdigit():
            raise UserError(key="request.content_length", details={"content_length": declared[:40]})
        if int(declared) > limit:
            raise TooLarge(
                key="request.upload_too_large" if request.url.path in UPLOAD_PATHS else "request.too_large",
                params={"size": size_text(limit)},
                details={"limit": limit},
            )

    def _counted(self, receive: Receive, path: str, limit: int) -> Receive:
        received = 0
        done = False
        timeout = self.state.body_timeout

        async def counted() -> Message:
            nonlocal received, done
            if done:  # the body is complete: later calls wait for the client to go away (no timeout)
                return await receive()
            try:
                with anyio.fail_after(timeout):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408, f"the request body stopped arriving for {timeout:g} seconds; send it again"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(path, limit))
                done = not message.get("more_body", False)
            else:
                done = True
            return message

        return counted

    def _with_headers(self, send: Send, *, csp: bool) -> Send:
        secure = self.state.secure_cookies

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if csp:
                    headers.setdefault("Content-Security-Policy", CSP)
                if secure:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        return with_headers


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "0").strip()
    return "transfer-encoding" in request.headers or not length.isdigit() or int(length) > 0


def _too_large(path: str, limit: int) -> str:
    what = "the upload" if path in UPLOAD_PATHS else "the request body"
    return f"{what} is larger than {size_text(limit)}"
