"""Managing users through the API (admin): change a role or team, set a password, disable, remove.
The same as ``sanjeh users …`` and the Users page; every session and token of a changed user ends."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sanjeh.errors import UserError
from sanjeh.users import delete_user, disable_user, get_user, set_password, set_role
from sanjeh.web.api import ERRORS, Text, UserOut
from sanjeh.web.deps import Caller, admin, state_of

router = APIRouter(prefix="/api/v1", tags=["api"])
AdminDep = Annotated[Caller, Depends(admin)]


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Text = Field(description="admin, manager or rep")
    rep_id: Text | None = None
    team: Text | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=1000)


def not_self(c: Caller, name: str, what: str) -> None:
    """An admin does not lock themselves out: they cannot remove, disable or demote their own user."""
    if name == c.user.username:
        raise UserError(
            f"you cannot {what} your own user; ask another admin", details={"username": name, "why": "self"}
        )


def _known(request: Request, name: str) -> None:
    from sanjeh.errors import NotFound

    if state_of(request).call(lambda ws: get_user(ws, name)) is None:
        raise NotFound(f"no user named {name!r}", details={"username": name})


@router.patch("/users/{name}", response_model=UserOut, responses=ERRORS)
def change_user(request: Request, name: str, body: RoleIn, c: AdminDep) -> dict[str, Any]:
    """A new role, rep id or team (admin); the user's sessions and tokens end."""
    _known(request, name)
    if body.role != "admin":
        not_self(c, name, "demote")
    st = state_of(request)
    user = st.call(lambda ws: set_role(ws, name, body.role, body.rep_id, body.team))
    st.forget_user(name)
    return user.to_dict()


@router.put("/users/{name}/password", response_model=UserOut, responses=ERRORS)
def change_password(request: Request, name: str, body: PasswordIn, c: AdminDep) -> dict[str, Any]:
    """A new password (it enables a disabled user); the user's sessions and tokens end."""
    st = state_of(request)
    user = st.call(lambda ws: set_password(ws, name, body.password))
    st.forget_user(name)
    return user.to_dict()


@router.post("/users/{name}/disable", response_model=UserOut, responses=ERRORS)
def disable(request: Request, name: str, c: AdminDep) -> dict[str, Any]:
    """The user can no longer log in; their sessions and tokens end (a new password enables them)."""
    not_self(c, name, "disable")
    st = state_of(request)
    user = st.call(lambda ws: disable_user(ws, name))
    st.forget_user(name)
    return user.to_dict()


@router.delete("/users/{name}", status_code=204, responses=ERRORS)
def remove(request: Request, name: str, c: AdminDep) -> Response:
    """Remove the user; their sessions and tokens end."""
    not_self(c, name, "remove")
    st = state_of(request)
    st.call(lambda ws: delete_user(ws, name))
    st.forget_user(name)
    return Response(status_code=204)
