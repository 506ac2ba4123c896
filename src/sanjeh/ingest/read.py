"""Read CSV, XLSX and Parquet files into all-VARCHAR DuckDB staging tables.

A CSV file's header is read when it is staged (the import plans with it); its rows when
:meth:`Reader.load` is called, just before its table is checked, so that only the files being
checked are held at a time. Each file becomes one temp table with a ``__line`` column (the line or row a
person would see: in a CSV the header is line 1 and a quoted newline counts) and
one VARCHAR column per header name (``c0``, ``c1``, … in file order). Rows the
CSV parser cannot split (ragged rows, broken quotes) are kept as
:class:`StructuralReject` so the import can report them: nothing read is lost.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sanjeh.errors import ImportRefused, UserError
from sanjeh.ingest import encodings
from sanjeh.ingest.limits import DEFAULT_LIMITS, ImportLimits, mib
from sanjeh.ingest.xlsx import cell_text, sheet_rows
from sanjeh.warehouse import quote_ident, quote_literal

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES + PARQUET_SUFFIXES
DELIMITERS = (",", ";", "\t")
_CHUNK = 8 * 1024 * 1024


@dataclass
class StructuralReject:
    """A CSV/XLSX row that could not be split into the header's fields."""

    line: int
    reason: str
    fields: list[str]


@dataclass
class StagedFile:
    """One file read into the staging connection."""

    path: Path
    relation: str  # temp table: __line BIGINT, c0.. VARCHAR
    columns: list[str]  # header names as written (trimmed, BOM removed)
    rows: int
    structural: list[StructuralReject] = field(default_factory=list)
    encoding: str = "utf-8"
    loaded: bool = True  # False: only the header was read so far (:meth:`Reader.load` reads the rows)
    delimiter: str | None = None  # a CSV file's
    nested: dict[str, str] = field(default_factory=dict)  # a Parquet file's nested columns: name -> type

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sql_names(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.columns))]

    def column_sql(self, header: str) -> str | None:
        """The staging column of a header name (exact, else case-insensitive), or None.
        A column of nested values (a Parquet struct, list or map) cannot be read: refused."""
        for i, c in enumerate(self.columns):
            if c == header:
                return self._plain(i)
        low = header.strip().lower()
        for i, c in enumerate(self.columns):
            if c.lower() == low:
                return self._plain(i)
        return None

    def _plain(self, i: int) -> str:
        name = self.columns[i]
        if name in self.nested:
            raise ImportRefused(
                f"{self.name}: column {name!r} holds nested values ({self.nested[name]}), not text, numbers or "
                "dates; flatten it (or leave it out); nothing was imported",
                details={"file": self.name, "column": name},
            )
        return f"c{i}"

    def row_json_sql(self, alias: str = "") -> str:
        """SQL of the raw row as a JSON object (header name -> raw text)."""
        pre = f"{alias}." if alias else ""
        args = ", ".join(f"{quote_literal(c)}, {pre}c{i}" for i, c in enumerate(self.columns))
        return f"CAST(json_object({args}) AS VARCHAR)" if args else "'{}'"


@dataclass
class _CsvHead:
    """What the first lines of a CSV file told: where its UTF-8 text is, the encoding (and whether
    that choice is final), the delimiter, the header's place and names."""

    src: Path
    enc: str
    final: bool
    delim: str
    head: _Scan
    names: list[str]


def expand_paths(paths: list[Path], limits: ImportLimits = DEFAULT_LIMITS) -> list[Path]:
    """Files to import: each file as given, each directory's supported files (sorted)."""
    out: list[Path] = []
    for p in paths:
        for part in p.parts:
            size = len(os.fsencode(part))
            if size > limits.max_name_bytes:
                raise UserError(
                    f"the name {part[:40]}… is {size} bytes long, more than the {limits.max_name_bytes} bytes "
                    "a file name may have; rename the file",
                    details={"bytes": size, "limit": limits.max_name_bytes},
                )
        try:
            out.extend(_files_of(p))
        except OSError as exc:
            raise UserError(f"cannot read {p.name}: {exc.strerror or exc}", details={"file": p.name}) from None
    return out


def _files_of(p: Path) -> list[Path]:
    """A file as given, or a directory's supported files (sorted)."""
    if p.is_dir():
        files = sorted(
            f for f in p.iterdir() if f.is_file() and not f.name.startswith(".") and file_kind(f) is not None
        )
        if not files:
            raise UserError(f"{p} has no CSV, XLSX or Parquet files to import")
        return files
    if not p.exists():
        raise UserError(f"{p} does not exist")
    if file_kind(p) is None:
        raise UserError(f"{p.name} is not a file Sanjeh can import; use CSV (.csv, .tsv, .txt), XLSX or Parquet")
    return [p]


def file_kind(path: Path) -> str | None:
    s = path.suffix.lower()
    if s in CSV_SUFFIXES:
        return "csv"
    if s in XLSX_SUFFIXES:
        return "xlsx"
    if s in PARQUET_SUFFIXES:
        return "parquet"
    return None


#: The scratch folders of imports (DuckDB's spill files, converted sheets) in the system's temp dir.
SCRATCH_PREFIX = "sanjeh-import-"
#: A folder without its lock file this old is an earlier version's (or a creation that died).
_UNLOCKED_AGE_S = 24 * 3600


class Scratch:
    """An import's scratch folder, holding an exclusive lock on a file in it while it lives.

    An import killed mid-way (SIGKILL, a lost machine) cannot remove its folder, and DuckDB's
    spill files in it may be gigabytes. So each new folder first sweeps the ones whose lock no
    process holds any more: the kernel releases a dead process's lock, whatever its PID namespace,
    so a running import's folder is never taken."""

    def __init__(self) -> None:
        sweep_scratch()
        self.path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        # removed on close, or when the object is collected or the interpreter exits without it
        self._done = weakref.finalize(self, _remove, self.path, _lock(self.path))

    def close(self) -> None:
        self._done()


def _remove(folder: str, fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
    shutil.rmtree(folder, ignore_errors=True)


def _lock(folder: str) -> int | None:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): folders of killed imports stay
        return None
    fd = os.open(os.path.join(folder, ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def sweep_scratch(root: str | None = None) -> list[str]:
    """Remove the scratch folders of imports that died; the ones removed."""
    try:
        import fcntl
    except ImportError:
        return []
    gone: list[str] = []
    base = Path(root or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for folder in base.glob(SCRATCH_PREFIX + "*"):
            with contextlib.suppress(OSError):
                if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                    continue
                lock = folder / ".lock"
                if not lock.exists():
                    if dt.datetime.now().timestamp() - folder.stat().st_mtime > _UNLOCKED_AGE_S:
                        shutil.rmtree(folder, ignore_errors=True)
                        gone.append(str(folder))
                    continue
                fd = os.open(lock, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:  # a live import holds it
                    continue
                finally:
                    os.close(fd)
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(str(folder))
    return gone


class Reader:
    """Stages files into one DuckDB connection; temp files live until :meth:`close`."""

    def __init__(
        self,
        con: Any,
        *,
        encoding: str | None = None,
        sheet: str | None = None,
        limits: ImportLimits = DEFAULT_LIMITS,
    ) -> None:
        self.con = con
        self.encoding = encodings.text_encoding(encoding) if encoding else None
        self.sheet = sheet
        self.limits = limits
        self._wide: dict[Path, str] = {}  # files found to be UTF-16/32 (their encoding)
        self._n = 0
        self._tmp = Scratch()
        self._owned: list[tuple[str, str]] = []  # ("TABLE" | "VIEW", name), in creation order
        self._heads: dict[str, _CsvHead] = {}  # staged files whose rows are not read yet

    @property
    def tmp_dir(self) -> str:
        return self._tmp.path

    def drop(self, staged: StagedFile) -> None:
        """Drop a staged file (its view and the tables behind it) once nothing reads it any more."""
        prefix = staged.relation
        mine = [(k, n) for k, n in self._owned if n == prefix or n.startswith(prefix + "_")]
        for kind, name in sorted(mine, key=lambda kn: kn[0] != "VIEW"):  # views first
            with contextlib.suppress(Exception):
                self.con.execute(f"DROP {kind} IF EXISTS {name}")
            self._owned.remove((kind, name))

    def close(self) -> None:
        for kind, name in sorted(self._owned, key=lambda kn: kn[0] != "VIEW"):
            with contextlib.suppress(Exception):
                self.con.execute(f"DROP {kind} IF EXISTS {name}")
        self._owned.clear()
        self._tmp.close()

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"__sanjeh_{prefix}_{self._n}"

    def stage(self, path: Path) -> StagedFile:
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(encodings.HEAD)
        except OSError as exc:
            raise ImportRefused(f"cannot read {path.name}: {exc.strerror or exc}") from exc
        if size == 0:
            raise ImportRefused(f"{path.name} is empty (0 bytes); nothing was imported")
        kind = file_kind(path)
        if kind == "xlsx":
            return self._stage_xlsx(path)
        if kind == "parquet":
            return self._stage_parquet(path)
        wide = None if self.encoding else encodings.sniff_wide(head)
        if wide:
            self._wide[path] = wide
        elif not (self.encoding and encodings.is_wide(self.encoding)):
            nul = encodings.first_nul_line(head, 0)
            if nul is not None:
                raise encodings.nul_refusal(path.name, nul)
        return self._stage_csv(path)

    # -- CSV -----------------------------------------------------------------------
    def _utf8_source(self, path: Path, *, whole: bool) -> tuple[Path, str, bool]:
        """A UTF-8 file with the same text (the file itself, or a transcoded temp copy), its
        encoding, and whether that choice is final.

        A file is read as UTF-8 when every byte of it is valid UTF-8, else as Windows-1256 when
        none of its lines is UTF-8 text, and refused when it mixes both (unless an encoding is
        forced, or it is UTF-16/32: :mod:`sanjeh.ingest.encodings`). Checking every byte in
        Python is slow on large files, so unless ``whole`` only the first 64 KiB are checked
        here: the choice is then tentative, and DuckDB's CSV reader, which validates every
        value, tells whether the rest is UTF-8 too (:meth:`load` then comes back with ``whole``).
        """
        forced = self.encoding or self._wide.get(path)
        if forced:
            enc = forced
        elif not whole and encodings.head_is_utf8(path):
            return path, "utf-8", False
        else:
            enc = encodings.whole_file_encoding(path)
            if enc == "utf-8":
                return path, enc, True
        if enc in ("utf-8", "utf-8-sig"):
            bad = encodings.first_utf8_error(path)
            if bad is not None:
                line, byte = bad
                raise ImportRefused(
                    f"{path.name} is not valid {forced or 'UTF-8'}: line {line} has the byte 0x{byte:02x}; "
                    "it may be Windows-1256 (encoding cp1256); nothing was imported"
                )
            return path, "utf-8", True
        out = Path(self._tmp.path) / f"{self._n}-{path.stem}.utf8.csv"
        encodings.transcode(path, enc, out)
        return out, enc, True

    def _csv_head(self, path: Path, *, whole: bool = False) -> _CsvHead:
        """Encoding, header and delimiter of a CSV file (reads its first lines only)."""
        src, enc, final = self._utf8_source(path, whole=whole)
        head = _Scan(src, name=path.name)
        header = head.header_text()
        if header is None:
            raise ImportRefused(f"{path.name} has no header line; nothing was imported")
        header_text = header.lstrip("\ufeff")
        delim = _detect_delimiter(header_text)
        try:
            names = [n.strip().lstrip("\ufeff") for n in _fields(header_text, delim)]
        except csv.Error:
            raise ImportRefused(
                f"{path.name}: its header line cannot be split into column names (a carriage return inside it?); "
                "nothing was imported"
            ) from None
        names = [n or f"column{i + 1}" for i, n in enumerate(names)]
        self._check_width(path, len(names))
        _unique_header(path, names)
        return _CsvHead(src, enc, final, delim, head, names)

    def _stage_csv(self, path: Path) -> StagedFile:
        """The header now; the rows when :meth:`load` is called (just before a table reads them),
        so that only the files being checked are staged at a time."""
        h = self._csv_head(path)
        sf = StagedFile(path, self._name("csv"), h.names, 0, [], h.enc, loaded=False, delimiter=h.delim)
        self._heads[sf.relation] = h
        return sf

    def load(self, sf: StagedFile) -> None:
        """Read the rows of a staged file whose header only was read (a no-op once loaded)."""
        if sf.loaded:
            return
        h = self._heads.pop(sf.relation)
        while True:
            done = self._csv_rows(sf, h)
            if done:
                break
            # not UTF-8 after all (DuckDB's reader found a byte that is not): decide on every byte
            h = self._csv_head(sf.path, whole=True)
            if h.names != sf.columns:
                raise ImportRefused(
                    f"{sf.name} mixes encodings: its header reads as UTF-8 but a later line does not; "
                    "save it in one encoding (or pass the encoding); nothing was imported"
                )
        sf.encoding = h.enc
        sf.loaded = True

    def _read_csv_sql(self, sf: StagedFile, h: _CsvHead) -> str:
        """DuckDB's reading of the rows (columns c0.., all text; bad rows to ``<relation>_rj``).

        The read buffer is twice the record limit: DuckDB's default is 16 times the longest line,
        so with the 16 MiB limit a file under 256 MB sat in one buffer and was read by one thread.
        (A line longer than the buffer is dropped by DuckDB without a reject; the file's scan then
        finds it, :meth:`_unsplittable`. docs/import.md, "Speed and memory", item 12.)"""
        cols = "{" + ", ".join(f"{quote_literal(f'c{i}')}: 'VARCHAR'" for i in range(len(h.names))) + "}"
        return (
            f"read_csv({quote_literal(str(h.src))}, delim={quote_literal(h.delim)}, quote='\"', escape='\"', header=true, "
            f"skip={h.head.header_line - 1}, auto_detect=false, columns={cols}, store_rejects=true, "
            f"rejects_table={quote_literal(sf.relation + '_rj')}, rejects_scan={quote_literal(sf.relation + '_rs')}, "
            f"max_line_size={int(self.limits.max_record_bytes)}, buffer_size={2 * int(self.limits.max_record_bytes)})"
        )

    def stream_sql(self, sf: StagedFile) -> str | None:
        """The rows of a CSV file not read yet, straight from the file, as a relation with the
        staged columns (``__line`` NULL: the caller numbers the rows by position); None for
        other files. One statement may read it, then :meth:`streamed` says whether that
        reading holds; if not (or if the statement fails), :meth:`load` stages the file as usual.

        Reading a large file once, straight into its table's check, spares writing it to a temp
        table and reading it back (which spills to disk beyond DuckDB's memory limit).
        """
        h = self._heads.get(sf.relation)
        if h is None or sf.loaded:
            return None
        cols = ", ".join(f"c{i}" for i in range(len(h.names)))
        return f"(SELECT CAST(NULL AS BIGINT) AS __line{', ' + cols if cols else ''} FROM {self._read_csv_sql(sf, h)})"

    def streamed(self, sf: StagedFile, rows: int) -> int | None:
        """After :meth:`stream_sql` was read once and gave ``rows`` rows in the file's order:
        the line of the first row when every row is one line and the reader rejected none
        (the usual file; row ``i`` is then on that line + ``i``), else None."""
        h = self._heads[sf.relation]
        try:
            rejected = int(self.con.execute(f"SELECT count(*) FROM {sf.relation}_rj").fetchone()[0])
        finally:
            self._drop_reader_rejects(sf)
        if rejected or _Scan.one_line_rows(h.src, h.head, rows, sf.name) is None:
            return None
        sf.rows = rows
        return h.head.header_line + 1

    def stream_failed(self, sf: StagedFile) -> None:
        """Forget a failed reading of :meth:`stream_sql` (the file is then staged with :meth:`load`)."""
        self._drop_reader_rejects(sf)

    def _drop_reader_rejects(self, sf: StagedFile) -> None:
        """Drop the tables where DuckDB's reader of ``sf`` put the rows it rejected."""
        for t in (sf.relation + "_rj", sf.relation + "_rs"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")

    def _csv_rows(self, sf: StagedFile, h: _CsvHead) -> bool:
        """Stage the rows as the view ``sf.relation``; False when the tentative UTF-8 was wrong."""
        path, src, names, delim, head = sf.path, h.src, h.names, h.delim, h.head
        rel = sf.relation
        raw, rj = rel + "_raw", rel + "_rj"
        skip = head.header_line - 1
        try:
            self.con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {self._read_csv_sql(sf, h)}")
            self._owned.append(("TABLE", raw))
            rejected = self.con.execute(
                f"SELECT min(line), count(DISTINCT line_byte_position), "
                f"min(line) FILTER (WHERE error_type = 'LINE SIZE OVER MAXIMUM'), "
                f"count(*) FILTER (WHERE error_type = 'INVALID ENCODING'), "
                f"min(line) FILTER (WHERE error_type = 'UNQUOTED VALUE') FROM {rj}"
            ).fetchone()
            n_rows = int(self.con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0])
        except Exception as exc:
            self.con.execute(f"DROP TABLE IF EXISTS {raw}")
            self._owned = [o for o in self._owned if o[1] != raw]
            if not h.final and "unicode" in str(exc).lower():
                return False
            raise ImportRefused(f"{path.name} cannot be read as CSV ({_short(exc)}); nothing was imported") from exc
        finally:
            self._drop_reader_rejects(sf)
        if not h.final and int(rejected[3] or 0):
            self.con.execute(f"DROP TABLE {raw}")
            self._owned.remove(("TABLE", raw))
            return False
        n_rejected = int(rejected[1] or 0)
        scan = _Scan.one_line_rows(src, head, n_rows, path.name) if n_rejected == 0 else None
        if scan is None:
            scan = _Scan(src, delim=delim, n_fields=len(names), name=path.name)
        if not scan.adds_up(n_rows, n_rejected):
            scan = _Scan(src, quotes=False, delim=delim, n_fields=len(names), name=path.name)
        if not scan.adds_up(n_rows, n_rejected):
            self.con.execute(f"DROP TABLE {raw}")
            raise self._unsplittable(path.name, rejected, skip, scan)
        structural: list[StructuralReject] = []
        for line, start, stop in scan.ragged:
            if stop - start > self.limits.max_record_bytes:
                raise self._too_long(path.name, line)
            text = scan.text(start, stop)
            try:
                fields = _fields(text, delim)
            except csv.Error:  # not even Python's reader splits it: kept whole
                fields = [text]
            structural.append(StructuralReject(line, ragged_reason(len(fields), len(names)), fields))
        lines = scan.lines
        sel = ", ".join(f"s.c{i}" for i in range(len(names)))
        sel = ", " + sel if sel else ""
        if n_rows == 0 or int(lines[-1]) - int(lines[0]) == n_rows - 1:
            # one physical line per row (the usual case): the line is the row's position
            first = int(lines[0]) if n_rows else 0
            self.con.execute(
                f"CREATE TEMP VIEW {rel} AS SELECT CAST(s.rowid + {first} AS BIGINT) AS __line{sel} FROM {raw} s"
            )
        else:
            ln = rel + "_ln"
            view = ln + "_src"
            self.con.register(view, pa.table({"line": pa.array(lines)}))
            try:
                self.con.execute(f"CREATE TEMP TABLE {ln} AS SELECT line FROM {view}")
            finally:
                self.con.unregister(view)
            self._owned.append(("TABLE", ln))
            self.con.execute(
                f"CREATE TEMP VIEW {rel} AS SELECT l.line AS __line{sel} FROM {raw} s POSITIONAL JOIN {ln} l"
            )
        self._owned.append(("VIEW", rel))
        sf.rows, sf.structural = n_rows, structural
        return True

    def _check_width(self, path: Path, columns: int) -> None:
        if columns > self.limits.max_columns:
            raise ImportRefused(
                f"{path.name} has {columns:,} columns, more than the {self.limits.max_columns:,} an import reads; "
                "nothing was imported",
                details={"file": path.name, "columns": columns, "limit": self.limits.max_columns},
            )

    def _too_long(self, name: str, line: int) -> ImportRefused:
        return ImportRefused(
            f"{name}: the row on line {line} is longer than {mib(self.limits.max_record_bytes)}, the most one row "
            "may take (is a quote never closed?); nothing was imported",
            details={"file": name, "line": line, "limit": self.limits.max_record_bytes},
        )

    def _unsplittable(self, name: str, rejected: tuple[Any, ...], skip: int, lines: _Scan) -> ImportRefused:
        """Why DuckDB's reader and the record scan do not agree on a file's rows, in one sentence
        (``lines``: the file scanned line by line, quotes ignored)."""
        if rejected[2] is not None:
            return self._too_long(name, int(rejected[2]) + skip)
        if lines.longest[0] > self.limits.max_record_bytes:
            # DuckDB drops a line longer than its read buffer without naming it: the scan does
            return self._too_long(name, lines.longest[1])
        if rejected[4] is not None:
            line = int(rejected[4]) + skip
            return ImportRefused(
                f"{name}: the quote opened on line {line} is never closed, so the rows after it cannot be told "
                "apart; nothing was imported",
                details={"file": name, "line": line},
            )
        where = f" near line {int(rejected[0]) + skip}" if rejected[0] is not None else ""
        return ImportRefused(
            f"{name} cannot be split into rows reliably{where} (is a quote never closed?); nothing was imported",
            details={"file": name},
        )

    # -- XLSX ----------------------------------------------------------------------
    def _stage_xlsx(self, path: Path) -> StagedFile:
        """The sheet's rows, written to the staging table in batches of Arrow columns (only one
        batch of cells is held in Python at a time)."""
        rel = self._name("tab")
        names: list[str] | None = None
        structural: list[StructuralReject] = []
        lines: list[int] = []
        cols: list[list[str | None]] = []
        n_rows = 0
        for line, values in sheet_rows(path, self.sheet, self.limits):
            if names is None:
                names = [(v or "").strip() or f"column{i + 1}" for i, v in enumerate(values)]
                self._check_width(path, len(names))
                _unique_header(path, names)
                cols = [[] for _ in names]
                continue
            if len(values) > len(names):
                structural.append(
                    StructuralReject(line, ragged_reason(len(values), len(names)), [v or "" for v in values])
                )
                continue
            values += [None] * (len(names) - len(values))
            for c, v in zip(cols, values, strict=True):
                c.append(v)
            lines.append(line)
            if len(lines) >= self.limits.xlsx_batch_rows:
                self._append_batch(rel, lines, cols, first=n_rows == 0)
                n_rows += len(lines)
                lines, cols = [], [[] for _ in names]
        if names is None:
            raise ImportRefused(f"{path.name} has no header row; nothing was imported")
        if lines or n_rows == 0:
            self._append_batch(rel, lines, cols, first=n_rows == 0)
            n_rows += len(lines)
        return StagedFile(path, rel, names, n_rows, structural, "xlsx")

    def _append_batch(self, rel: str, lines: list[int], cols: list[list[str | None]], *, first: bool) -> None:
        """Write one batch of rows to the staging table ``rel`` (created by the first batch)."""
        data = {"__line": pa.array(lines, pa.int64())}
        data.update({f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)})
        view = rel + "_src"
        self.con.register(view, pa.table(data))
        try:
            if first:
                self.con.execute(f"CREATE TEMP TABLE {rel} AS SELECT * FROM {view}")
                self._owned.append(("TABLE", rel))
            else:
                self.con.execute(f"INSERT INTO {rel} SELECT * FROM {view}")
        finally:
            self.con.unregister(view)

    # -- database rows ---------------------------------------------------------------
    def stage_rows(self, label: str, names: list[str], batches: Iterator[list[tuple[Any, ...]]]) -> StagedFile:
        """Rows of a database source (:mod:`sanjeh.ingest.sources`), every value as text (dates in ISO
        form, as an XLSX cell's); the row number is the line."""
        path = Path(label)
        self._check_width(path, len(names))
        _unique_header(path, names)
        rel = self._name("db")
        n_rows = 0
        for rows in batches:
            lines = list(range(n_rows + 1, n_rows + len(rows) + 1))
            cols = [[_db_text(r[i]) for r in rows] for i in range(len(names))]
            self._append_batch(rel, lines, cols, first=n_rows == 0)
            n_rows += len(rows)
        if n_rows == 0:
            self._append_batch(rel, [], [[] for _ in names], first=True)
        return StagedFile(path, rel, names, n_rows, [], "database")

    # -- Parquet -------------------------------------------------------------------
    def _stage_parquet(self, path: Path) -> StagedFile:
        """Every column as text. A column of nested values (struct, list, map) is not read as text:
        the file is refused if a table reads it (:meth:`StagedFile.column_sql`). A row with a NUL
        character in a value is rejected (no warehouse text may hold one)."""
        src = f"read_parquet({quote_literal(str(path))}, file_row_number=true)"
        damaged = ImportRefused(
            f"{path.name} cannot be read as a Parquet file (it is damaged, or not Parquet); nothing was imported",
            details={"file": path.name},
        )
        try:
            described = self.con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
        except Exception as exc:
            raise damaged from exc
        names = [str(r[0]) for r in described if r[0] != "file_row_number"]
        self._check_width(path, len(names))
        types = {str(r[0]): str(r[1]) for r in described}
        nested = {n: types[n] for n in names if _is_nested(types[n].upper())}
        sel = []
        for i, n in enumerate(names):
            col = quote_ident(n)
            if n in nested:
                expr = "CAST(NULL AS VARCHAR)"
            elif types[n].upper().startswith("TIMESTAMP WITH TIME ZONE"):
                expr = f"strftime(timezone('UTC', {col}), '%Y-%m-%dT%H:%M:%S.%fZ')"
            else:
                expr = f"CAST({col} AS VARCHAR)"
            sel.append(f"{expr} AS c{i}")
        rel = self._name("pq")
        cols = ", ".join(sel)
        try:
            self.con.execute(
                f"CREATE TEMP TABLE {rel} AS SELECT CAST(file_row_number + 1 AS BIGINT) AS __line"
                f"{', ' + cols if cols else ''} FROM {src} ORDER BY file_row_number"
            )
        except Exception as exc:
            raise damaged from exc
        self._owned.append(("TABLE", rel))
        structural = self._nul_rows(rel, names, nested)
        n_rows = int(self.con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0])
        sf = StagedFile(path, rel, names, n_rows, structural, "parquet")
        sf.nested = nested
        return sf

    def _nul_rows(self, rel: str, names: list[str], nested: dict[str, str]) -> list[StructuralReject]:
        """Take the rows with a NUL character in a value out of the staged table ``rel``, as rejects."""
        text = [f"c{i}" for i, n in enumerate(names) if n not in nested]
        if not text:
            return []
        has_nul = " OR ".join(f"contains({c}, chr(0))" for c in text)
        rows = self.con.execute(f"SELECT __line, {', '.join(text)} FROM {rel} WHERE {has_nul} ORDER BY __line")
        out = []
        for line, *values in rows.fetchall():
            column = next(names[int(c[1:])] for c, v in zip(text, values, strict=True) if v and "\x00" in v)
            out.append(
                StructuralReject(
                    int(line),
                    f"the value of {column} holds a NUL character (U+0000), which no text may hold",
                    [v or "" for v in values],
                )
            )
        if out:
            self.con.execute(f"DELETE FROM {rel} WHERE {has_nul}")
        return out


def _db_text(v: Any) -> str | None:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8", errors="replace")
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.isoformat(sep=" ")
    return cell_text(v)


def ragged_reason(fields: int, header: int) -> str:
    return f"row has {fields} field{'' if fields == 1 else 's'}, the header has {header}"


def _fields(text: str, delim: str) -> list[str]:
    """The fields of one CSV record (Python's reader; ``csv.Error`` when it cannot split it)."""
    return next(csv.reader([text], delimiter=delim), [])


def _is_nested(duckdb_type: str) -> bool:
    """Is a column of this DuckDB type one of nested values (struct, list, array, map, union)?"""
    return duckdb_type.startswith(("STRUCT", "MAP", "UNION")) or duckdb_type.endswith("]")


def _unique_header(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise ImportRefused(f"{path.name} has the column {n!r} twice in its header; nothing was imported")
        seen.add(n.lower())


def _short(exc: BaseException) -> str:
    """The first line of a reader's error, without its kind or any file path (for a sentence)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", text)
    text = re.sub(r"""(?:[A-Za-z]:)?(?:/[^\s'"/]+)+/?""", "…", text)
    return text[:200].rstrip(" .;:")


def _detect_delimiter(header: str) -> str:
    """The delimiter used most often in the header line outside quotes (ties: , then ; then tab)."""
    outside = []
    in_quote = False
    for ch in header:
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote:
            outside.append(ch)
    text = "".join(outside)
    counts = [(text.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


class _Scan:
    """Record boundaries of a UTF-8 CSV file, found chunk by chunk with vectorised numpy scans.

    A record ends at a newline outside quotes (an even number of ``"`` before it in the
    file); blank records are skipped as CSV readers do. A record's line is the physical
    line (1-based) where it starts, counting quoted newlines. The file is read in chunks
    of ``_CHUNK`` bytes, so memory does not grow with the file: only the line of each
    well-formed row (8 bytes a row) and the places of the ragged rows are kept.

    Without a delimiter the scan stops at the header (the first non-blank record).
    With one, every later record is counted: ``lines`` of the rows with ``n_fields``
    fields, ``ragged`` (line, start, stop) of the others.
    """

    def __init__(
        self, path: Path, *, quotes: bool = True, delim: str | None = None, n_fields: int = 0, name: str = ""
    ) -> None:
        self.path = path
        self.header: tuple[int, int, int] | None = None  # (line, start, stop)
        self.ragged: list[tuple[int, int, int]] = []
        self.records = 0  # data records (not the header, not blank)
        self.longest = (0, 0)  # (bytes, line) of the longest record, the header included
        lines: list[np.ndarray] = []
        dbyte = ord(delim) if delim else -1
        parity = 0  # quotes seen so far, mod 2
        nl_before = 0  # newlines in earlier chunks
        rec_start, rec_line, rec_delims = 0, 1, 0  # the record still open at a chunk's start
        prev_last = -1  # last byte of the previous chunk
        base = 0
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                nul = encodings.first_nul_line(chunk, nl_before)
                if nul is not None:
                    raise encodings.nul_refusal(name or path.name, nul)
                buf = np.frombuffer(chunk, dtype=np.uint8)
                nl = np.flatnonzero(buf == 10)
                dl = np.flatnonzero(buf == dbyte) if dbyte >= 0 else np.empty(0, dtype=np.int64)
                if quotes:
                    q = np.flatnonzero(buf == 34)
                    end_idx = np.flatnonzero((np.searchsorted(q, nl) + parity) % 2 == 0)
                    if len(dl):
                        dl = dl[(np.searchsorted(q, dl) + parity) % 2 == 0]
                    parity = (parity + len(q)) % 2
                else:
                    end_idx = np.arange(len(nl))
                ends = nl[end_idx]
                if len(ends):
                    starts_g = np.concatenate(([rec_start], base + ends[:-1] + 1)).astype(np.int64)
                    stops_g = (base + ends).astype(np.int64)
                    rec_lines = np.concatenate(([rec_line], nl_before + end_idx[:-1] + 2)).astype(np.int64)
                    cum = np.searchsorted(dl, ends)
                    delims = np.diff(np.concatenate(([0], cum)))
                    delims[0] += rec_delims
                    lens = stops_g - starts_g
                    i = int(np.argmax(lens))
                    if lens[i] > self.longest[0]:
                        self.longest = (int(lens[i]), int(rec_lines[i]))
                    lastb = np.where(ends > 0, buf[np.maximum(ends - 1, 0)], prev_last)
                    keep = (lens - ((lens > 0) & (lastb == 13))) > 0
                    if self._take(starts_g[keep], stops_g[keep], rec_lines[keep], delims[keep] + 1, n_fields, lines):
                        return
                    rec_start = base + int(ends[-1]) + 1
                    rec_line = nl_before + int(end_idx[-1]) + 2
                    rec_delims = len(dl) - int(cum[-1])
                else:
                    rec_delims += len(dl)
                nl_before += len(nl)
                prev_last = int(buf[-1])
                base += len(buf)
        n = base - rec_start
        if n > self.longest[0]:
            self.longest = (n, rec_line)
        if n - (1 if n > 0 and prev_last == 13 else 0) > 0:
            one = np.array([rec_start], dtype=np.int64)
            self._take(one, np.array([base]), np.array([rec_line]), np.array([rec_delims + 1]), n_fields, lines)
        self.lines = np.concatenate(lines) if lines else np.empty(0, dtype=np.int64)

    @classmethod
    def one_line_rows(cls, path: Path, head: _Scan, rows: int, name: str = "") -> _Scan | None:
        """The scan of a file whose every data row is one physical line, without scanning it;
        None when that is not so.

        Counting newlines is enough to know: every row takes one line or more, so when the
        lines after the header are exactly as many as the rows the CSV reader accepted (and
        none rejected), no row spans lines and no line is blank.
        """
        if head.header is None or b"\n" in head.raw(head.header[1], head.header[2]):
            return None
        newlines, last = 0, b""
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                nul = encodings.first_nul_line(chunk, newlines)
                if nul is not None:
                    raise encodings.nul_refusal(name or path.name, nul)
                newlines += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == 10))  # 2.5x bytes.count
                last = chunk[-1:]
        lines = newlines + (0 if last in (b"\n", b"") else 1)
        if lines != head.header_line + rows:
            return None
        scan = cls.__new__(cls)
        scan.path, scan.header, scan.ragged, scan.records = path, head.header, [], rows
        scan.longest = (0, 0)  # not measured: every row was read, none is over the limit
        scan.lines = np.arange(head.header_line + 1, head.header_line + 1 + rows, dtype=np.int64)
        return scan

    def _take(
        self,
        starts: np.ndarray,
        stops: np.ndarray,
        lines: np.ndarray,
        fields: np.ndarray,
        n_fields: int,
        out: list[np.ndarray],
    ) -> bool:
        """Count these non-blank records; True when the scan can stop (header found, no delimiter)."""
        if not len(starts):
            return False
        if self.header is None:
            self.header = (int(lines[0]), int(starts[0]), int(stops[0]))
            if n_fields <= 0:
                self.lines = np.empty(0, dtype=np.int64)
                return True
            starts, stops, lines, fields = starts[1:], stops[1:], lines[1:], fields[1:]
        self.records += len(starts)
        bad = fields != n_fields
        if bad.any():
            self.ragged += list(zip(lines[bad].tolist(), starts[bad].tolist(), stops[bad].tolist(), strict=True))
            out.append(lines[~bad])
        else:
            out.append(lines)
        return False

    def raw(self, start: int, stop: int) -> bytes:
        with self.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(stop - start)

    def text(self, start: int, stop: int) -> str:
        return self.raw(start, stop).decode("utf-8", errors="replace").rstrip("\r")

    @property
    def header_line(self) -> int:
        return self.header[0] if self.header else 0

    def header_text(self) -> str | None:
        return None if self.header is None else self.text(self.header[1], self.header[2])

    def adds_up(self, accepted: int, rejected: int) -> bool:
        """Do these records add up to what the CSV parser accepted and rejected?"""
        return len(self.ragged) == rejected and self.records - len(self.ragged) == accepted
