"""Mappings: YAML that turns a foreign export into canonical tables (docs/mappings.md).

A mapping lists, per canonical table, the file(s) that feed it (name or glob),
an expression per canonical column, optional joins with other files, a filter,
reject rules with their own reasons and ``distinct`` (one row per key). Column
expressions use a small, safe language compiled to SQL: column names, quoted
strings, numbers, ``+ - * /``, comparisons, ``and/or/not`` and a fixed list of
functions. User text only ever reaches SQL as quoted literals or as a resolved
staging column; anything else is a :class:`MappingError`.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sanjeh.errors import Conflict, MappingError
from sanjeh.ingest.formats import date_sql, may_fail
from sanjeh.ingest.normalize import number_or_nan
from sanjeh.ingest.plan import JoinCheck, SourcePart
from sanjeh.ingest.read import StagedFile
from sanjeh.ingest.sources import DbSource, parse_source
from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME
from sanjeh.warehouse import quote_ident, quote_literal

SHIPPED = ("maven-crm", "olist-funnel", "classicmodels", "uci-online-retail", "iran-sales-invoices", "iran-crm-deals")


@dataclass
class JoinSpec:
    file: str
    alias: str
    on: dict[str, str]  # this file's column -> joined file's column


@dataclass
class TableSpec:
    table: str
    source: list[str]  # file names or globs
    columns: dict[str, Any]
    joins: list[JoinSpec] = field(default_factory=list)
    where: str | None = None
    rejects: list[tuple[str, str]] = field(default_factory=list)
    distinct: bool = False
    #: values that mean "empty" in these files (``NULL``, ``-``, ``—``), compared trimmed, ignoring case
    null_values: list[str] = field(default_factory=list)
    #: a database source (``from: {database: URL, query: ...}``) instead of files
    db: DbSource | None = None


@dataclass
class Mapping:
    name: str
    origin: str
    tables: list[TableSpec]
    description: str = ""
    #: the ISO 4217 code of the money in the files it reads (``currency: USD``); None: not declared
    currency: str | None = None

    def check_currency(self, workspace_currency: str) -> None:
        """Refuse an import into a workspace whose money is in another currency."""
        if self.currency is not None and self.currency != workspace_currency.upper():
            raise MappingError(
                f"the mapping {self.name} reads amounts in {self.currency}, but this workspace is in "
                f"{workspace_currency.upper()}; import into a workspace in {self.currency} (create one with "
                f"`sanjeh init PATH --currency {self.currency}`); nothing was imported",
                details={"mapping": self.name, "currency": self.currency, "workspace_currency": workspace_currency},
            )


#: A mapping's name: the web asks for mappings by name only (never a path).
MAPPING_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
#: The folder of a workspace where its own mappings are saved (``<workspace>/mappings/NAME.yaml``).
WORKSPACE_MAPPINGS = "mappings"
MAX_MAPPING_BYTES = 1024 * 1024


def shipped_path(name: str) -> Path | None:
    if not MAPPING_NAME.fullmatch(name):
        return None
    res = resources.files("sanjeh") / "mappings" / f"{name}.yaml"
    return Path(str(res)) if res.is_file() else None


def mapping_names(root: Path) -> list[str]:
    """The mappings known by name to the workspace at ``root``: the shipped ones and those saved
    in its ``mappings/`` folder (file names that are valid mapping names)."""
    folder = root / WORKSPACE_MAPPINGS
    own = [p.stem for p in folder.glob("*.yaml") if MAPPING_NAME.fullmatch(p.stem) and p.is_file()]
    return sorted({*SHIPPED, *own})


def named_mapping(name: str, root: Path) -> Path:
    """The file of the mapping called ``name``: the workspace's own (``<root>/mappings/NAME.yaml``),
    else a shipped one. A path, or a name matching no mapping, is a :class:`MappingError`."""
    name = name.strip()
    if MAPPING_NAME.fullmatch(name):
        own = root / WORKSPACE_MAPPINGS / f"{name}.yaml"
        if own.is_file():
            return own
        shipped = shipped_path(name)
        if shipped is not None:
            return shipped
    shown = name[:80]
    raise MappingError(
        f"no mapping named {shown!r}; the mappings are: {', '.join(mapping_names(root))}",
        details={"mapping": shown, "allowed": mapping_names(root)},
    )


def resolve_mapping(ref: str | Path, root: Path) -> str | Path:
    """What ``--mapping`` names in the workspace at ``root``: a bare name (``invoices``) is the
    workspace's own mapping (``<root>/mappings/invoices.yaml``, as the Data page's upload wizard
    saves it) when there is one and no file of that name here; anything else goes to
    :func:`load_mapping` as it is (a shipped name, a YAML file)."""
    if isinstance(ref, str) and MAPPING_NAME.fullmatch(ref) and not Path(ref).expanduser().is_file():
        own = root / WORKSPACE_MAPPINGS / f"{ref}.yaml"
        if own.is_file():
            return own
    return ref


def save_mapping(root: Path, name: str, text: str, *, replace: bool = False) -> Path:
    """Write a mapping's YAML ``text`` as the workspace's own mapping ``name``
    (``<root>/mappings/NAME.yaml``), where the Data page, ``sanjeh import --mapping NAME`` and
    :func:`resolve_mapping` find it. A name that is not a mapping name, or is a shipped
    mapping's, is refused; so is an existing one unless ``replace``."""
    if not MAPPING_NAME.fullmatch(name):
        shown = name[:80]
        raise MappingError(key="mapping.bad_name", params={"name": shown}, details={"name": shown})
    if shipped_path(name) is not None:
        raise MappingError(key="mapping.shipped_name", params={"name": name}, details={"name": name})
    folder = root / WORKSPACE_MAPPINGS
    path = folder / f"{name}.yaml"
    if path.exists() and not replace:
        raise Conflict(key="mapping.name_taken", params={"name": name}, details={"name": name})
    folder.mkdir(mode=0o700, exist_ok=True)
    tmp = folder / f".{name}.yaml.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # whole or not at all: a reader never sees half a mapping
    return path


def load_mapping(ref: str | Path) -> Mapping:
    """A shipped mapping by name (``maven-crm``) or a YAML file (the CLI's ``--mapping FILE``).

    No error quotes the file: a YAML error gives its line and column, a binary, non-UTF-8,
    oversized or non-mapping file gets one sentence, so pointing ``--mapping`` at another
    file shows nothing of it.
    """
    path = shipped_path(ref) if isinstance(ref, str) and "/" not in ref and not ref.endswith(".yaml") else None
    if path is None:
        path = Path(ref).expanduser()
        if not path.is_file():
            raise MappingError(
                f"no mapping {str(ref)!r}: not a shipped mapping ({', '.join(SHIPPED)}), nor one saved in the "
                f"workspace ({WORKSPACE_MAPPINGS}/NAME.yaml), nor a YAML file"
            )
    name = path.name
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_MAPPING_BYTES + 1)
    except OSError as exc:
        raise MappingError(f"cannot read the mapping {name}: {exc.strerror or 'unreadable'}") from None
    if len(raw) > MAX_MAPPING_BYTES:
        raise MappingError(f"{name} is larger than {MAX_MAPPING_BYTES // (1024 * 1024)} MB: not a mapping")
    if b"\0" in raw:
        raise MappingError(f"{name} is a binary file, not a YAML mapping")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError(f"{name} is not UTF-8 text, so not a YAML mapping") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise MappingError(f"mapping {name} is not valid YAML{where}") from None
    except (yaml.YAMLError, RecursionError):
        raise MappingError(f"mapping {name} is not valid YAML") from None
    if not isinstance(data, dict) or "tables" not in data:
        raise MappingError(f"{name} is not a Sanjeh mapping (a YAML object with 'tables'; docs/mappings.md)")
    return parse_mapping(data, origin=name)


#: The keys of a mapping, of each of its tables, of a join and of a column given as a table.
MAPPING_KEYS = frozenset({"name", "description", "currency", "tables", "null_values"})
TABLE_KEYS = frozenset({"table", "from", "columns", "join", "where", "reject", "distinct", "null_values"})
JOIN_KEYS = frozenset({"file", "as", "on"})
COLUMN_KEYS = frozenset({"value", "expr", "column", "map", "default"})


def _keys(where: str, d: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(d) - allowed
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )


def parse_mapping(data: Any, *, origin: str = "mapping") -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"{origin}: a mapping is a YAML object with 'tables'")
    _keys(origin, data, MAPPING_KEYS)
    questions = _questions(data)
    if questions:
        raise MappingError(
            f"{origin} still asks {len(questions)} question{'s' if len(questions) > 1 else ''} "
            "(a draft of `sanjeh map suggest`): "
            + "; ".join(f"{i + 1}) {q}" for i, q in enumerate(questions))
            + " -- answer each by replacing its `ask:` entry with one of its choices",
            details={"questions": questions},
        )
    top_nulls = _null_values(origin, data.get("null_values"))
    currency = data.get("currency")
    if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency.strip())):
        raise MappingError(f"{origin}: 'currency' must be an ISO 4217 code such as USD or IRR, not {currency!r}")
    tables = data.get("tables")
    if not isinstance(tables, list) or not tables:
        raise MappingError(f"{origin}: 'tables' must be a non-empty list")
    specs = []
    for i, t in enumerate(tables):
        where = f"{origin} tables[{i}]"
        if not isinstance(t, dict):
            raise MappingError(f"{where}: each entry is an object")
        _keys(where, t, TABLE_KEYS)
        name = t.get("table")
        if name not in TABLES_BY_NAME:
            raise MappingError(f"{where}: unknown table {name!r}; the tables are: {', '.join(IMPORT_ORDER)}")
        src = t.get("from")
        db = parse_source(f"{where} ({name})", src) if isinstance(src, dict) else None
        raw = [] if db else [src] if isinstance(src, str) else src
        if db is None and (not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw)):
            raise MappingError(
                f"{where} ({name}): 'from' must name a file (or a list of files/globs), or be a database source "
                "{database: URL, query: SELECT ...}"
            )
        if db is not None and t.get("join"):
            raise MappingError(f"{where} ({name}): a database source joins in its query (SQL JOIN), not with 'join'")
        sources = [str(x) for x in raw or []]
        cols = t.get("columns") or {}
        if not isinstance(cols, dict):
            raise MappingError(f"{where} ({name}): 'columns' must map canonical columns to expressions")
        table = TABLES_BY_NAME[name]
        for c in cols:
            if c not in table.column_names:
                raise MappingError(
                    f"{where}: table {name} has no column {c!r}; its columns: {', '.join(table.column_names)}"
                )
        missing = [c for c in table.required if c not in cols and c not in table.defaults]
        if missing:
            raise MappingError(f"{where}: table {name} needs the column(s) {', '.join(missing)}")
        joins = []
        for j in t.get("join") or []:
            if isinstance(j, dict) and True in j:  # YAML 1.1 reads a bare `on` key as true
                j = {("on" if k is True else k): v for k, v in j.items()}
            if not isinstance(j, dict) or not isinstance(j.get("on"), dict):
                raise MappingError(f"{where} ({name}): a join needs 'file', 'as' and 'on'")
            _keys(f"{where} join", j, JOIN_KEYS)
            alias = str(j.get("as") or "")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", alias):
                raise MappingError(f"{where} ({name}): join 'as' must be a simple name, not {alias!r}")
            joins.append(JoinSpec(str(j["file"]), alias, {str(k): str(v) for k, v in j["on"].items()}))
        rejects = []
        for r in t.get("reject") or []:
            if not isinstance(r, dict) or set(r) != {"when", "reason"}:
                raise MappingError(f"{where} ({name}): each reject rule has 'when' and 'reason'")
            rejects.append((str(r["when"]), str(r["reason"])))
        specs.append(
            TableSpec(
                name,
                sources,
                cols,
                joins,
                str(t["where"]) if t.get("where") is not None else None,
                rejects,
                bool(t.get("distinct", False)),
                [*top_nulls, *_null_values(where, t.get("null_values"))],
                db,
            )
        )
    return Mapping(
        str(data.get("name") or origin),
        origin,
        specs,
        str(data.get("description") or ""),
        currency.strip().upper() if isinstance(currency, str) else None,
    )


def _null_values(where: str, values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(v is None or isinstance(v, str | int | float) for v in values):
        raise MappingError(f"{where}: 'null_values' must be a list of values, e.g. [NULL, '-', '—']")
    # YAML reads a bare NULL (or null, ~) as no value: it means the text NULL here
    return ["NULL" if v is None else str(v).strip() for v in values]


def _questions(data: dict[str, Any]) -> list[str]:
    """The questions a draft still asks: every column given as ``{ask: ..., choices: ...}``."""
    out = []
    for t in data.get("tables") or []:
        if not isinstance(t, dict) or not isinstance(t.get("columns"), dict):
            continue
        for col, spec in t["columns"].items():
            if isinstance(spec, dict) and "ask" in spec:
                choices = spec.get("choices")
                shown = (
                    " or ".join(f"{k}: {v}" for k, v in choices.items())
                    if isinstance(choices, dict)
                    else str(choices or "")
                )
                out.append(f"{t.get('table')}.{col}: {spec['ask']}" + (f" ({shown})" if shown else ""))
    return out


# -- the expression language -------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(?P<bt>`[^`]+`)"
    r"|(?P<name>[A-Za-z_\u0600-\u06ff][A-Za-z0-9_\u0600-\u06ff]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\.`[^`]+`)?)"
    r"|(?P<op><=|>=|!=|<>|[-+*/(),=<>]))"
)

# name -> (min args, max args, result type, SQL template builder)
_FUNCS: dict[str, tuple[int, int, str]] = {
    "concat": (1, 99, "text"),
    "coalesce": (1, 99, "text"),
    "upper": (1, 1, "text"),
    "lower": (1, 1, "text"),
    "trim": (1, 1, "text"),
    "replace": (3, 3, "text"),
    "substr": (2, 3, "text"),
    "nullif": (2, 2, "text"),
    "if": (3, 3, "any"),
    "starts_with": (2, 2, "bool"),
    "ends_with": (2, 2, "bool"),
    "contains": (2, 2, "bool"),
    "empty": (1, 1, "bool"),
    "abs": (1, 1, "num"),
    "round": (1, 2, "num"),
    "year": (1, 1, "num"),
    "month": (1, 1, "num"),
    "day": (1, 1, "num"),
    "date": (1, 2, "text"),
}


FUNCTIONS: tuple[str, ...] = tuple(sorted(_FUNCS))


def called_functions(src: str) -> list[str]:
    """The names an expression calls (a name followed by ``(``), as written; what cannot be read is skipped."""
    toks = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(src) if m.lastgroup]
    return [v for (kind, v), nxt in itertools.pairwise(toks) if kind == "name" and nxt[1] == "("]


class _Expr:
    def __init__(self, sql: str, type_: str, const: str | None = None) -> None:
        self.sql, self.type = sql, type_
        #: the text of a quoted string literal (a date format must be one)
        self.const = const

    def text(self) -> str:
        if self.type == "num":
            return f"CAST({self.sql} AS VARCHAR)"
        if self.type == "bool":
            return f"CAST({self.sql} AS VARCHAR)"
        return self.sql

    def num(self) -> str:
        """A DOUBLE: text is read as the import reads numbers (no column decides a decimal mark here,
        so ``1,234`` is ambiguous); what is not a number is NaN, so that arithmetic on it gives NaN
        and the import rejects the value ("is not a number") instead of blanking it."""
        if self.type == "num":
            return self.sql
        return number_or_nan(self.sql)

    def num_or_null(self) -> str:
        """As :meth:`num`, with NULL for what is not a number (comparisons are then unknown, not true)."""
        return f"(CASE WHEN isnan({self.num()}) THEN NULL ELSE {self.num()} END)"

    def bool(self, src: str) -> str:
        if self.type != "bool":
            raise MappingError(f"{src}: expected a condition (a comparison, and/or/not, starts_with, …)")
        return self.sql


class Compiler:
    """Compiles one expression against a resolver of column names to staging SQL."""

    def __init__(self, resolve: Callable[[str], str], where: str, columns: list[str] | None = None) -> None:
        self._resolve = resolve
        self.where = where
        #: the columns of the file (for a hint when a name with spaces is written without backticks)
        self.columns = columns or []
        #: the file columns resolved since :meth:`read_columns` was last asked: (name, SQL)
        self._read: dict[str, str] = {}

    def resolve(self, name: str) -> str:
        sql = self._resolve(name)
        self._read.setdefault(name, sql)
        return sql

    def read_columns(self) -> list[tuple[str, str]]:
        """The file columns the expressions compiled since the last call read (name, SQL), in order."""
        out, self._read = list(self._read.items()), {}
        return out

    def compile(self, src: str) -> _Expr:
        try:
            return self._compile(src)
        except MappingError as exc:
            hint = self._backtick_hint(src)
            if hint:
                raise MappingError(f"{exc.message}; {hint}", details=exc.details) from None
            raise

    def _compile(self, src: str) -> _Expr:
        self.src = src
        self.toks = self._tokens(src)
        self.i = 0
        e = self._or()
        if self.i != len(self.toks):
            raise MappingError(f"{self.where}: unexpected {self.toks[self.i][1]!r} in expression {src!r}")
        return e

    def _backtick_hint(self, src: str) -> str | None:
        """A hint when the expression names, without backticks, a column whose name has spaces or
        other characters a bare name cannot hold."""
        outside = re.sub(r"`[^`]*`|'(?:[^']|'')*'", " ", src)
        for col in sorted(self.columns, key=len, reverse=True):
            if re.fullmatch(r"[A-Za-z_\u0600-\u06ff][A-Za-z0-9_\u0600-\u06ff]*", col):
                continue
            if col in outside:
                return f"the column {col!r} has spaces or other signs in its name: write it in backticks, `{col}`"
        return None

    def _tokens(self, src: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        while pos < len(src):
            if src[pos:].strip() == "":
                break
            m = _TOKEN.match(src, pos)
            if not m or m.end() == pos:
                raise MappingError(f"{self.where}: cannot read expression {src!r} at {src[pos:]!r}")
            kind = m.lastgroup or ""
            out.append((kind, m.group(kind)))
            pos = m.end()
        return out

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _accept(self, *values: str) -> str | None:
        t = self._peek()
        if t and (t[1].lower() in values) and t[0] in ("op", "name"):
            self.i += 1
            return t[1].lower()
        return None

    def _expect(self, value: str) -> None:
        if not self._accept(value):
            raise MappingError(f"{self.where}: expected {value!r} in expression {self.src!r}")

    def _or(self) -> _Expr:
        e = self._and()
        while self._accept("or"):
            r = self._and()
            e = _Expr(f"({e.bool(self.src)} OR {r.bool(self.src)})", "bool")
        return e

    def _and(self) -> _Expr:
        e = self._not()
        while self._accept("and"):
            r = self._not()
            e = _Expr(f"({e.bool(self.src)} AND {r.bool(self.src)})", "bool")
        return e

    def _not(self) -> _Expr:
        if self._accept("not"):
            e = self._not()
            return _Expr(f"(NOT coalesce({e.bool(self.src)}, FALSE))", "bool")
        return self._cmp()

    def _cmp(self) -> _Expr:
        e = self._add()
        op = self._accept("=", "!=", "<>", "<", "<=", ">", ">=")
        if not op:
            return e
        r = self._add()
        sqlop = "<>" if op == "!=" else op
        if e.type == "num" or r.type == "num":
            return _Expr(f"({e.num_or_null()} {sqlop} {r.num_or_null()})", "bool")
        return _Expr(f"({e.text()} {sqlop} {r.text()})", "bool")

    def _add(self) -> _Expr:
        e = self._mul()
        while True:
            op = self._accept("+", "-")
            if not op:
                return e
            r = self._mul()
            e = _Expr(f"({e.num()} {op} {r.num()})", "num")

    def _mul(self) -> _Expr:
        e = self._unary()
        while True:
            op = self._accept("*", "/")
            if not op:
                return e
            r = self._unary()
            e = _Expr(f"({e.num()} {op} nullif({r.num()}, 0))" if op == "/" else f"({e.num()} * {r.num()})", "num")

    def _unary(self) -> _Expr:
        if self._accept("-"):
            e = self._unary()
            return _Expr(f"(-{e.num()})", "num")
        return self._atom()

    def _atom(self) -> _Expr:
        t = self._peek()
        if t is None:
            raise MappingError(f"{self.where}: expression {self.src!r} ends too early")
        kind, val = t
        self.i += 1
        if kind == "num":
            return _Expr(val, "num")
        if kind == "str":
            q = val[0]
            text = val[1:-1].replace(q + q, q)
            return _Expr(quote_literal(text), "text", const=text)
        if kind == "bt":
            return _Expr(self.resolve(val[1:-1]), "text")
        if kind == "op" and val == "(":
            e = self._or()
            self._expect(")")
            return e
        if kind == "name":
            low = val.lower()
            if low == "null":
                return _Expr("CAST(NULL AS VARCHAR)", "text")
            if low in ("true", "false"):
                return _Expr(low.upper(), "bool")
            nxt = self._peek()
            if nxt and nxt[1] == "(" and low in _FUNCS:
                self.i += 1
                args: list[_Expr] = []
                if not self._accept(")"):
                    args.append(self._or())
                    while self._accept(","):
                        args.append(self._or())
                    self._expect(")")
                return self._call(low, args)
            if nxt and nxt[1] == "(":
                raise MappingError(
                    f"{self.where}: unknown function {val!r}; the functions are: {', '.join(sorted(_FUNCS))}"
                )
            if "." in val and not val.startswith("`"):
                alias, col = val.split(".", 1)
                return _Expr(self.resolve(alias + "." + col.strip("`")), "text")
            return _Expr(self.resolve(val), "text")
        raise MappingError(f"{self.where}: unexpected {val!r} in expression {self.src!r}")

    def _call(self, name: str, args: list[_Expr]) -> _Expr:
        lo, hi, _type = _FUNCS[name]
        if not lo <= len(args) <= hi:
            raise MappingError(f"{self.where}: {name}() takes {lo}–{hi} argument(s), not {len(args)}")
        t = [a.text() for a in args]
        if name == "concat":
            return _Expr(f"concat({', '.join(t)})", "text")
        if name == "coalesce":
            return _Expr("coalesce(" + ", ".join(f"nullif(trim({x}), '')" for x in t) + ")", "text")
        if name in ("upper", "lower", "trim"):
            return _Expr(f"{name}({t[0]})", "text")
        if name == "replace":
            return _Expr(f"replace({t[0]}, {t[1]}, {t[2]})", "text")
        if name == "substr":
            ln = f", TRY_CAST({args[2].num()} AS BIGINT)" if len(args) == 3 else ""
            return _Expr(f"substr({t[0]}, TRY_CAST({args[1].num()} AS BIGINT){ln})", "text")
        if name == "nullif":
            return _Expr(f"nullif({t[0]}, {t[1]})", "text")
        if name == "if":
            a, b = args[1], args[2]
            if a.type == b.type == "num":
                return _Expr(f"(CASE WHEN {args[0].bool(self.src)} THEN {a.sql} ELSE {b.sql} END)", "num")
            return _Expr(f"(CASE WHEN {args[0].bool(self.src)} THEN {a.text()} ELSE {b.text()} END)", "text")
        if name in ("starts_with", "ends_with", "contains"):
            fn = {"starts_with": "starts_with", "ends_with": "suffix", "contains": "contains"}[name]
            return _Expr(f"coalesce({fn}({t[0]}, {t[1]}), FALSE)", "bool")
        if name == "empty":
            return _Expr(f"(nullif(trim({t[0]}), '') IS NULL)", "bool")
        if name == "abs":
            return _Expr(f"abs({args[0].num()})", "num")
        if name == "round":
            nd = f", coalesce(TRY_CAST({args[1].num()} AS INTEGER), 0)" if len(args) == 2 else ""
            return _Expr(f"round({args[0].num()}{nd})", "num")
        if name in ("year", "month", "day"):
            return _Expr(f"{name}(TRY_CAST(trim({t[0]}) AS TIMESTAMP))", "num")
        if name == "date":
            fmt = None
            if len(args) == 2:
                if args[1].const is None:
                    raise MappingError(f"{self.where}: the format of date() must be a quoted string, e.g. '%d.%m.%Y'")
                fmt = args[1].const
            return _Expr(date_sql(t[0], fmt, self.where), "text")
        raise AssertionError(name)  # pragma: no cover


# -- plan -----------------------------------------------------------------------------
def _find(files: list[Path], pattern: str) -> list[Path]:
    return [p for p in files if fnmatch.fnmatch(p.name.lower(), pattern.lower())]


def build_plan(
    m: Mapping,
    files: list[Path],
    stage: Callable[[Path], StagedFile],
    *,
    table: str | None = None,
    stage_db: Callable[[DbSource, str], StagedFile] | None = None,
) -> tuple[dict[str, list[SourcePart]], list[str]]:
    """The parts feeding each table, and the names of the files the mapping does not use.
    ``stage_db`` reads a database source (with the key of its incremental mark)."""
    plan: dict[str, list[SourcePart]] = {}
    used: set[Path] = set()
    for spec in m.tables:
        if table is not None and spec.table != table:
            continue
        if spec.db is not None:
            if stage_db is None:
                raise MappingError(f"mapping {m.name}: table {spec.table} reads a database, which cannot be done here")
            sf = stage_db(spec.db, spec.db.key(m.name, spec.table))
            plan.setdefault(spec.table, []).append(_part(m, spec, sf, files, stage, used))
            continue
        matched = [p for pat in spec.source for p in _find(files, pat)]
        for path in dict.fromkeys(matched):
            used.add(path)
            plan.setdefault(spec.table, []).append(_part(m, spec, stage(path), files, stage, used))
    if not plan:
        raise MappingError(
            f"mapping {m.name}: none of the files ({', '.join(p.name for p in files)}) is one it reads "
            f"({', '.join(sorted({s for t in m.tables for s in t.source}))})"
        )
    ignored = [p.name for p in files if p not in used]
    return plan, ignored


def _part(
    m: Mapping, spec: TableSpec, sf: StagedFile, files: list[Path], stage: Callable[[Path], StagedFile], used: set[Path]
) -> SourcePart:
    path = sf.path
    joined: dict[str, StagedFile] = {}
    join_sql: list[str] = []
    checks: list[JoinCheck] = []
    for j in spec.joins:
        cands = _find(files, j.file) or _find(sorted(path.parent.iterdir()), j.file)
        if not cands:
            raise MappingError(f"mapping {m.name}: {spec.table} joins {j.file}, which is not among the files")
        used.add(cands[0])
        jf = stage(cands[0])
        conds = []
        for mine, theirs in j.on.items():
            a = _join_key(m, spec, sf, joined, j, mine)
            b = jf.column_sql(theirs)
            if b is None:
                raise MappingError(f"mapping {m.name}: {jf.name} has no column {theirs!r} (join with {path.name})")
            conds.append((a, b))
        joined[j.alias] = jf
        keys = ", ".join(f"trim({b})" for _, b in conds)
        alias = quote_ident(j.alias)
        sub = f"(SELECT * FROM {jf.relation} QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY __line) = 1)"
        on = " AND ".join(f"trim({a}) = trim({alias}.{b})" for a, b in conds)
        join_sql.append(f"LEFT JOIN {sub} AS {alias} ON {on}")
        checks.append(
            JoinCheck(jf, j.alias, [(theirs, b) for theirs, (_, b) in zip(j.on.values(), conds, strict=True)])
        )

    nulls = [v.upper() for v in spec.null_values]

    def empty_if_null(sql: str) -> str:
        if not nulls:
            return sql
        return (
            f"(CASE WHEN upper(trim({sql})) IN ({', '.join(quote_literal(v) for v in nulls)}) THEN NULL ELSE {sql} END)"
        )

    def resolve(name: str) -> str:
        if "." in name:
            alias, col = name.split(".", 1)
            if alias in joined:
                c = joined[alias].column_sql(col)
                if c is None:
                    raise MappingError(
                        f"mapping {m.name}: {joined[alias].name} has no column {col!r} (table {spec.table})"
                    )
                return empty_if_null(f"{quote_ident(alias)}.{c}")
        c = sf.column_sql(name)
        if c is None:
            raise MappingError(
                f"mapping {m.name}: {path.name} has no column {name!r} (table {spec.table}); "
                f"its columns: {', '.join(sf.columns)}"
            )
        return empty_if_null(f"s.{c}")

    where = f"mapping {m.name}, table {spec.table}"
    comp = Compiler(resolve, where, sf.columns)
    columns: dict[str, str] = {}
    sources: dict[str, list[tuple[str, str]]] = {}
    for c, v in spec.columns.items():
        columns[c] = _column(comp, f"{where}, column {c}", v)
        sources[c] = comp.read_columns()
    return SourcePart(
        sf,
        columns,
        join_sql,
        comp.compile(spec.where).bool(spec.where) if spec.where else None,
        [(comp.compile(w).bool(w), reason) for w, reason in spec.rejects],
        spec.distinct,
        list(joined.values()),
        sources,
        [c for c, sql in columns.items() if may_fail(sql)],
        checks,
    )


def _join_key(
    m: Mapping, spec: TableSpec, sf: StagedFile, joined: dict[str, StagedFile], j: JoinSpec, mine: str
) -> str:
    """SQL of the left side of a join's key: a column of the file, or ``alias.column`` of an earlier
    join (chained joins: employee -> territory -> region)."""
    if "." in mine and sf.column_sql(mine) is None:
        alias, col = mine.split(".", 1)
        if alias not in joined:
            earlier = ", ".join(joined) or "none"
            raise MappingError(
                f"mapping {m.name}: the join {j.alias!r} (table {spec.table}) uses {mine!r}, but no earlier join is "
                f"called {alias!r} (joins are read in order; the earlier ones: {earlier})"
            )
        c = joined[alias].column_sql(col)
        if c is None:
            raise MappingError(f"mapping {m.name}: {joined[alias].name} has no column {col!r} (join {j.alias!r})")
        return f"{quote_ident(alias)}.{c}"
    a = sf.column_sql(mine)
    if a is None:
        raise MappingError(f"mapping {m.name}: {sf.name} has no column {mine!r} (join {j.alias!r})")
    return f"s.{a}"


def _column(comp: Compiler, where: str, spec: Any) -> str:
    """SQL (text) of one column: an expression, ``{value: ...}``, or ``{expr|column: ..., map: {...}}``."""
    if isinstance(spec, str):
        return comp.compile(spec).text()
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return quote_literal(str(spec))
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: use an expression, {{value: ...}} or {{expr: ..., map: {{...}}}}")
    _keys(where, spec, COLUMN_KEYS)
    if "value" in spec:
        return "CAST(NULL AS VARCHAR)" if spec["value"] is None else quote_literal(str(spec["value"]))
    if "column" in spec:
        base = comp.compile("`" + str(spec["column"]) + "`").text()
    elif "expr" in spec:
        base = comp.compile(str(spec["expr"])).text()
    else:
        raise MappingError(f"{where}: give 'expr' or 'column' with 'map'")
    vmap = spec.get("map") or {}
    if not isinstance(vmap, dict):
        raise MappingError(f"{where}: 'map' must map source values to values")
    if not vmap:
        return base
    whens = " ".join(
        f"WHEN {quote_literal(str(k).strip().lower())} THEN {'CAST(NULL AS VARCHAR)' if v is None else quote_literal(str(v))}"
        for k, v in vmap.items()
    )
    default = f"{quote_literal(str(spec['default']))}" if spec.get("default") is not None else base
    return f"(CASE lower(trim({base})) {whens} ELSE {default} END)"
