"""One error tree for Sanjeh.

Every error a user can cause is a :class:`UserError` (bad input, unknown KPI,
bad period, bad file...). Each error knows its HTTP status, a stable machine
code and the CLI exit status, so the three surfaces render it the same way:
JSON for the API, HTML for pages, one clear sentence for the CLI.
"""

from __future__ import annotations

from typing import Any


class SanjehError(Exception):
    """Base of every error Sanjeh raises on purpose."""

    status: int = 500
    code: str = "internal"
    exit_code: int = 1

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape of API.md."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InternalError(SanjehError):
    """A bug or an environment failure: not the user's fault."""


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


class AuthError(UserError):
    status = 401
    code = "unauthorized"


class Forbidden(UserError):
    status = 403
    code = "forbidden"


class TooLarge(UserError):
    status = 413
    code = "too_large"


class RateLimited(UserError):
    status = 429
    code = "rate_limited"
