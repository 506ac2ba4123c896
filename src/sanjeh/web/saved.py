"""The first page kept between runs of the server.

``sanjeh serve`` computes the default period's scorecard as it starts (:meth:`AppState.warm`), and
at 1 M orders that is most of the wait for the first page after a restart. So once computed it is
kept in the workspace, in ``saved-scorecard.json`` (0600, written whole under a temporary name and
renamed), with a fingerprint of everything it was computed from:

- the data version (it changes with every import: ``Workspace.data_version``);
- the targets table's rows, as the engine read them when it computed the cards;
- the workspace's settings (its KPIs, goals, calendar, currency …) as the process read them, less
  the sessions' secret (it changes no number);
- the code: the package's ``.py`` and ``.toml`` files as the server read them at its first
  warm-up, moments after it started, and the versions of the libraries a number goes through;
- the clock's day (the default period and "as of" follow it).

The next server reads it back only when the fingerprint it computes from the workspace as it is
then is the same; otherwise it computes the page, as before, and keeps the new one. Only the
company-wide scorecard is kept (a rep's or a team's is computed on their first visit), and only a
value that reads back exactly as it was written. A file that cannot be read or written is ignored
(the page is computed): the feature saves time, it is never a source of numbers of its own.
Like the server's cache, it trusts the data version: rows changed in the warehouse behind
Sanjeh's back (not through an import) are not seen until the next import, by either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

log = logging.getLogger("sanjeh.web")

SAVED_FILE = "saved-scorecard.json"
#: the libraries a number goes through on its way from the warehouse to the page
_LIBRARIES = ("duckdb", "ibis-framework", "sqlglot", "pyarrow", "jdatetime", "holidays")


def code_digest() -> str:
    """The package's code (``.py`` and ``.toml`` files) and the libraries' versions, now: read
    once, at the server's first warm-up (:class:`~sanjeh.web.state.AppState`), so an upgrade on
    disk under a running server does not label what the old code computed as the new code's."""
    from sanjeh.kpis import sqlcache

    here = Path(__file__).resolve().parent.parent
    files = [p for p in here.rglob("*") if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts]
    return sqlcache.code_digest(files, _LIBRARIES)


def fingerprint(code: str, settings: Any, data_version: str, targets: list[dict[str, Any]], today: dt.date) -> str:
    """What a kept scorecard was computed from (see the module's docstring), as one digest. The
    sessions' secret is left out: it changes no number, and nothing of it should be in a file."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type) and hasattr(settings, "secret"):
        settings = dataclasses.replace(settings, secret="")
    rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in targets)
    parts = [code, repr(settings), data_version, today.isoformat(), *rows]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def read(root: Path, fp: str) -> dict[str, Any] | None:
    """The kept ``{"default_period", "scorecard"}`` if it was computed from ``fp``, else None."""
    try:
        data = json.loads((root / SAVED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fp:
        return None
    period, scorecard = data.get("default_period"), data.get("scorecard")
    if not isinstance(period, str) or not isinstance(scorecard, dict):
        return None
    return {"default_period": period, "scorecard": scorecard}


def write(root: Path, fp: str, default_period: str, scorecard: dict[str, Any]) -> bool:
    """Keep ``scorecard`` (the default period's) under ``fp``; False when it does not read back
    exactly as it is (a value JSON cannot carry) or the folder cannot be written."""
    data = {"fingerprint": fp, "default_period": default_period, "scorecard": scorecard}
    try:
        text = json.dumps(data, ensure_ascii=False)
        if json.loads(text) != data:
            log.info("the scorecard is not kept: it does not read back as it was written")
            return False
    except (TypeError, ValueError):
        return False
    tmp = root / f".{SAVED_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, root / SAVED_FILE)
    except OSError:
        log.info("the scorecard could not be kept in %s", root, exc_info=True)
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True
