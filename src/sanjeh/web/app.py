"""The web app: REST API (``/api/v1``) and server-rendered dashboard pages.

``create_app(ws)`` builds everything from a workspace (or its settings or folder) and
keeps no state at import time. ``serve(ws)`` runs it with uvicorn on 127.0.0.1
(:func:`uvicorn_config`: uvicorn's own proxy-header handling is off; the app believes
``X-Forwarded-For`` only from the proxies given as ``forwarded_allow``). The guard
(:mod:`sanjeh.web.guard`) wraps the app: sizes, authentication before any body is read,
control characters, security headers.
Errors: one handler turns every :class:`~sanjeh.errors.SanjehError`, request
validation error, 404 and 405 into the JSON error shape of API.md for ``/api``
paths and into an HTML page for the dashboard; nothing a client sends yields a 500.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sanjeh.errors import AuthError, SanjehError
from sanjeh.settings import Settings
from sanjeh.web.auth import parse_forwarded_allow
from sanjeh.web.channel import LocalChannel
from sanjeh.web.deps import Caller, caller
from sanjeh.web.guard import Guard
from sanjeh.web.state import (
    CREDENTIALS_TTL,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_LOGIN_BODY,
    DEFAULT_MAX_UPLOAD,
    AppState,
)
from sanjeh.workspace import Workspace

log = logging.getLogger("sanjeh.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def _open(ws_or_settings: Workspace | Settings | str | Path) -> Workspace:
    if isinstance(ws_or_settings, Workspace):
        return ws_or_settings
    if isinstance(ws_or_settings, Settings):
        return Workspace.open(ws_or_settings.root)
    return Workspace.open(ws_or_settings)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/healthz"


def error_json(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def render_error(
    request: Request, status: int, code: str, message: str, details: dict[str, Any], exc: SanjehError | None = None
) -> Response:
    """The error as JSON (``/api``: the English message) or as a page in the user's language
    (``exc.text``; a 401 on a page: the login page)."""
    if _is_api(request):
        return error_json(status, code, message, details)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    from sanjeh.web.pages import render_error_page

    return render_error_page(request, status, code, message, exc)


def install_error_handlers(app: FastAPI) -> None:
    async def sanjeh_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SanjehError)
        if exc.status >= 500:
            log.error("internal error on %s: %s", request.url.path, exc.message)
        return render_error(request, exc.status, exc.code, exc.message, exc.details, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "reason": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"location": "", "reason": "invalid request"}
        message = f"invalid request: {first['location']}: {first['reason']}"
        return render_error(request, 422, "invalid_request", message, {"issues": problems})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        response = render_error(request, exc.status_code, code, message, {"path": request.url.path})
        if exc.status_code in (408, 413):  # the body was left unread: end the connection after the answer
            response.headers["Connection"] = "close"
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return render_error(request, 500, "internal", "internal error; see the server log", {})

    app.add_exception_handler(SanjehError, sanjeh_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def create_app(
    ws_or_settings: Workspace | Settings | str | Path,
    *,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    max_body: int = DEFAULT_MAX_BODY,
    max_login_body: int = DEFAULT_MAX_LOGIN_BODY,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    secure_cookies: bool = False,
    login_limit: int = 5,
    address_login_limit: int = 20,
    forwarded_allow: str | tuple[str, ...] = (),
    credentials_ttl: float = CREDENTIALS_TTL,
    local_token: str | None = None,
) -> FastAPI:
    """The FastAPI app for a workspace (the workspace object, its settings or its folder).

    Limits (docs/security.md): ``max_upload`` bytes for an import's body, ``max_login_body``
    for the login form and the token request, ``max_body`` for any other body;
    ``body_timeout`` seconds between two chunks of a body; ``login_limit`` failed logins per
    user name and address and ``address_login_limit`` per address, a minute.
    ``secure_cookies`` (behind HTTPS) marks cookies Secure and sends HSTS;
    ``forwarded_allow`` lists the proxies whose ``X-Forwarded-For`` is believed.
    ``credentials_ttl``: seconds a user's row and a session's liveness are cached (a change made by
    another process, such as ``sanjeh users remove`` on a PostgreSQL warehouse, shows after it).
    ``local_token``: the token of the local channel (``sanjeh/local.py``), which runs the command
    line's commands for processes of this machine that present it; None: no channel.
    """
    from sanjeh.web import (
        api,
        api_rows,
        api_targets,
        api_users,
        data_pages,
        forecast_page,
        pages,
        rows_page,
        schedules_page,
        targets_page,
        users_page,
        wizard,
    )
    from sanjeh.web.alerts_page import router as alerts_router

    ws = _open(ws_or_settings)
    state = AppState.build(
        ws,
        max_upload=max_upload,
        max_body=max_body,
        max_login_body=max_login_body,
        body_timeout=body_timeout,
        secure_cookies=secure_cookies,
        forwarded_allow=parse_forwarded_allow(forwarded_allow),
        credentials_ttl=credentials_ttl,
    )
    state.limiter.limit = login_limit
    state.limiter.address_limit = address_login_limit
    app = FastAPI(
        title="Sanjeh",
        description="B2B sales KPIs: the REST API of the Sanjeh dashboard (API.md).",
        version="1",
        openapi_url=None,  # served below, behind authentication
        docs_url=None,
        redoc_url=None,
    )
    app.state.sanjeh = state
    install_error_handlers(app)
    app.add_middleware(Guard, state=state)
    app.add_middleware(LocalChannel, state=state, token=local_token)  # outside the guard: its own checks

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi(c: Annotated[Caller, Depends(caller)]) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def docs(c: Annotated[Caller, Depends(caller)]) -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="Sanjeh API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.include_router(api.router)
    app.include_router(api_targets.router)
    app.include_router(api_rows.router)
    app.include_router(api_users.router)
    app.include_router(pages.router)
    app.include_router(data_pages.router)
    app.include_router(wizard.router)
    app.include_router(targets_page.router)
    app.include_router(rows_page.router)
    app.include_router(forecast_page.router)
    app.include_router(users_page.router)
    app.include_router(alerts_router)
    app.include_router(schedules_page.router)
    pages.mount_static(app)
    return app


def uvicorn_config(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info") -> Any:
    """How Sanjeh runs under uvicorn (``serve`` and the tests use it): uvicorn's proxy headers
    off (it would believe any ``X-Forwarded-For`` from 127.0.0.1; the app decides instead, from
    ``forwarded_allow``), no ``Server`` header, idle keep-alive connections closed after 5 s."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=5,
        lifespan="off",
    )


def serve(
    ws_or_settings: Workspace | Settings | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    warm: bool = True,
    scheduler: bool = True,
    **options: Any,
) -> None:
    """Serve the dashboard and the API (blocks until stopped). Binds 127.0.0.1 unless told otherwise.

    ``options`` go to :func:`create_app` (``secure_cookies``, ``forwarded_allow``, ``max_upload``, …).
    With ``warm``, the default scorecard is computed in the background while the server starts, and
    again after each import or target change; it is kept in the workspace for the next start, which
    reads it back if nothing it was computed from changed (web/saved.py).
    On a DuckDB workspace the server opens the local channel (``sanjeh/local.py``): once it
    listens it writes ``server.json`` into the workspace, and removes it when it stops.
    With ``scheduler``, the report schedules run in a thread of this process (reports/runner.py),
    started once the server listens and stopped when it stops; its warehouse calls share the
    server's lock. Several servers of one PostgreSQL warehouse each run one: the warehouse's claim
    on a run lets one of them run it.
    """
    import uvicorn

    from sanjeh import local

    ws = _open(ws_or_settings)
    token = local.new_token() if ws.warehouse.single_process else None
    app = create_app(ws, local_token=token, **options)
    if warm:
        import threading

        app.state.sanjeh.rewarm = True  # and again after each import or target change
        app.state.sanjeh.keep_scorecard = True  # and kept for the next run (web/saved.py)
        threading.Thread(target=app.state.sanjeh.warm, name="sanjeh-warm", daemon=True).start()
    runner = None
    if scheduler:
        from sanjeh.reports.runner import Runner

        runner = app.state.runner = Runner(ws, lock=app.state.sanjeh.locked)

    def forget() -> None:
        if token is not None:
            local.remove_server_file(ws.root, token)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and token is not None:
                bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port  # --port 0
                local.write_server_file(ws.root, host, bound, token)
            if self.started and runner is not None:
                runner.start()

        async def shutdown(self, sockets: Any = None) -> None:
            forget()  # now: after a SIGTERM, uvicorn ends the process with the signal once it has shut down
            if runner is not None:  # a run under way has 10 s to end; after that its row stays "running"
                import asyncio

                await asyncio.to_thread(runner.stop, 10.0)
            await super().shutdown(sockets=sockets)

    try:
        Server(uvicorn_config(app, host, port, log_level=log_level)).run()
    finally:
        forget()


__all__ = ["AuthError", "create_app", "serve"]
