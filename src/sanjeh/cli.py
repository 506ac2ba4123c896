"""The command line (shared/spec/CLI.md): thin — parse, call the workspace/engine, render."""

from __future__ import annotations

import io
import json
import os
import sys
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sanjeh.errors import SanjehError, UserError
from sanjeh.i18n import model_name, t_or
from sanjeh.i18n import t as message
from sanjeh.kpis.columns import name_column
from sanjeh.render import arrow, attainment_style, fmt_value, to_csv

app = typer.Typer(
    name="sanjeh",
    help="Sanjeh (سنجه): B2B sales KPIs on your own data, Jalali-first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Users of the dashboard and API.", no_args_is_help=True)
app.add_typer(users_app, name="users")
map_app = typer.Typer(help="Mappings of foreign exports to the canonical tables.", no_args_is_help=True)
app.add_typer(map_app, name="map")

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="The workspace folder (default: $SANJEH_WORKSPACE, else the current folder)."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json | csv")]
FORMATS = ("table", "json", "csv")


#: Top-level commands that run in the server when it serves the workspace (the local channel,
#: sanjeh/local.py): every command that opens a workspace, but ``serve`` itself and the two that
#: make one (``init``, ``demo``). A command added later joins here or says why not
#: (tests/test_local_channel.py). ``targets`` and ``why`` are commands other branches add.
FORWARDED = (
    "import",
    "rejects",
    "kpis",
    "kpi",
    "scorecard",
    "users",
    "targets",
    "why",
    "report",
    "forecast",
    "alerts",
    "runs",
)
#: What a forwarded command may change, so the server forgets what it cached of it.
CHANGES = {"import": ("data",), "targets": ("targets",), "users": ("users",)}


@dataclass
class _Served:
    """A command the server runs for the command line of another process (:func:`run_served`):
    its workspace (the server's, lent), its streams, and the client's folder, language and
    terminal (width, tty, colours), so the output is what the client would have printed."""

    ws: Any
    cwd: Path
    lang: str
    stdin: TextIO
    stdout: io.StringIO
    stderr: io.StringIO
    terminal: dict[str, dict[str, Any]]
    #: an import's progress (what, fraction), sent to the client as it happens
    progress: Callable[[str, float], None] | None = None


_SERVED: ContextVar[_Served | None] = ContextVar("sanjeh_served", default=None)


def _stdout() -> TextIO:
    served = _SERVED.get()
    return served.stdout if served else sys.stdout


def _stderr() -> TextIO:
    served = _SERVED.get()
    return served.stderr if served else sys.stderr


def _stdin() -> TextIO:
    served = _SERVED.get()
    return served.stdin if served else sys.stdin


def _console(stream: str) -> Console:
    """A Rich console on standard output (``out``) or error (``err``): this process's, or, for a
    served command, a buffer shaped like the client's terminal."""
    served = _SERVED.get()
    if served is None:
        return Console(soft_wrap=True, stderr=stream == "err")
    term = served.terminal[stream]
    return Console(
        file=served.stdout if stream == "out" else served.stderr,
        soft_wrap=True,
        width=term["width"],
        force_terminal=term["tty"],
        color_system=term["color"] if term["tty"] else None,
        no_color=term["no_color"],
        force_interactive=False,
        legacy_windows=False,
    )


def _out() -> Console:
    return _console("out")


def _err() -> Console:
    return _console("err")


def _say(ws: Any, key: str, **params: Any) -> None:
    """Print a message of the catalogue in the workspace's language (a command's report of what it did)."""
    _out().print(message(key, ws.settings.language, **params), markup=False, highlight=False)


def _path(p: Path) -> Path:
    """A path the user gave, relative to their folder (for a served command: the client's)."""
    served = _SERVED.get()
    return p if served is None or p.is_absolute() else served.cwd / p


def _open(workspace: Path | None) -> Any:
    """The workspace the command names; for a served command, the server's own (lent: the
    command's ``close()`` leaves it open). The client checked it names the same folder."""
    served = _SERVED.get()
    if served is not None:
        return served.ws
    from sanjeh.workspace import Workspace

    path = workspace or Path(os.environ.get("SANJEH_WORKSPACE") or ".")
    return Workspace.open(path)


def _n(x: Any, lang: str) -> str:
    """A count for a terminal table, in the workspace's digits."""
    from sanjeh.formatting import fmt_number

    return _plain(fmt_number(x, lang))


def _check_format(fmt: str) -> str:
    f = fmt.lower()
    if f not in FORMATS:
        raise UserError(key="cli.format", params={"format": fmt})
    return f


def _print_json(data: Any) -> None:
    _stdout().write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# -- workspace -----------------------------------------------------------------------------
@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    warehouse: Annotated[str | None, typer.Option(help="Warehouse URL (default: a DuckDB file inside).")] = None,
    company: Annotated[str | None, typer.Option(help="Company name.")] = None,
    language: Annotated[str | None, typer.Option(help="fa or en.")] = None,
    calendar: Annotated[str | None, typer.Option(help="jalali or gregorian.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="The money the data counts in: an ISO 4217 code (default IRR).")
    ] = None,
    money_unit: Annotated[
        str | None, typer.Option(help="currency (default), or toman to show IRR amounts in toman (÷ 10).")
    ] = None,
) -> None:
    """Create a workspace: settings file + warehouse."""
    from sanjeh.settings import Settings
    from sanjeh.workspace import Workspace

    opts: dict[str, Any] = {}
    if company:
        opts["company"] = company
    if language:
        opts["language"] = language
    if calendar:
        opts["calendar"] = calendar
    if currency:
        opts["currency"] = currency.strip().upper()
    if money_unit:
        opts["money_unit"] = money_unit.strip().lower()
    if opts:  # validate through the same rules as sanjeh.toml
        Settings.from_dict(path, {"workspace": opts})
    ws = Workspace.init(path, warehouse=warehouse, **opts)
    _say(ws, "cli.created_workspace", root=ws.root, warehouse=ws.settings.warehouse)
    ws.close()


@app.command("import")
def import_(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders to import (none: a mapping that reads a database).")
    ] = None,
    workspace: WorkspaceOpt = None,
    mapping: Annotated[
        str | None,
        typer.Option(help="A mapping's name (saved in the workspace's mappings/ folder, or shipped) or a YAML file."),
    ] = None,
    table: Annotated[str | None, typer.Option(help="The table every file fills (default: from its name).")] = None,
    replace: Annotated[bool, typer.Option(help="Replace the imported tables instead of upserting.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            help="With --replace: empty a table even when nothing is accepted, and delete the child rows "
            "(order lines) left without their parent."
        ),
    ] = False,
    strict: Annotated[bool, typer.Option(help="Exit 2 if any row is rejected.")] = False,
    encoding: Annotated[str | None, typer.Option(help="Force the CSV encoding (utf-8, windows-1256).")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Make every check and show the summary and the rejects; write nothing.")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Import CSV/XLSX/Parquet files or folders into the workspace."""
    from rich.progress import Progress

    fmt = _check_format(fmt)
    ws = _open(workspace)
    lang = ws.settings.language
    paths = [_path(p) for p in paths or []]
    mapping = _mapping_ref(mapping)
    served = _SERVED.get()
    with Progress(transient=True, console=_err(), disable=fmt != "table" or served is not None) as progress:
        task = progress.add_task("importing", total=1.0)

        def report(what: str, fraction: float) -> None:
            if served is not None and served.progress is not None:  # the client draws the bar
                served.progress(what, fraction)
            progress.update(task, description=what, completed=fraction)

        summary = ws.import_files(
            paths or [],
            mapping=mapping,
            table=table,
            replace=replace,
            force=force,
            encoding=encoding,
            sheet=sheet,
            progress=report,
            dry_run=dry_run,
        )
    data = summary.to_dict()
    rows = [{"table": t, **c} for t, c in data["tables"].items()]
    lang = ws.settings.language
    if fmt == "json":
        _print_json(data)
    elif fmt == "csv":
        _stdout().write(to_csv(rows, ["table", "read", "accepted", "rejected"]))
    else:
        _render_import(summary, rows, lang)
    ws.close()
    if strict and any(r["rejected"] for r in rows):
        raise UserError(key="cli.strict", params={"n": sum(r["rejected"] for r in rows)})


REJECT_COLUMNS = ["table", "file", "line", "column", "value", "mapped_value", "reason"]


def _render_import(summary: Any, rows: list[dict[str, Any]], lang: str) -> None:
    """The table summary of an import (or a dry run: then its rejects and warnings too), in the
    workspace's words and digits; values as the file holds them."""
    from sanjeh.reasons import column_title, reason_text

    out = _out()
    t = Table(title=message("cli.import.dry_title" if summary.dry_run else "cli.import.title", lang))
    for col in ("table", "read", "accepted", "rejected"):
        t.add_column(message(f"cli.import.{col}", lang), justify="left" if col == "table" else "right")
    for r in rows:
        style = "red" if r["rejected"] else ""
        counts = (_n(r[c], lang) for c in ("read", "accepted", "rejected"))
        t.add_row(t_or(f"table.{r['table']}", lang, r["table"]), *counts, style=style)
    out.print(t)
    if summary.ignored_files:
        out.print(message("cli.import.ignored", lang, files=", ".join(summary.ignored_files)))
    if summary.warnings:
        out.print(message("cli.import.warnings", lang, n=_n(summary.warnings, lang)))
    for name, n in summary.deleted.items():
        key = "cli.import.would_delete" if summary.dry_run else "cli.import.deleted"
        out.print(message(key, lang, n=_n(n, lang), table=t_or(f"table.{name}", lang, name)))
    if summary.dry_run:
        for title, items, cols in (
            ("cli.import.rejects", summary.rejects, REJECT_COLUMNS),
            ("cli.import.warning_rows", summary.warning_rows, [*REJECT_COLUMNS[:5], "reason"]),
        ):
            if not items:
                continue
            table = Table(title=message(title, lang, n=_n(len(items), lang)))
            for c in cols:
                table.add_column(
                    t_or(f"data.{c}", lang, c), justify="right" if c == "line" else "left", overflow="fold"
                )
            for r in items[:200]:
                cells = []
                for c in cols:
                    v = r.get(c)
                    if v is None:
                        cells.append("")
                    elif c == "table":
                        cells.append(t_or(f"table.{v}", lang, str(v)))
                    elif c == "line":
                        cells.append(_n(v, lang))
                    elif c == "column":
                        cells.append(column_title(str(v), lang))
                    elif c == "reason":
                        cells.append(escape(_plain(reason_text(str(v), lang))))
                    else:
                        cells.append(escape(str(v)))  # as the file holds it
                table.add_row(*cells)
            out.print(table)
            if len(items) > 200:
                out.print(message("cli.import.more", lang, n=_n(len(items) - 200, lang)))
        out.print(message("cli.import.nothing_written", lang))
    elif any(r["rejected"] for r in rows):
        out.print(message("cli.import.kept", lang))


def _workspace_settings(workspace: Path | None) -> Any:
    """The settings of the workspace named (or found), without opening its warehouse; None if none."""
    from sanjeh.errors import SettingsError
    from sanjeh.settings import Settings

    path = workspace or Path(os.environ.get("SANJEH_WORKSPACE") or ".")
    try:
        return Settings.load(path)
    except (SettingsError, UserError, OSError):
        if workspace is not None:
            raise
        return None


@map_app.command("suggest")
def map_suggest(
    files: Annotated[list[Path], typer.Argument(help="The export's files or folders.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the draft (default NAME.yaml here; - prints it)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the output file.")] = False,
    currency: Annotated[
        str | None, typer.Option(help="The workspace's currency (default: the workspace's, else IRR).")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    lang: Annotated[str | None, typer.Option(help="fa or en (default: the workspace's, else en).")] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Write a draft mapping for an export: each line with how sure it is, questions where it cannot tell."""
    from sanjeh.i18n import normalize_lang
    from sanjeh.i18n import t as message
    from sanjeh.ingest.suggest import suggest

    fmt = _check_format(fmt)
    settings = _workspace_settings(workspace)
    language = normalize_lang(lang or (settings.language if settings else None), "en")
    money = (currency or (settings.currency if settings else None) or "IRR").strip().upper()
    draft = suggest(files, currency=money, lang=language, sheet=sheet)
    text = draft.yaml(language)
    target = output if output is not None else Path(f"{draft.name}.yaml")
    if str(target) == "-":
        _stdout().write(text)
        return
    if target.exists() and not force:
        raise UserError(key="cli.map_exists", params={"path": str(target)})
    target.write_text(text, encoding="utf-8")
    if fmt == "json":
        _print_json(
            {
                "path": str(target),
                "lines": [
                    {"table": ln.table, "column": ln.column, "spec": ln.spec, "level": ln.level, "why": ln.why}
                    for ln in draft.lines()
                ],
                "questions": draft.questions,
                "unplaced": draft.unplaced,
                "left_out": draft.unused,
            }
        )
        return
    out = _out()
    t = Table(title=message("map.lines", language))
    for c in ("table", "column", "mapping", "level", "why"):
        t.add_column(c, overflow="fold")
    for ln in draft.lines():
        spec = ln.spec if isinstance(ln.spec, str) else json.dumps(ln.spec, ensure_ascii=False)
        t.add_row(ln.table, ln.column, spec, message(f"map.level.{ln.level}", language), ln.why)
    out.print(t)
    for title, items in (
        (message("map.questions", language, n=len(draft.questions)), draft.questions),
        (message("map.unplaced_title", language), draft.unplaced),
        (message("map.left_out", language), draft.unused),
    ):
        if items:
            out.print(f"[bold]{title}[/bold]")
            for item in items:
                out.print(f"  • {item}", highlight=False, markup=False)
    out.print(message("map.written", language, path=str(target)))
    out.print(message("map.next", language, path=str(target)), markup=False)


def _mapping_ref(mapping: str | None) -> str | None:
    """``--mapping``: a mapping's name as it is (shipped, or saved in the workspace's ``mappings/``
    folder: the import resolves it), unless the user's folder holds a file of that name; a file
    relative to the user's folder."""
    if mapping is None or _SERVED.get() is None:
        return mapping
    from sanjeh.ingest.mapping import MAPPING_NAME

    if MAPPING_NAME.fullmatch(mapping) and not _path(Path(mapping)).is_file():
        return mapping
    return str(_path(Path(mapping)))


@app.command()
def rejects(
    workspace: WorkspaceOpt = None,
    table: Annotated[str | None, typer.Option(help="Only this table.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The rejected rows: table, file, line, column, value (as in the file), mapped value, reason."""
    from sanjeh.reasons import column_title, reason_text

    fmt = _check_format(fmt)
    ws = _open(workspace)
    lang = ws.settings.language
    rows = ws.rejects(table)
    cols = ["table", "file", "line", "column", "value", "mapped_value", "reason"]
    if fmt == "json":
        _print_json([{k: r.get(k) for k in cols} for r in rows])
    elif fmt == "csv":
        _stdout().write(to_csv(rows, cols))
    else:
        t = Table(title=message("cli.rejects_title", lang, n=_n(len(rows), lang)))
        for c in cols:
            t.add_column(message(f"data.{c}", lang), justify="right" if c == "line" else "left", overflow="fold")
        for r in rows[:1000]:
            t.add_row(
                t_or(f"table.{r['table']}", lang, str(r["table"])),
                str(r.get("file") or ""),
                "" if r.get("line") is None else _n(r["line"], lang),
                column_title(r.get("column"), lang) if r.get("column") else "",
                escape("" if r.get("value") is None else str(r["value"])),
                escape("" if r.get("mapped_value") is None else str(r["mapped_value"])),
                escape(_plain(reason_text(r.get("reason"), lang))),
            )
        _out().print(t)
        if len(rows) > 1000:
            _out().print(message("cli.more_rejects", lang, n=_n(len(rows) - 1000, lang)))
    ws.close()


# -- KPIs ------------------------------------------------------------------------------------
@app.command()
def kpis(workspace: WorkspaceOpt = None, fmt: FormatOpt = "table") -> None:
    """The KPI catalogue: name, titles, measures, dimensions, direction, goals."""
    fmt = _check_format(fmt)
    ws = _open(workspace)
    cat = [k.to_dict() for k in ws.engine().catalogue()]
    if fmt == "json":
        _print_json(cat)
    elif fmt == "csv":
        rows = [
            {
                "name": k["name"],
                "number": k["number"],
                "title_fa": k["title"]["fa"],
                "title_en": k["title"]["en"],
                "measures": " ".join(m["name"] for m in k["measures"]),
                "dimensions": " ".join(k["dimensions"]),
                "direction": k["direction"],
                "goals": " ".join(k["goals"]),
            }
            for k in cat
        ]
        _stdout().write(to_csv(rows))
    else:
        lang = ws.settings.language
        t = Table(title=message("nav.kpis", lang))
        for c in ("number", "name", "title_fa", "title_en", "measures", "dimensions", "good", "goals"):
            t.add_column(message(f"cli.kpis_{c}", lang), overflow="fold")
        for k in cat:
            dims = ", ".join(d + ("*" if d in k["fixed_dimensions"] else "") for d in k["dimensions"])
            t.add_row(
                k["number"],
                k["name"],
                k["title"]["fa"],
                k["title"]["en"],
                ", ".join(m["name"] for m in k["measures"]),
                dims,
                "▲" if k["direction"] == "up" else "▼",
                ", ".join(k["goals"]),
            )
        _out().print(t)
        _out().print(message("cli.kpis_fixed", lang))
    ws.close()


@app.command("check")
def check_cmd(workspace: WorkspaceOpt = None, fmt: FormatOpt = "table") -> None:
    """Check every declaration of the workspace (settings, KPIs, schedules, its mappings): all the
    issues at once, with file and line. Exit 2 when one is an error."""
    from sanjeh.check import check, declarations
    from sanjeh.i18n import digits

    fmt = _check_format(fmt)
    found = declarations(workspace or Path(os.environ.get("SANJEH_WORKSPACE") or "."))
    issues = check(found)
    asked = os.environ.get("SANJEH_LANG")
    lang = asked if asked in ("fa", "en") else found.language
    errors = sum(i.level == "error" for i in issues)
    if fmt == "json":
        _print_json([i.to_dict() for i in issues])
    elif fmt == "csv":
        rows = [
            {"file": i.file, "line": i.line, "level": i.level, "key": i.key, "message": i.text(lang)} for i in issues
        ]
        _stdout().write(to_csv(rows))
    elif not issues:
        _out().print(message("check.none", lang))
    else:
        table = Table()
        for c in ("place", "level", "message"):
            table.add_column(message(f"check.{c}", lang), overflow="fold")
        for i in issues:
            place = i.file + (":" + digits(str(i.line), lang) if i.line else "")
            colour = "red" if i.level == "error" else "yellow"
            table.add_row(
                escape(place), f"[{colour}]{message(f'check.{i.level}', lang)}[/{colour}]", escape(_plain(i.text(lang)))
            )
        _out().print(table)
        if not errors:
            _out().print(message("check.warnings_only", lang, n=_n(len(issues), lang)))
    if errors:
        raise UserError(key="cli.check", params={"n": errors})


def _parse_filters(filters: list[str]) -> tuple[tuple[str, str], ...]:
    from sanjeh.kpis.query import parse_filter

    return tuple(parse_filter(f, key="cli.filter") for f in filters)


def _result_table(result: Any, lang: str, money: Any) -> Table:
    from sanjeh.i18n import member_label, period_label
    from sanjeh.kpis.columns import Columns
    from sanjeh.render import column_title

    kpi = result.kpi
    info = Columns(result.column_info)
    title = f"{kpi.title[lang]} · {_plain(period_label(result.plan.period.label, lang))}"
    t = Table(title=title)
    # a dimension and its name are one column: the name (a code in the user's words), the id beside it
    columns = [c for c in info if c.role != "dimension_name"]
    for c in columns:
        t.add_column(
            _plain(column_title(c, kpi, lang)),
            justify="left" if c.role in ("step", "dimension") else "right",
            overflow="fold",
        )
    h = kpi.headline
    for r in result.rows:
        cells = []
        for c in columns:
            v = r.get(c.name)
            if c.role == "step":
                cells.append(_plain(period_label(v, lang)))
                continue
            if c.role == "dimension":
                label = member_label(c.name, v, r.get(name_column(c.name)), lang)
                cells.append(escape(label if label == str(v) else f"{label} ({v})"))
                continue
            text = fmt_value(v, "number" if c.unit == "text" else c.unit, lang, money)
            if c.role in ("change", "change_rate") and c.measure == h and not c.second:
                a, style = arrow(v, kpi.direction)
                text = f"[{style}]{a} {text}[/{style}]"
            elif c.role == "attainment":
                style = attainment_style(v)
                text = f"[{style}]{text}[/{style}]"
            cells.append(text)
        t.add_row(*cells)
    return t


@app.command()
def kpi(
    name: Annotated[str | None, typer.Argument(help="The KPI (see `sanjeh kpis`).")] = None,
    period: Annotated[
        str | None, typer.Option(help="A period label, e.g. 1403-Q1, 1403-01, 2024-03 or FROM..TO.")
    ] = None,
    grain: Annotated[str | None, typer.Option(help="day | week | month | quarter | year")] = None,
    by: Annotated[list[str] | None, typer.Option(help="Split by a dimension (repeatable).")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="DIMENSION=MEMBER (repeatable).")] = None,
    compare: Annotated[str | None, typer.Option(help="previous | year_ago")] = None,
    explain: Annotated[bool, typer.Option(help="Print the SQL instead of running it.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every KPI of the catalogue.")] = False,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """One KPI (or --all) for a period, split and compared."""
    from sanjeh.kpis import Query

    fmt = _check_format(fmt)
    if not period:
        raise UserError(key="cli.period_required")
    if (name is None) == (not all_):
        raise UserError(key="cli.one_kpi")
    ws = _open(workspace)
    engine = ws.engine()
    lang = ws.settings.language
    filters = _parse_filters(filter_ or [])
    names = [k.name for k in engine.catalogue()] if all_ else [str(name)]
    queries = [
        Query(n, period, grain, tuple(by or ()) if not all_ else (), filters if not all_ else (), compare)
        for n in names
    ]
    if explain:
        for q in queries:
            if len(queries) > 1:
                _stdout().write(f"-- {q.kpi}\n")
            _stdout().write(engine.explain(q) + ";\n")
        ws.close()
        return
    results = [engine.run(q) for q in queries]
    if fmt == "json":
        data = [r.to_dict() for r in results]
        _print_json(data if all_ else data[0])
    elif fmt == "csv":
        for i, r in enumerate(results):
            rows = [{"kpi": r.kpi.name, **row} for row in r.rows] if all_ else r.rows
            text = to_csv(rows, (["kpi"] if all_ else []) + r.columns)
            _stdout().write(text if i == 0 else text.split("\n", 1)[1] if not all_ else text)
    else:
        out = _out()
        for r in results:
            out.print(_result_table(r, lang, ws.settings.money_format))
    ws.close()


@app.command()
def why(
    name: Annotated[str, typer.Argument(help="The KPI (see `sanjeh kpis`).")],
    period: Annotated[str | None, typer.Option(help="A period label, e.g. 1403-Q1, 2024-03 or FROM..TO.")] = None,
    measure: Annotated[str | None, typer.Option(help="The measure to explain (default: the headline).")] = None,
    against: Annotated[str, typer.Option(help="previous | year_ago | target")] = "previous",
    by: Annotated[list[str] | None, typer.Option(help="Split by a dimension (once, or twice for pairs).")] = None,
    auto: Annotated[
        bool, typer.Option("--auto", help="Split by the dimension (or pair) that explains most (the default).")
    ] = False,
    top: Annotated[int, typer.Option(help="Members listed; the rest are summed as 'other'.")] = 10,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="DIMENSION=MEMBER (repeatable).")] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Why a KPI changed against the previous period, a year ago or its target: the change split
    exactly over the members of a dimension (docs/why.md)."""
    from sanjeh.kpis.why import WhyQuery

    fmt = _check_format(fmt)
    if not period:
        raise UserError(key="cli.period_required")
    ws = _open(workspace)
    q = WhyQuery(name, period, measure, against, tuple(by or ()), auto, top, _parse_filters(filter_ or []))
    answer = ws.engine().why(q)
    lang = ws.settings.language
    if fmt == "json":
        _print_json(answer.to_dict(lang))
    elif fmt == "csv":
        _stdout().write(to_csv(*_why_csv(answer)))
    else:
        _render_why(answer, lang, ws.settings.money_format)
    ws.close()


def _why_lines(answer: Any) -> list[tuple[str, dict[str, Any]]]:
    """The lines after the members: other, overlap, unallocated, target mix (those there are)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if answer.other:
        out.append(("other", dict(answer.other)))
    for line in ("overlap", "unallocated", "target_mix"):
        x = getattr(answer, line)
        if x is not None:
            out.append((line, {"contribution": x}))
    return out


def _why_csv(answer: Any) -> tuple[list[dict[str, Any]], list[str]]:
    data = answer.to_dict()
    names = [name_column(d) for d in answer.by if any(name_column(d) in r for r in data["rows"])]
    ratio = answer.kind == "ratio"
    cols = ["line", *answer.by, *names, "value", "baseline_value", "contribution", "share_of_change"]
    cols += ["mix", "rate"] if ratio else []
    cols += ["status", "members"]
    rows = [{"line": "member", **r} for r in data["rows"]]
    change = answer.change
    for line, x in _why_lines(answer):
        c = x["contribution"]
        rows.append({"line": line, **x, "share_of_change": c / change if change else None})
    rows.append(
        {"line": "change", "value": answer.value, "baseline_value": answer.baseline_value, "contribution": change}
    )
    return rows, cols


def _render_why(answer: Any, lang: str, money: Any) -> None:
    from sanjeh.i18n import period_label
    from sanjeh.i18n import t as message

    kpi, m = answer.kpi, answer.measure
    unit = m.unit
    delta_unit = "points" if unit == "rate" else unit
    if answer.against == "target":
        against = message("why.against_target", lang)
    else:
        against = message(
            f"why.against_{answer.against}", lang, period=period_label(answer.baseline_period.label, lang)
        )
    out = _out()
    out.print(
        message(
            "why.summary",
            lang,
            kpi=kpi.title[lang],
            measure=m.title.get(lang, m.name) if m.name != kpi.headline else message("why.headline", lang),
            period=period_label(answer.period.label, lang),
            value=fmt_value(answer.value, unit, lang, money, compact=True),
            baseline=fmt_value(answer.baseline_value, unit, lang, money, compact=True),
            against=against,
            change=fmt_value(answer.change, delta_unit, lang, money, compact=True),
        )
    )
    sep = "، " if lang == "fa" else ", "
    dims = sep.join(message(f"dim.{d}", lang) for d in answer.by)
    title = message("why.by", lang, dims=dims)
    if answer.auto:
        from sanjeh.formatting import fmt_number

        n = len(answer.auto["candidates"])
        title += " · " + message(
            "why.auto", lang, n=fmt_number(n, lang), score=fmt_number(answer.auto["score"], lang, 2)
        )
    t = Table(title=title)
    ratio = answer.kind == "ratio"
    heads = [message(f"dim.{d}", lang) for d in answer.by]
    heads += [message(f"why.{c}", lang) for c in ("value", "baseline", "contribution", "share")]
    heads += [message("why.mix", lang), message("why.rate", lang)] if ratio else []
    heads.append(message("why.status_col", lang))
    for i, h in enumerate(heads):
        t.add_column(h, justify="left" if i < len(answer.by) else "right", overflow="fold")

    def share(x: float | None) -> str:
        return fmt_value(x / answer.change if x is not None and answer.change else None, "rate", lang)

    from sanjeh.i18n import member_label

    def amount(x: Any, u: str) -> str:  # a terminal's table: amounts compact (۹۱۰٫۸ میلیارد ریال)
        return fmt_value(x, u, lang, money, compact=True)

    for r in answer.rows:
        members = []
        for d in answer.by:  # names, and codes in the user's words («تماس سرد» for cold_call)
            named = r.get(name_column(d))
            label = _plain(member_label(d, r[d], named, lang))
            members.append(f"{label} ({r[d]})" if named and named != r[d] else label)
        a, style = arrow(r["contribution"], kpi.direction)
        cells = [
            amount(r["value"], unit),
            amount(r["baseline_value"], unit),
            f"[{style}]{a} {amount(r['contribution'], delta_unit)}[/{style}]",
            share(r["contribution"]),
        ]
        if ratio:
            cells += [fmt_value(r["mix"], "points", lang), fmt_value(r["rate"], "points", lang)]
        t.add_row(*members, *cells, message(f"why.status.{r['status']}", lang))
    for line, x in _why_lines(answer):
        label = message(f"why.{line}", lang, n=fmt_value(x.get("members"), "count", lang))
        cells = ["", "", amount(x["contribution"], delta_unit), share(x["contribution"])]
        if ratio:
            cells += [fmt_value(x.get("mix"), "points", lang), fmt_value(x.get("rate"), "points", lang)]
        t.add_row(label, *[""] * (len(answer.by) - 1), *cells, "", style="dim")
    total = [
        amount(answer.value, unit),
        amount(answer.baseline_value, unit),
        amount(answer.change, delta_unit),
        share(answer.change),
    ]
    t.add_row(
        message("why.total", lang), *[""] * (len(answer.by) - 1), *total, *[""] * (3 if ratio else 1), style="bold"
    )
    out.print(t)
    for w in answer.warnings:
        out.print(f"[yellow]{w[lang]}[/yellow]")


@app.command("forecast")
def forecast_cmd(
    name: Annotated[str, typer.Argument(help="The KPI (see `sanjeh kpis`).")],
    period: Annotated[str | None, typer.Option(help="The period to land, e.g. 1403-Q1 or 1403.")] = None,
    measure: Annotated[str | None, typer.Option(help="An additive measure (default: the headline).")] = None,
    by: Annotated[str | None, typer.Option(help="Split the weighted pipeline and time to win by rep | source.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day counted as today: 1403-01-15 or 2024-04-03 (default: today).")
    ] = None,
    stale: Annotated[
        bool, typer.Option("--stale", help="List the stale deals (open longer than most wins take).")
    ] = False,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Where a period will land: the pace by working days, a statistical forecast with its
    backtest error and the chance of the target, the weighted pipeline and the time to win
    (docs/forecast.md)."""
    from sanjeh.kpis.forecast import outlook

    fmt = _check_format(fmt)
    if not period:
        raise UserError(key="cli.period_required")
    day = _as_of_day(as_of) if as_of else None
    ws = _open(workspace)
    data = outlook(ws.engine(), name, period, measure=measure, by=by.strip().lower() if by else None, as_of=day)
    lang = ws.settings.language
    if fmt == "json":
        _print_json(data)
    elif fmt == "csv":
        _stdout().write(to_csv(*_forecast_csv(data, stale)))
    else:
        _render_forecast(data, ws.engine().kpi(name), lang, ws.settings.money_format, ws.settings.calendar, stale)
    ws.close()


def _forecast_csv(data: dict[str, Any], stale: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per line: the pace, each forecast month, the landing, each pipeline line and, with
    ``stale``, each stale deal (its amount; ``target`` holds its days open)."""
    rows: list[dict[str, Any]] = []
    pc = data["pace"]
    rows.append({"section": "pace", "key": pc["period"], "value": pc["projected"], "target": pc["target"]})
    fc = data.get("forecast")
    if fc:
        for m in fc["months"]:
            rows.append({"section": "forecast", "key": m["month"], "value": m["mean"], **{k: m[k] for k in _BANDS}})
        land = fc["landing"]
        rows.append(
            {
                "section": "landing",
                "key": pc["period"],
                "value": land["mean"],
                "target": pc["target"],
                "chance": fc["chance_of_target"],
                **{k: land[k] for k in _BANDS},
            }
        )
    pipe = data.get("pipeline")
    if pipe:
        split = "per_" + pipe.get("by", "period")
        for k, v in pipe[split].items():
            rows.append({"section": f"pipeline_{split}", "key": k, "value": v})
    ttw = data.get("time_to_win")
    if stale and ttw:
        for d in ttw["stale"]:
            rows.append({"section": "stale", "key": d["opportunity_id"], "value": d["amount"], "target": d["age_days"]})
    return rows, ["section", "key", "value", *_BANDS, "target", "chance"]


_BANDS = ("lo80", "hi80", "lo95", "hi95")


def _render_forecast(data: dict[str, Any], kpi: Any, lang: str, money: Any, calendar: Any, stale: bool) -> None:
    from sanjeh.formatting import fmt_number
    from sanjeh.i18n import period_label

    unit = data["unit"]
    out = _out()

    def v(x: Any) -> str:
        return fmt_value(x, unit, lang, money)

    pc = data["pace"]
    common = {
        "kpi": kpi.title[lang],
        "period": period_label(pc["period"], lang),
        "so_far": v(pc["so_far"]),
        "left": fmt_number(pc["working_days_left"], lang),
        "total": fmt_number(pc["working_days_left"] + pc["working_days_elapsed"], lang),
        "projected": v(pc["projected"]),
    }
    if pc["target"] is not None:
        out.print(
            message(
                "forecast.pace",
                lang,
                target=v(pc["target"]),
                attainment=fmt_value(pc["attainment_so_far"], "rate", lang),
                projected_attainment=fmt_value(pc["projected_attainment"], "rate", lang),
                **common,
            )
        )
    else:
        out.print(message("forecast.pace_no_target", lang, **common))
    fc = data.get("forecast")
    if fc is None:
        out.print(f"[yellow]{escape(data['forecast_error'][lang])}[/yellow]")
    else:
        mase = fmt_number(fc["backtest_mase"][fc["model"]], lang, 2)
        t = Table(title=message("forecast.title", lang, model=model_name(fc["model"], lang), mase=mase))
        for i, key in enumerate(("month", "mean", "i80", "i95")):
            t.add_column(message(f"forecast.{key}", lang), justify="left" if i == 0 else "right")
        for m in fc["months"]:
            t.add_row(
                period_label(m["month"], lang),
                v(m["mean"]),
                f"{v(m['lo80'])} – {v(m['hi80'])}",
                f"{v(m['lo95'])} – {v(m['hi95'])}",
            )
        out.print(t)
        land = fc["landing"]
        out.print(message("forecast.landing", lang, **{k: v(land[k]) for k in ("mean", "booked", *_BANDS)}))
        if fc["chance_of_target"] is not None:
            out.print(message("forecast.chance", lang, chance=fmt_value(fc["chance_of_target"], "rate", lang)))
    pipe = data.get("pipeline")
    if pipe:
        out.print(
            message(
                "forecast.pipeline",
                lang,
                expected=v(pipe["expected_in_period"]),
                period=period_label(pipe["period"], lang),
                deals=fmt_number(len(pipe["deals"]), lang),
                rate=fmt_value(pipe["overall_win_rate"], "rate", lang),
                closed=fmt_number(pipe["closed_deals"], lang),
            )
        )
        st = Table()
        for i, key in enumerate(("stage", "deals", "probability")):
            st.add_column(message(f"forecast.{key}", lang), justify="left" if i == 0 else "right")
        for s in pipe["stages"]:
            st.add_row(escape(s["stage"]), fmt_number(s["deals"], lang), fmt_value(s["probability"], "rate", lang))
        out.print(st)
        split = pipe.get("by", "period")
        pt = Table()
        pt.add_column(message(f"forecast.per_{split}", lang))
        pt.add_column(message("forecast.expected", lang), justify="right")
        for k, x in pipe[f"per_{split}"].items():
            pt.add_row(period_label(k, lang) if split == "period" else escape(k), v(x))
        out.print(pt)
    if data.get("time_to_win"):
        _render_time_to_win(data["time_to_win"], lang, money, calendar, stale)
    track = data["track_record"]["summary"]
    if track["closed"]:
        n, inside = fmt_number(track["closed"], lang), fmt_number(track["inside80"], lang)
        error = fmt_value(track["mean_abs_error"], "rate", lang)
        pace_error = fmt_value(track["pace_mean_abs_error"], "rate", lang)
        out.print(message("forecast.track.summary", lang, n=n, inside=inside, error=error, pace_error=pace_error))


def _render_time_to_win(ttw: dict[str, Any], lang: str, money: Any, calendar: Any, stale: bool) -> None:
    """The time to win in one sentence and, with ``stale``, the stale deals as a table."""
    import datetime as dt

    from sanjeh.calendar import unit_of
    from sanjeh.formatting import fmt_number
    from sanjeh.i18n import member_label, period_label

    out = _out()
    c, days = ttw["overall"], ttw["stale_after_days"]
    counts = {k: fmt_number(c[f"{k}_deals"], lang) for k in ("won", "lost", "open")}
    counts["deals"] = fmt_number(c["deals"], lang)
    if days is None:
        out.print(message("forecast.cli_ttw_none", lang, **counts))
        return
    amount = fmt_value(ttw["stale_amount"], "money", lang, money)
    share = fmt_value(ttw["share"], "rate", lang)
    n = fmt_number(ttw["stale_count"], lang)
    out.print(message("forecast.cli_ttw", lang, share=share, days=fmt_number(days, lang), n=n, amount=amount, **counts))
    if not stale or not ttw["stale"]:
        return
    t = Table(title=message("forecast.cli_stale", lang, days=fmt_number(days, lang)))
    keys = ("forecast.col.deal", "dim.rep", "forecast.stage", "forecast.col.amount", "forecast.col.created")
    for i, key in enumerate((*keys, "forecast.col.age")):
        t.add_column(message(key, lang), justify="right" if i in (3, 5) else "left")
    for d in ttw["stale"]:
        created = unit_of(dt.date.fromisoformat(d["created"]), calendar, "day").label
        t.add_row(
            escape(d["opportunity_id"]),
            escape(d["rep"]),
            escape(member_label("stage", d["stage"], None, lang)),
            fmt_value(d["amount"], "money", lang, money),
            period_label(created, lang),
            fmt_value(d["age_days"], "days", lang),
        )
    out.print(t)


@app.command()
def scorecard(
    period: Annotated[
        str | None, typer.Option(help="Period label (default: the latest complete quarter, or the last with data).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day the default period counts from (default: today).")
    ] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """The goals' primary KPIs first (value, target, attainment, change), then the rest."""
    fmt = _check_format(fmt)
    ws = _open(workspace)
    if as_of:
        day = _as_of_day(as_of)
        ws.clock = lambda: day
    sc = ws.engine().scorecard(period or _default_period(ws))
    _render_scorecard(sc, ws.settings.language, fmt, ws.settings.money_format)
    ws.close()


@app.command()
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx | pdf | html")],
    period: Annotated[
        str | None, typer.Option(help="Period label (default: the latest complete quarter, or the last with data).")
    ] = None,
    kpi: Annotated[
        list[str] | None, typer.Option("--kpi", help="A KPI to give a page (repeat; default: every KPI).")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="fa | en (default: the workspace's language).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """The scorecard (with what stands out) and the KPIs' pages as one XLSX, PDF or HTML file."""
    from sanjeh.i18n import normalize_lang, period_label
    from sanjeh.reports import FORMATS, gather, write

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UserError(key="cli.report_format", params={"format": fmt})
    ws = _open(workspace)
    try:
        rep = gather(ws, period or _default_period(ws), kpi or (), lang, formats=(fmt,))
        write(rep, fmt, _path(output))
    finally:
        ws.close()
    shown = normalize_lang(ws.settings.language)
    _out().print(
        escape(
            message(
                "report.written",
                shown,
                path=str(output),
                format=fmt.upper(),
                kpis=_n(len(rep.pages), shown),
                period=_plain(period_label(rep.period, shown)),
            )
        ),
        highlight=False,
    )


@app.command()
def scheduler(
    workspace: WorkspaceOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then stop.")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between two looks at the schedules.")] = 30.0,
    alerts_every: Annotated[
        float, typer.Option("--alerts-every", help="Seconds between two checks of the alert rules.")
    ] = 900.0,
) -> None:
    """Run the report schedules (sanjeh.toml and the Schedules page) when they are due, log each run,
    and check the alert rules now and then (docs/reports.md)."""
    from sanjeh.i18n import normalize_lang
    from sanjeh.reports import alert_rules
    from sanjeh.reports.runner import Runner, run_due, utc_now
    from sanjeh.reports.schedule import declared

    ws = _open(workspace)
    lang = normalize_lang(ws.settings.language)

    def said(ran: Any) -> None:
        _out().print(escape(_ran_text(ran, ws, lang)), highlight=False)

    def checked(outcomes: list[Any]) -> None:
        _print_alerts(outcomes, lang, quiet=True)

    try:
        for d in declared(ws):  # a mistake stops here, before any run
            if d.error is not None:
                raise d.error
        alert_rules.rules(ws)
        runner = Runner(ws, every=every, alerts_every=alerts_every, on_ran=said, on_alerts=checked, clock=utc_now)
        if once:  # a failure is said, not logged and looked at again
            for ran in run_due(ws, utc_now(), clock=utc_now):
                said(ran)
            runner.check_alerts()
        else:
            runner.run()
    finally:
        ws.close()


@app.command("alerts")
def alerts_cmd(
    workspace: WorkspaceOpt = None,
    check: Annotated[bool, typer.Option("--check", help="Check every rule now and send what fires.")] = False,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's history.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The alert rules of sanjeh.toml and the alerts they fired; --check checks them now (docs/reports.md)."""
    from sanjeh.errors import NotFound
    from sanjeh.i18n import normalize_lang
    from sanjeh.reports import alert_rules, alerts

    fmt = _check_format(fmt)
    ws = _open(workspace)
    lang = normalize_lang(ws.settings.language)
    try:
        found = alert_rules.rules(ws)
        if rule is not None and rule not in {r.name for r in found} and not alerts.history(ws, rule):
            raise NotFound(key="alert.unknown_rule", params={"rule": rule})
        checked = alerts.check(ws) if check else []
        shown = alerts.rule_views(ws, found, lang)
        past = alerts.history(ws, rule)
        if fmt == "json":
            out: dict[str, Any] = {"rules": shown, "history": past}
            if check:
                out["checked"] = [o.to_dict() for o in checked]
            _print_json(out)
            return
        if fmt == "csv":
            cols = ["rule", "kind", "period", "seq", "fired_at", "cleared_at", "value", "threshold", "message"]
            _stdout().write(to_csv(past, cols))
            return
        _render_alerts(shown, alerts.history_views(ws, past, lang), lang)
        if check:
            _print_alerts(checked, lang)
    finally:
        ws.close()


def _render_alerts(shown: list[dict[str, Any]], past: list[dict[str, Any]], lang: str) -> None:
    out = _out()
    if not shown:
        out.print(escape(_plain(message("alerts.no_rules", lang))), highlight=False)
    else:
        table = Table(title=message("alerts.rules", lang), title_justify="left")
        for key in ("rule", "kind_col", "condition", "recipients", "state"):
            table.add_column(message(f"alerts.{key}", lang))
        for r in shown:
            cells = [r["name"], r["kind_text"], r["condition"], "\n".join(r["recipients"]), r["state"]]
            table.add_row(*(escape(_plain(c)) for c in cells), style="red" if r["firing"] else None)
        out.print(table)
    if not past:
        out.print(escape(_plain(message("alerts.no_history", lang))), highlight=False)
        return
    table = Table(title=message("alerts.history", lang), title_justify="left")
    for key in ("rule", "period", "fired", "cleared", "message"):
        table.add_column(message(f"alerts.{key}", lang))
    for h in past:
        cells = [h["rule"], h["period"], h["fired"], h["cleared"], h["message"]]
        table.add_row(*(escape(_plain(c)) for c in cells))
    out.print(table)


def _print_alerts(outcomes: list[Any], lang: str, *, quiet: bool = False) -> None:
    """A line per rule checked (``quiet``: only those that fired or cleared — the scheduler's log)."""
    for o in outcomes:
        if quiet and o.status not in ("fired", "cleared"):
            continue
        status = message(f"alerts.status.{o.status}", lang)
        text = f"{o.rule}: {status}" + (f" — {o.message}" if o.message and o.status in ("fired", "error") else "")
        _out().print(escape(_plain(text)), highlight=False)
    if not quiet:
        from sanjeh.reports.alerts import summary

        said = summary(outcomes, lang)
        _out().print(escape(_plain(said)), highlight=False)


def _ran_text(ran: Any, ws: Any, lang: str) -> str:
    """A run as the scheduler prints it: the job, its planned time in the workspace's zone and
    calendar, the period, how it went."""
    from sanjeh.formatting import fmt_moment
    from sanjeh.i18n import period_label

    when = fmt_moment(ran.planned, ws.settings.timezone, ws.settings.calendar, lang)
    text = message("report.ran", lang, job=ran.job, when=when, period=period_label(ran.period, lang))
    return _plain(f"{text}: {message(f'report.run_status.{ran.status}', lang)}")


@app.command()
def runs(
    workspace: WorkspaceOpt = None,
    job: Annotated[str | None, typer.Option("--job", help="Only the runs of this schedule.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="running | ok | partial | failed")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs, latest first.")] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """The run log of the schedules: job, planned time, period, start, end, status, error, recipients."""
    from sanjeh.formatting import fmt_moment
    from sanjeh.i18n import normalize_lang, period_label
    from sanjeh.reports.runner import STATUSES
    from sanjeh.reports.runner import runs as run_log

    fmt = _check_format(fmt)
    if status is not None and status not in STATUSES:
        raise UserError(key="schedule.status", params={"status": status, "statuses": list(STATUSES)})
    ws = _open(workspace)
    try:
        rows = run_log(ws, job, status, limit)
        zone, calendar = ws.settings.timezone, ws.settings.calendar
        lang = normalize_lang(ws.settings.language)
    finally:
        ws.close()
    cols = ["job", "planned", "period", "started", "ended", "status", "error", "recipients"]
    if fmt != "table":
        utc = [{k: _utc_iso(v) if k in ("planned", "started", "ended") else v for k, v in r.items()} for r in rows]
        if fmt == "json":
            _print_json(utc)
        else:
            _stdout().write(to_csv(utc, cols))
        return
    import datetime as dt

    def moment(v: Any) -> str:
        return _plain(fmt_moment(v and v.replace(tzinfo=dt.UTC), zone, calendar, lang))

    t = Table(title=message("runs.cli_title", lang, n=_n(len(rows), lang)))
    for c in cols:
        t.add_column(message(f"runs.{c}", lang), overflow="fold")
    for r in rows:
        t.add_row(
            escape(r["job"]),
            moment(r["planned"]),
            _plain(period_label(r["period"], lang)),
            moment(r["started"]),
            moment(r["ended"]),
            message(f"report.run_status.{r['status']}", lang),
            escape(r["error"] or ""),
            escape(r["recipients"] or ""),
            style={"failed": "red", "partial": "yellow"}.get(r["status"], ""),
        )
    _out().print(t)


def _utc_iso(t: Any) -> str | None:
    """A naive UTC time of the run log as ISO 8601 with its zone (``2025-03-22T04:30:00+00:00``)."""
    import datetime as dt

    return None if t is None else t.replace(tzinfo=dt.UTC).isoformat()


def _as_of_day(text: str) -> Any:
    """``--as-of``: a day label, Jalali (1403-01-15) or Gregorian (2024-04-03)."""
    from sanjeh.calendar import parse_period

    p = parse_period(text)
    if p.is_range or p.unit_kind != "day":
        raise UserError(key="cli.as_of", params={"given": text})
    return p.start


def _default_period(ws: Any) -> str:
    return str(ws.default_period())


def _change_text(card: dict[str, Any], prefix: str, lang: str) -> tuple[str, str]:
    """A card's change against the previous period (``prefix`` "") or a year ago ("year_ago_"),
    with its Rich style: a rate's change in percentage points, another measure's in percent."""
    from sanjeh.formatting import fmt_signed_rate

    if card.get("change_in") == "points":
        x = card.get(f"{prefix}change")
        text = fmt_value(x, "points", lang)
    else:
        x = card.get(f"{prefix}change_rate")
        text = _plain(fmt_signed_rate(x, lang))
    a, style = arrow(x, card["direction"])
    return f"{a} {text}", style


def _render_scorecard(sc: Any, lang: str, fmt: str, money: Any = "IRR") -> None:
    data = sc.to_dict()
    if fmt == "json":
        _print_json(data)
        return
    cards = [dict(c, group="primary") for c in data["primary"]] + [
        dict(c, group="secondary") for c in data["secondary"]
    ]
    if fmt == "csv":
        rows = [dict(c, status=c["data"]["status"]) for c in cards]
        cols = ["group", "kpi", "measure", "status", "value", "target", "attainment", "previous", "change"]
        cols += ["change_rate", "change_in", "year_ago", "year_ago_change", "year_ago_change_rate"]
        _stdout().write(to_csv(rows, cols))
        return
    out = _out()
    from sanjeh.i18n import period_label
    from sanjeh.render import spot_text

    for group in ("primary", "secondary"):
        when = _plain(period_label(data["period"], lang))
        t = Table(title=f"{message('scorecard.title', lang)} {when} · {message('scorecard.' + group, lang)}")
        for key in ("kpi", "value", "target", "attainment", "vs_previous", "vs_year_ago", "spotlight"):
            t.add_column(
                message(f"cli.{key}", lang), justify="left" if key in ("kpi", "spotlight") else "right", overflow="fold"
            )
        for c in (card for card in cards if card["group"] == group):
            name = f"{c['title'][lang]} ({c['kpi']})"
            spots = escape(" · ".join(spot_text(x, lang, money) for x in c.get("spotlights") or []))
            if c["data"]["status"] == "no_data":
                t.add_row(name, f"[dim]{message('card.no_data', lang)}[/dim]", "", "", "", "", "")
                continue
            ch1, s1 = _change_text(c, "", lang)
            ch2, s2 = _change_text(c, "year_ago_", lang)
            st = attainment_style(c["attainment"])
            t.add_row(
                name,
                fmt_value(c["value"], c["unit"], lang, money),
                fmt_value(c["target"], c["unit"], lang, money),
                f"[{st}]{fmt_value(c['attainment'], 'rate', lang)}[/{st}]",
                f"[{s1}]{ch1}[/{s1}]",
                f"[{s2}]{ch2}[/{s2}]",
                spots,
            )
        out.print(t)
    missing = data.get("data", {}).get("missing") or []
    if missing:
        tables = ("، " if lang == "fa" else ", ").join(message(f"table.{x}", lang) for x in missing)
        out.print(message("data_note.empty" if data["data"].get("empty") else "data_note.missing", lang, tables=tables))
    out.print(f"[bold]{message('insight.heading', lang)}[/bold]")
    for f in data.get("insights") or []:
        out.print(f"  • {f['text'][lang]}")
    if not data.get("insights") and not data.get("data", {}).get("empty"):
        out.print(f"  {message('insight.none', lang)}")


# -- users, demo, serve ----------------------------------------------------------------------
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")
]


def _read_password(password_stdin: bool) -> str:
    """The new password: one line of standard input, or asked twice on the terminal."""
    if password_stdin:
        return _stdin().readline().rstrip("\r\n")
    if not _stdin().isatty():
        raise UserError(key="cli.no_terminal")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise UserError(key="cli.passwords_differ")
    return first


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin | manager | rep")],
    rep_id: Annotated[str | None, typer.Option(help="The rep this user is (role rep).")] = None,
    team: Annotated[
        str | None, typer.Option(help="A manager's team (reps.team, or its manager's rep id): they see its reps only.")
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user of the dashboard and API."""
    from sanjeh.users import add_user

    password = _read_password(password_stdin)
    ws = _open(workspace)
    add_user(ws, name, role, rep_id=rep_id, password=password, team=team)
    _say(ws, "cli.user_created", name=name, role=role)
    ws.close()


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = None, fmt: FormatOpt = "table") -> None:
    """Every user: name, role, rep id, team, language, whether disabled, open sessions."""
    from sanjeh.users import count_sessions, list_users

    fmt = _check_format(fmt)
    ws = _open(workspace)
    rows = [{**u.to_dict(), "disabled": u.disabled, "sessions": count_sessions(ws, u.username)} for u in list_users(ws)]
    ws.close()
    cols = ["username", "role", "rep_id", "team", "language", "disabled", "sessions"]
    if fmt == "json":
        _print_json(rows)
    elif fmt == "csv":
        _stdout().write(to_csv(rows, cols))
    else:
        t = Table(title=f"Users ({len(rows)})")
        for c in cols:
            t.add_column(c, justify="right" if c == "sessions" else "left")
        for r in rows:
            t.add_row(
                *("" if r[c] is None else ("yes" if r[c] is True else "" if r[c] is False else str(r[c])) for c in cols)
            )
        _out().print(t)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdinOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a user's password (enables a disabled user); their sessions and tokens end."""
    from sanjeh.users import set_password

    password = _read_password(password_stdin)
    ws = _open(workspace)
    set_password(ws, name, password)
    ws.close()
    _say(ws, "cli.password_changed", name=name)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt = None) -> None:
    """Remove a user; their sessions and tokens end."""
    from sanjeh.users import delete_user

    ws = _open(workspace)
    delete_user(ws, name)
    ws.close()
    _say(ws, "cli.user_removed", name=name)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt = None) -> None:
    """Stop a user from logging in (``users passwd`` enables them again); their sessions and tokens end."""
    from sanjeh.users import disable_user

    ws = _open(workspace)
    disable_user(ws, name)
    ws.close()
    _say(ws, "cli.user_disabled", name=name)


@app.command()
def demo(
    path: Annotated[Path, typer.Argument(help="Folder of the demo workspace.")] = Path("demo-workspace"),
    orders: Annotated[int, typer.Option(help="How many orders to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1403,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after printing the scorecard.")] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    force: Annotated[
        bool, typer.Option("--force", help="Delete PATH first even if it is not a demo workspace.")
    ] = False,
) -> None:
    """Build a realistic demo workspace, print its scorecard and logins, then serve the dashboard."""
    from sanjeh.demo_workspace import build_demo_workspace

    ws, logins = build_demo_workspace(path, orders=orders, seed=seed, console=_err(), force=force)
    period = _default_period(ws)
    _render_scorecard(ws.engine().scorecard(period), ws.settings.language, "table", ws.settings.money_format)
    out = _out()
    serving = not (no_serve or os.environ.get("SANJEH_NO_SERVE") == "1")
    lang = ws.settings.language
    if serving:
        out.print("\n" + message("cli.demo_dashboard", lang, url=f"http://127.0.0.1:{port}/"), markup=False)
    else:
        out.print("\n" + message("cli.demo_workspace", lang, root=ws.root), markup=False)
    out.print(message("cli.demo_logins" if logins else "cli.demo_users_exist", lang), markup=False)
    for user, password, role, rep, team in logins:
        who = (
            message("cli.demo_rep", lang, rep=rep)
            if rep
            else (message("cli.demo_team", lang, team=team) if team else "")
        )
        out.print(f"  {role:8} {user} / {password}" + (f"  {who}" if who else ""), highlight=False, markup=False)
    if not serving:
        ws.close()
        return
    from sanjeh.web.app import serve as serve_app

    serve_app(ws, host="127.0.0.1", port=port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Behind HTTPS: Secure cookies and an HSTS header.")
    ] = False,
    forwarded_allow: Annotated[
        str,
        typer.Option(
            "--forwarded-allow",
            help="Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed (default none).",
        ),
    ] = "",
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", min=1, help="Largest import upload, in MB (default 200).")
    ] = 200,
    run_schedules: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run the report schedules in this server (default), or leave them to sanjeh scheduler.",
        ),
    ] = True,
    workspace: WorkspaceOpt = None,
) -> None:
    """The web dashboard and the REST API (and, unless --no-scheduler, the report schedules)."""
    from sanjeh.web.app import serve as serve_app
    from sanjeh.web.auth import parse_forwarded_allow

    proxies = parse_forwarded_allow(forwarded_allow)
    ws = _open(workspace)
    lang = ws.settings.language
    https = message("cli.behind_https", lang) if secure_cookies else ""
    _out().print(message("cli.serving", lang, root=ws.root, url=f"http://{host}:{port}/") + https, markup=False)
    serve_app(
        ws,
        host=host,
        port=port,
        secure_cookies=secure_cookies,
        forwarded_allow=proxies,
        max_upload=max_upload_mb * 1024 * 1024,
        scheduler=run_schedules,
    )


def _error_lang(args: list[str]) -> str:
    """The language errors are printed in: ``SANJEH_LANG``, else the language of the workspace the
    command names (``-w``, ``$SANJEH_WORKSPACE``, the current folder), else English."""
    served = _SERVED.get()
    if served is not None:
        return served.lang  # the client's
    asked = os.environ.get("SANJEH_LANG")
    if asked in ("fa", "en"):
        return asked
    try:  # as written, so that an error of the settings themselves is said in their language
        from sanjeh.settings import read_file

        ws = read_file(_workspace_arg(args).expanduser().resolve())[1].get("workspace")
        lang = ws.get("language") if isinstance(ws, dict) else None
        return lang if lang in ("fa", "en") else "en"
    except (SanjehError, OSError):
        return "en"


def _workspace_arg(args: list[str]) -> Path:
    """The workspace folder a command line names: ``-w``/``--workspace``, else
    ``$SANJEH_WORKSPACE``, else the current folder."""
    path = os.environ.get("SANJEH_WORKSPACE") or "."
    for i, a in enumerate(args):
        if a in ("-w", "--workspace") and i + 1 < len(args):
            path = args[i + 1]
        elif a.startswith("--workspace="):
            path = a.partition("=")[2]
    return Path(path)


def _plain(text: str) -> str:
    """Text for a terminal: without the bidi isolation marks (terminals do not read them)."""
    from sanjeh.i18n import plain

    return plain(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear sentence on stderr for errors; exit 2 for bad input, 1 otherwise.

    A command of :data:`FORWARDED` on a workspace that ``sanjeh serve`` serves (DuckDB) is sent
    to the server (sanjeh/local.py), which runs it and answers with its output and exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")

    def run() -> int:
        if _forwardable(args):
            code = _forward(args, debug)
            if code is not None:
                return code
        app(args=args, standalone_mode=False, prog_name="sanjeh")
        return 0

    return _guarded(args, debug, run)


def _guarded(args: list[str], debug: bool, run: Callable[[], int]) -> int:
    """Run a command: its exit status, or one sentence on stderr and the error's exit status."""
    err = _err()
    try:
        return run()
    except SanjehError as exc:
        if debug:
            traceback.print_exc(file=_stderr())
        lang = _error_lang(args)
        word = message("cli.error", lang)
        err.print(f"[red]{word}:[/red] {escape(_plain(exc.text(lang)))}", highlight=False, markup=True)
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 1
    except click.exceptions.ClickException as exc:
        err.print(f"[red]error:[/red] {exc.format_message()}", highlight=False)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly, traceback only with --debug
        if debug:
            traceback.print_exc(file=_stderr())
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc} (run with --debug for details)", highlight=False
        )
        return 1


def _forwardable(args: list[str]) -> bool:
    """Whether the command line is one the server may run: a command of :data:`FORWARDED` with
    a subcommand where it has them, not asking for help (help opens no workspace)."""
    if not args or args[0] not in FORWARDED or "--help" in args:
        return False
    return args[0] != "users" or (len(args) > 1 and not args[1].startswith("-"))


def command_changes(args: list[str]) -> tuple[str, ...]:
    """What the command may have changed (``data``, ``targets``, ``users``): what the server forgets."""
    return CHANGES.get(args[0], ()) if args else ()


def _terminal(stderr: bool) -> dict[str, Any]:
    """This process's terminal as Rich sees it, for the server to shape a served command's output."""
    console = Console(stderr=stderr)
    return {
        "width": console.width,
        "tty": console.is_terminal,
        "color": console.color_system,
        "no_color": console.no_color,
    }


def _forward(args: list[str], debug: bool) -> int | None:
    """Send the command to the server of its workspace, if one serves it: print its output and
    return its exit status. None when no server serves the workspace (the command runs here).

    A password the command would ask for on the terminal is asked here and sent as if given with
    ``--password-stdin``; with ``--password-stdin``, the first line of standard input is sent.
    """
    from sanjeh import local

    root = _workspace_arg(args).resolve()
    server = local.find_server(root)
    if server is None:
        return None
    stdin = None
    argv = list(args)
    if argv[0] == "users" and argv[1] in ("add", "passwd"):
        if "--password-stdin" in argv:
            stdin = sys.stdin.readline()
        else:
            stdin = _read_password(False) + "\n"
            argv.append("--password-stdin")
    request = {
        "argv": argv,
        "stdin": stdin,
        "cwd": str(Path.cwd()),
        "workspace": str(root),
        "lang": _error_lang(args),
        "debug": debug,
        "terminal": {"out": _terminal(False), "err": _terminal(True)},
    }
    answer = _forward_with_progress(server, request, args)
    if answer is None:
        return None
    sys.stdout.write(str(answer.get("stdout", "")))
    sys.stdout.flush()
    sys.stderr.write(str(answer.get("stderr", "")))
    sys.stderr.flush()
    return int(answer.get("exit_code", 1))


def _forward_with_progress(server: Any, request: dict[str, Any], args: list[str]) -> dict[str, Any] | None:
    """``local.forward``, drawing an import's progress on a terminal as a local import does."""
    from rich.progress import Progress

    from sanjeh import local

    shown = args[0] == "import" and _check_format(_option(args, "--format") or "table") == "table"
    with Progress(transient=True, console=_err(), disable=not shown) as progress:
        task = progress.add_task("importing", total=1.0)

        def report(what: str, fraction: float) -> None:
            progress.update(task, description=what, completed=fraction)

        return local.forward(server, request, progress=report)


def _option(args: list[str], name: str) -> str | None:
    """The value of an option in a command line (``--name V`` or ``--name=V``), if given."""
    found = None
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            found = args[i + 1]
        elif a.startswith(name + "="):
            found = a.partition("=")[2]
    return found


def run_served(
    ws: Any,
    argv: list[str],
    *,
    stdin: str | None,
    cwd: Path,
    lang: str,
    terminal: dict[str, dict[str, Any]],
    debug: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[int, str, str]:
    """Run a command line in this process on the open workspace ``ws`` for another process (the
    server's end of the local channel, sanjeh/web/channel.py): its exit status, standard output
    and standard error, as that process would have printed them (its folder for relative paths,
    its language, its terminal's width and colours). Only the commands of :data:`FORWARDED`.
    ``progress`` hears an import's progress as it happens."""
    served = _Served(ws, cwd, lang, io.StringIO(stdin or ""), io.StringIO(), io.StringIO(), terminal, progress)
    token = _SERVED.set(served)
    try:

        def run() -> int:
            if not _forwardable(argv):
                raise UserError(
                    key="cli.not_forwarded", params={"command": " ".join(argv[:2]), "commands": list(FORWARDED)}
                )
            app(args=argv, standalone_mode=False, prog_name="sanjeh")
            return 0

        with ws.lend():
            code = _guarded(argv, debug, run)
    finally:
        _SERVED.reset(token)
    return code, served.stdout.getvalue(), served.stderr.getvalue()


if __name__ == "__main__":
    raise SystemExit(main())
