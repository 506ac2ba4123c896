"""Drill-through pages: the rows behind a KPI's number (kpis/drill.py) as a paged list a
manager reads — names instead of ids, amounts in the workspace's money, days in the period's
calendar — with a CSV export, and the links the KPI page shows for each of its rows.

``/kpi/NAME/rows?period=1403-10&filter=region:Tehran[&measure=M][&page=N]``; the same with
``/kpi/NAME/rows.csv`` for every row (at most ``MAX_EXPORT``). A rep (or a team's manager) sees
their own rows only, as everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanjeh.calendar import parse_period, unit_of
from sanjeh.currency import Money
from sanjeh.errors import InvalidQuery
from sanjeh.formatting import fmt_money, fmt_number, fmt_value
from sanjeh.i18n import digits, period_label, t, t_or
from sanjeh.kpis.columns import name_column
from sanjeh.kpis.drill import RowsQuery, population
from sanjeh.web.api_rows import rows_query
from sanjeh.web.deps import Caller, page_number, state_of
from sanjeh.web.pages import _context, _lang, _render, _url, csv_download, page_caller
from sanjeh.web.state import AppState

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: Member columns whose name comes with the row (joined in by the engine).
NAMED = ("rep", "product", "customer", "initiative")


def drill_links(k: Any, spec: Any, result: dict[str, Any], lang_param: str | None, lang: str = "fa") -> dict[str, Any]:
    """The KPI page's hook: a link to the rows of the whole view, one per result row (its step and
    members), and the same keyed by a trend chart's points (``x`` label, series name; ``*`` when the
    chart has one series); empty when the KPI's rows cannot be listed."""
    try:
        population(k)
    except InvalidQuery:
        return {"url": None, "rows": [], "points": {}}
    from sanjeh.web.charts import member_text

    extra = [("lang", lang_param)] if lang_param else []
    base = list(spec.filters)
    whole = _url(f"/kpi/{k.name}/rows", [("period", spec.period), *(("filter", f"{d}:{m}") for d, m in base), *extra])
    by = list(result.get("by") or [])
    rows: list[str] = []
    points: dict[str, str] = {}
    for r in result.get("rows") or []:
        if r.get("_others"):  # the "others" line of a table's top 10: no one member's rows
            continue
        step = str(r.get("period") or spec.period)
        filters = list(base)
        for d in by:
            if r.get(d) is not None and all(f[0] != d for f in filters):
                filters.append((d, str(r[d])))
        url = _url(f"/kpi/{k.name}/rows", [("period", step), *(("filter", f"{d}:{m}") for d, m in filters), *extra])
        rows.append(url)
        if result.get("grain"):
            series = member_text(r, by[0]) if by else "*"
            points[f"{period_label(step, lang)}\u0001{series}"] = url
    return {"url": whole, "rows": rows, "points": points}


def _query(request: Request, st: AppState, c: Caller, name: str, *, page: int = 1) -> RowsQuery:
    qp = request.query_params
    return rows_query(
        st, c, name, qp.get("period"), qp.getlist("filter"), qp.get("measure"), PAGE_SIZE, (page - 1) * PAGE_SIZE
    )


def _day(value: Any, calendar: str, lang: str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if not isinstance(value, dt.date):
        return "—"
    return period_label(unit_of(value, calendar, "day").label, lang)  # type: ignore[arg-type]


def _cell(row: dict[str, Any], name: str, kind: str, lang: str, money: Money, calendar: str) -> str:
    v = row.get(name)
    if kind == "day":
        return _day(v, calendar, lang)
    if v is None:
        return "—"
    if kind == "member":
        label = row.get(name_column(name)) if name in NAMED else None
        return str(label) if label else t_or(f"member.{name}.{v}", lang, str(v))
    if kind == "money":
        return fmt_money(v, lang, money)
    if kind in ("days", "hours"):
        return fmt_value(v, kind, lang)
    if kind == "number":
        return fmt_number(v, lang)
    if kind == "flag":
        return t("rows.yes", lang) if v else t("rows.no", lang)
    if kind == "code":
        return t_or(f"rows.status.{v}", lang, str(v))
    return str(v)


@dataclass
class RowsPage:
    """What rows.html shows: a page of the rows behind a KPI's number (:func:`rows_view`)."""

    kpi: dict[str, Any]
    measure: str
    #: (name, title, url, chosen) of the measures whose rows differ; empty when there is one
    measures: list[tuple[str, str, str, bool]]
    period: str
    #: (dimension title, member name) of the view's filters
    filters: list[tuple[str, str]]
    #: (name, title, kind) of the columns
    columns: list[tuple[str, str, str]]
    rows: list[list[str]]
    total: str
    value_text: str | None
    value_title: str
    page: int
    pages: int
    prev_url: str | None
    next_url: str | None
    page_text: str
    csv_url: str
    kpi_url: str
    scope_note: str | None


def rows_view(
    st: AppState, c: Caller, k: Any, q: RowsQuery, got: dict[str, Any], page: int, lang: str, lang_param: str | None
) -> RowsPage:
    """The rows page of the engine's page of rows ``got`` for ``q``: the cells written for a
    reader, the measures to switch to, the pages' links."""
    money = st.ws.settings.money_format
    calendar = parse_period(q.period).calendar
    columns = list(got["columns"])
    measure = k.measure(got["measure"])
    extra = [("lang", lang_param)] if lang_param in ("fa", "en") else []
    keep = [("period", q.period), *(("filter", f"{d}:{m}") for d, m in q.filters)]
    if q.measure:
        keep.append(("measure", q.measure))
    pages = _pages(got)
    here = f"/kpi/{k.name}/rows"
    measures = []
    seen: set[tuple[str, str]] = set()
    for m in k.visible_measures:
        try:
            _, agg, cohort = population(k, m.name)
        except InvalidQuery:
            continue
        sig = (cohort, repr(agg.where))
        if sig in seen:
            continue
        seen.add(sig)
        params = [("period", q.period), *(("filter", f"{d}:{mm}") for d, mm in q.filters), ("measure", m.name), *extra]
        measures.append((m.name, m.title.get(lang) or m.name, _url(here, params), m.name == measure.name))
    value_text = None
    if got.get("value_column") and got.get("value_sum") is not None:
        unit = next((col["kind"] for col in columns if col["name"] == got["value_column"]), "number")
        value_text = fmt_value(got["value_sum"], unit, lang, money)
    return RowsPage(
        kpi={"name": k.name, "title": k.title.get(lang) or k.name},
        measure=measure.title.get(lang) or measure.name,
        measures=measures if len(measures) > 1 else [],
        period=q.period,
        filters=[(t_or(f"dim.{d}", lang, d), _member_label(st, c, d, m, lang)) for d, m in q.filters],
        columns=[(col["name"], t_or(f"rows.col.{col['name']}", lang, col["name"]), col["kind"]) for col in columns],
        rows=[[_cell(r, col["name"], col["kind"], lang, money, calendar) for col in columns] for r in got["rows"]],
        total=digits(f"{int(got['total']):,}", lang),
        value_text=value_text,
        value_title=t_or(f"rows.col.{got.get('value_column')}", lang, str(got.get("value_column"))),
        page=page,
        pages=pages,
        prev_url=_url(here, [*keep, ("page", str(page - 1)), *extra]) if page > 1 else None,
        next_url=_url(here, [*keep, ("page", str(page + 1)), *extra]) if page < pages else None,
        page_text=t("rows.page", lang, page=digits(str(page), lang), pages=digits(str(pages), lang)),
        csv_url=_url(f"{here}.csv", keep),
        kpi_url=_url(f"/kpi/{k.name}", [("period", q.period), *(("filter", f"{d}:{m}") for d, m in q.filters), *extra]),
        scope_note=_scope_note(st, c, lang),
    )


def _pages(got: dict[str, Any]) -> int:
    """How many pages the rows of a drill's answer fill (one when there are none)."""
    return max(1, -(-int(got["total"]) // PAGE_SIZE))


@router.get("/kpi/{name}/rows")
def rows_page(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    page = page_number(request.query_params.get("page"))
    q = _query(request, st, c, name, page=page)
    got = st.rows(c.user, q)
    last = _pages(got)
    if page > last:  # past the rows' end: their last page (an empty page looked like an empty period)
        query = request.url.include_query_params(page=last).query
        return RedirectResponse(f"{request.url.path}?{query}", status_code=303)
    k = st.kpi(name)
    view = rows_view(st, c, k, q, got, page, lang, request.query_params.get("lang"))
    return _render(request, "rows.html", c, lang=lang, **_context(view))


def _member_label(st: AppState, c: Caller, dim: str, member: str, lang: str) -> str:
    for m, n in st.members(c.user, dim):
        if m.lower() == member.lower():
            return n or t_or(f"member.{dim}.{m}", lang, m)
    return t_or(f"member.{dim}.{member}", lang, member)


def _scope_note(st: AppState, c: Caller, lang: str) -> str | None:
    if c.user.role == "rep":
        return t("scope.rep", lang, rep=c.user.rep_id)
    if st.scope(c.user) is not None:
        return t("rows.team_scope", lang, team=c.user.team)
    return None


@router.get("/kpi/{name}/rows.csv")
def rows_csv(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    q = _query(request, st, c, name)
    got = st.rows(c.user, q, export=True)
    calendar = parse_period(q.period).calendar
    out: list[dict[str, Any]] = []
    header: list[str] = []
    for col in got["columns"]:
        header.append(col["name"])
        if col["kind"] == "day":
            header.append(f"{col['name']}_{calendar}")
        if col["kind"] == "member" and col["name"] in NAMED:
            header.append(name_column(col["name"]))
    header.append("currency")
    for r in got["rows"]:
        row = dict(r)
        for col in got["columns"]:
            if col["kind"] == "day" and r.get(col["name"]):
                day = dt.date.fromisoformat(str(r[col["name"]])[:10])
                row[f"{col['name']}_{calendar}"] = unit_of(day, calendar, "day").label  # type: ignore[arg-type]
        row["currency"] = st.ws.settings.currency
        out.append(row)
    filename = f"{name}-{q.period}-rows.csv".replace("..", "_")
    return csv_download(out, header, filename)
