"""Users of the dashboard and the API (API.md, "Users and roles").

Users live in the warehouse table ``_users``. Passwords are hashed with Argon2id
(memory-hard); the hash carries its own salt and parameters. Roles:

- ``admin``: everything, including users, imports and settings;
- ``manager``: every KPI and target, imports;
- ``rep``: every KPI computed over their own rows only (``rep_id``).
"""

from __future__ import annotations

import datetime as dt
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

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_manage(self) -> bool:
        """Imports and targets: admins and managers."""
        return self.role in ("admin", "manager")

    @property
    def rep_scope(self) -> str | None:
        """The rep whose rows this user may see (None = every row)."""
        return self.rep_id if self.role == "rep" else None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "rep_id": self.rep_id, "language": self.language}


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
        raise UserError(
            f"{name!r} is not a valid user name: use 1–64 letters, digits, '.', '_', '-' or '@'",
            details={"username": name},
        )
    return name


def _rows(ws: Workspace) -> list[dict[str, Any]]:
    table = ws.warehouse.table(USERS_TABLE)
    return list(table.to_pyarrow().to_pylist())


def _to_user(row: dict[str, Any]) -> User:
    return User(row["username"], row["role"], row.get("rep_id") or None, row.get("language") or None)


def list_users(ws: Workspace) -> list[User]:
    """Every user, by name (no password hashes)."""
    return sorted((_to_user(r) for r in _rows(ws)), key=lambda u: u.username)


def get_user(ws: Workspace, name: str) -> User | None:
    for r in _rows(ws):
        if r["username"] == name:
            return _to_user(r)
    return None


def add_user(
    ws: Workspace,
    name: str,
    role: str,
    rep_id: str | None = None,
    *,
    password: str,
    language: str | None = None,
) -> User:
    """Create a user. A rep needs a ``rep_id``; other roles must not have one."""
    name = _validate_name(name)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; the roles are: {', '.join(ROLES)}", details={"role": role})
    rep_id = (rep_id or "").strip() or None
    if role == "rep" and not rep_id:
        raise UserError("a user with role rep needs a rep id (--rep-id)", details={"role": role})
    if role != "rep" and rep_id:
        raise UserError(f"only a rep has a rep id, not a {role}", details={"role": role, "rep_id": rep_id})
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if language is not None and language not in LANGUAGES:
        raise UserError(f"language must be fa or en, not {language!r}")
    if get_user(ws, name) is not None:
        raise UserError(f"a user named {name!r} already exists", details={"username": name})
    row = {
        "username": name,
        "role": role,
        "rep_id": rep_id,
        "password_hash": hash_password(password),
        "language": language,
        "created_at": dt.datetime.now().replace(microsecond=0),
    }
    data = pa.table({k: [v] for k, v in row.items()}, schema=_SCHEMA)
    with ws.warehouse.transaction():
        ws.warehouse.insert_arrow(USERS_TABLE, data)
    return _to_user(row)


_SCHEMA = pa.schema(
    [
        ("username", pa.string()),
        ("role", pa.string()),
        ("rep_id", pa.string()),
        ("password_hash", pa.string()),
        ("language", pa.string()),
        ("created_at", pa.timestamp("us")),
    ]
)


def authenticate(ws: Workspace, name: str, password: str) -> User:
    """The user if the password is right; :class:`AuthError` otherwise (same message either way)."""
    for r in _rows(ws):
        if r["username"] == (name or "").strip():
            if _verify(r["password_hash"] or "", password or ""):
                return _to_user(r)
            break
    else:
        # spend the same time as a real check, so a timing does not reveal which names exist
        _verify(_dummy_hash(), password or "")
    raise AuthError("wrong user name or password")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def _replace_row(ws: Workspace, name: str, **changes: Any) -> User:
    rows = [r for r in _rows(ws) if r["username"] == name]
    if not rows:
        raise NotFound(f"no user named {name!r}", details={"username": name})
    row = {**rows[0], **changes}
    keys = pa.table({"username": [name]})
    with ws.warehouse.transaction():
        ws.warehouse.delete_matching(USERS_TABLE, keys)
        ws.warehouse.insert_arrow(USERS_TABLE, pa.table({k: [row[k]] for k in _SCHEMA.names}, schema=_SCHEMA))
    return _to_user(row)


def set_language(ws: Workspace, name: str, language: str) -> User:
    """Store a user's language (``fa`` or ``en``)."""
    if language not in LANGUAGES:
        raise UserError(f"language must be fa or en, not {language!r}", details={"language": language})
    return _replace_row(ws, name, language=language)


def set_password(ws: Workspace, name: str, password: str) -> User:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _replace_row(ws, name, password_hash=hash_password(password))


def delete_user(ws: Workspace, name: str) -> None:
    if get_user(ws, name) is None:
        raise NotFound(f"no user named {name!r}", details={"username": name})
    with ws.warehouse.transaction():
        ws.warehouse.delete_matching(USERS_TABLE, pa.table({"username": [name]}))


def _rep_ids(ws: Workspace, limit: int) -> list[str]:
    """The first reps (by id) of the workspace, for demo logins."""
    table = ws.warehouse.table("reps")
    ids = table.select("rep_id").order_by("rep_id").limit(limit).to_pyarrow().column("rep_id").to_pylist()
    return [str(i) for i in ids if i]


def create_demo_users(ws: Workspace, reps: int = 2) -> list[tuple[str, str, str, str | None]]:
    """Create demo logins (admin, manager and ``reps`` reps of the data) with random passwords.

    Returns ``(username, password, role, rep_id)`` for each, so ``sanjeh demo`` can print them.
    Users that already exist are left as they are and not returned.
    """
    wanted: list[tuple[str, str, str | None]] = [("admin", "admin", None), ("manager", "manager", None)]
    for i, rid in enumerate(_rep_ids(ws, reps), start=1):
        wanted.append((f"rep{i}", "rep", rid))
    out: list[tuple[str, str, str, str | None]] = []
    for name, role, rep_id in wanted:
        if get_user(ws, name) is not None:
            continue
        password = secrets.token_urlsafe(9)
        add_user(ws, name, role, rep_id, password=password)
        out.append((name, password, role, rep_id))
    return out
