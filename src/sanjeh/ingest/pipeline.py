"""``run_import``: files -> staging -> validated tables -> parked -> one warehouse transaction.

Tables are checked one at a time (parents first), in the staging engine (ingest/staging.py). A
table's checked rows are written once, where its accepted rows are *parked* (a shadow table of the
warehouse when the staging connection is the warehouse's own, outside any transaction; a temp
table of the staging connection otherwise); its rejected rows are then
deleted and the helper columns dropped, so one table's work is held at a time. The final
transaction moves every parked table into place (a rename when the table was empty or is
replaced) and stores rejects, warnings and the log row: all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from sanjeh.errors import ImportRefused, InternalError, UserError
from sanjeh.ingest import normalize
from sanjeh.ingest.encodings import text_encoding
from sanjeh.ingest.formats import failure_reason_sql
from sanjeh.ingest.limits import DEFAULT_LIMITS, ImportLimits
from sanjeh.ingest.load import Loader
from sanjeh.ingest.normalize import tentative_mark
from sanjeh.ingest.plan import SourcePart
from sanjeh.ingest.read import Reader, StagedFile, expand_paths
from sanjeh.ingest.results import REJECT_KEYS, WARNING_KEYS, ImportSummary, TableCounts
from sanjeh.ingest.sources import DbSource, larger, mark_text, mark_value, read_rows
from sanjeh.ingest.staging import Staging, StagingError
from sanjeh.ingest.validate import SQL_TYPES, CheckOptions, check_sql, fill_defaults_sql, rule_checks, text_value_sql
from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME, Table
from sanjeh.schema import table as schema_table
from sanjeh.warehouse import Warehouse, quote_ident, quote_literal, shadow_name

if TYPE_CHECKING:
    from sanjeh.settings import Settings

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ImportOptions:
    """What an import needs of its workspace besides the warehouse (``Workspace.import_options``)."""

    #: the time zone of timestamps written without one
    timezone: str
    #: the workspace's currency (a mapping in another is refused; in IRR "ten rials" words count ×10)
    currency: str
    #: the workspace folder, where its own mappings are (None: only the shipped mappings by name)
    root: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> ImportOptions:
        return cls(timezone=settings.timezone, currency=settings.currency, root=settings.root)


def _dup_column(t: Table) -> str:
    """The column a duplicate-key reject names."""
    return t.key[-1] if t.name == "order_lines" else t.key[0]


def header_key(name: str) -> str:
    """How a CSV header names a canonical column: case, spaces and hyphens do not matter."""
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def run_import(
    wh: Warehouse,
    options: ImportOptions,
    paths: Sequence[Path | str],
    *,
    mapping: str | Path | None = None,
    table: str | None = None,
    replace: bool = False,
    force: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    dry_run: bool = False,
) -> ImportSummary:
    """Import files or directories into the warehouse ``wh`` (of a workspace with ``options``);
    all or nothing (one transaction).
    ``replace`` empties each imported table first (refused when it would empty a table or orphan
    child rows, unless ``force``: docs/import.md); ``limits`` bound what the import reads
    (:mod:`sanjeh.ingest.limits`). ``dry_run`` makes every check and returns the summary with the
    rejects and warnings (``summary.rejects``, ``summary.warning_rows``) but writes nothing: the
    warehouse is left as it was, byte for byte."""
    if not paths and mapping is None:
        raise UserError(key="workspace.import_nothing")
    if not wh.transactional:  # Spark: refused before any work
        raise UserError(key="workspace.spark_import")
    if table is not None:
        schema_table(table)  # unknown table -> a clear UserError
    if encoding is not None:
        text_encoding(encoding)  # a clear UserError before any work
    files = expand_paths([Path(p).expanduser() for p in paths], limits)
    job = _Import(
        wh,
        options,
        files,
        encoding=encoding,
        sheet=sheet,
        progress=progress,
        replace=replace,
        force=force,
        limits=limits,
        dry_run=dry_run,
    )
    try:
        return job.run(mapping=mapping, table=table)
    finally:
        job.close()


class _Import:
    def __init__(
        self,
        wh: Warehouse,
        options: ImportOptions,
        files: list[Path],
        *,
        encoding: str | None,
        sheet: str | None,
        progress: Progress | None,
        replace: bool,
        force: bool,
        limits: ImportLimits,
        dry_run: bool = False,
    ) -> None:
        self.wh = wh
        self.options = options
        self.dry_run = dry_run
        self.staging = Staging.open(wh)
        self.con: Any = self.staging.con
        #: the checked tables are written in the warehouse (shadow tables) only by a real import that
        #: stages in the warehouse's own connection; a dry run keeps them in temp tables, so the
        #: warehouse is never written
        self.shadows = self.staging.shared and not dry_run
        self.files = files
        self.replace = replace
        self.force = force
        self.progress = progress or (lambda _msg, _frac: None)
        self.import_id = uuid.uuid4().hex
        self.started = dt.datetime.now()
        self.opts = CheckOptions(
            timezone=options.timezone,
            toman_times_ten=options.currency.upper() == "IRR",
        )
        self.reader = Reader(self.con, encoding=encoding, sheet=sheet, limits=limits)
        self.staging.limit_memory(self.files, self.reader.tmp_dir)
        self.temps: list[str] = []
        self._joins_checked: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self.accepted: dict[str, str] = {}  # table -> its checked, then parked, rows (_checked_table)
        self.staged: dict[Path, StagedFile] = {}
        self.marks: dict[str, Any] = {}  # a database source's key -> the largest changed_since value read
        self.db_labels: list[str] = []
        self.rej = self._temp("rej")
        self.warn = self._temp("warn")
        self.con.execute(
            f"CREATE TEMP TABLE {self.rej} (import_id VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT, "
            "column_name VARCHAR, value VARCHAR, mapped_value VARCHAR, reason VARCHAR, row_json VARCHAR)"
        )
        self.con.execute(
            f"CREATE TEMP TABLE {self.warn} (import_id VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT, "
            "column_name VARCHAR, value VARCHAR, reason VARCHAR)"
        )

    def _temp(self, what: str) -> str:
        name = f"__sanjeh_{what}_{len(self.temps)}"
        self.temps.append(name)
        return name

    def close(self) -> None:
        self.staging.drop_quietly(self.temps)
        if self.shadows:  # shadows: moved into place by a successful import, left by a failed one
            self.staging.drop_quietly(list(self.accepted.values()))
        self.reader.close()
        self.staging.close()

    def stage_db(self, src: DbSource, key: str) -> StagedFile:
        """Read a database source's rows into staging; with ``changed_since`` only those changed since
        the mark its last import stored (all of them with ``replace``), keeping the new mark."""
        since = None if self.replace or src.changed_since is None else self._last_mark(key)
        names, batches = read_rows(src, since)
        mark = since
        if src.changed_since is not None:
            i = names.index(src.changed_since)

            def marked() -> Iterator[list[tuple[Any, ...]]]:
                nonlocal mark
                for rows in batches:
                    for r in rows:
                        mark = larger(mark, r[i])
                    yield rows

            sf = self.reader.stage_rows(src.label, names, marked())
            if mark is not None:
                self.marks[key] = mark
        else:
            sf = self.reader.stage_rows(src.label, names, batches)
        self.db_labels.append(sf.name)
        return sf

    def _last_mark(self, key: str) -> Any:
        """The mark the latest import of the database source ``key`` stored (None: never imported)."""
        m, i = self.wh.table("_source_marks"), self.wh.table("_imports")
        last = (
            m.filter(m.source == key)
            .join(i, m.import_id == i.import_id)
            .order_by(ibis.desc(i.finished_at))
            .select(m.mark)
            .limit(1)
        )
        rows = last.to_pyarrow().column(0).to_pylist()
        return mark_value(rows[0]) if rows else None

    def stage(self, path: Path) -> StagedFile:
        """The file's header (for planning); its rows are read when its table is checked."""
        if path not in self.staged:
            self.staged[path] = self.reader.stage(path)
        return self.staged[path]

    # -- plan ---------------------------------------------------------------------
    def run(self, *, mapping: str | Path | None, table: str | None) -> ImportSummary:
        ignored: list[str] = []
        if mapping is not None:
            from sanjeh.ingest.mapping import build_plan, load_mapping, resolve_mapping

            root = self.options.root
            m = load_mapping(mapping if root is None else resolve_mapping(mapping, root))
            m.check_currency(self.options.currency)
            plan, ignored = build_plan(m, self.files, self.stage, table=table, stage_db=self.stage_db)
        else:
            plan = self._direct_plan(table)
        counts: dict[str, TableCounts] = {}
        order = [t for t in IMPORT_ORDER if t in plan]
        last_use: dict[str, tuple[int, StagedFile]] = {}
        for i, name in enumerate(order):
            for part in plan[name]:
                for sf in (part.staged, *part.uses):
                    last_use[sf.relation] = (i, sf)
        for i, name in enumerate(order):
            self.progress(f"reading and checking {name}", (i + 1) / (len(order) + 1))
            counts[name] = self._check_table(TABLES_BY_NAME[name], plan[name])
            for rel, (j, sf) in list(last_use.items()):
                if j == i:  # nothing later reads this file: free its staging now
                    self.reader.drop(sf)
                    del last_use[rel]
        n_warn = int(self.con.execute(f"SELECT count(*) FROM {self.warn}").fetchone()[0])
        files = [p.name for p in self.files if p.name not in ignored] + self.db_labels
        summary = ImportSummary(self.import_id, counts, n_warn, files, ignored)
        loader = Loader(self.wh, self.staging, self.progress)
        if self.dry_run:
            loader.check(order=order, accepted=self.accepted, replace=self.replace, force=self.force, summary=summary)
            summary.dry_run = True
            summary.rejects = self._rows(self.rej, "table_name, file, line", REJECT_KEYS)
            summary.warning_rows = self._rows(self.warn, "table_name, line", WARNING_KEYS)
            self.progress("done", 1.0)
            return summary
        loader.load(
            order=order,
            accepted=self.accepted,
            replace=self.replace,
            force=self.force,
            rejects=self.rej,
            warnings=self.warn,
            log={
                "import_id": self.import_id,
                "started_at": self.started,
                "finished_at": dt.datetime.now(),
                "files": json.dumps(files, ensure_ascii=False),
            },
            summary=summary,
            marks=[(key, mark_text(mark)) for key, mark in self.marks.items()],
        )
        self.progress("done", 1.0)
        return summary

    def _rows(self, rel: str, order: str, keys: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
        """The rejects or warnings of this import as dicts (``keys``: (column, key) pairs), in the
        shape :func:`sanjeh.ingest.list_rejects` gives them."""
        cols = ", ".join(quote_ident(c) for c, _ in keys)
        got = self.con.execute(f"SELECT {cols} FROM {rel} ORDER BY {order}").fetchall()
        out = [dict(zip((k for _, k in keys), r, strict=True)) for r in got]
        for row in out:
            if "row" in row:
                row["row"] = json.loads(row["row"]) if row["row"] else None
        return out

    def _direct_plan(self, table: str | None) -> dict[str, list[SourcePart]]:
        plan: dict[str, list[SourcePart]] = {}
        for path in self.files:
            name = table or path.stem.strip().lower()
            if name not in TABLES_BY_NAME:
                raise UserError(
                    key="workspace.import_no_table",
                    params={"file": path.name, "table": name, "tables": ", ".join(IMPORT_ORDER)},
                    details={"file": path.name, "table": name, "allowed": list(IMPORT_ORDER)},
                )
            t = TABLES_BY_NAME[name]
            staged = self.stage(path)
            by_key: dict[str, str] = {}
            extra: list[str] = []
            for h in staged.columns:
                k = header_key(h)
                if k in t.column_names and k not in by_key:
                    by_key[k] = f"s.{staged.column_sql(h)}"  # a column of nested values is refused
                else:
                    extra.append(h)
            missing = [c for c in t.required if c not in by_key]
            if missing:
                raise ImportRefused(
                    f"{path.name} lacks the required column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} of table {name}; nothing was imported",
                    details={"file": path.name, "table": name, "missing": missing},
                )
            for h in extra:
                self._warn_row(name, path.name, 1, h, None, f"column {h!r} is not a column of {name}; it was ignored")
            plan.setdefault(name, []).append(SourcePart(staged, by_key))
        return plan

    def _warn_row(
        self, table: str, file: str, line: int | None, column: str | None, value: str | None, reason: str
    ) -> None:
        self.con.execute(
            f"INSERT INTO {self.warn} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [self.import_id, table, file, line, column, value, reason],
        )

    # -- one table ----------------------------------------------------------------
    def _file_sql(self, parts: list[SourcePart], fidx: str) -> str:
        """SQL of the file name of the part numbered by the SQL ``fidx``."""
        if len({p.staged.name for p in parts}) == 1:
            return quote_literal(parts[0].staged.name)
        return (
            "(CASE "
            + " ".join(f"WHEN {fidx} = {i} THEN {quote_literal(p.staged.name)}" for i, p in enumerate(parts))
            + " END)"
        )

    def _check_table(self, t: Table, parts: list[SourcePart]) -> TableCounts:
        """Stage, check and decide one table in one materialisation, written where its accepted
        rows are to be parked (:meth:`_checked_table`): the typed canonical columns and, per
        row, the first rule it breaks (``__reason``, ``__col``, ``__value``). Missing parents
        and duplicate keys are then looked for and, when there are some, marked (an UPDATE
        touches the rows that break them only). Rejects and reference warnings are stored, the
        rejected rows deleted and the helper columns dropped: what is left is the parked table.

        A table read from one plain CSV file is checked straight from the file (the usual case,
        :meth:`Reader.stream_sql`): its rows are numbered by their position in the checked table
        (``rowid``) instead of a ``__line`` column, and the file is staged only if rejects need
        its rows. When that reading does not hold (a row over several lines, a row the reader
        rejected, another encoding) the file is staged and the table checked again.
        """
        present = sorted({c for p in parts for c in p.columns})
        checked = self._checked_table(t)
        first = self._check_streamed(t, parts, present, checked)
        if first is None:
            self._check_staged(t, parts, present, checked)
        marks = self._decimal_marks(t, parts, present, checked)
        if marks:  # some values wait for their column's decimal mark: check again with it decided
            self.con.execute(f"DROP TABLE {checked}")
            self._check_staged(t, parts, present, checked, marks)
            first = None
        if first is None:
            rows, cline = checked, "c.__line"
        else:  # row i of the checked table is on line first + i of the file
            rows, cline = f"(SELECT *, rowid + {first} AS __line FROM {checked})", f"(c.rowid + {first})"
        structural_rows: list[dict[str, Any]] = []
        for part in parts:
            for sr in part.staged.structural:
                structural_rows.append(
                    {
                        "import_id": self.import_id,
                        "table_name": t.name,
                        "file": part.staged.name,
                        "line": sr.line,
                        "column_name": None,
                        "value": None,
                        "mapped_value": None,
                        "reason": sr.reason,
                        "row_json": json.dumps(sr.fields, ensure_ascii=False),
                    }
                )
        parent_rules = [r for r in t.rules if r.kind == "parent_exists"]
        fill = fill_defaults_sql(t, checked, rows, cline)
        if fill:
            self.con.execute(fill)
        if not self.replace:
            self._keep_stored_columns(t, parts, present, checked, cline)
        # parents: when a row breaks several, the last rule listed is reported, so apply them last-first
        for rule in reversed(parent_rules):
            ptable, pcol = rule.other.split(".")
            col = quote_ident(rule.column)
            valid = f"FROM {checked} AS c WHERE c.__reason IS NULL"
            known = self._known(ptable, pcol, f"SELECT DISTINCT c.{col} {valid}")
            missing = f"NOT EXISTS (SELECT 1 FROM {known} AS k WHERE k.k = c.{col})"
            if self._any(f"SELECT 1 {valid} AND {missing}"):
                self.con.execute(
                    f"UPDATE {checked} AS c SET __reason = {quote_literal(rule.reason)}, __col = {quote_literal(rule.column)}, "
                    f"__value = NULL WHERE c.__reason IS NULL AND {missing}"
                )
                self._raw_values(t, checked, cline, parts, present, rule.column)
        if t.key_unique and self._mark_duplicates(t, checked, rows, cline, parts):
            self._raw_values(t, checked, cline, parts, present, _dup_column(t))
        bad = dict(
            self.con.execute(
                f"SELECT __fidx, count(*) FROM {checked} WHERE __reason IS NOT NULL GROUP BY __fidx"
            ).fetchall()
        )
        for fidx, part in enumerate(parts):
            if not bad.get(fidx):
                continue
            sf = part.staged
            self._load([part])  # the rejected rows as they were in the file (and the files it joins)
            # the value as it stood in the file, and the value the mapping made of it where they differ
            value, joins = "r.__value", ""
            if part.sources is not None:
                whens = " ".join(
                    f"WHEN {quote_literal(c)} THEN {part.source_text_sql(c) or 'CAST(NULL AS VARCHAR)'}"
                    for c in part.columns
                )
                value = f"CASE r.__col {whens} ELSE r.__value END"
                joins = " ".join(part.joins)
            self.con.execute(
                f"INSERT INTO {self.rej} SELECT {quote_literal(self.import_id)}, {quote_literal(t.name)}, {quote_literal(sf.name)}, __line, "
                "__col, __file_value, CASE WHEN __value IS DISTINCT FROM __file_value THEN __value END, __reason, "
                f"__row FROM (SELECT r.__line, r.__col, r.__value, r.__reason, {value} AS __file_value, "
                f"{sf.row_json_sql('s')} AS __row FROM (SELECT __line, __col, __value, __reason FROM {rows} "
                f"WHERE __fidx = {fidx} AND __reason IS NOT NULL) r JOIN {sf.relation} s "
                f"ON s.__line = r.__line {joins}) ORDER BY __line"
            )
        if structural_rows:
            with self.staging.registered("__sanjeh_structural", pa.Table.from_pylist(structural_rows)) as view:
                self.con.execute(f"INSERT INTO {self.rej} SELECT * FROM {view}")
        read_rows = int(self.con.execute(f"SELECT count(*) FROM {checked}").fetchone()[0]) + len(structural_rows)
        accepted = read_rows - len(structural_rows) - sum(int(x) for x in bad.values())
        this_table = f"table_name = {quote_literal(t.name)}"
        rejected = int(self.con.execute(f"SELECT count(*) FROM {self.rej} WHERE {this_table}").fetchone()[0])
        if read_rows != accepted + rejected:
            raise InternalError(
                f"import of {t.name} does not add up: read {read_rows}, accepted {accepted}, rejected {rejected}"
            )
        self._reference_warnings(t, f"(SELECT * FROM {rows} WHERE __reason IS NULL)", self._file_sql(parts, "__fidx"))
        self._join_warnings(t, parts)
        self._distinct_warnings(t, parts, present)
        if bad:
            self.con.execute(f"DELETE FROM {checked} WHERE __reason IS NOT NULL")
        helpers = [r[0] for r in self.con.execute(f"SELECT * FROM {checked} LIMIT 0").description]
        for h in helpers[len(t.columns) :]:  # what is left is the parked table (canonical columns, in order)
            self.con.execute(f"ALTER TABLE {checked} DROP COLUMN {quote_ident(h)}")
        return TableCounts(read_rows, accepted, rejected)

    def _keep_stored_columns(
        self, t: Table, parts: list[SourcePart], present: list[str], checked: str, cline: str
    ) -> None:
        """An upsert leaves the columns a file does not carry as they are stored: a row whose key is
        stored takes the stored values of the columns its part does not map (a new row keeps
        NULL or its default). The cross-column rules are then checked again on those rows, as they
        will be stored. Nothing to do on a first import, or when every part carries every column."""
        absent = {
            fidx: [c for c in t.column_names if c not in part.columns and c not in t.key]
            for fidx, part in enumerate(parts)
        }
        absent = {fidx: cols for fidx, cols in absent.items() if cols}
        if not absent or self.wh.is_empty(t.name):
            return
        wanted = [c for c in t.column_names if any(c in cols for cols in absent.values())]
        stored = self._stored_rows(t, checked, wanted)
        on = " AND ".join(f"c.{quote_ident(k)} IS NOT DISTINCT FROM w.{quote_ident(k)}" for k in t.key)
        for fidx, cols in absent.items():
            sets = ", ".join(f"{quote_ident(c)} = w.{quote_ident(c)}" for c in cols)
            self.con.execute(f"UPDATE {checked} AS c SET {sets} FROM {stored} AS w WHERE c.__fidx = {fidx} AND {on}")
        rules = rule_checks(t, lambda c: f"c.{quote_ident(c)}")
        if not rules:
            return
        reasons = ", ".join(quote_literal(r) for _, _, r in rules)
        reason = "CASE " + " ".join(f"WHEN {cond} THEN {quote_literal(r)}" for cond, _, r in rules) + " END"
        column = "CASE " + " ".join(f"WHEN {cond} THEN {quote_literal(col)}" for cond, col, _ in rules) + " END"
        merged = f"c.__fidx IN ({', '.join(map(str, absent))}) AND EXISTS (SELECT 1 FROM {stored} AS w WHERE {on})"
        self.con.execute(
            f"UPDATE {checked} AS c SET __reason = {reason}, __col = {column}, __value = NULL "
            f"WHERE {merged} AND (c.__reason IS NULL OR c.__reason IN ({reasons}))"
        )
        for col in dict.fromkeys(col for _, col, _ in rules):
            if self._any(f"SELECT 1 FROM {checked} WHERE __col = {quote_literal(col)} AND __value IS NULL"):
                self._raw_values(t, checked, cline, parts, present, col)

    def _stored_rows(self, t: Table, checked: str, columns: list[str]) -> str:
        """A relation of the stored rows (key and ``columns``) whose key is among the checked rows."""
        cols = list(t.key) + [c for c in columns if c not in t.key]
        if self.staging.shared:  # the warehouse's tables are tables of the staging connection
            return f"(SELECT {', '.join(quote_ident(c) for c in cols)} FROM {quote_ident(t.name)})"
        keys = self.staging.arrow(f"SELECT DISTINCT {', '.join(quote_ident(k) for k in t.key)} FROM {checked}")
        found = self.wh.fetch_matching(t.name, keys, cols)
        rel = self._temp(f"stored_{t.name}")
        self.staging.copy_in(rel, found)
        return rel

    def _any(self, sql: str) -> bool:
        """Does the query return a row?"""
        return self.con.execute(f"SELECT EXISTS ({sql})").fetchone()[0] is True

    def _check_streamed(self, t: Table, parts: list[SourcePart], present: list[str], checked: str) -> int | None:
        """Check a table read from one plain CSV file straight from the file into ``checked``;
        the line of its first row, or None when the table is not read that way (nothing made)."""
        part = parts[0]
        if len(parts) > 1 or part.joins or part.uses or part.where or part.rejects or part.distinct:
            return None
        stream = self.reader.stream_sql(part.staged)
        if stream is None:
            return None
        try:
            select = self._part_sql(t, part, 0, present, relation=stream)
            self._create_checked(t, [(select, self._part_options(part))], present, checked)
            n = int(self.con.execute(f"SELECT count(*) FROM {checked}").fetchone()[0])
            first = self.reader.streamed(part.staged, n)
        except StagingError:  # e.g. not UTF-8 after all: staging the file decides (and explains)
            self.reader.stream_failed(part.staged)
            first = None
        if first is None:
            self.con.execute(f"DROP TABLE IF EXISTS {checked}")
        return first

    def _check_staged(
        self,
        t: Table,
        parts: list[SourcePart],
        present: list[str],
        checked: str,
        marks: dict[int, tuple[tuple[str, str], ...]] | None = None,
    ) -> None:
        """Stage the table's files (and those its parts join) and check them into ``checked``
        (``marks``: the decimal marks decided for some parts' columns, by part)."""
        self._load(parts)
        selects = [
            (self._part_sql(t, part, fidx, present), self._part_options(part, (marks or {}).get(fidx, ())))
            for fidx, part in enumerate(parts)
        ]
        self._create_checked(t, selects, present, checked, line=True)

    def _part_options(self, part: SourcePart, marks: tuple[tuple[str, str], ...] = ()) -> CheckOptions:
        """How a part's values are checked: the import's options, with its file's decimal marks."""
        return replace(self.opts, default_mark=tentative_mark(part.staged.delimiter), marks=marks)

    def _decimal_marks(
        self, t: Table, parts: list[SourcePart], present: list[str], checked: str
    ) -> dict[int, tuple[tuple[str, str], ...]]:
        """The decimal mark of every numeric column of the parts where a value waits for it (its
        reading depends on the mark: ``1,234``), decided from the column's values (docs/import.md
        "Numbers"); empty when no value waits (the usual case: one look at ``__reason``)."""
        numeric = [c for c in present if t.column(c).type in ("money", "decimal", "integer")]
        if not numeric:
            return {}
        waiting = self.con.execute(
            f"SELECT DISTINCT __fidx FROM {checked} WHERE __reason = {quote_literal(normalize.UNDECIDED)}"
        ).fetchall()
        if not waiting:
            return {}
        self._load(parts)
        marks: dict[int, tuple[tuple[str, str], ...]] = {}
        for (fidx,) in sorted(waiting):
            part = parts[fidx]
            counts = []
            for c in numeric:
                kind = normalize.number_kind_of(quote_ident("r_" + c), money=t.column(c).type == "money")
                counts.append(f"count(*) FILTER (WHERE {kind} = 'p'), count(*) FILTER (WHERE {kind} = 'c')")
            got = self.con.execute(f"SELECT {', '.join(counts)} FROM ({self._part_sql(t, part, fidx, present)})")
            row = got.fetchone()
            marks[fidx] = tuple(
                (c, normalize.decimal_mark(int(row[2 * i]), int(row[2 * i + 1]), part.staged.delimiter))
                for i, c in enumerate(numeric)
            )
        return marks

    def _load(self, parts: list[SourcePart]) -> None:
        """Stage the rows of the parts' files and of the files they join (once; not at planning)."""
        for part in parts:
            for sf in (part.staged, *part.uses):
                self.reader.load(sf)

    def _create_checked(
        self,
        t: Table,
        selects: list[tuple[str, CheckOptions]],
        present: list[str],
        checked: str,
        *,
        line: bool = False,
    ) -> None:
        """Write the checked rows: the canonical columns, then the helpers (``__fidx``, with
        ``line`` ``__line``, ``__reason``, ``__col``, ``__value``). A projection row by row:
        it streams (no sort, no join) and keeps the files' order. ``selects`` are the parts'
        rows with the options they are checked with (one check when all parts share them)."""
        if len({opts for _, opts in selects}) == 1:
            src = "(" + " UNION ALL ".join(sql for sql, _ in selects) + ")"
            checks = check_sql(t, src, set(present), selects[0][1])
        else:
            checks = " UNION ALL ".join(f"({check_sql(t, f'({sql})', set(present), o)})" for sql, o in selects)
        cols = ", ".join(
            f"CAST({quote_ident('v_' + c.name)} AS {SQL_TYPES[c.type]}) AS {quote_ident(c.name)}" for c in t.columns
        )
        helpers = f"__fidx, {'__line, ' if line else ''}__reason, __col, __value"
        self.con.execute(
            f"CREATE {'' if self.shadows else 'TEMP '}TABLE {checked} AS SELECT {cols}, {helpers} FROM ({checks})"
        )

    def _checked_table(self, t: Table) -> str:
        """The SQL name of the table that will hold ``t``'s checked rows and then, once the
        rejected rows are deleted and the helper columns dropped, its accepted (parked) rows.

        In a DuckDB warehouse it is a shadow table of the warehouse file, written outside any
        transaction (DuckDB is slow on tables made inside one) and invisible to users: the rows
        are written once, compressed, and the final transaction renames (or copies) it into
        place; one left by a killed import is dropped when the workspace is next opened.
        Elsewhere it is a temp table of the staging connection. Either way it is registered in
        ``accepted`` at once, so that :meth:`close` drops it if the import fails.
        """
        if self.shadows:
            rel = quote_ident(shadow_name(self.import_id, t.name))
        else:
            rel = f"__sanjeh_acc_{t.name}"
            self.temps.append(rel)
        self.accepted[t.name] = rel
        return rel

    def _mark_duplicates(self, t: Table, checked: str, numbered: str, cline: str, parts: list[SourcePart]) -> bool:
        """Among the rows still valid, every row but the first (by file, then line) of a key is a
        duplicate; True when some were marked. The keys are first counted: when they are all
        distinct (the usual case) nothing is marked. ``numbered`` reads the checked rows with their
        ``__line``; ``cline`` is the line of the row ``c`` being updated."""
        keys = [quote_ident(k) for k in t.key]
        valid = f"FROM {checked} WHERE __reason IS NULL"
        rows, distinct = self.con.execute(
            f"SELECT (SELECT count(*) {valid}), (SELECT count(*) FROM (SELECT DISTINCT {', '.join(keys)} {valid}))"
        ).fetchone()
        if rows == distinct:  # the usual case: no duplicates, and counting is cheaper than marking
            return False
        pos = "(CAST(__fidx AS BIGINT) * 1000000000000 + __line)"
        if len(t.key) == 1:
            what = f"duplicate {t.key[0]}"
        elif t.name == "order_lines":
            what = "duplicate line_no within its order"
        else:
            what = f"duplicate ({', '.join(t.key)})"
        kcol = _dup_column(t)
        first_file = self._file_sql(parts, "d.__ff")
        this_file = self._file_sql(parts, "c.__fidx")
        msg = (
            f"{quote_literal(what + ' (first seen on line ')} || d.__fl || "
            f"CASE WHEN {first_file} <> {this_file} THEN ' of ' || {first_file} ELSE '' END || ')'"
        )
        on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
        self.con.execute(
            f"UPDATE {checked} AS c SET __reason = {msg}, __col = {quote_literal(kcol)}, __value = NULL "
            f"FROM (SELECT {', '.join(keys)}, min({pos}) AS __fp, arg_min(__line, {pos}) AS __fl, "
            f"arg_min(__fidx, {pos}) AS __ff FROM {numbered} WHERE __reason IS NULL "
            f"GROUP BY {', '.join(keys)} HAVING count(*) > 1) AS d "
            f"WHERE c.__reason IS NULL AND {on} AND (CAST(c.__fidx AS BIGINT) * 1000000000000 + {cline}) > d.__fp"
        )
        return True

    def _raw_values(
        self, t: Table, checked: str, cline: str, parts: list[SourcePart], present: list[str], column: str
    ) -> None:
        """Give the rows just rejected on ``column`` (``__value`` NULL) the value as it was in
        their file (else the value it took, a filled default). The checked rows keep no raw
        text (writing it cost more than reading the files again on this rare path), so the
        parts are read again for those rows (``cline``: the line of the checked row ``c``)."""
        rows = f"c.__reason IS NOT NULL AND c.__value IS NULL AND c.__col = {quote_literal(column)}"
        typed = f"CAST(c.{quote_ident(column)} AS VARCHAR)"
        if column not in present:  # no file has the column: its value is a filled default
            self.con.execute(f"UPDATE {checked} AS c SET __value = {typed} WHERE {rows}")
            return
        self._load(parts)
        raw = " UNION ALL ".join(
            f"SELECT __fidx, __line, {quote_ident('r_' + column)} AS v FROM ({self._part_sql(t, part, i, present)})"
            for i, part in enumerate(parts)
        )
        self.con.execute(
            f"UPDATE {checked} AS c SET __value = coalesce(p.v, {typed}) FROM ({raw}) AS p "
            f"WHERE {rows} AND c.__fidx = p.__fidx AND {cline} = p.__line"
        )

    def _join_warnings(self, t: Table, parts: list[SourcePart]) -> None:
        """Warn of each key of a joined file that several of its rows share (the join takes the first
        of them, by line): once per joined file and key columns in an import."""
        for part in parts:
            for j in part.joined:
                seen = (j.staged.relation, tuple(j.keys))
                if seen in self._joins_checked:
                    continue
                self._joins_checked.add(seen)
                self.reader.load(j.staged)
                keys = [f"trim({sql})" for _, sql in j.keys]
                shown = " || ', ' || ".join(f"coalesce({k}, '')" for k in keys)
                names = ", ".join(n for n, _ in j.keys)
                reason = (
                    f"{quote_literal(f'{j.staged.name} has ')} || count(*) || {quote_literal(f' rows with {names} = ')} || {shown} || "
                    f"{quote_literal(f' (joined as {j.alias} for {t.name}); the first, on line ')} || min(__line) || "
                    f"{quote_literal(', was taken')}"
                )
                self.con.execute(
                    f"INSERT INTO {self.warn} SELECT {quote_literal(self.import_id)}, {quote_literal(t.name)}, {quote_literal(j.staged.name)}, "
                    f"min(__line), {quote_literal(names)}, {shown}, {reason} FROM {j.staged.relation} "
                    f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in keys)} GROUP BY {', '.join(keys)} "
                    "HAVING count(*) > 1 ORDER BY min(__line)"
                )

    def _distinct_warnings(self, t: Table, parts: list[SourcePart], present: list[str]) -> None:
        """A ``distinct`` part keeps the first row of each key: warn of each other row that gives a
        column another value than that first row (same product id, two names), once per key and column."""
        others = [c for c in present if c not in t.key]
        keys = [k for k in t.key if k in present]
        for fidx, part in enumerate(parts):
            if not part.distinct or not others or not keys:
                continue
            rows = self._part_sql(t, part, fidx, present, collapse=False)
            kcols = [_stored_sql(t, k) for k in keys]
            vals = {c: _stored_sql(t, c) for c in others}  # as stored: ۱۴۰۳/۱۲/۱۸ is 1403/12/18, not another value
            key_text = " || ', ' || ".join(kcols)
            # one pass over the part: the rows that differ from their key's first row in some column
            found = self._temp("conflicts")
            firsts = ", ".join(
                f"{v} AS {quote_ident('v_' + c)}, first_value({v}) OVER w AS {quote_ident('f_' + c)}"
                for c, v in vals.items()
            )
            differs = " OR ".join(f"{quote_ident('v_' + c)} IS DISTINCT FROM {quote_ident('f_' + c)}" for c in others)
            self.con.execute(
                f"CREATE TEMP TABLE {found} AS SELECT * FROM (SELECT {key_text} AS k, __line, "
                f"min(__line) OVER w AS first_line, {firsts} FROM ({rows}) "
                f"WINDOW w AS (PARTITION BY {', '.join(kcols)} ORDER BY __line)) WHERE k IS NOT NULL AND ({differs})"
            )
            union = " UNION ALL ".join(
                f"SELECT k, {quote_literal(c)} AS col, __line, first_line, {quote_ident('v_' + c)} AS v, {quote_ident('f_' + c)} AS f "
                f"FROM {found} WHERE {quote_ident('v_' + c)} IS DISTINCT FROM {quote_ident('f_' + c)}"
                for c in others
            )
            reason = (
                f"{quote_literal(f'{t.key[0]} ')} || k || {quote_literal(' has another ')} || col || {quote_literal(' on this line (')} || "
                f"coalesce(v, 'empty') || {quote_literal(') than on line ')} || first_line || {quote_literal(' (')} || coalesce(f, 'empty') "
                f"|| {quote_literal('); distinct keeps the first')}"
            )
            self.con.execute(
                f"INSERT INTO {self.warn} SELECT {quote_literal(self.import_id)}, {quote_literal(t.name)}, {quote_literal(part.staged.name)}, "
                f"__line, col, v, {reason} FROM (SELECT *, row_number() OVER (PARTITION BY k, col ORDER BY __line) "
                f"AS n FROM ({union})) WHERE n = 1 ORDER BY __line, col"
            )
            self.con.execute(f"DROP TABLE {found}")

    def _part_sql(
        self, t: Table, part: SourcePart, fidx: int, present: list[str], *, relation: str = "", collapse: bool = True
    ) -> str:
        """The part's rows with ``__line``, ``__fidx``, a mapping's reason and the raw ``r_*``
        text of the present columns, read from its staged file (or ``relation``); a ``distinct``
        part's first row of each key unless not ``collapse``. A mapped value that failed (a date
        not in its format) rejects its row with that reason (:mod:`sanjeh.ingest.formats`)."""
        sf = part.staged
        items = ["s.__line AS __line", f"{fidx} AS __fidx"]
        if part.rejects:
            items.append(
                "CASE "
                + " ".join(f"WHEN {c} THEN {quote_literal(r)}" for c, r in part.rejects)
                + " END AS __pre_reason"
            )
        else:
            items.append("CAST(NULL AS VARCHAR) AS __pre_reason")
        items.append("CAST(NULL AS VARCHAR) AS __pre_col")
        for c in present:
            expr = part.columns.get(c)
            items.append(
                f"CAST({expr} AS VARCHAR) AS {quote_ident('r_' + c)}"
                if expr
                else f"CAST(NULL AS VARCHAR) AS {quote_ident('r_' + c)}"
            )
        sql = f"SELECT {', '.join(items)} FROM {relation or sf.relation} AS s {' '.join(part.joins)}"
        if part.where:
            sql += f" WHERE {part.where}"
        failing = [c for c in part.may_fail if c in present]
        if failing:  # the first failed column (in table order) rejects the row, after the mapping's own rules
            failing.sort(key=t.column_names.index)
            why = [(c, failure_reason_sql(quote_ident("r_" + c))) for c in failing]
            reason = "coalesce(__pre_reason, " + ", ".join(w for _, w in why) + ")"
            col = "CASE WHEN __pre_reason IS NOT NULL THEN __pre_col " + " ".join(
                f"WHEN {w} IS NOT NULL THEN {quote_literal(c)}" for c, w in why
            )
            rcols = ", ".join(quote_ident("r_" + c) for c in present)
            sql = (
                f"SELECT __line, __fidx, {reason} AS __pre_reason, {col} END AS __pre_col"
                f"{', ' + rcols if rcols else ''} FROM ({sql})"
            )
        if part.distinct and collapse:
            keys = ", ".join(_stored_sql(t, k) for k in t.key if k in present)
            sql = f"SELECT * FROM ({sql}) QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY __line) = 1"
        return f"SELECT * FROM ({sql})"

    # -- references -----------------------------------------------------------------
    def _known(self, table: str, column: str, candidates: str) -> str:
        """A relation (column ``k``, repeats allowed) of the values that exist: accepted in this
        import, or in the warehouse (unless this import replaces that table). Callers test
        membership with ``NOT EXISTS``: an anti-join, with no distinct set built first.

        When the staging connection is the warehouse's it is a subquery over the accepted rows and
        the warehouse table; elsewhere the warehouse is asked only for the ``candidates`` (SQL of
        the values to look up)."""
        parts = []
        acc = self.accepted.get(table)
        if acc is not None:
            parts.append(f"SELECT {quote_ident(column)} AS k FROM {acc}")
        if not (self.replace and acc is not None):
            if self.staging.shared:
                parts.append(f"SELECT {quote_ident(column)} AS k FROM {quote_ident(table)}")
            else:
                rel = self._temp(f"known_{table}_{column}")
                values = [str(r[0]) for r in self.con.execute(candidates).fetchall() if r[0] is not None]
                found = self.wh.existing_values(table, column, values)
                self.staging.copy_in(rel, pa.table({"k": pa.array(found, pa.string())}))
                parts.append(f"SELECT k FROM {rel}")
        if not parts:
            parts.append("SELECT CAST(NULL AS VARCHAR) AS k WHERE FALSE")
        return "(" + " UNION ALL ".join(parts) + ")"

    def _reference_warnings(self, t: Table, parked: str, file_sql: str) -> None:
        """Warn of the values of ``t``'s references (other than its parents) that exist nowhere.
        ``parked`` holds ``t``'s accepted rows (with ``__fidx`` and ``__line``; ``file_sql``
        names a row's file). Referenced tables come earlier in the import order, so they are
        already parked. The rows are asked first whether there is any such value (usually there
        is none); only then are they grouped for the warnings."""
        for c in t.columns:
            if not c.references:
                continue
            if any(r.kind == "parent_exists" and r.column == c.name for r in t.rules):
                continue
            rtable, rcol = c.references.split(".")
            if IMPORT_ORDER.index(rtable) >= IMPORT_ORDER.index(t.name):
                raise InternalError(f"{t.name}.{c.name} references {rtable}, which is imported later")
            col = quote_ident(c.name)
            known = self._known(rtable, rcol, f"SELECT DISTINCT {col} FROM {parked}")
            unknown = f"a.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {known} AS k WHERE k.k = a.{col})"
            if not self._any(f"SELECT 1 FROM {parked} AS a WHERE {unknown}"):
                continue
            reason = f"unknown {c.name} (not in {rtable}); accepted anyway, on "
            self.con.execute(
                f"INSERT INTO {self.warn} SELECT {quote_literal(self.import_id)}, {quote_literal(t.name)}, min_by({file_sql}, __line), "
                f"min(__line), {quote_literal(c.name)}, a.{col}, "
                f"{quote_literal(reason)} || count(*) || ' row' || CASE WHEN count(*) = 1 THEN '' ELSE 's' END "
                f"FROM {parked} a WHERE {unknown} GROUP BY a.{col} ORDER BY min(__line)"
            )


def _stored_sql(t: Table, column: str) -> str:
    """A column of a ``distinct`` part, from its raw text ``r_<column>``, as the check will store it
    (``۹۰۰۲`` and ``9002`` are one invoice: collapsed on the raw text they were two orders, the
    second rejected as a duplicate while its line was imported); a number or a date with ASCII
    digits (its other rules are the check's)."""
    raw = quote_ident("r_" + column)
    c = t.column(column)
    if c.type in ("money", "decimal", "integer", "date", "timestamp"):
        return f"nullif(trim({normalize.ascii_digits(raw)}), '')"
    return text_value_sql(c, raw)
