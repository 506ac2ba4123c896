"""The web app: REST API (``/api/v1``) and server-rendered dashboard pages.

``create_app(ws)`` builds everything from a workspace (or its settings or folder) and
keeps no state at import time. ``serve(ws)`` runs it with uvicorn on 127.0.0.1.
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
from sanjeh.web.deps import Caller, caller
from sanjeh.web.state import DEFAULT_MAX_UPLOAD, AppState
from sanjeh.workspace import Workspace

log = logging.getLogger("sanjeh.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
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


def _render_error(request: Request, status: int, code: str, message: str, details: dict[str, Any]) -> Response:
    if _is_api(request):
        return error_json(status, code, message, details)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    from sanjeh.web.pages import render_error_page

    return render_error_page(request, status, code, message)


def install_error_handlers(app: FastAPI) -> None:
    async def sanjeh_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SanjehError)
        if exc.status >= 500:
            log.error("internal error on %s: %s", request.url.path, exc.message)
        return _render_error(request, exc.status, exc.code, exc.message, exc.details)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "reason": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"location": "", "reason": "invalid request"}
        message = f"invalid request: {first['location']}: {first['reason']}"
        return _render_error(request, 422, "invalid_request", message, {"issues": problems})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        return _render_error(request, exc.status_code, code, message, {"path": request.url.path})

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _render_error(request, 500, "internal", "internal error; see the server log", {})

    app.add_exception_handler(SanjehError, sanjeh_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def create_app(
    ws_or_settings: Workspace | Settings | str | Path,
    *,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    secure_cookies: bool = False,
    login_limit: int = 5,
) -> FastAPI:
    """The FastAPI app for a workspace (the workspace object, its settings or its folder)."""
    from sanjeh.web import api, pages

    ws = _open(ws_or_settings)
    state = AppState.build(ws, max_upload=max_upload, secure_cookies=secure_cookies)
    state.limiter.limit = login_limit
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

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > state.max_upload:
            return _render_error(
                request,
                413,
                "too_large",
                f"the upload is larger than {state.max_upload // (1024 * 1024)} MB",
                {"limit": state.max_upload},
            )
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/docs"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; font-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            )
        return response

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
    app.include_router(pages.router)
    pages.mount_static(app)
    return app


def serve(
    ws_or_settings: Workspace | Settings | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    warm: bool = True,
) -> None:
    """Serve the dashboard and the API (blocks until stopped). Binds 127.0.0.1 unless told otherwise.

    With ``warm``, the default scorecard is computed in the background while the server starts.
    """
    import uvicorn

    app = create_app(ws_or_settings)
    if warm:
        import threading

        threading.Thread(target=app.state.sanjeh.warm, name="sanjeh-warm", daemon=True).start()
    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = ["AuthError", "create_app", "serve"]
