"""Every declaration of a workspace checked up front, every issue at once (``sanjeh check``).

A workspace declares things in files: its settings, KPIs and report schedules in ``sanjeh.toml``,
its own mappings in ``mappings/*.yaml``. Each parser (``settings.problems``, ``kpis.model.parse_kpi``,
the schedules' and mappings') returns the :class:`~sanjeh.errors.Problem` s it finds, with where
they are in the declaration; the rules here check what the parts refer to (a measure's column in
its cohort, a ratio's numerator, a dimension, a KPI a schedule names…). :func:`check` runs every
rule of :data:`RULES` and returns all the :class:`Issue` s with their file, line and level, never
stopping at the first; the caller decides what blocks (as metricflow's manifest validation does).

``Workspace.open`` refuses a workspace with errors (one :class:`~sanjeh.errors.InvalidDeclarations`
listing them all), so a mistake in a declaration never waits for a query to fail. The mappings
are checked by ``sanjeh check`` and when an import reads them, not at every open: a mapping is only
read by an import, and a draft in ``mappings/`` must not lock anyone out of the dashboard.

A rule is a function of the :class:`Declarations` to issues. Declarations of another kind (the
schedules below; alerts) add their rule to :data:`RULES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal

from sanjeh.calendar import GRAINS
from sanjeh.errors import InvalidDeclarations, Problem, SanjehError, UserError
from sanjeh.goals import GOALS
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.kpis.compile import LOOKUPS
from sanjeh.kpis.model import KPI, Measure, parse_kpi
from sanjeh.kpis.query import COMPARISONS
from sanjeh.kpis.sources import COHORTS
from sanjeh.settings import SETTINGS_FILE, problems, read_file

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """A problem of a declaration, with its file (as shown: relative to the workspace) and line
    (1-based; 0 when it is the whole file)."""

    level: Level
    file: str
    line: int
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def text(self, lang: str) -> str:
        from sanjeh.i18n import keyed_text

        return keyed_text(self.key, self.params, lang) or self.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "level": self.level,
            "key": self.key,
            "text": {"fa": self.text("fa"), "en": self.text("en")},
        }


# -- where a part of a declaration was written ----------------------------------------------------
@dataclass
class _Table:
    """A table of a TOML file: its header's line, its keys' lines and the tables inside it."""

    line: int
    keys: dict[str, int] = field(default_factory=dict)
    tables: dict[str, list[_Table]] = field(default_factory=dict)


_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*(?:\.[^=]*)?=")


def toml_lines(text: str) -> _Table:
    """The tables and keys of a TOML text with their lines (tomllib keeps none)."""
    root = current = _Table(0)
    quote = ""  # inside a multi-line string: its quotes
    for n, line in enumerate(text.splitlines(), 1):
        if quote:
            quote = "" if quote in line else quote
            continue
        header = _HEADER.match(line)
        if header:
            *parents, last = (p.strip().strip('"') for p in header.group(2).split("."))
            node = root
            for part in parents:
                node = node.tables.setdefault(part, [_Table(n)])[-1]
            kids = node.tables.setdefault(last, [])
            if header.group(1) == "[" and kids:
                current = kids[-1]
            else:
                current = _Table(n)
                kids.append(current)
            continue
        key = _KEY.match(line)
        if key:
            current.keys.setdefault(key.group(1).strip("\"'"), n)
            quote = next((q for q in ('"""', "'''") if line.count(q) % 2), "")
    return root


def toml_line(root: _Table, where: Sequence[str | int]) -> int:
    """The line of ``where`` (keys and indexes: ``("kpis", 2, "measures", 0, "column")``): of the
    key itself, else of the nearest table holding it that was written."""
    node, line, i = root, root.line, 0
    while i < len(where):
        part, after = where[i], where[i + 1] if i + 1 < len(where) else None
        if isinstance(part, str) and part in node.tables:
            kids = node.tables[part]
            index = after if isinstance(after, int) else len(kids) - 1
            if index >= len(kids):
                return kids[-1].line
            node, line = kids[index], kids[index].line
            i += 2 if isinstance(after, int) else 1
        elif isinstance(part, str) and part in node.keys:
            return node.keys[part]  # a value written inline (``measures = [{...}]``) starts here
        else:
            return line
    return line


# -- the declarations -------------------------------------------------------------------------------
@dataclass
class Declarations:
    """What a workspace declares: ``sanjeh.toml`` as written and parsed, and the mapping files to check."""

    root: Path
    text: str
    data: dict[str, Any]
    mappings: tuple[Path, ...] = ()

    @cached_property
    def lines(self) -> _Table:  # read only when an issue needs a line
        return toml_lines(self.text)

    def issue(self, p: Problem, *prefix: str | int) -> Issue:
        """``p``, found in ``sanjeh.toml`` inside ``prefix``, with its line."""
        return Issue(p.level, SETTINGS_FILE, toml_line(self.lines, (*prefix, *p.where)), p.key, p.params)

    def tables(self, name: str) -> list[dict[str, Any]]:
        """A list of tables (``[[kpis]]``), as written; none when it is not one (settings.problems says so)."""
        value = self.data.get(name, [])
        return value if isinstance(value, list) and all(isinstance(v, dict) for v in value) else []

    @cached_property
    def kpis(self) -> list[tuple[KPI | None, list[Problem]]]:
        """Each workspace KPI (``[[kpis]]``) parsed, with the problems of its shape."""
        return [parse_kpi(raw) for raw in self.tables("kpis")]

    def kpi_names(self) -> set[str]:
        return {k.name for k in CATALOGUE} | {k.name for k, _ in self.kpis if k is not None}

    @property
    def language(self) -> str:
        """The workspace's language as written (``en`` when it is not one)."""
        ws = self.data.get("workspace")
        lang = ws.get("language", "fa") if isinstance(ws, dict) else "fa"
        return lang if lang in ("fa", "en") else "en"


def declarations(root: Path | str, *, mappings: bool = True) -> Declarations:
    """The declarations of the workspace at ``root`` (a missing or unreadable ``sanjeh.toml`` is the
    one error raised); with ``mappings``, its own mapping files too."""
    folder = Path(root).expanduser().resolve()
    text, data = read_file(folder)
    files: tuple[Path, ...] = ()
    if mappings:
        from sanjeh.ingest.mapping import WORKSPACE_MAPPINGS

        files = tuple(sorted(p for p in (folder / WORKSPACE_MAPPINGS).glob("*.yaml") if p.is_file()))
    return Declarations(folder, text, data, files)


Rule = Callable[[Declarations], Iterable[Issue]]


# -- settings and KPIs -------------------------------------------------------------------------------
def settings_rule(d: Declarations) -> Iterator[Issue]:
    """``[workspace]``: unknown keys, wrong types, values outside their choices; unknown tables."""
    for p in problems(d.data):
        yield d.issue(p)


def kpis_rule(d: Declarations) -> Iterator[Issue]:
    """Each ``[[kpis]]``: its shape, then what its parts refer to; two KPIs of one name."""
    builtin = {k.name for k in CATALOGUE}
    seen: set[str] = set()
    for i, ((kpi, found), raw) in enumerate(zip(d.kpis, d.tables("kpis"), strict=True)):
        for p in found:
            yield d.issue(p, "kpis", i)
        if kpi is None:
            continue
        given = raw.get("measures")
        measures = [m if isinstance(m, dict) else {} for m in given] if isinstance(given, list) else []
        declared = {str(m.get("name")) for m in measures}
        for p in kpi_problems(kpi, declared):
            yield d.issue(_by_index(p, measures), "kpis", i)
        if kpi.name in seen:
            yield d.issue(Problem(("name",), "check.duplicate_kpi", {"kpi": kpi.name}), "kpis", i)
        elif kpi.name in builtin:
            yield d.issue(Problem(("name",), "check.replaces", {"kpi": kpi.name}, "warning"), "kpis", i)
        seen.add(kpi.name)


def _by_index(p: Problem, measures: list[dict[str, Any]]) -> Problem:
    """A problem of a measure named in its path (``("measures", "rate", "den")``) at its index instead."""
    if len(p.where) > 1 and p.where[0] == "measures" and isinstance(p.where[1], str):
        j = next((j for j, m in enumerate(measures) if m.get("name") == p.where[1]), 0)
        return Problem(("measures", j, *p.where[2:]), p.key, p.params, p.level)
    return p


#: The measures each kind is built from (the others read a column).
_PARTS = {"ratio": ("num", "den"), "share": ("of",), "per_month": ("of",), "previous": ("of",), "growth": ("of",)}
#: Kinds that read a number column of the cohort, and those that read any column.
_NUMBER_KINDS = ("sum", "mean", "quantile", "cumulative")


def kpi_problems(k: KPI, declared: Iterable[str] = ()) -> list[Problem]:
    """What the parts of a KPI (built-in or a workspace's) refer to: its cohort, headline,
    dimensions, each measure's column, conditions and the measures it is built from (``declared``:
    names of measures left out because their own declaration was wrong, not reported again), its
    split kinds, its card and default view. A measure's problems are at ``("measures", name, key)``."""
    out: list[Problem] = []
    base = {"kpi": k.name}
    names = [m.name for m in k.measures]
    known = {*names, *declared}
    cohort = COHORTS.get(k.cohort)
    if cohort is None:
        out.append(Problem(("cohort",), "check.cohort", {**base, "given": k.cohort, "cohorts": list(COHORTS)}))
    else:
        for key, dims in (("dimensions", k.dimensions), ("fixed", k.fixed)):
            out += [
                Problem((key,), "check.dimension", {**base, "cohort": cohort.name, "dim": d, "dims": list(cohort.dims)})
                for d in dims
                if d not in cohort.dims
            ]
        out += _where(("where",), k.where, cohort.name, base)
    if k.headline not in known:
        out.append(Problem(("headline",), "check.headline", {**base, "given": k.headline, "measures": names}))
    for dup in sorted({n for n in names if names.count(n) > 1}):
        out.append(Problem(("measures", dup, "name"), "check.duplicate_measure", {**base, "measure": dup}))
    out += [
        Problem(("goals",), "check.goal", {**base, "given": g, "goals": list(GOALS)}) for g in k.goals if g not in GOALS
    ]
    if k.default_grain is not None and k.default_grain not in GRAINS:
        out.append(
            Problem(("default_grain",), "check.grain", {**base, "given": k.default_grain, "grains": list(GRAINS)})
        )
    cycle = _cycle(k)
    for m in k.measures:
        out += _measure_problems(k, m, known)
        if m.name in cycle:
            out.append(Problem(("measures", m.name, "name"), "check.cycle", {**base, "measure": m.name}))
        misfit = k.split_misfit(m, {c.name: c.key for c in COHORTS.values()})
        if misfit is not None:
            out.append(misfit.within("measures", m.name))
    return out + _shown(k, known)


def _where(at: tuple[str | int, ...], conds: Iterable[Any], cohort: str, base: dict[str, Any]) -> list[Problem]:
    columns = COHORTS[cohort].columns
    return [
        Problem(at, "check.where_column", {**base, "column": c.column, "cohort": cohort, "columns": list(columns)})
        for c in conds
        if c.column not in columns
    ]


def _measure_problems(k: KPI, m: Measure, known: set[str]) -> list[Problem]:
    at: tuple[str | int, ...] = ("measures", m.name)
    base = {"kpi": k.name, "measure": m.name, "kind": m.kind}
    out: list[Problem] = []
    cohort = COHORTS.get(m.cohort or k.cohort)
    if m.cohort and cohort is None:
        out.append(Problem((*at, "cohort"), "check.cohort", {**base, "given": m.cohort, "cohorts": list(COHORTS)}))
    if cohort is not None:
        pool = cohort.numbers if m.kind in _NUMBER_KINDS else cohort.columns if m.kind == "nunique" else None
        if pool is not None and not m.column:
            out.append(Problem((*at, "kind"), "check.column_missing", base))
        elif pool is not None and m.column not in pool:
            params = {**base, "column": m.column, "cohort": cohort.name, "columns": list(pool)}
            out.append(Problem((*at, "column"), "check.column", params))
        if m.kind == "count" and m.column:
            out.append(Problem((*at, "column"), "check.count_column", {**base, "column": m.column}, "warning"))
        out += _where((*at, "where"), m.where, cohort.name, base)
    if m.kind == "lookup" and m.column not in LOOKUPS:
        out.append(Problem((*at, "column"), "check.lookup", {**base, "column": m.column, "columns": list(LOOKUPS)}))
    for part in _PARTS.get(m.kind, ()):
        ref = getattr(m, part)
        if not ref:
            out.append(Problem((*at, "kind"), "check.parts", {**base, "part": part}))
        elif ref not in known:
            out.append(
                Problem((*at, part), "check.reference", {**base, "part": part, "given": ref, "measures": sorted(known)})
            )
    out += [
        Problem((*at, "ignore_dims"), "check.ignore_dim", {**base, "dim": d, "dims": list(k.dimensions)})
        for d in m.ignore_dims
        if d not in k.dimensions
    ]
    return out


def _cycle(k: KPI) -> set[str]:
    """The measures built, through others, from themselves (a compiler would never end)."""
    refs = {m.name: [r for r in (m.num, m.den, m.of) if r] for m in k.measures}
    found = set()
    for start in refs:
        stack, seen = list(refs[start]), set()
        while stack:
            name = stack.pop()
            if name == start:
                found.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack += refs.get(name, [])
    return found


def _shown(k: KPI, known: set[str]) -> list[Problem]:
    """What the KPI's card, default view and data-quality warnings name."""
    base = {"kpi": k.name}
    out: list[Problem] = []
    for s in k.card.spotlights:
        if s.by and s.by not in k.dimensions:
            out.append(Problem(("card",), "check.card_dim", {**base, "dim": s.by, "dims": list(k.dimensions)}))
        out += [
            Problem(("card",), "check.unknown_measure", {**base, "given": ref})
            for ref in (s.measure, *s.show, *s.base)
            if ref and ref not in known
        ]
    out += [
        Problem(("warnings",), "check.unknown_measure", {**base, "given": name})
        for name, _ in k.warnings
        if name not in known
    ]
    if k.view.grain is not None and k.view.grain not in GRAINS:
        out.append(Problem(("view",), "check.grain", {**base, "given": k.view.grain, "grains": list(GRAINS)}))
    out += [
        Problem(("view",), "check.view_dim", {**base, "dim": d, "dims": list(k.dimensions)})
        for d in k.view.by
        if d not in k.dimensions
    ]
    if k.view.compare is not None and k.view.compare not in COMPARISONS:
        out.append(Problem(("view",), "check.compare", {**base, "given": k.view.compare}))
    out += [
        Problem(("view",), "check.unknown_measure", {**base, "given": name})
        for name in CHART_MEASURES.get(k.view.chart, ())
        if name not in known
    ]
    return out


#: The measures each chart of a KPI's page (``View.chart``, web/charts.py) draws.
CHART_MEASURES = {"funnel": ("mqls", "sqls"), "cycle": ("median_days", "p90_days", "mean_days")}


def catalogue_problems(
    catalogue: Sequence[KPI] = CATALOGUE, goals: Mapping[str, Sequence[str]] = GOALS
) -> list[Problem]:
    """The built-in catalogue's problems (tests/test_check.py expects none): each KPI's, and KPIs
    the goals name that are not in it."""
    names = {k.name for k in catalogue}
    out = [p.within(k.name) for k in catalogue for p in kpi_problems(k)]
    out += [
        Problem((goal,), "check.goal_kpi", {"goal": goal, "given": name})
        for goal, kpis in goals.items()
        for name in kpis
        if name not in names
    ]
    return out


# -- schedules ------------------------------------------------------------------------------------------
#: The key of a schedule each of its parser's messages is about (its line is that key's).
_SCHEDULE_KEYS = {
    "schedule.cron": "cron",
    "schedule.zone": "zone",
    "schedule.period": "period",
    "cli.report_format": "formats",
}


def schedules_rule(d: Declarations) -> Iterator[Issue]:
    """Each ``[[schedules]]`` through the scheduler's own parser (its first mistake), the KPIs it
    names, and two schedules of one name (their runs would share one log)."""
    raws = d.tables("schedules")
    if not raws:
        return
    from sanjeh.reports.schedule import schedules

    kpis = d.kpi_names()
    seen: set[str] = set()
    for i, raw in enumerate(raws):
        try:
            schedules([raw])
        except SanjehError as exc:
            inner = exc.__cause__ if isinstance(exc.__cause__, SanjehError) and exc.__cause__.key else exc
            key = inner.key or "schedule.invalid"
            at = _SCHEDULE_KEYS.get(key, "to" if key.startswith("deliver.") else "")
            if key == "schedule.unknown":
                at = str(inner.params["names"][0])
            yield d.issue(Problem((at,) if at else (), key, inner.params), "schedules", i)
        names = raw.get("kpis") or []
        for name in names if isinstance(names, list) else [names]:
            if name not in kpis:
                yield d.issue(
                    Problem(("kpis",), "query.unknown_kpi", {"kpi": name, "kpis": sorted(kpis)}), "schedules", i
                )
        name = str(raw.get("name") or f"schedule {i + 1}")
        if name in seen:
            yield d.issue(Problem(("name",), "check.duplicate_schedule", {"name": name}), "schedules", i)
        seen.add(name)


def alerts_rule(d: Declarations) -> Iterator[Issue]:
    """Each ``[[alerts]]`` through the alerts' own parser (reports/alert_rules.py: its first
    mistake in each rule, naming it), and two rules of one name."""
    raws = d.tables("alerts")
    if not raws:
        return
    from sanjeh.reports.alert_rules import check_rules

    kpis = {k.name: k for k in CATALOGUE} | {k.name: k for k, _ in d.kpis if k is not None}
    seen: set[str] = set()
    for i, raw in enumerate(raws):
        name = str(raw.get("name") or "").strip()
        if name and name in seen:
            yield d.issue(
                Problem(("name",), "alert.invalid", {"name": name, "why": UserError(key="alert.duplicate")}),
                "alerts",
                i,
            )
            continue
        seen.add(name)
        for e in check_rules([raw], kpis)[1]:
            yield d.issue(Problem((), e.key or "alert.invalid", e.params), "alerts", i)


# -- mappings ---------------------------------------------------------------------------------------------
def mappings_rule(d: Declarations) -> Iterator[Issue]:
    """The workspace's own mappings (``mappings/*.yaml``)."""
    for path in d.mappings:
        yield from check_mapping(path, str(path.relative_to(d.root)))


def check_mapping(path: Path, shown: str) -> list[Issue]:
    """Every problem of a mapping file: YAML, keys, tables, the canonical columns it fills (and
    those it must), the functions and expressions of its columns, filters and rejects; then, when
    those are fine, anything else the importer's parser refuses."""
    import yaml

    from sanjeh.ingest.mapping import MAX_MAPPING_BYTES, parse_mapping

    def at(*where: str | int, key: str, **params: Any) -> Issue:
        return Issue("error", shown, _yaml_line(node, where), key, params)

    raw = path.read_bytes()[: MAX_MAPPING_BYTES + 1]
    try:
        text = raw.decode("utf-8-sig")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        return [Issue("error", shown, 0, "check.mapping_text")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return [Issue("error", shown, mark.line + 1 if mark else 0, "check.mapping_yaml")]
    except (yaml.YAMLError, RecursionError):
        return [Issue("error", shown, 0, "check.mapping_yaml")]
    if len(raw) > MAX_MAPPING_BYTES or not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        return [Issue("error", shown, 0, "check.mapping_shape")]
    out = list(_mapping_issues(node, data, at))
    if not any(i.level == "error" for i in out):
        try:
            parse_mapping(data, origin=path.name)
        except SanjehError as exc:
            out.append(Issue("error", shown, 0, "check.mapping", {"error": exc.message}))
    return out


def _mapping_issues(node: Any, data: dict[str, Any], at: Callable[..., Issue]) -> Iterator[Issue]:
    from sanjeh.ingest.mapping import MAPPING_KEYS

    yield from _unknown_keys(at, data, MAPPING_KEYS)
    for i, t in enumerate(data["tables"]):
        if isinstance(t, dict):
            yield from _mapping_table(at, i, t)
        else:
            yield at("tables", i, key="check.mapping_shape")


def _unknown_keys(
    at: Callable[..., Issue], given: dict[Any, Any], allowed: frozenset[str], *where: str | int
) -> Iterator[Issue]:
    for k in given:
        if k not in allowed:
            yield at(*where, str(k), key="check.mapping_key", name=str(k), names=sorted(allowed))


def _mapping_table(at: Callable[..., Issue], i: int, t: dict[str, Any]) -> Iterator[Issue]:
    """One entry of a mapping's ``tables``: its keys, table, columns and expressions."""
    from sanjeh.ingest.mapping import COLUMN_KEYS, TABLE_KEYS, Compiler, _column
    from sanjeh.schema import IMPORT_ORDER, TABLES_BY_NAME
    from sanjeh.warehouse import quote_ident

    yield from _unknown_keys(at, t, TABLE_KEYS, "tables", i)
    name = t.get("table")
    if name not in TABLES_BY_NAME:
        yield at("tables", i, "table", key="check.mapping_table", given=str(name), tables=list(IMPORT_ORDER))
        return
    table = TABLES_BY_NAME[name]
    comp = Compiler(quote_ident, name)  # any file column: what the file holds is known only at import

    def condition(src: str) -> Any:
        return comp.compile(src).bool(src)

    columns = t.get("columns")
    columns = columns if isinstance(columns, dict) else {}
    for c, spec in columns.items():
        where: tuple[str | int, ...] = ("tables", i, "columns", c)
        if c not in table.column_names:
            yield at(*where, key="check.mapping_column", table=name, column=str(c), columns=list(table.column_names))
        elif isinstance(spec, dict) and "ask" in spec:
            yield at(*where, key="check.mapping_question", table=name, column=str(c), question=str(spec["ask"]))
        else:
            if isinstance(spec, dict):
                yield from _unknown_keys(at, spec, COLUMN_KEYS, *where)
            yield from _expression(at, where, spec, partial(_column, comp, f"{name}.{c}"))
    for c in table.required:
        if c not in columns and c not in table.defaults:
            yield at("tables", i, "columns", key="check.mapping_required", table=name, column=c)
    if t.get("where") is not None:
        yield from _expression(at, ("tables", i, "where"), str(t["where"]), condition)
    for r, rule in enumerate(t.get("reject") or []):
        if isinstance(rule, dict) and "when" in rule:
            yield from _expression(at, ("tables", i, "reject", r), str(rule["when"]), condition)


def _expression(
    at: Callable[..., Issue], where: tuple[str | int, ...], src: Any, compile_: Callable[[Any], Any]
) -> Iterator[Issue]:
    """An expression (or a column given as a table): its unknown functions, else whatever stops its compiler."""
    from sanjeh.ingest.mapping import FUNCTIONS, called_functions

    text = src.get("expr", src.get("column", "")) if isinstance(src, dict) else src
    unknown = [f for f in called_functions(str(text)) if f.lower() not in FUNCTIONS]
    for f in unknown:
        yield at(*where, key="check.mapping_function", name=f, functions=list(FUNCTIONS))
    if unknown:
        return
    try:
        compile_(src)
    except SanjehError as exc:
        yield at(*where, key="check.mapping_expression", expression=str(text), error=exc.message)


def _yaml_line(node: Any, where: Sequence[str | int]) -> int:
    """The line of ``where`` in a composed YAML document: of the key, else of the nearest part written."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else 0
    for part in where:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                return line
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# -- running the rules ---------------------------------------------------------------------------------
#: Every rule, in the order their issues are listed. Declarations of another kind add theirs here.
RULES: tuple[Rule, ...] = (settings_rule, kpis_rule, schedules_rule, alerts_rule, mappings_rule)


def check(d: Declarations, rules: Sequence[Rule] = RULES) -> list[Issue]:
    """Every issue every rule finds, errors first, then by file (``sanjeh.toml`` first) and line."""
    found = [issue for rule in rules for issue in rule(d)]
    return sorted(found, key=lambda i: (i.level != "error", i.file != SETTINGS_FILE, i.file, i.line))


def refuse(issues: Sequence[Issue]) -> None:
    """Raise one :class:`InvalidDeclarations` listing every error, when there is one (warnings pass)."""
    errors = [i for i in issues if i.level == "error"]
    if errors:
        raise InvalidDeclarations(errors, key="check.failed")
