"""Users and roles in the warehouse's _users table (argon2 hashes), on DuckDB and PostgreSQL."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sanjeh.errors import AuthError, NotFound, UserError
from sanjeh.users import (
    add_user,
    authenticate,
    count_sessions,
    create_demo_users,
    delete_user,
    disable_user,
    end_session,
    get_user,
    list_users,
    open_session,
    session_alive,
    set_language,
    set_password,
    set_role,
)
from sanjeh.workspace import Workspace


def test_add_authenticate_and_list(any_workspace: Workspace) -> None:
    ws = any_workspace
    add_user(ws, "sara", "manager", password="s3cret-pass")
    add_user(ws, "ali", "rep", "R07", password="another-pass", language="en")
    assert [u.username for u in list_users(ws)] == ["ali", "sara"]
    ali = authenticate(ws, "ali", "another-pass")
    assert (ali.role, ali.rep_id, ali.language, ali.rep_scope) == ("rep", "R07", "en", "R07")
    sara = authenticate(ws, "sara", "s3cret-pass")
    assert sara.rep_scope is None
    assert sara.can_manage
    assert not sara.is_admin
    stored = ws.warehouse.table("_users").to_pyarrow().column("password_hash").to_pylist()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert "s3cret-pass" not in "".join(stored)


def test_wrong_password_and_unknown_user_give_the_same_error(workspace: Workspace) -> None:
    add_user(workspace, "sara", "admin", password="s3cret-pass")
    with pytest.raises(AuthError) as a:
        authenticate(workspace, "sara", "wrong-pass")
    with pytest.raises(AuthError) as b:
        authenticate(workspace, "nobody", "wrong-pass")
    assert a.value.message == b.value.message
    assert a.value.status == 401


@pytest.mark.parametrize(
    ("name", "role", "rep_id", "password", "fragment"),
    [
        ("x", "boss", None, "long-enough", "unknown role"),
        ("x", "rep", None, "long-enough", "needs a rep id"),
        ("x", "admin", "R01", "long-enough", "only a rep"),
        ("x", "admin", None, "short", "at least 8"),
        ("bad name", "admin", None, "long-enough", "not a valid user name"),
        ("", "admin", None, "long-enough", "not a valid user name"),
    ],
)
def test_bad_users_are_refused(
    workspace: Workspace, name: str, role: str, rep_id: str | None, password: str, fragment: str
) -> None:
    with pytest.raises(UserError, match=fragment):
        add_user(workspace, name, role, rep_id, password=password)
    assert list_users(workspace) == []


def test_duplicate_language_password_delete(workspace: Workspace) -> None:
    add_user(workspace, "sara", "admin", password="s3cret-pass")
    with pytest.raises(UserError, match="already exists"):
        add_user(workspace, "sara", "manager", password="s3cret-pass")
    assert set_language(workspace, "sara", "en").language == "en"
    assert get_user(workspace, "sara").language == "en"  # type: ignore[union-attr]
    with pytest.raises(UserError):
        set_language(workspace, "sara", "de")
    set_password(workspace, "sara", "new-password")
    authenticate(workspace, "sara", "new-password")
    with pytest.raises(AuthError):
        authenticate(workspace, "sara", "s3cret-pass")
    delete_user(workspace, "sara")
    assert list_users(workspace) == []
    with pytest.raises(NotFound):
        set_language(workspace, "sara", "fa")


def test_demo_users(workspace: Workspace) -> None:
    reps = pa.table({"rep_id": ["R02", "R01", "R03"], "name": ["B", "A", "C"]})
    workspace.warehouse.insert_arrow("reps", reps)
    logins = create_demo_users(workspace)
    # no sales and no teams: the first reps by id, and no team manager
    assert [(u, r, rid, team) for u, _, r, rid, team in logins] == [
        ("admin", "admin", None, None),
        ("manager", "manager", None, None),
        ("rep1", "rep", "R01", None),
        ("rep2", "rep", "R02", None),
    ]
    for name, password, *_ in logins:
        assert len(password) >= 8
        authenticate(workspace, name, password)
    assert create_demo_users(workspace) == []  # existing users are kept as they are


def test_a_rep_user_names_a_rep_of_the_data_once_there_are_reps(workspace: Workspace) -> None:
    """«R99» made a user whose pages were all empty and said nothing was wrong: once the reps table
    has rows, a rep user's id is one of them (ids compared as the import stores them)."""
    add_user(workspace, "early", "rep", "R07", password="pass-word-1")  # no reps yet: taken as given
    workspace.warehouse.insert_arrow("reps", pa.table({"rep_id": ["R01", "R02"], "name": ["A", "B"]}))
    assert add_user(workspace, "ali", "rep", " r01 ", password="pass-word-1").rep_id == "r01"
    for typo in ("R99", "۰۳"):
        with pytest.raises(UserError) as err:
            add_user(workspace, "sara", "rep", typo, password="pass-word-1")
        assert err.value.details["why"] == "unknown_rep"
        fa = err.value.text("fa").replace("\u2066", "").replace("\u2069", "")  # Latin ids isolated in Persian
        assert fa == f"کارشناسی با شناسهٔ «{typo}» در داده‌ها نیست؛ شناسه‌های موجود از جمله: R01، R02"  # the Persian comma
    with pytest.raises(UserError, match="no rep with id 'R99'"):
        set_role(workspace, "ali", "rep", "R99")
    assert get_user(workspace, "sara") is None and get_user(workspace, "ali").rep_id == "r01"  # type: ignore[union-attr]


def test_sessions_end_with_logout_and_with_changes_of_the_user(any_workspace: Workspace) -> None:
    ws = any_workspace
    sara = add_user(ws, "sara", "manager", password="s3cret-pass")
    one, two = open_session(ws, sara, "session", 3600), open_session(ws, sara, "api", 3600)
    assert session_alive(ws, one, "sara")
    assert not session_alive(ws, one, "ali")  # a session belongs to its user
    assert count_sessions(ws, "sara") == 2
    end_session(ws, one)
    assert not session_alive(ws, one, "sara")
    assert session_alive(ws, two, "sara")
    set_language(ws, "sara", "en")  # not an identity change: sessions stay
    assert session_alive(ws, two, "sara")
    stamps = [sara.stamp]
    for change in (
        lambda: set_password(ws, "sara", "another-pass"),
        lambda: set_role(ws, "sara", "admin"),
        lambda: disable_user(ws, "sara"),
    ):
        sid = open_session(ws, get_user(ws, "sara"), "api", 3600)  # type: ignore[arg-type]
        user = change()
        assert not session_alive(ws, sid, "sara")
        assert user.stamp not in stamps
        stamps.append(user.stamp)
    assert get_user(ws, "sara").disabled  # type: ignore[union-attr]
    with pytest.raises(AuthError):
        authenticate(ws, "sara", "another-pass")
    sid = open_session(ws, set_password(ws, "sara", "third-pass"), "api", 3600)  # a new password enables
    assert authenticate(ws, "sara", "third-pass").username == "sara"
    delete_user(ws, "sara")
    assert not session_alive(ws, sid, "sara")
    again = add_user(ws, "sara", "manager", password="s3cret-pass")
    assert again.stamp not in stamps  # re-created under the same name: a new identity
    expired = open_session(ws, again, "api", -10)
    assert not session_alive(ws, expired, "sara")
    open_session(ws, again, "api", 3600)  # opening a session deletes the expired ones
    assert ws.warehouse.table("_sessions").count().execute() == 1
