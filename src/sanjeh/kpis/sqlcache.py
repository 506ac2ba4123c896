"""Compiled KPI queries, kept by shape: a query's SQL is built once, then only run.

Building a KPI's Ibis expression and compiling it to SQL costs ≈ 0.2–0.5 s in Python, far
more than running it on a month of data. A query's SQL does not depend on its period: its
step sets and its rows' targets are parameter tables filled for each run (kpis/compile.py
``STEPS_PARAM``, ``TARGETS_PARAM``). So the SQL is kept under the query's *shape* — the KPI's
declaration, the dimensions, filters, comparison, the rep scope, the cohorts read and which
comparison periods exist — together with the step sets it reads (as recipes from the query's
root step set) and its result schema.

Entries live in memory and, one small JSON file each, in a cache folder shared by the
processes of this machine (``SANJEH_CACHE_DIR``, else ``$XDG_CACHE_HOME/sanjeh/sql`` or
``~/.cache/sanjeh/sql``), so a new process — a CLI command, a restarted server — does not
compile again. A key holds a fingerprint of the code that compiles (the engine's modules, Ibis
and sqlglot versions), so a new version never reads SQL compiled by an older one.
``tests/test_sqlcache.py`` checks that every KPI's SQL is the same for different periods.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa


@dataclass(frozen=True)
class Compiled:
    """One query shape's SQL, the step sets it reads (recipes, in part order) and its schema."""

    sql: str
    recipes: tuple[tuple[int | str, ...], ...]
    schema: pa.Schema

    def to_json(self) -> str:
        return json.dumps(
            {
                "sql": self.sql,
                "recipes": [list(r) for r in self.recipes],
                "schema": [[f.name, str(ibis.dtype(f.type))] for f in self.schema],
            }
        )

    @staticmethod
    def from_json(text: str) -> Compiled:
        data = json.loads(text)
        schema = ibis.schema(dict(data["schema"])).to_pyarrow()
        return Compiled(data["sql"], tuple(tuple(r) for r in data["recipes"]), schema)


def code_digest(files: Iterable[Path], dists: Iterable[str]) -> str:
    """A digest of source ``files`` (their names and bytes, in sorted order) and the installed
    versions of ``dists``: what changes with the code an answer was made by."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for dist in dists:
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(metadata.version(dist).encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What the compiled SQL depends on besides the query: the engine's code and Ibis/sqlglot."""
    here = Path(__file__).resolve().parent
    files = [*here.glob("*.py"), here.parent / "warehouse.py", here.parent / "calendar.py"]
    return code_digest(files, ("ibis-framework", "sqlglot"))[:16]


def default_dir() -> Path:
    env = os.environ.get("SANJEH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanjeh" / "sql"


class SqlCache:
    """Compiled queries by key, in memory and (when the folder can be written) on disk."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: dict[str, Compiled] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(parts: Any) -> str:
        return hashlib.sha256(repr((code_fingerprint(), parts)).encode()).hexdigest()

    def get(self, key: str) -> Compiled | None:
        with self._lock:
            found = self._memory.get(key)
        if found is None and self.folder is not None:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found = Compiled.from_json((self.folder / f"{key}.json").read_text(encoding="utf-8"))
                with self._lock:
                    self._memory[key] = found
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, value: Compiled) -> None:
        with self._lock:
            self._memory[key] = value
        if self.folder is None:
            return
        try:  # written whole, then renamed: a reader never sees half a file
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(value.to_json())
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:  # a read-only or full disk: the memory cache still serves this process
            self.folder = None
