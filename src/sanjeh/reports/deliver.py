"""Sending a report: email over SMTP, a signed webhook, Telegram and Bale bots.

Each destination is declared without its secret: a password, a bot token or a webhook's signing
key is read when sending from the environment (``SANJEH_SMTP_PASSWORD``…) or from a file the
environment names (``SANJEH_SMTP_PASSWORD_FILE``), which must be readable by its owner only
(mode 0600). A destination built from settings (:func:`destination`) refuses a secret written in
clear. Secrets never reach a log or an error: a bot's URL holds its token, so failures name the
bot and the chat, never the URL.

Every network call has a timeout and is retried with exponential backoff (1 s, 2 s, 4 s…) on a
broken connection, a timeout, HTTP 429 or 5xx, or an SMTP 4xx reply. A refusal that another try
cannot change fails at once, saying what to fix: a login the SMTP server refuses (a wrong
password), an SMTP 5xx reply, a server without STARTTLS or a certificate that does not verify,
and HTTP 4xx but 429 (a wrong bot token, an unknown chat: the bot API's own description).

- **Email**: one message (text body, the report files attached) to every recipient; STARTTLS
  (default on a port other than 465), implicit TLS on 465, login when a user is named.
- **Webhook**: ``POST`` JSON ``{"event": "report" (or "alert"), "subject", "text", "attachments": [{"filename",
  "content_type", "size", "sha256", "content_base64"}]}``; header ``X-Sanjeh-Timestamp`` (Unix
  seconds) and ``X-Sanjeh-Signature: sha256=HEX``, the HMAC-SHA256 of ``TIMESTAMP.BODY`` with the
  shared secret (a receiver recomputes it and refuses an old timestamp).
- **Telegram / Bale**: ``sendMessage`` (the text) then ``sendDocument`` (each file, multipart) to
  ``BASE/bot<TOKEN>/METHOD``; Bale's bot API has Telegram's shape at ``https://tapi.bale.ai``.

A schedule names its recipients in one line each (:func:`recipients`): an email address (sent
through the workspace's mail server, ``SANJEH_SMTP_HOST``…), ``telegram:CHAT`` or ``bale:CHAT``
(tokens in ``SANJEH_TELEGRAM_TOKEN``, ``SANJEH_BALE_TOKEN``), or a webhook's ``https://`` address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import ssl
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from sanjeh.errors import SanjehError, UserError

log = logging.getLogger("sanjeh.deliver")
T = TypeVar("T")
BOT_URLS = {"telegram": "https://api.telegram.org", "bale": "https://tapi.bale.ai"}
#: Setting names that would hold a secret in clear (refused: name the environment variable instead).
CLEAR_SECRETS = ("password", "token", "secret", "key")


class DeliveryError(SanjehError):
    """A destination did not take the report (after the retries): named, never with its secret."""

    code = "delivery_failed"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    @staticmethod
    def of(path: Path) -> Attachment:
        kinds = {
            ".pdf": "application/pdf",
            ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".html": "text/html",
        }
        return Attachment(path.name, path.read_bytes(), kinds.get(path.suffix.lower(), "application/octet-stream"))


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    #: What a webhook's receiver is told it is: a ``report``, or an ``alert`` (reports/alerts.py).
    event: str = "report"


@dataclass(frozen=True)
class Retry:
    """``attempts`` tries, ``timeout`` seconds each, waiting ``backoff`` × 2ⁿ between them."""

    attempts: int = 4
    timeout: float = 30.0
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep


class _Again(Exception):
    """A failure worth another try (its text names no secret)."""


def _retry(what: str, retry: Retry, call: Callable[[], T]) -> T:
    last = ""
    for n in range(retry.attempts):
        try:
            return call()
        except _Again as exc:
            last = str(exc)
            log.warning("delivery to %s failed (try %d of %d): %s", what, n + 1, retry.attempts, last)
            if n + 1 < retry.attempts:
                retry.sleep(retry.backoff * 2**n)
    raise DeliveryError(key="deliver.failed", params={"target": what, "why": last, "tries": retry.attempts})


# -- secrets ------------------------------------------------------------------------------------------
def secret(name: str, env: Mapping[str, str] | None = None) -> str:
    """The secret in environment variable ``name``, else in the file ``$name_FILE`` names (mode 0600:
    no one but its owner may read it). Missing or exposed: a user error naming the variable only."""
    env = os.environ if env is None else env
    if env.get(name):
        return env[name]
    file = env.get(f"{name}_FILE")
    if not file:
        raise UserError(key="deliver.secret_missing", params={"name": name})
    path = Path(file).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise UserError(key="deliver.secret_file", params={"name": name, "path": str(path)}) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(key="deliver.secret_mode", params={"path": str(path), "mode": oct(mode & 0o777)})
    return path.read_text(encoding="utf-8").strip()


# -- destinations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Email:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool | None = None  # default: on, except on port 465 (implicit TLS)
    user: str | None = None
    password_env: str = "SANJEH_SMTP_PASSWORD"

    def send(self, msg: Message, retry: Retry = Retry(), env: Mapping[str, str] | None = None) -> None:
        if not self.to:
            raise UserError(key="deliver.no_recipients", params={"target": self.name})
        password = secret(self.password_env, env) if self.user else None
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = msg.subject, self.sender, ", ".join(self.to)
        mail.set_content(msg.text)
        for a in msg.attachments:
            main, _, sub = a.content_type.partition("/")
            mail.add_attachment(a.data, maintype=main, subtype=sub or "octet-stream", filename=a.filename)

        if not self.host:
            raise UserError(key="deliver.smtp_host")

        def once() -> None:
            try:
                if self.port == 465:
                    smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                        self.host, self.port, timeout=retry.timeout, context=ssl.create_default_context()
                    )
                else:
                    smtp = smtplib.SMTP(self.host, self.port, timeout=retry.timeout)
                with smtp:
                    if self.port != 465 and self.starttls is not False:
                        smtp.starttls(context=ssl.create_default_context())
                    if self.user and password is not None:
                        smtp.login(self.user, password)
                    smtp.send_message(mail)
            except smtplib.SMTPResponseException as exc:
                if 400 <= exc.smtp_code < 500:
                    raise _Again(f"SMTP {exc.smtp_code}") from None
                if isinstance(exc, smtplib.SMTPAuthenticationError):  # another try gets the same answer
                    params = {"target": self.name, "user": self.user, "code": exc.smtp_code, "env": self.password_env}
                    raise DeliveryError(key="deliver.smtp_auth", params=params) from None
                raise DeliveryError(
                    key="deliver.refused", params={"target": self.name, "why": f"SMTP {exc.smtp_code}"}
                ) from None
            except smtplib.SMTPServerDisconnected as exc:
                raise _Again(type(exc).__name__) from None
            except (smtplib.SMTPException, ssl.SSLCertVerificationError) as exc:  # no STARTTLS, no AUTH, every
                # recipient refused, a certificate that does not verify: as permanent as a 5xx
                why = type(exc).__name__ + (
                    f" ({exc.verify_message})" if isinstance(exc, ssl.SSLCertVerificationError) else ""
                )
                raise DeliveryError(key="deliver.refused", params={"target": self.name, "why": why}) from None
            except OSError as exc:  # refused, reset, timed out: worth another try
                raise _Again(type(exc).__name__) from None

        _retry(self.name, retry, once)
        log.info("report sent by email to %d recipients", len(self.to))

    @property
    def name(self) -> str:
        return f"smtp://{self.host}:{self.port}"


class _HideBotTokens(logging.Filter):
    """httpx logs each request's URL (at INFO); a bot's URL holds its token: log ``/bot***/`` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "/bot" in text:
            record.msg, record.args = _BOT_PATH.sub("/bot***/", text), ()
        return True


_BOT_PATH = re.compile(r"/bot[^/\s]+/")


def _http(retry: Retry) -> Any:
    import httpx

    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideBotTokens) for f in logger.filters):
            logger.addFilter(_HideBotTokens())
    return httpx.Client(timeout=retry.timeout, follow_redirects=False)


def _post(client: Any, url: str, what: str, **kw: Any) -> Any:
    """One POST; a retryable failure raises :class:`_Again` with a text that holds no URL."""
    import httpx

    try:
        r = client.post(url, **kw)
    except httpx.TransportError as exc:  # its text may hold the URL (a bot's token): name the kind only
        raise _Again(type(exc).__name__) from None
    if r.status_code == 429 or r.status_code >= 500:
        raise _Again(f"HTTP {r.status_code}")
    if r.status_code >= 400:  # another try gets the same answer: say what the API said
        said = _description(r)
        why = f"HTTP {r.status_code}" + (f": {said}" if said else "")
        raise DeliveryError(key="deliver.refused", params={"target": what, "why": why})
    return r


def _description(r: Any) -> str:
    """A bot API's own words on a refusal (``{"ok": false, "description": …}``), short; never a URL."""
    try:
        said = r.json().get("description")
    except (ValueError, AttributeError):
        return ""
    return _BOT_PATH.sub("/bot***/", str(said))[:200] if said else ""


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_env: str = "SANJEH_WEBHOOK_SECRET"
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def body(self, msg: Message) -> bytes:
        return json.dumps(
            {
                "event": msg.event,
                "subject": msg.subject,
                "text": msg.text,
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": len(a.data),
                        "sha256": hashlib.sha256(a.data).hexdigest(),
                        "content_base64": base64.b64encode(a.data).decode("ascii"),
                    }
                    for a in msg.attachments
                ],
            },
            ensure_ascii=False,
        ).encode("utf-8")

    def send(self, msg: Message, retry: Retry = Retry(), env: Mapping[str, str] | None = None) -> None:
        key = secret(self.secret_env, env).encode("utf-8")
        body = self.body(msg)
        what = "webhook " + self.url.split("?")[0]

        def once() -> None:
            stamp = str(int(self.clock()))  # signed again on each try: the receiver checks its age
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-Sanjeh-Timestamp": stamp,
                "X-Sanjeh-Signature": "sha256=" + sign(key, stamp, body),
            }
            with _http(retry) as client:
                _post(client, self.url, what, content=body, headers=headers)

        _retry(what, retry, once)
        log.info("report sent to %s", what)


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """The webhook's signature: HMAC-SHA256 of ``TIMESTAMP.BODY``, hex."""
    return hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Bot:
    kind: str  # telegram | bale
    chat_id: str
    token_env: str = "SANJEH_BOT_TOKEN"
    base_url: str | None = None

    def send(self, msg: Message, retry: Retry = Retry(), env: Mapping[str, str] | None = None) -> None:
        token = secret(self.token_env, env)
        base = (self.base_url or BOT_URLS[self.kind]).rstrip("/") + f"/bot{token}/"
        what = f"{self.kind} chat {self.chat_id}"
        text = f"{msg.subject}\n\n{msg.text}".strip()[:4096]

        def call(method: str, **kw: Any) -> None:
            def once() -> None:
                with _http(retry) as client:
                    r = _post(client, base + method, what, **kw)
                    try:
                        ok = bool(r.json().get("ok", False))
                    except (ValueError, AttributeError):  # not the bot API's JSON (a proxy's page…)
                        ok = False
                    if not ok:
                        said = _description(r)
                        why = method + (f": {said}" if said else "")
                        raise DeliveryError(key="deliver.refused", params={"target": what, "why": why})

            _retry(what, retry, once)

        call("sendMessage", json={"chat_id": self.chat_id, "text": text})
        for a in msg.attachments:
            call(
                "sendDocument",
                data={"chat_id": self.chat_id, "caption": msg.subject[:1024]},
                files={"document": (a.filename, a.data, a.content_type)},
            )
        log.info("report sent to %s", what)


Destination = Email | Webhook | Bot


def destination(raw: Mapping[str, Any]) -> Destination:
    """A destination from settings (``{"email": {...}}``-like tables flattened: ``kind`` plus its
    fields). A secret written in clear is refused: the setting names its environment variable."""
    clear = [k for k in raw if k.lower() in CLEAR_SECRETS]
    if clear:
        raise UserError(key="deliver.clear_secret", params={"field": clear[0]})
    kind = str(raw.get("kind") or "")
    fields = {k: v for k, v in raw.items() if k != "kind"}
    try:
        if kind == "email":
            return Email(**{**fields, "to": tuple(fields.get("to") or ())})
        if kind == "webhook":
            return Webhook(**fields)
        if kind in BOT_URLS:
            return Bot(kind=kind, **{**fields, "chat_id": str(fields.get("chat_id", ""))})
    except TypeError as exc:
        raise UserError(key="deliver.bad_destination", params={"kind": kind, "why": str(exc)}) from None
    raise UserError(key="deliver.bad_destination", params={"kind": kind, "why": "email, webhook, telegram, bale"})


#: an address whose domain has a dot: «ali@example» is a typo far more often than a host of its own
_EMAIL = re.compile(r"^[^@\s,;<>:]+@[^@\s,;<>:.]+(\.[^@\s,;<>:.]+)+$")
_CHAT = re.compile(r"^(-?\d+|@\w{4,})$")


def recipient_lines(lines: str | Sequence[str]) -> tuple[str, ...]:
    """Recipients as written (a list, or text with one per line or comma), each checked: an email
    address, ``telegram:CHAT`` / ``bale:CHAT`` (a chat id or ``@channel``), or an ``http(s)://``
    webhook address. A line that is none of these is a user error naming it."""
    items = re.split(r"[\n,،]+", lines) if isinstance(lines, str) else [str(x) for x in lines]
    out: list[str] = []
    for item in (x.strip() for x in items):
        if not item:
            continue
        kind, _, rest = item.partition(":")
        if kind.lower() in BOT_URLS and _CHAT.match(rest.strip()):
            item = f"{kind.lower()}:{rest.strip()}"
        elif not (_EMAIL.match(item) or re.match(r"^https?://[^\s/]+", item)):
            raise UserError(key="deliver.recipient", params={"recipient": item})
        if item not in out:
            out.append(item)
    return tuple(out)


def recipients(lines: Sequence[str], env: Mapping[str, str] | None = None) -> list[Destination]:
    """The destinations of checked recipient lines (:func:`recipient_lines`): the email addresses
    as one message through the mail server the environment names (``SANJEH_SMTP_HOST``,
    ``SANJEH_SMTP_PORT`` 587, ``SANJEH_SMTP_SENDER``, ``SANJEH_SMTP_USER`` and its
    ``SANJEH_SMTP_PASSWORD``, ``SANJEH_SMTP_STARTTLS=off`` for a server without TLS), each chat
    through its bot (``SANJEH_TELEGRAM_TOKEN``, ``SANJEH_BALE_TOKEN``; ``SANJEH_TELEGRAM_URL``,
    ``SANJEH_BALE_URL`` for another base address), each webhook (``SANJEH_WEBHOOK_SECRET``)."""
    env = os.environ if env is None else env
    out: list[Destination] = []
    emails = tuple(x for x in lines if _EMAIL.match(x))
    if emails:
        host = env.get("SANJEH_SMTP_HOST", "")
        off = env.get("SANJEH_SMTP_STARTTLS", "").lower() in ("0", "off", "no", "false")
        out.append(
            Email(
                host,
                env.get("SANJEH_SMTP_SENDER") or f"sanjeh@{host or 'localhost'}",
                emails,
                port=int(env.get("SANJEH_SMTP_PORT") or 587),
                starttls=False if off else None,
                user=env.get("SANJEH_SMTP_USER") or None,
            )
        )
    for x in lines:
        kind, _, rest = x.partition(":")
        if kind in BOT_URLS and not rest.startswith("//"):
            up = kind.upper()
            out.append(Bot(kind, rest, token_env=f"SANJEH_{up}_TOKEN", base_url=env.get(f"SANJEH_{up}_URL") or None))
        elif x.startswith(("http://", "https://")):
            out.append(Webhook(x))
    return out


def who(d: Destination) -> str:
    """A destination as its recipients read in the run log: addresses, ``bale:CHAT``, a webhook's
    address without its query or fragment (a token there would be stored in the warehouse)."""
    if isinstance(d, Email):
        return ", ".join(d.to)
    return re.split(r"[?#]", d.url)[0] if isinstance(d, Webhook) else f"{d.kind}:{d.chat_id}"


def send(
    destinations: Sequence[Destination],
    msg: Message,
    retry: Retry = Retry(),
    env: Mapping[str, str] | None = None,
    lang: str = "en",
) -> dict[str, str]:
    """Send ``msg`` to each destination; one failing does not stop the others. Returns, per
    destination (:func:`who`), ``"sent"`` or the error's sentence in ``lang`` (it names no secret):
    what the run log and the Alerts page show the workspace's managers."""
    done: dict[str, str] = {}
    for d in destinations:
        name = who(d)
        try:
            d.send(msg, retry, env)
            done[name] = "sent"
        except SanjehError as exc:
            done[name] = exc.text(lang)
    return done
