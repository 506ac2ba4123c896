"""Signed tokens, sessions, CSRF tokens and the login rate limit.

A token is ``base64url(json payload) "." base64url(HMAC-SHA256(secret, payload))``;
the payload holds the user name, the kind (``api`` or ``session``), the session's id
(a row of the warehouse table ``_sessions``: logging out deletes it), the expiry and
the user's identity stamp (it changes when the user is re-created, disabled, or their
password or role changes, so such a change ends every token). The same format signs
the bearer tokens of the API and the session cookie of the browser. The CSRF token
of a session is an HMAC of the session's id, so it needs no storage and dies with
the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sanjeh.errors import AuthError, RateLimited, UserError

SESSION_COOKIE = "sanjeh_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
API_TOKEN_SECONDS = 8 * 3600
SESSION_SECONDS = 12 * 3600
MAX_TOKEN_LENGTH = 4096


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
    stamp: str  # the user's identity stamp when the token was issued (sanjeh.users.User.stamp)


@dataclass
class Signer:
    """Signs and checks tokens with the workspace secret."""

    secret: str
    clock: Callable[[], float] = time.time

    def _sig(self, payload: bytes) -> bytes:
        return hmac.new(self.secret.encode("utf-8"), payload, hashlib.sha256).digest()

    def issue(self, username: str, kind: str, seconds: int, *, sid: str | None = None, stamp: str = "") -> str:
        payload = json.dumps(
            {
                "u": username,
                "k": kind,
                "s": sid or secrets.token_hex(12),
                "e": int(self.clock()) + seconds,
                "g": stamp,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        return _b64(payload) + "." + _b64(self._sig(payload))

    def check(self, token: str, kind: str) -> TokenData:
        """The token's data, or :class:`AuthError` if it is forged, of another kind or expired."""
        try:
            if len(token) > MAX_TOKEN_LENGTH:
                raise ValueError("too long")
            body, _, sig = token.partition(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(sig), self._sig(payload)):
                raise ValueError("bad signature")
            data = json.loads(payload)
            out = TokenData(str(data["u"]), str(data["k"]), str(data["s"]), int(data["e"]), str(data["g"]))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AuthError(key="auth.invalid_credentials") from exc
        if out.kind != kind or out.expires < self.clock():
            raise AuthError(key="auth.invalid_credentials")
        return out

    def csrf_token(self, sid: str) -> str:
        return _b64(self._sig(b"csrf:" + sid.encode("utf-8")))

    def check_csrf(self, sid: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(sid), token or "")


@dataclass
class RateLimiter:
    """Failed logins, counted per client address and per (user name, client address).

    A client address may fail ``address_limit`` times in ``window`` seconds whatever names it
    tries (one password against many users), and ``limit`` times for one user name; then it
    gets 429 until the oldest failure leaves the window. Memory is bounded: at most
    ``max_keys`` keys (the least recently used are forgotten first), a user name is kept as a
    16-byte digest whatever its length, each key holds at most its limit of timestamps, and a
    key whose failures have all left the window is dropped.
    """

    limit: int = 5
    address_limit: int = 20
    window: float = 60.0
    max_keys: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _fails: OrderedDict[tuple[str, ...], deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _name_key(username: str, ip: str) -> tuple[str, ...]:
        digest = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
        return ("name", ip[:64], digest)

    @staticmethod
    def _address_key(ip: str) -> tuple[str, ...]:
        return ("address", ip[:64])

    def _recent(self, key: tuple[str, ...], size: int) -> deque[float]:
        now = self.clock()
        q = self._fails.get(key)
        if q is None:
            q = self._fails[key] = deque(maxlen=max(1, size))
        self._fails.move_to_end(key)
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def _forget_old(self) -> None:
        now = self.clock()
        while self._fails:  # the least recently used first: drop the expired, then any beyond the cap
            key, q = next(iter(self._fails.items()))
            if len(self._fails) <= self.max_keys and q and now - q[-1] <= self.window:
                break
            del self._fails[key]

    def check(self, username: str, ip: str) -> None:
        """Raise :class:`RateLimited` while the address, or the name from this address, has used up its failures."""
        with self._lock:
            for key, size in ((self._address_key(ip), self.address_limit), (self._name_key(username, ip), self.limit)):
                q = self._fails.get(key)
                if q is None:
                    continue
                q = self._recent(key, size)
                if len(q) >= size:
                    retry = max(1, int(self.window - (self.clock() - q[0])) + 1)
                    raise RateLimited(
                        key="auth.rate_limited", params={"seconds": retry}, details={"retry_after": retry}
                    )

    def failed(self, username: str, ip: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(self._address_key(ip), self.address_limit).append(now)
            self._recent(self._name_key(username, ip), self.limit).append(now)
            self._forget_old()

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._fails.pop(self._name_key(username, ip), None)

    def __len__(self) -> int:
        return len(self._fails)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
    address of ``X-Forwarded-For`` that is not a trusted proxy (the one the proxy saw).

    :class:`UserError` when a trusted proxy sends no ``X-Forwarded-For``: every client would
    share the proxy's address (one client's failed logins would lock out everybody).
    """
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    if not hops:
        raise UserError(key="auth.proxy_without_forwarded", params={"proxy": peer}, details={"proxy": peer})
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop[:64]
    return hops[0][:64]


def _in(address: str, trusted: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def parse_forwarded_allow(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"10.0.0.1, 10.1.0.0/16"`` -> the proxy networks (:class:`UserError` for an entry that is none)."""
    items = text.split(",") if isinstance(text, str) else list(text or ())
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise UserError(key="settings.forwarded_allow", params={"value": item}, details={"value": item}) from None
    return tuple(out)


def token_response(token: str, seconds: int) -> dict[str, Any]:
    return {"access_token": token, "token_type": "bearer", "expires_in": seconds}
