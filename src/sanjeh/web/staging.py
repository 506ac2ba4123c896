"""Uploads kept between the steps of the Data page's upload wizard: ``<workspace>/staging/ID/``.

An upload is kept under a random id (32 hex digits: an id of any other form is refused before a
path is made of it) in ``ID/file/NAME``, beside what the wizard read of it (JSON files) and
``meta.json`` (the file's name, who uploaded it, when). Only the user who uploaded a file reaches
it. Importing it is done once: :meth:`Staged.claim` takes the step (a second press is refused),
and afterwards only ``meta.json`` is left, saying which import it became. Whenever a file is
staged, uploads older than :data:`KEEP_SECONDS` are removed, and all but the newest
:data:`KEEP_UPLOADS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanjeh.errors import Conflict, NotFound

STAGING = "staging"
KEEP_SECONDS = 24 * 3600
KEEP_UPLOADS = 20
_ID = re.compile(r"[0-9a-f]{32}")
_CLAIM = "import.claim"


@dataclass(frozen=True)
class Staged:
    id: str
    folder: Path

    @property
    def files(self) -> Path:
        return self.folder / "file"

    @property
    def meta(self) -> dict[str, Any]:
        found = self.read("meta")
        return found if isinstance(found, dict) else {}

    @property
    def file(self) -> Path:
        return self.files / str(self.meta["file"])

    def read(self, name: str) -> Any:
        try:
            return json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write(self, name: str, data: Any) -> None:
        tmp = self.folder / f".{name}.{secrets.token_hex(4)}.tmp"  # two requests may write at once
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.folder / f"{name}.json")

    def claim(self) -> None:
        """Take the import step (refused when it was taken: the file is being or was imported)."""
        try:
            os.close(os.open(self.folder / _CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise Conflict(key="wizard.imported", details={"upload": self.id}) from None

    def release(self) -> None:
        """Give the import step back (the import failed: it may be tried again)."""
        with contextlib.suppress(OSError):
            (self.folder / _CLAIM).unlink()

    def done(self, import_id: str) -> None:
        """The file became the import ``import_id``: only the note of it is kept."""
        self.write("meta", {**self.meta, "import_id": import_id})
        for p in self.folder.iterdir():
            if p.name in ("meta.json", _CLAIM):
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()


def root_of(ws_root: Path) -> Path:
    return ws_root / STAGING


def new(ws_root: Path, user: str, now: float | None = None) -> Staged:
    """A new, empty staging folder for ``user``'s upload (after removing old ones)."""
    base = root_of(ws_root)
    base.mkdir(mode=0o700, exist_ok=True)
    sweep(ws_root, time.time() if now is None else now)
    sid = secrets.token_hex(16)
    folder = base / sid
    folder.mkdir(mode=0o700)
    (folder / "file").mkdir(mode=0o700)
    staged = Staged(sid, folder)
    staged.write("meta", {"user": user, "created": time.time() if now is None else now})
    return staged


def find(ws_root: Path, sid: str, user: str) -> Staged:
    """The upload ``sid`` of ``user``: unknown, removed or another user's is 404; imported is 409."""
    folder = root_of(ws_root) / sid
    meta = Staged(sid, folder).read("meta") if _ID.fullmatch(sid) else None
    if not isinstance(meta, dict) or meta.get("user") != user or not meta.get("file"):
        raise NotFound(key="wizard.unknown_upload", details={"upload": sid[:40]})
    if meta.get("import_id"):
        raise Conflict(key="wizard.imported", details={"upload": sid, "import_id": meta["import_id"]})
    return Staged(sid, folder)


def remove(staged: Staged) -> None:
    shutil.rmtree(staged.folder, ignore_errors=True)


def sweep(ws_root: Path, now: float) -> None:
    """Remove uploads older than :data:`KEEP_SECONDS`, and all but the newest :data:`KEEP_UPLOADS`."""
    base = root_of(ws_root)
    found = []
    for p in base.iterdir() if base.is_dir() else ():
        if not _ID.fullmatch(p.name) or not p.is_dir():
            continue
        try:
            found.append((p.stat().st_mtime, p))
        except OSError:
            continue
    found.sort(reverse=True)
    for i, (mtime, p) in enumerate(found):
        if now - mtime > KEEP_SECONDS or i >= KEEP_UPLOADS - 1:
            shutil.rmtree(p, ignore_errors=True)
