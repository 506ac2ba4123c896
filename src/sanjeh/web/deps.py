"""Request dependencies: who is asking, and may they?

The API accepts a bearer token (``Authorization: Bearer …``) or the browser's
session cookie; with the cookie, a request that changes something must also send
the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
A token is good while its signature holds, it has not expired, its session row is
still in ``_sessions`` and its user's stamp is the user's current one.

The guard (:mod:`sanjeh.web.guard`) resolves the caller before the app reads a byte of
the body; the dependencies below find it in the request's state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from sanjeh.errors import AuthError, Forbidden, UserError
from sanjeh.users import User, check_password, end_session, login_record, open_session
from sanjeh.web.auth import CSRF_HEADER, SESSION_COOKIE, client_address
from sanjeh.web.state import AppState

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_CALLER = "sanjeh_caller"  # key of the resolved caller (or its AuthError) in the request's state


@dataclass(frozen=True)
class Caller:
    user: User
    sid: str  # the session's id (a row of _sessions)
    via: str  # "bearer" | "session"


def state_of(request: Request) -> AppState:
    return request.app.state.sanjeh  # type: ignore[no-any-return]


def client_ip(request: Request) -> str:
    """The client's address (through a proxy only when ``--forwarded-allow`` names it)."""
    peer = request.client.host if request.client else "unknown"
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    return client_address(peer, forwarded, state_of(request).forwarded_allow)


def has_credentials(request: Request) -> bool:
    return bool(request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE))


def _check(request: Request) -> Caller:
    st = state_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(key="auth.bearer_format")
        data = st.signer.check(token.strip(), "api")
        via = "bearer"
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthError(key="auth.required")
        data = st.signer.check(cookie, "session")
        via = "session"
    user = st.user(data.username)
    if user is None or user.disabled or user.stamp != data.stamp:
        raise AuthError(key="auth.login_ended")
    if not st.session_ok(data.sid, data.username):
        raise AuthError(key="auth.session_ended")
    return Caller(user, data.sid, via)


def resolve(request: Request) -> Caller:
    """The caller (once per request; it may read the warehouse, so call it from a worker thread)."""
    found = getattr(request.state, _CALLER, None)
    if found is None:
        try:
            found = _check(request)
        except AuthError as exc:
            found = exc
        setattr(request.state, _CALLER, found)
    if isinstance(found, AuthError):
        raise found
    assert isinstance(found, Caller)
    return found


_resolve = resolve  # the name the pages use


async def check_csrf(request: Request, caller: Caller) -> None:
    """Refuse a state-changing request made with the session cookie but without its CSRF token."""
    if caller.via != "session" or request.method in SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if not token:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            token = value if isinstance(value, str) else None
    if not state_of(request).signer.check_csrf(caller.sid, token):
        raise Forbidden(key="auth.csrf", details={"reason": "csrf"})


async def caller(request: Request) -> Caller:
    """Any logged-in user (bearer or session); CSRF-checked for unsafe methods."""
    c = await run_in_threadpool(resolve, request)
    await check_csrf(request, c)
    return c


#: A rule of who may do something: raises :class:`Forbidden` when the user may not.
Rule = Callable[[User], None]


def _needs_manager(key: str) -> Rule:
    def rule(u: User) -> None:
        if not u.can_manage:
            raise Forbidden(key=key, details={"role": u.role})

    return rule


def _needs_admin(u: User) -> None:
    if not u.is_admin:
        raise Forbidden(key="auth.admins_only", details={"role": u.role})


def _company_wide(u: User) -> None:
    """Alerts are the whole company's: a manager of one team (or a rep) does not see them."""
    if u.scoped:
        raise Forbidden(key="auth.managers_alerts", details={"role": u.role})


def _no_team(u: User) -> None:
    """Schedules send the whole company's reports: a team's manager does not edit them."""
    if u.team:
        raise Forbidden(key="auth.schedules_team", details={"role": u.role, "team": u.team})


class Allowed:
    """A dependency: the caller (:func:`caller`: logged in, CSRF-checked) when every rule allows
    them; else the first refusal (403, in the user's language). Pages and API endpoints declare who
    may use them with one of the instances below instead of checking roles by hand."""

    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def check(self, c: Caller) -> Caller:
        for rule in self.rules:
            rule(c.user)
        return c

    async def __call__(self, request: Request) -> Caller:
        return self.check(await caller(request))


#: An admin or a manager (imports, targets).
manager = Allowed(_needs_manager(key="auth.managers_only"))
admin = Allowed(_needs_admin)
#: The data pages (imports, the upload wizard) and the rejected rows' downloads.
data_manager = Allowed(_needs_manager(key="auth.managers_data"))
rejects_manager = Allowed(_needs_manager(key="auth.managers_rejects"))
alerts_manager = Allowed(_needs_manager(key="auth.managers_alerts"), _company_wide)
schedules_editor = Allowed(_needs_manager(key="auth.managers_only"), _no_team)

AnyUser = Annotated[Caller, Depends(caller)]
Manager = Annotated[Caller, Depends(manager)]
Admin = Annotated[Caller, Depends(admin)]
DataManager = Annotated[Caller, Depends(data_manager)]
RejectsManager = Annotated[Caller, Depends(rejects_manager)]
AlertsManager = Annotated[Caller, Depends(alerts_manager)]
SchedulesEditor = Annotated[Caller, Depends(schedules_editor)]


#: The largest page number a list's URL may ask for (any list ends long before it; the rows behind
#: a number start at (page - 1) × 50, which stays a 64-bit number).
MAX_PAGE = 1_000_000_000


def page_number(text: str | None, param: str = "page") -> int:
    """The page number a list's URL asks for in ``param`` (1 when it says none): a whole number
    from 1 to :data:`MAX_PAGE` (Persian and Arabic digits too); anything else is a 400 that says
    so. Every paged page reads its page numbers here."""
    if text is None or text == "":
        return 1
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_PAGE:
        shown = text[:20] + ("…" if len(text) > 20 else "")  # a long value is quoted cut, and says so
        raise UserError(key="request.page", params={"given": shown}, details={param: shown})
    return n


# -- logging in and out ------------------------------------------------------------------------------
async def log_in(request: Request, username: str, password: str, kind: str, seconds: int) -> str:
    """Check a user name and password (rate-limited) and open a session; returns its signed token.

    The user's row is read beside the warehouse lock (:meth:`AppState.read_users`), the session
    written under it; the password is checked outside it, at most
    ``password_checks`` at a time, so logins slow down neither each other's reads nor KPI requests."""
    st = state_of(request)
    ip = client_ip(request)
    st.limiter.check(username, ip)
    user, password_hash = await run_in_threadpool(st.read_users, lambda ws: login_record(ws, username))
    try:
        user = await anyio.to_thread.run_sync(check_password, user, password_hash, password, limiter=st.hash_slots())
    except AuthError:
        st.limiter.failed(username, ip)
        raise
    st.limiter.succeeded(username, ip)
    known = user
    sid = await run_in_threadpool(st.call, lambda ws: open_session(ws, known, kind, seconds))
    st.forget_user(user.username)
    return st.signer.issue(user.username, kind, seconds, sid=sid, stamp=user.stamp)


async def log_out(request: Request, c: Caller) -> None:
    """End the caller's session (its cookie or token no longer works)."""
    st = state_of(request)
    await run_in_threadpool(st.call, lambda ws: end_session(ws, c.sid))
    st.forget_session(c.sid, c.user.username)
