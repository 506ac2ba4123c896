"""Users of the dashboard and the API (API.md, "Users and roles").

Users live in the warehouse table ``_users``. Passwords are hashed with Argon2id
(memory-hard); the hash carries its own salt and parameters. A disabled user's hash
is kept behind a ``!`` (no password matches it). Roles:

- ``admin``: everything, including users, imports and settings;
- ``manager``: every KPI and target, imports; a manager with a ``team`` sees the rows of that
  team's reps only (:func:`scope_of`);
- ``rep``: every KPI computed over their own rows only (``rep_id``).

Sessions (browser logins and API tokens) are rows of ``_sessions``: logging out deletes
one; removing, disabling a user or changing their password or role deletes all of
theirs. A token also carries the user's :attr:`User.stamp`, a digest of the stored row
that changes with any such change (a user re-created under the same name has a new
stamp), so a token outlives neither its row nor its user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sanjeh.errors import AuthError, NotFound, UserError
from sanjeh.workspace import Workspace

USERS_TABLE = "_users"
SESSIONS_TABLE = "_sessions"
SESSION_KINDS = ("session", "api")
DISABLED = "!"  # prefix of a disabled user's password hash
ROLES = ("admin", "manager", "rep")
LANGUAGES = ("fa", "en")
MIN_PASSWORD_LENGTH = 8
_NAME_RE = re.compile(r"^[\w.@-]{1,64}$", re.UNICODE)


def _hasher() -> PasswordHasher:
    """Argon2id with the library's defaults (64 MiB, 3 passes): hashing is deliberately slow."""
    return PasswordHasher()


@dataclass(frozen=True)
class User:
    username: str
    role: str
    rep_id: str | None = None
    language: str | None = None
    #: digest of the stored row (role, rep, password hash with its random salt): tokens carry it
    stamp: str = ""
    disabled: bool = False
    #: a manager's team: ``reps.team``, or the rep id of the team's manager (``reps.manager_id``)
    team: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_manage(self) -> bool:
        """Imports and targets: admins and managers."""
        return self.role in ("admin", "manager")

    @property
    def rep_scope(self) -> str | None:
        """The rep whose rows this user may see (None = every row; a team: :func:`scope_of`)."""
        return self.rep_id if self.role == "rep" else None

    @property
    def scoped(self) -> bool:
        """Whether this user sees only some reps' rows (a rep, or a manager with a team)."""
        return self.role == "rep" or (self.role == "manager" and bool(self.team))

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "rep_id": self.rep_id,
            "team": self.team,
            "language": self.language,
            "disabled": self.disabled,
        }


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _validate_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME_RE.match(name):
        raise UserError(key="users.bad_name", params={"username": name}, details={"why": "bad_name", "username": name})
    return name


def _rows(ws: Workspace) -> list[dict[str, Any]]:
    return ws.warehouse.rows(ws.warehouse.table(USERS_TABLE))


def _stamp(row: dict[str, Any]) -> str:
    parts: tuple[str, ...] = (row["username"], row["role"], row.get("rep_id") or "", row.get("password_hash") or "")
    if row.get("team"):  # a new team is a new scope: the user's sessions end (no team: stamps as before)
        parts += ("team", str(row["team"]))
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _to_user(row: dict[str, Any]) -> User:
    return User(
        row["username"],
        row["role"],
        row.get("rep_id") or None,
        row.get("language") or None,
        stamp=_stamp(row),
        disabled=str(row.get("password_hash") or "").startswith(DISABLED),
        team=row.get("team") or None,
    )


def list_users(ws: Workspace) -> list[User]:
    """Every user, by name (no password hashes)."""
    return sorted((_to_user(r) for r in _rows(ws)), key=lambda u: u.username)


def get_user(ws: Workspace, name: str) -> User | None:
    for r in _rows(ws):
        if r["username"] == name:
            return _to_user(r)
    return None


def _check_role(role: str, rep_id: str | None, team: str | None = None) -> None:
    if not role:  # a form sent without one: nobody is made an admin by default
        raise UserError(key="users.role_required", params={"roles": list(ROLES)}, details={"why": "role_required"})
    if role not in ROLES:
        raise UserError(
            key="users.unknown_role",
            params={"role": role, "roles": list(ROLES)},
            details={"why": "unknown_role", "role": role},
        )
    rep_id = (rep_id or "").strip() or None
    if role == "rep" and not rep_id:
        raise UserError(key="users.rep_needs_id", details={"why": "rep_needs_id", "role": role})
    if role != "rep" and rep_id:
        raise UserError(
            key="users.only_rep_has_id",
            params={"role": role},
            details={"why": "only_rep_id", "role": role, "rep_id": rep_id},
        )
    team = (team or "").strip() or None
    if team and role != "manager":
        raise UserError(
            key="users.only_manager_team",
            params={"role": role},
            details={"why": "only_manager_team", "role": role, "team": team},
        )
    for what, value in (("rep_id", rep_id), ("team", team)):
        if value is not None and (len(value) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)):
            raise UserError(key=f"users.bad_{what}", details={"field": what, "why": "bad_text"})


def _check_rep_known(ws: Workspace, rep_id: str | None) -> None:
    """A rep user's id names a rep of the reps table (compared as the import stores ids), once that
    table has rows: «R99» or a typo made a user whose every page was empty and said nothing was
    wrong. Before any rep is imported the id cannot be checked and is taken as given."""
    if not rep_id:
        return
    from sanjeh.text import normalize_member

    t = ws.warehouse.table("reps")
    known = sorted(str(r["rep_id"]) for r in ws.warehouse.rows(t.select("rep_id").limit(10_000)) if r["rep_id"])
    want = normalize_member("rep", rep_id).lower()
    if not known or any(k.lower() == want for k in known):
        return
    raise UserError(
        key="users.unknown_rep",
        params={"rep": rep_id, "known": known[:12]},  # a list: joined in the reader's language
        details={"why": "unknown_rep", "rep_id": rep_id},
    )


def add_user(
    ws: Workspace,
    name: str,
    role: str,
    rep_id: str | None = None,
    *,
    password: str,
    language: str | None = None,
    team: str | None = None,
) -> User:
    """Create a user. A rep needs a ``rep_id``; other roles must not have one. A manager may have
    a ``team`` (then they see its reps' rows only)."""
    name = _validate_name(name)
    _check_role(role, rep_id, team)
    rep_id = (rep_id or "").strip() or None
    _check_rep_known(ws, rep_id)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(
            key="users.short_password", params={"n": MIN_PASSWORD_LENGTH}, details={"why": "short_password"}
        )
    if language is not None and language not in LANGUAGES:
        raise UserError(key="settings.language", params={"language": language})
    if get_user(ws, name) is not None:
        raise UserError(key="users.exists", params={"username": name}, details={"why": "exists", "username": name})
    row = {
        "username": name,
        "role": role,
        "rep_id": rep_id,
        "password_hash": hash_password(password),
        "language": language,
        "created_at": dt.datetime.now().replace(microsecond=0),
        "team": (team or "").strip() or None,
    }
    with ws.warehouse.transaction():
        ws.warehouse.insert_row(USERS_TABLE, row, _SCHEMA)
    return _to_user(row)


_SCHEMA = pa.schema(
    [
        ("username", pa.string()),
        ("role", pa.string()),
        ("rep_id", pa.string()),
        ("password_hash", pa.string()),
        ("language", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("team", pa.string()),
    ]
)


def login_record(ws: Workspace, name: str) -> tuple[User | None, str]:
    """The user called ``name`` and their password hash (``(None, "")`` if there is none).

    Reading is quick; checking the password (:func:`check_password`) is slow on purpose,
    so a server reads under its warehouse lock and checks outside it."""
    name = (name or "").strip()
    for r in _rows(ws):
        if r["username"] == name:
            return _to_user(r), str(r["password_hash"] or "")
    return None, ""


def check_password(user: User | None, password_hash: str, password: str) -> User:
    """The user if ``password`` matches; :class:`AuthError` otherwise, after the same work for an
    unknown or disabled user (checked against a dummy hash) so timing reveals no names."""
    real = user is not None and not user.disabled and password_hash.startswith("$argon2")
    if _verify(password_hash if real else _dummy_hash(), password or "") and real and user is not None:
        return user
    raise AuthError(key="auth.wrong_password")


def authenticate(ws: Workspace, name: str, password: str) -> User:
    """The user if the password is right; :class:`AuthError` otherwise (same message either way)."""
    user, password_hash = login_record(ws, name)
    return check_password(user, password_hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def _replace_row(ws: Workspace, name: str, **changes: Any) -> User:
    rows = [r for r in _rows(ws) if r["username"] == name]
    if not rows:
        raise NotFound(key="users.not_found", params={"username": name}, details={"why": "no_user", "username": name})
    row = {"team": None, **rows[0], **changes}
    with ws.warehouse.transaction():
        ws.warehouse.delete_in(USERS_TABLE, "username", [name])
        ws.warehouse.insert_row(USERS_TABLE, {k: row[k] for k in _SCHEMA.names}, _SCHEMA)
        if _stamp(row) != _stamp(rows[0]):  # a new password, role or rep: every session of the user ends
            _end_sessions_of(ws, name)
    return _to_user(row)


def set_language(ws: Workspace, name: str, language: str) -> User:
    """Store a user's language (``fa`` or ``en``)."""
    if language not in LANGUAGES:
        raise UserError(key="settings.language", params={"language": language}, details={"language": language})
    return _replace_row(ws, name, language=language)


def set_password(ws: Workspace, name: str, password: str) -> User:
    """A new password (it enables a disabled user); the user's sessions and tokens end."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(
            key="users.short_password", params={"n": MIN_PASSWORD_LENGTH}, details={"why": "short_password"}
        )
    return _replace_row(ws, name, password_hash=hash_password(password))


def set_role(ws: Workspace, name: str, role: str, rep_id: str | None = None, team: str | None = None) -> User:
    """A new role (and rep id, or a manager's team); the user's sessions and tokens end."""
    _check_role(role, rep_id, team)
    _check_rep_known(ws, (rep_id or "").strip() or None)
    return _replace_row(ws, name, role=role, rep_id=(rep_id or "").strip() or None, team=(team or "").strip() or None)


def team_reps(ws: Workspace, team: str) -> frozenset[str]:
    """The reps of a team: those whose ``team`` is ``team`` or whose manager (``manager_id``) is the
    rep ``team``, and that manager; compared case-insensitively. An unknown team has no reps."""
    key = team.strip().lower()
    r = ws.warehouse.table("reps")
    hit = (r.team.lower() == key) | (r.manager_id.lower() == key) | (r.rep_id.lower() == key)
    ids = [row["rep_id"] for row in ws.warehouse.rows(r.filter(hit).select("rep_id"))]
    return frozenset(str(i) for i in ids if i)


def scope_of(ws: Workspace, user: User) -> str | frozenset[str] | None:
    """Whose rows ``user`` sees: every row (None), a rep's own (their id) or a team's (its reps)."""
    if user.role == "rep":
        return user.rep_id or ""
    if user.role == "manager" and user.team:
        return team_reps(ws, user.team)
    return None


def disable_user(ws: Workspace, name: str) -> User:
    """The user can no longer log in and their sessions and tokens end (``set_password`` enables them again)."""
    user, password_hash = login_record(ws, name)
    if user is None:
        raise NotFound(key="users.not_found", params={"username": name}, details={"why": "no_user", "username": name})
    if user.disabled:
        return user
    return _replace_row(ws, user.username, password_hash=DISABLED + password_hash)


def delete_user(ws: Workspace, name: str) -> None:
    """Remove the user; their sessions and tokens end."""
    if get_user(ws, name) is None:
        raise NotFound(key="users.not_found", params={"username": name}, details={"why": "no_user", "username": name})
    with ws.warehouse.transaction():
        ws.warehouse.delete_in(USERS_TABLE, "username", [name])
        _end_sessions_of(ws, name)


# -- sessions -------------------------------------------------------------------------------------
_SESSIONS_SCHEMA = pa.schema(
    [
        ("sid", pa.string()),
        ("username", pa.string()),
        ("kind", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("expires_at", pa.timestamp("us")),
    ]
)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def open_session(ws: Workspace, user: User, kind: str, seconds: int) -> str:
    """Record a new session (a browser login or an API token) of ``user``; returns its id.
    Expired sessions are deleted on the way."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    sid = secrets.token_hex(16)
    now = _now()
    wh = ws.warehouse
    t = wh.table(SESSIONS_TABLE)
    expired = [str(r["sid"]) for r in wh.rows(t.filter(t.expires_at < now).select("sid"))]
    row = {"sid": sid, "username": user.username, "kind": kind, "created_at": now}
    row["expires_at"] = now + dt.timedelta(seconds=seconds)
    with wh.transaction():
        wh.delete_in(SESSIONS_TABLE, "sid", expired)
        wh.insert_row(SESSIONS_TABLE, row, _SESSIONS_SCHEMA)
    return sid


def session_alive(ws: Workspace, sid: str, username: str) -> bool:
    """Whether the session ``sid`` of ``username`` exists and has not expired."""
    t = ws.warehouse.table(SESSIONS_TABLE)
    hit = t.filter((t.sid == sid) & (t.username == username) & (t.expires_at >= _now())).select("sid").limit(1)
    return bool(ws.warehouse.rows(hit))


def end_session(ws: Workspace, sid: str) -> None:
    """Log one session out."""
    with ws.warehouse.transaction():
        ws.warehouse.delete_in(SESSIONS_TABLE, "sid", [sid])


def _end_sessions_of(ws: Workspace, name: str) -> None:
    ws.warehouse.delete_in(SESSIONS_TABLE, "username", [name])


def count_sessions(ws: Workspace, name: str) -> int:
    t = ws.warehouse.table(SESSIONS_TABLE)
    live = t.filter((t.username == name) & (t.expires_at >= _now()))
    return int(ws.warehouse.rows(live.aggregate(n=live.count()))[0]["n"])


def top_sellers(ws: Workspace, limit: int) -> list[str]:
    """The reps with the most revenue over all the data (the engine's ``sales_per_rep``), then the
    other reps by id: demo logins belong to reps who sell."""
    from sanjeh.kpis.query import Query

    table = ws.warehouse.table("reps")
    ids = [str(i) for i in table.select("rep_id").order_by("rep_id").to_pyarrow().column("rep_id").to_pylist() if i]
    engine = ws.engine()
    spans = engine.coverage().spans.values()
    ranked: list[str] = []
    if spans:
        first, last = min(s.first for s in spans), max(s.last for s in spans)
        rows = engine.run(Query("sales_per_rep", f"{first.isoformat()}..{last.isoformat()}")).rows
        sold = sorted((r for r in rows if (r.get("revenue") or 0) > 0), key=lambda r: -float(r["revenue"]))
        ranked = [str(r["rep"]) for r in sold if str(r["rep"]) in ids]
    return (ranked + [i for i in ids if i not in ranked])[:limit]


def _team_of(ws: Workspace, rep_id: str) -> str | None:
    r = ws.warehouse.table("reps")
    got = [row["team"] for row in ws.warehouse.rows(r.filter(r.rep_id == rep_id).select("team"))]
    return str(got[0]) if got and got[0] else None


#: A demo login: (username, password, role, rep id, team).
DemoLogin = tuple[str, str, str, str | None, str | None]


def create_demo_users(ws: Workspace, reps: int = 2) -> list[DemoLogin]:
    """Create demo logins with random passwords: ``admin``, ``manager`` (every row), ``teamlead``
    (a manager who sees the team of the best-selling rep, when the reps have teams) and ``reps``
    reps: those who sold the most.

    Returns ``(username, password, role, rep_id, team)`` for each, so ``sanjeh demo`` can print
    them. Users that already exist are left as they are and not returned.
    """
    sellers = top_sellers(ws, reps)
    wanted: list[tuple[str, str, str | None, str | None]] = [
        ("admin", "admin", None, None),
        ("manager", "manager", None, None),
    ]
    team = _team_of(ws, sellers[0]) if sellers else None
    if team:
        wanted.append(("teamlead", "manager", None, team))
    for i, rid in enumerate(sellers, start=1):
        wanted.append((f"rep{i}", "rep", rid, None))
    out: list[DemoLogin] = []
    for name, role, rep_id, team_name in wanted:
        if get_user(ws, name) is not None:
            continue
        password = secrets.token_urlsafe(9)
        add_user(ws, name, role, rep_id, password=password, team=team_name)
        out.append((name, password, role, rep_id, team_name))
    return out
