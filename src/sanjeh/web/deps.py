"""Request dependencies: who is asking, and may they?

The API accepts a bearer token (``Authorization: Bearer …``) or the browser's
session cookie; with the cookie, a request that changes something must also send
the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from sanjeh.errors import AuthError, Forbidden
from sanjeh.users import User
from sanjeh.web.auth import CSRF_HEADER, SESSION_COOKIE
from sanjeh.web.state import AppState

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Caller:
    user: User
    sid: str | None  # the session id when the caller uses the browser session
    via: str  # "bearer" | "session"


def state_of(request: Request) -> AppState:
    return request.app.state.sanjeh  # type: ignore[no-any-return]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _resolve(request: Request) -> Caller:
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    st = state_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("use Authorization: Bearer <token> (get one from POST /api/v1/auth/token)")
        data = st.signer.check(token.strip(), "api")
        via, sid = "bearer", None
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthError("authentication required: log in, or send Authorization: Bearer <token>")
        data = st.signer.check(cookie, "session")
        via, sid = "session", data.sid
    user = st.user(data.username)
    if user is None:
        raise AuthError("this user no longer exists; log in again")
    caller = Caller(user, sid, via)
    request.state.caller = caller
    return caller


def optional_caller(request: Request) -> Caller | None:
    try:
        return _resolve(request)
    except AuthError:
        return None


async def check_csrf(request: Request, caller: Caller) -> None:
    """Refuse a state-changing request made with the session cookie but without its CSRF token."""
    if caller.via != "session" or request.method in SAFE_METHODS or caller.sid is None:
        return
    token = request.headers.get(CSRF_HEADER)
    if not token:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            token = value if isinstance(value, str) else None
    if not state_of(request).signer.check_csrf(caller.sid, token):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again", details={"reason": "csrf"})


async def caller(request: Request) -> Caller:
    """Any logged-in user (bearer or session); CSRF-checked for unsafe methods."""
    c = _resolve(request)
    await check_csrf(request, c)
    return c


async def manager(request: Request) -> Caller:
    """An admin or a manager (imports, targets)."""
    c = await caller(request)
    if not c.user.can_manage:
        raise Forbidden("only an admin or a manager may do this", details={"role": c.user.role})
    return c


async def admin(request: Request) -> Caller:
    c = await caller(request)
    if not c.user.is_admin:
        raise Forbidden("only an admin may do this", details={"role": c.user.role})
    return c
