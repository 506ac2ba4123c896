"""The command line (shared/spec/CLI.md): thin — parse, call the workspace/engine, render."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table

from sanjeh.errors import SanjehError, UserError
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

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="The workspace folder (default: $SANJEH_WORKSPACE, else the current folder)."
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json | csv")]
FORMATS = ("table", "json", "csv")


def _out() -> Console:
    return Console(soft_wrap=True)


def _open(workspace: Path | None) -> Any:
    from sanjeh.workspace import Workspace

    path = workspace or Path(os.environ.get("SANJEH_WORKSPACE") or ".")
    return Workspace.open(path)


def _check_format(fmt: str) -> str:
    f = fmt.lower()
    if f not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; use table, json or csv")
    return f


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# -- workspace -----------------------------------------------------------------------------
@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    warehouse: Annotated[str | None, typer.Option(help="Warehouse URL (default: a DuckDB file inside).")] = None,
    company: Annotated[str | None, typer.Option(help="Company name.")] = None,
    language: Annotated[str | None, typer.Option(help="fa or en.")] = None,
    calendar: Annotated[str | None, typer.Option(help="jalali or gregorian.")] = None,
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
    if opts:  # validate through the same rules as sanjeh.toml
        Settings.from_dict(path, {"workspace": opts})
    ws = Workspace.init(path, warehouse=warehouse, **opts)
    _out().print(f"Created workspace {ws.root} (warehouse: {ws.settings.warehouse})")
    ws.close()


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to import.")],
    workspace: WorkspaceOpt = None,
    mapping: Annotated[str | None, typer.Option(help="A shipped mapping name or a mapping YAML file.")] = None,
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
    fmt: FormatOpt = "table",
) -> None:
    """Import CSV/XLSX/Parquet files or folders into the workspace."""
    from rich.progress import Progress

    fmt = _check_format(fmt)
    ws = _open(workspace)
    with Progress(transient=True, console=Console(stderr=True), disable=fmt != "table") as progress:
        task = progress.add_task("importing", total=1.0)

        def report(what: str, fraction: float) -> None:
            progress.update(task, description=what, completed=fraction)

        summary = ws.import_files(
            paths,
            mapping=mapping,
            table=table,
            replace=replace,
            force=force,
            encoding=encoding,
            sheet=sheet,
            progress=report,
        )
    data = summary.to_dict()
    rows = [{"table": t, **c} for t, c in data["tables"].items()]
    if fmt == "json":
        _print_json(data)
    elif fmt == "csv":
        sys.stdout.write(to_csv(rows, ["table", "read", "accepted", "rejected"]))
    else:
        t = Table(title="Import")
        for col in ("table", "read", "accepted", "rejected"):
            t.add_column(col, justify="left" if col == "table" else "right")
        for r in rows:
            style = "red" if r["rejected"] else ""
            t.add_row(r["table"], f"{r['read']:,}", f"{r['accepted']:,}", f"{r['rejected']:,}", style=style)
        _out().print(t)
        if summary.warnings:
            _out().print(f"{summary.warnings:,} data-quality warnings (unknown references)")
        for name, n in summary.deleted.items():
            _out().print(f"{n:,} {name} rows deleted: their parent was replaced away (--force)")
        if any(r["rejected"] for r in rows):
            _out().print("Rejected rows are kept: see `sanjeh rejects`.")
    ws.close()
    if strict and any(r["rejected"] for r in rows):
        raise UserError(f"{sum(r['rejected'] for r in rows)} rows were rejected (--strict)")


@app.command()
def rejects(
    workspace: WorkspaceOpt = None,
    table: Annotated[str | None, typer.Option(help="Only this table.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The rejected rows: table, file, line, column, value (as in the file), mapped value, reason."""
    from sanjeh.ingest import list_rejects

    fmt = _check_format(fmt)
    ws = _open(workspace)
    rows = list_rejects(ws, table=table)
    cols = ["table", "file", "line", "column", "value", "mapped_value", "reason"]
    if fmt == "json":
        _print_json([{k: r.get(k) for k in cols} for r in rows])
    elif fmt == "csv":
        sys.stdout.write(to_csv(rows, cols))
    else:
        t = Table(title=f"Rejected rows ({len(rows):,})")
        for c in cols:
            t.add_column(c, justify="right" if c == "line" else "left", overflow="fold")
        for r in rows[:1000]:
            t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
        _out().print(t)
        if len(rows) > 1000:
            _out().print(f"… {len(rows) - 1000:,} more: use --format csv")
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
        sys.stdout.write(to_csv(rows))
    else:
        t = Table(title="KPIs")
        for c in ("#", "name", "title (fa)", "title (en)", "measures", "dimensions", "good", "goals"):
            t.add_column(c, overflow="fold")
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
        _out().print("* = always split by this dimension")
    ws.close()


def _parse_filters(filters: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for f in filters:
        sep = "=" if "=" in f else (":" if ":" in f else None)
        if sep is None:
            raise UserError(f"a filter is DIMENSION=MEMBER, not {f!r}")
        d, _, m = f.partition(sep)
        out.append((d.strip(), m.strip()))
    return tuple(out)


def _result_table(result: Any, lang: str) -> Table:
    kpi = result.kpi
    units = {m.name: m.unit for m in kpi.measures}
    title = f"{kpi.title[lang]} · {result.plan.period.label}"
    t = Table(title=title)
    for c in result.columns:
        t.add_column(
            c, justify="left" if c in ("period", *result.plan.by) or c.endswith("_name") else "right", overflow="fold"
        )
    h = kpi.headline
    for r in result.rows:
        cells = []
        for c in result.columns:
            v = r.get(c)
            if c in ("period", *result.plan.by):
                cells.append(str(v))
                continue
            if c in units:
                unit = units[c]
            elif c.endswith(("_rate", "attainment")):
                unit = "rate"
            else:  # targets, previous values and changes are in their measure's unit
                base = c.removesuffix("_target").removesuffix("_change").removeprefix("previous_")
                unit = units.get(base, units.get(h, "number")) if c != "target" else units.get(h, "number")
            text = fmt_value(v, unit)
            if c == f"{h}_change" or c == f"{h}_change_rate":
                a, style = arrow(v, kpi.direction)
                text = f"[{style}]{a} {text}[/{style}]"
            elif c.endswith("attainment"):
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
        raise UserError("--period is required, e.g. --period 1403-Q1")
    if (name is None) == (not all_):
        raise UserError("name one KPI, or use --all")
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
                sys.stdout.write(f"-- {q.kpi}\n")
            sys.stdout.write(engine.explain(q) + ";\n")
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
            sys.stdout.write(text if i == 0 else text.split("\n", 1)[1] if not all_ else text)
    else:
        out = _out()
        for r in results:
            out.print(_result_table(r, lang))
    ws.close()


@app.command()
def scorecard(
    period: Annotated[str | None, typer.Option(help="Period label (default: the latest complete quarter).")] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """The goals' primary KPIs first (value, target, attainment, change), then the rest."""
    fmt = _check_format(fmt)
    ws = _open(workspace)
    sc = ws.engine().scorecard(period or _default_period(ws))
    _render_scorecard(sc, ws.settings.language, fmt)
    ws.close()


def _default_period(ws: Any) -> str:
    return str(ws.default_period())


def _render_scorecard(sc: Any, lang: str, fmt: str) -> None:
    data = sc.to_dict()
    if fmt == "json":
        _print_json(data)
        return
    cards = [dict(c, group="primary") for c in data["primary"]] + [
        dict(c, group="secondary") for c in data["secondary"]
    ]
    if fmt == "csv":
        cols = ["group", "kpi", "measure", "value", "target", "attainment", "previous", "change_rate", "year_ago"]
        sys.stdout.write(to_csv(cards, [*cols, "year_ago_change_rate"]))
        return
    out = _out()
    heading = {"fa": "کارنامه", "en": "Scorecard"}[lang]
    for group in ("primary", "secondary"):
        label = {
            "primary": {"fa": "شاخص‌های اصلی", "en": "Primary KPIs"},
            "secondary": {"fa": "شاخص‌های ثانویه", "en": "Secondary KPIs"},
        }
        t = Table(title=f"{heading} {data['period']} · {label[group][lang]}")
        for head in ("KPI", "value", "target", "attainment", "vs previous", "vs a year ago"):
            t.add_column(head, justify="left" if head == "KPI" else "right", overflow="fold")
        for c in (card for card in cards if card["group"] == group):
            a1, s1 = arrow(c["change_rate"], c["direction"])
            a2, s2 = arrow(c["year_ago_change_rate"], c["direction"])
            st = attainment_style(c["attainment"])
            t.add_row(
                f"{c['title'][lang]} ({c['kpi']})",
                fmt_value(c["value"], c["unit"]),
                fmt_value(c["target"], c["unit"]),
                f"[{st}]{fmt_value(c['attainment'], 'rate')}[/{st}]",
                f"[{s1}]{a1} {fmt_value(c['change_rate'], 'rate')}[/{s1}]",
                f"[{s2}]{a2} {fmt_value(c['year_ago_change_rate'], 'rate')}[/{s2}]",
            )
        out.print(t)
    from sanjeh.i18n import t as message

    out.print(f"[bold]{message('insight.heading', lang)}[/bold]")
    for f in data.get("insights") or []:
        out.print(f"  • {f['text'][lang]}")
    if not data.get("insights"):
        out.print(f"  {message('insight.none', lang)}")


# -- users, demo, serve ----------------------------------------------------------------------
@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin | manager | rep")],
    rep_id: Annotated[str | None, typer.Option(help="The rep this user is (role rep).")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user of the dashboard and API."""
    import getpass

    from sanjeh.users import add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    ws = _open(workspace)
    add_user(ws, name, role, rep_id=rep_id, password=password)
    _out().print(f"User {name} ({role}) created.")
    ws.close()


@app.command()
def demo(
    path: Annotated[Path, typer.Argument(help="Folder of the demo workspace.")] = Path("demo-workspace"),
    orders: Annotated[int, typer.Option(help="How many orders to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1403,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after printing the scorecard.")] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build a realistic demo workspace, print its scorecard, then serve the dashboard."""
    from sanjeh.demo_workspace import build_demo_workspace

    ws, logins = build_demo_workspace(path, orders=orders, seed=seed, console=Console(stderr=True))
    period = _default_period(ws)
    _render_scorecard(ws.engine().scorecard(period), ws.settings.language, "table")
    if no_serve or os.environ.get("SANJEH_NO_SERVE") == "1":
        ws.close()
        return
    out = _out()
    out.print(f"\nDashboard: http://127.0.0.1:{port}/   (Ctrl+C to stop)")
    for user, password, role, rep in logins:
        out.print(f"  {role:8} {user} / {password}" + (f"  (rep {rep})" if rep else ""))
    from sanjeh.web.app import serve as serve_app

    serve_app(ws, host="127.0.0.1", port=port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workspace: WorkspaceOpt = None,
) -> None:
    """The web dashboard and the REST API."""
    from sanjeh.web.app import serve as serve_app

    ws = _open(workspace)
    _out().print(f"Serving {ws.root} on http://{host}:{port}/")
    serve_app(ws, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear sentence on stderr for errors; exit 2 for bad input, 1 otherwise."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    err = Console(stderr=True, soft_wrap=True)
    try:
        app(args=args, standalone_mode=False, prog_name="sanjeh")
    except SanjehError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
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
            traceback.print_exc()
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc} (run with --debug for details)", highlight=False
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
