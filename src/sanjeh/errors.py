"""One error tree for Sanjeh.

Every error a user can cause is a :class:`UserError` (bad input, unknown KPI,
bad period, bad file...). Each error knows its HTTP status, a stable machine
code and the CLI exit status, so the three surfaces render it the same way:
JSON for the API, HTML for pages, one clear sentence for the CLI.

A user error is raised with a message **key** of the catalogue (``sanjeh/messages``,
``error.<key>``) and its **parameters**: ``InvalidPeriod(key="period.month",
params={"period": "1403-13", "month": 13})``. Its ``message`` is the English sentence (the
API's JSON and the logs); :meth:`SanjehError.text` renders it in the user's language, with
its parameters in that language too (digits, dimension names, lists). An error raised with a
plain sentence and no key stays English everywhere (``tests/test_errors_i18n.py`` lists the
modules whose errors must have keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


class SanjehError(Exception):
    """Base of every error Sanjeh raises on purpose."""

    status: int = 500
    code: str = "internal"
    exit_code: int = 1

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.params: dict[str, Any] = dict(params or {})
        self.details: dict[str, Any] = details or {}
        if message is None:
            message = self.text("en") if key else self.code
        super().__init__(message)
        self.message = message

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``fa``/``en``): the catalogue's ``error.<key>`` with the
        parameters rendered in that language; the English message when there is no key."""
        from sanjeh.i18n import error_text

        return error_text(self, lang)

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape of API.md."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InternalError(SanjehError):
    """A bug or an environment failure: not the user's fault."""


class WorkspaceBusy(SanjehError):
    """Another process holds the workspace (DuckDB lets one process write a file), or the server
    that holds it does not answer the command line: not the user's fault, but theirs to resolve
    (wait, or stop that process). Exit status 1; the sentence says which process and what to do."""

    status = 503
    code = "workspace_busy"


class UserError(SanjehError):
    """Something the user (or client) got wrong; exit status 2, HTTP 4xx."""

    status = 400
    code = "bad_request"
    exit_code = 2


class NotFound(UserError):
    status = 404
    code = "not_found"


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"


class UnknownKPI(NotFound):
    code = "unknown_kpi"


class InvalidQuery(UserError):
    """A KPI query that cannot be answered as asked (dimension, measure, filter...)."""

    status = 422
    code = "invalid_query"


class InvalidPeriod(InvalidQuery):
    code = "invalid_period"


class ImportRefused(UserError):
    """A whole file or import refused (missing column, unreadable file...). Nothing is imported."""

    status = 422
    code = "import_refused"


class MappingError(UserError):
    status = 422
    code = "invalid_mapping"


class SettingsError(UserError):
    status = 422
    code = "invalid_settings"


class InvalidDeclarations(SettingsError):
    """The workspace declares something wrong (sanjeh/check.py): raised once, with every issue
    found, so that one run names them all. Its text is a sentence and a line per issue
    (``sanjeh.toml:12: ...``), in the language asked."""

    code = "invalid_declarations"

    def __init__(self, issues: Iterable[Any], *, key: str = "check.failed") -> None:
        self.issues = tuple(issues)
        super().__init__(
            key=key,
            params={"n": len(self.issues)},
            details={"issues": [i.to_dict() for i in self.issues]},
        )

    def text(self, lang: str) -> str:
        head = super().text(lang)
        return "\n".join([head, *(f"  {i.place}: {i.text(lang)}" for i in self.issues)])


class AuthError(UserError):
    status = 401
    code = "unauthorized"


class Forbidden(UserError):
    status = 403
    code = "forbidden"


class Conflict(UserError):
    """The request clashes with what is there (a name taken, a step already done)."""

    status = 409
    code = "conflict"


class TooLarge(UserError):
    status = 413
    code = "too_large"


class RateLimited(UserError):
    status = 429
    code = "rate_limited"


@dataclass(frozen=True)
class Problem:
    """A mistake found in a declaration, not raised: where in the declaration (its keys and
    indexes, e.g. ``("measures", 1, "kind")``), the message (``error.<key>`` of the catalogue
    with its parameters) and whether it blocks (``error``) or is only worth knowing
    (``warning``). Parsers return every one they find; sanjeh/check.py adds the file and line."""

    where: tuple[str | int, ...]
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    level: Literal["error", "warning"] = "error"

    def within(self, *prefix: str | int) -> Problem:
        """The same problem, found inside ``prefix`` (a KPI's measure inside its KPI…)."""
        return Problem((*prefix, *self.where), self.key, self.params, self.level)

    def error(self) -> SettingsError:
        return SettingsError(key=self.key, params=self.params)
