"""The Data page: what the workspace holds, importing files, what was rejected and why, past imports.

- **Tables**: each canonical table's rows and its last import, in the workspace's calendar and
  time zone («۱۲ فروردین ۱۴۰۴، ۱۴:۰۵»).
- **Import**: files with a mapping and a table; the form posts plainly (the page comes back with
  the summary) or, with JavaScript, through a request that shows the upload's progress and then
  the import's summary (``/data?import=ID``). The summary is green when nothing was rejected,
  amber when rows were.
- **Rejected rows**, grouped by table, column and reason (reasons in the user's language,
  :mod:`sanjeh.reasons`) with counts and examples; the rows themselves paged, never ``None``.
- **History**: every import (``_imports``) with its counts per table.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from sanjeh.errors import UserError
from sanjeh.export import xlsx_bytes
from sanjeh.formatting import fmt_number, when_text
from sanjeh.i18n import join, t, t_or
from sanjeh.ingest.mapping import mapping_names
from sanjeh.reasons import column_title, reason_text
from sanjeh.schema import IMPORT_ORDER
from sanjeh.web.deps import Caller, DataManager, RejectsManager, page_number, state_of
from sanjeh.web.pages import _context, _download, _lang, _render, _url, csv_download
from sanjeh.web.state import AppState

router = APIRouter(include_in_schema=False)
#: Rejected rows shown per page.
PAGE = 50
#: Past imports listed.
HISTORY = 20
#: Example values shown per group of rejects.
EXAMPLES = 3


def _stats(ws: Any, imports: list[dict[str, Any]], counts: dict[str, int], lang: str) -> list[dict[str, Any]]:
    """Each canonical table's rows (``counts``) and its last import, in the workspace's time."""
    last: dict[str, Any] = {}
    for imp in reversed(imports):  # oldest first: the newest wins
        for name in imp["summary"].get("tables") or {}:
            last[name] = imp.get("finished_at") or imp.get("started_at")
    return [
        {
            "name": n,
            "title": t_or(f"table.{n}", lang, n),
            "rows": counts[n],
            "last_import": when_text(last.get(n), ws, lang) if n in last else "—",
        }
        for n in IMPORT_ORDER
    ]


def summary_view(summary: dict[str, Any], lang: str) -> dict[str, Any]:
    """An import's summary: its tables' counts and whether anything was rejected."""
    tables = summary.get("tables") or {}
    rejected = sum(int(c.get("rejected") or 0) for c in tables.values())
    return {
        "id": summary.get("import_id"),
        "status": "rejected" if rejected else "ok",
        "rejected": rejected,
        "warnings": int(summary.get("warnings") or 0),
        "files": list(summary.get("files") or []),
        "tables": [
            {
                "name": name,
                "title": t_or(f"table.{name}", lang, name),
                "read": int(c.get("read") or 0),
                "accepted": int(c.get("accepted") or 0),
                "rejected": int(c.get("rejected") or 0),
            }
            for name, c in tables.items()
        ],
    }


def _groups(rejects: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Rejected rows grouped by table, column and reason, largest group first."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rejects:
        key = (str(r.get("table") or ""), str(r.get("column") or ""), str(r.get("reason") or ""))
        g = groups.setdefault(key, {"count": 0, "examples": [], "lines": []})
        g["count"] += 1
        value = r.get("value")
        if value not in (None, "") and len(g["examples"]) < EXAMPLES and value not in g["examples"]:
            g["examples"].append(value)
        if len(g["lines"]) < EXAMPLES and r.get("line") is not None:
            g["lines"].append(r["line"])
    out = []
    for i, ((table, column, reason), g) in enumerate(sorted(groups.items(), key=lambda kv: -kv[1]["count"])):
        out.append(
            {
                "n": i,
                "key": (table, column, reason),
                "table": t_or(f"table.{table}", lang, table),
                "column": column_title(column, lang) if column else "—",
                "reason": reason_text(reason, lang),
                "count": g["count"],
                "examples": g["examples"],
                "lines": [fmt_number(x, lang) for x in g["lines"]],
            }
        )
    return out


def _reject_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "table": t_or(f"table.{r.get('table')}", lang, str(r.get("table") or "—")),
            "file": r.get("file") or "—",
            "line": fmt_number(r["line"], lang) if r.get("line") is not None else "—",
            "column": column_title(r.get("column"), lang),
            "value": "—" if r.get("value") in (None, "") else str(r["value"]),
            "mapped": "—" if r.get("mapped_value") in (None, "") else str(r["mapped_value"]),
            "reason": reason_text(r.get("reason"), lang),
        }
        for r in rows
    ]


def _int(text: str | None, default: int = 0) -> int:
    try:
        return max(0, int(text or default))
    except ValueError:
        return default


@dataclass
class DataPage:
    """What data.html shows: the workspace's tables, an import's summary, the rejected rows
    (grouped, one group chosen, paged) and the past imports (:func:`data_view`)."""

    tables: list[dict[str, Any]]
    summary: dict[str, Any] | None
    #: the import form's error, the upload wizard's error (in the user's language)
    error: str | None
    wizard_error: str | None
    groups: list[dict[str, Any]]
    chosen: dict[str, Any] | None
    all_rejects_url: str
    rejects: list[dict[str, Any]]
    rejects_total: int
    shown_total: int
    page: int
    pages: int
    prev_url: str
    next_url: str
    history: list[dict[str, Any]]
    mappings: list[str]
    table_names: list[str]
    max_mb: int


def data_view(
    st: AppState,
    imports: list[dict[str, Any]],
    counts: dict[str, int],
    rejects: list[dict[str, Any]],
    lang: str,
    lang_param: str,
    *,
    summary: dict[str, Any] | None = None,
    chosen: int = -1,
    page: int = 1,
    error: UserError | None = None,
    wizard_error: UserError | None = None,
) -> DataPage:
    """The Data page of the workspace's ``imports``, table ``counts`` and ``rejects``: group
    ``chosen`` of the rejects (-1: all of them) at ``page``, ``summary`` the import's shown."""
    groups = _groups(rejects, lang)
    shown = rejects
    if 0 <= chosen < len(groups):
        key = groups[chosen]["key"]
        shown = [
            r
            for r in rejects
            if (str(r.get("table") or ""), str(r.get("column") or ""), str(r.get("reason") or "")) == key
        ]
    pages = max(1, -(-len(shown) // PAGE))
    page = min(page or 1, pages)

    def page_url(n: int) -> str:
        return _url("/data", [("group", str(chosen) if chosen >= 0 else ""), ("page", str(n)), ("lang", lang_param)])

    history = [
        {
            "id": i.get("import_id"),
            "when": when_text(i.get("finished_at") or i.get("started_at"), st.ws, lang),
            **summary_view(i["summary"], lang),
            "file_names": join(i["summary"].get("files") or [], lang),
            "url": _url("/data", [("import", str(i.get("import_id") or "")), ("lang", lang_param)]) + "#import-summary",
        }
        for i in imports[:HISTORY]
    ]
    return DataPage(
        tables=_stats(st.ws, imports, counts, lang),
        summary=summary_view(summary, lang) if summary else None,
        error=error.text(lang) if error is not None else None,
        wizard_error=wizard_error.text(lang) if wizard_error is not None else None,
        groups=[
            {**g, "url": _url("/data", [("group", str(g["n"])), ("lang", lang_param)]) + "#reject-rows"} for g in groups
        ],
        chosen=groups[chosen] if 0 <= chosen < len(groups) else None,
        all_rejects_url=_url("/data", [("lang", lang_param)]) + "#reject-rows",
        rejects=_reject_rows(shown[(page - 1) * PAGE : page * PAGE], lang),
        rejects_total=len(rejects),
        shown_total=len(shown),
        page=page,
        pages=pages,
        prev_url=page_url(page - 1) + "#reject-rows" if page > 1 else "",
        next_url=page_url(page + 1) + "#reject-rows" if page < pages else "",
        history=history,
        mappings=mapping_names(st.ws.root),
        table_names=list(IMPORT_ORDER),
        max_mb=st.max_upload // (1024 * 1024),
    )


def render_data(
    request: Request,
    c: Caller,
    summary: dict[str, Any] | None,
    error: UserError | None,
    status: int = 200,
    *,
    wizard_error: UserError | None = None,
) -> Response:
    """The Data page; ``error`` is the import form's, ``wizard_error`` the upload wizard's."""
    st = state_of(request)
    lang = _lang(request, c.user)
    q = request.query_params
    chosen = _int(q.get("group"), -1) if q.get("group") else -1
    page = page_number(q.get("page"))
    imports = st.call(lambda ws: ws.imports())
    counts = st.call(lambda ws: ws.table_rows())
    if summary is None and q.get("import"):
        summary = next((i["summary"] for i in imports if i.get("import_id") == q["import"]), None)
    rejects = st.call(lambda ws: ws.rejects())
    view = data_view(
        st,
        imports,
        counts,
        rejects,
        lang,
        q.get("lang") or "",
        summary=summary,
        chosen=chosen,
        page=page,
        error=error,
        wizard_error=wizard_error,
    )
    return _render(request, "data.html", c, status=status, lang=lang, **_context(view))


@router.get("/data")
def data_page(request: Request, c: DataManager) -> Response:
    return render_data(request, c, None, None)


def _wants_json(request: Request) -> bool:
    """The page's own script uploads with a request that asks for JSON (it shows the progress)."""
    return request.headers.get("x-requested-with") == "sanjeh-upload"


@router.post("/data/import")
async def data_import(request: Request, c: DataManager) -> Response:
    from starlette.datastructures import UploadFile

    from sanjeh.web.api import import_files, save_uploads

    form = await request.form()
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile) and v.filename]
    mapping = str(form.get("mapping") or "") or None
    table = str(form.get("table") or "") or None
    replace = str(form.get("replace") or "") in ("1", "on", "true")
    force = str(form.get("force") or "") in ("1", "on", "true")
    try:
        with tempfile.TemporaryDirectory(prefix="sanjeh-upload-") as tmp:
            paths = await save_uploads(request, files, Path(tmp))
            summary = await run_in_threadpool(import_files, request, paths, mapping, table, replace, force)
    except UserError as exc:
        if _wants_json(request):
            lang = _lang(request, c.user)
            return JSONResponse({"error": exc.text(lang), "code": exc.code}, status_code=exc.status)
        return render_data(request, c, None, exc, status=exc.status)
    data = dict(summary.to_dict())
    if _wants_json(request):
        lang_param = request.query_params.get("lang") or ""
        url = _url("/data", [("import", str(data.get("import_id") or "")), ("lang", lang_param)])
        return JSONResponse({"url": url + "#import-summary", "summary": data})
    return render_data(request, c, data, None)


def _rejects_download(request: Request, c: Caller, fmt: str) -> Response:
    lang = _lang(request, c.user)
    table = request.query_params.get("table") or None
    rows = state_of(request).call(lambda ws: ws.rejects(table))
    cols = ["table", "file", "line", "column", "value", "mapped_value", "reason"]
    if fmt == "csv":
        return csv_download(rows, cols, "rejects.csv")
    titles = [t(f"data.{x}", lang) for x in cols]
    data = [
        [
            t_or(f"table.{r.get('table')}", lang, str(r.get("table"))),
            r.get("file"),
            r.get("line"),
            r.get("column"),
            r.get("value"),
            r.get("mapped_value"),
            reason_text(r.get("reason"), lang),
        ]
        for r in rows
    ]
    return _download(xlsx_bytes(data, titles, sheet=t("data.rejects", lang), rtl=lang == "fa"), "rejects.xlsx")


@router.get("/data/rejects.csv")
def rejects_csv(request: Request, c: RejectsManager) -> Response:
    return _rejects_download(request, c, "csv")


@router.get("/data/rejects.xlsx")
def rejects_xlsx(request: Request, c: RejectsManager) -> Response:
    return _rejects_download(request, c, "xlsx")
