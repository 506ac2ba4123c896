"""The Users page (admin): every user with their role, rep or team, language and state; add a
user, set a password, change a role or team, disable, remove — what ``sanjeh users …`` does.
Every form carries the session's CSRF token; a changed user's sessions and tokens end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanjeh.errors import UserError
from sanjeh.i18n import has, t
from sanjeh.users import (
    LANGUAGES,
    ROLES,
    add_user,
    count_sessions,
    delete_user,
    disable_user,
    list_users,
    set_password,
    set_role,
)
from sanjeh.web.api_users import not_self
from sanjeh.web.deps import Admin, Caller, state_of
from sanjeh.web.pages import _context, _lang, _render

router = APIRouter(include_in_schema=False)
DONE = ("added", "password", "role", "disabled", "removed")


def _error_text(exc: UserError, lang: str) -> str:
    why = exc.details.get("why")
    if why and has(f"users.err.{why}"):
        return t(f"users.err.{why}", lang)
    return exc.text(lang)


@dataclass
class UsersPage:
    """What users.html shows: every user, the choices of its forms, what was done or refused
    (:func:`users_view`)."""

    users: list[dict[str, Any]]
    roles: list[str]
    languages: list[str]
    #: whether the last change was refused, and why (in the user's language)
    error: bool
    error_text: str
    done: str | None
    #: what the refused add form held (never its password), shown again so nothing typed is lost
    add: dict[str, str]
    #: the user whose change was refused (their "manage" panel opens), and the role form's values
    failed_user: str = ""
    failed_role: dict[str, str] | None = None


#: The add form's fields shown again after a refusal (the password is typed again, never echoed).
ADD_FIELDS = ("username", "role", "rep_id", "team", "language")
MAX_TYPED = 200


def users_view(
    users: list[dict[str, Any]],
    error: UserError | None,
    done: str | None,
    name: str,
    lang: str,
    *,
    typed: Mapping[str, Any] | None = None,
    failed_user: str = "",
) -> UsersPage:
    """The Users page of the workspace's ``users`` (each with its sessions' count); ``done`` the
    change just made to user ``name``, ``error`` the change refused, with what its form held
    (``typed``): the add form's when ``failed_user`` is empty, else that user's."""
    form = {k: str(v)[:MAX_TYPED] for k, v in (typed or {}).items() if k in ADD_FIELDS}
    return UsersPage(
        users=users,
        roles=list(ROLES),
        languages=list(LANGUAGES),
        error=error is not None,
        error_text=_error_text(error, lang) if error else "",
        done=t(f"users.done.{done}", lang, name=name) if done in DONE else None,
        add={} if failed_user else form,
        failed_user=failed_user,
        failed_role=form if failed_user and "role" in form else None,
    )


def _page(
    request: Request,
    c: Caller,
    error: UserError | None = None,
    status: int = 200,
    *,
    typed: Mapping[str, Any] | None = None,
    failed_user: str = "",
) -> Response:
    st = state_of(request)
    lang = _lang(request, c.user)
    done = request.query_params.get("done")
    name = (request.query_params.get("name") or "")[:64]

    def rows(ws: Any) -> list[dict[str, Any]]:
        return [{**u.to_dict(), "sessions": count_sessions(ws, u.username)} for u in list_users(ws)]

    view = users_view(st.call(rows), error, done, name, lang, typed=typed, failed_user=failed_user)
    return _render(request, "users.html", c, status=status, lang=lang, **_context(view))


@router.get("/users")
def users_page(request: Request, c: Admin) -> Response:
    return _page(request, c)


def _done(what: str, name: str) -> Response:
    return RedirectResponse("/users?" + urlencode({"done": what, "name": name}), status_code=303)


@router.post("/users")
async def users_add(request: Request, c: Admin) -> Response:
    form = await request.form()
    st = state_of(request)
    name = str(form.get("username") or "").strip()
    try:
        user = st.call(
            lambda ws: add_user(
                ws,
                name,
                str(form.get("role") or ""),
                str(form.get("rep_id") or "") or None,
                password=str(form.get("password") or ""),
                language=str(form.get("language") or "") or None,
                team=str(form.get("team") or "") or None,
            )
        )
    except UserError as exc:
        return _page(request, c, exc, exc.status, typed=form)
    st.forget_user(user.username)
    return _done("added", user.username)


async def _change(request: Request, c: Caller, name: str, what: str) -> Response:
    form = await request.form()
    st = state_of(request)
    try:
        if what == "password":
            st.call(lambda ws: set_password(ws, name, str(form.get("password") or "")))
        elif what == "role":
            role = str(form.get("role") or "")
            if role != "admin":
                not_self(c, name, "demote")
            rep_id = str(form.get("rep_id") or "") or None
            team = str(form.get("team") or "") or None
            st.call(lambda ws: set_role(ws, name, role, rep_id, team))
        elif what == "disabled":
            not_self(c, name, "disable")
            st.call(lambda ws: disable_user(ws, name))
        else:
            not_self(c, name, "remove")
            if not form.get("confirm"):
                raise UserError("tick the box to confirm the removal", details={"why": "confirm"})
            st.call(lambda ws: delete_user(ws, name))
    except UserError as exc:
        return _page(request, c, exc, exc.status, typed=form, failed_user=name)
    st.forget_user(name)
    return _done(what, name)


@router.post("/users/{name}/password")
async def users_password(request: Request, name: str, c: Admin) -> Response:
    return await _change(request, c, name, "password")


@router.post("/users/{name}/role")
async def users_role(request: Request, name: str, c: Admin) -> Response:
    return await _change(request, c, name, "role")


@router.post("/users/{name}/disable")
async def users_disable(request: Request, name: str, c: Admin) -> Response:
    return await _change(request, c, name, "disabled")


@router.post("/users/{name}/remove")
async def users_remove(request: Request, name: str, c: Admin) -> Response:
    return await _change(request, c, name, "removed")
