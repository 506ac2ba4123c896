"""Signed tokens, sessions, CSRF tokens and the login rate limit.

A token is ``base64url(json payload) "." base64url(HMAC-SHA256(secret, payload))``;
the payload holds the user name, the kind (``api`` or ``session``), a random id and
the expiry. The same format signs the bearer tokens of the API and the session
cookie of the browser. The CSRF token of a session is an HMAC of the session's id,
so it needs no storage and dies with the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanjeh.errors import AuthError, RateLimited

SESSION_COOKIE = "sanjeh_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
API_TOKEN_SECONDS = 8 * 3600
SESSION_SECONDS = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenData:
    username: str
    kind: str
    sid: str
    expires: int


@dataclass
class Signer:
    """Signs and checks tokens with the workspace secret."""

    secret: str
    clock: Callable[[], float] = time.time

    def _sig(self, payload: bytes) -> bytes:
        return hmac.new(self.secret.encode("utf-8"), payload, hashlib.sha256).digest()

    def issue(self, username: str, kind: str, seconds: int) -> str:
        payload = json.dumps(
            {"u": username, "k": kind, "s": secrets.token_hex(12), "e": int(self.clock()) + seconds},
            separators=(",", ":"),
        ).encode("utf-8")
        return _b64(payload) + "." + _b64(self._sig(payload))

    def check(self, token: str, kind: str) -> TokenData:
        """The token's data, or :class:`AuthError` if it is forged, of another kind or expired."""
        try:
            body, _, sig = token.partition(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(sig), self._sig(payload)):
                raise ValueError("bad signature")
            data = json.loads(payload)
            out = TokenData(str(data["u"]), str(data["k"]), str(data["s"]), int(data["e"]))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AuthError("invalid or expired credentials; log in again") from exc
        if out.kind != kind or out.expires < self.clock():
            raise AuthError("invalid or expired credentials; log in again")
        return out

    def csrf_token(self, sid: str) -> str:
        return _b64(self._sig(b"csrf:" + sid.encode("utf-8")))

    def check_csrf(self, sid: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(sid), token or "")


@dataclass
class RateLimiter:
    """At most ``limit`` failed logins per (user name, client address) in ``window`` seconds."""

    limit: int = 5
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _fails: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        now = self.clock()
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def check(self, username: str, ip: str) -> None:
        """Raise :class:`RateLimited` while the key has used up its failures."""
        key = (username.strip().lower(), ip)
        with self._lock:
            q = self._recent(key)
            if len(q) >= self.limit:
                retry = max(1, int(self.window - (self.clock() - q[0])) + 1)
                raise RateLimited(
                    f"too many failed logins; try again in {retry} seconds",
                    details={"retry_after": retry},
                )

    def failed(self, username: str, ip: str) -> None:
        key = (username.strip().lower(), ip)
        with self._lock:
            self._recent(key).append(self.clock())
            if len(self._fails) > 10_000:  # forget idle keys so memory stays bounded
                for k in [k for k, q in self._fails.items() if not q]:
                    del self._fails[k]

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._fails.pop((username.strip().lower(), ip), None)


def token_response(token: str, seconds: int) -> dict[str, Any]:
    return {"access_token": token, "token_type": "bearer", "expires_in": seconds}
