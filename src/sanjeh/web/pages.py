"""The dashboard's server-rendered pages (Jinja2): scorecard, one page per KPI, reps, targets, data, users.

Pages only parse the query string, call :class:`~sanjeh.web.state.AppState` (which
calls the engine) and render. Every view's state is in its URL, so any view can be
shared. Forms that change something carry the session's CSRF token.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from sanjeh.calendar import GRAINS, current_unit, latest_complete, parse_period, unit_of
from sanjeh.currency import Money
from sanjeh.errors import AuthError, Forbidden, RateLimited, SanjehError, UserError
from sanjeh.export import csv_text
from sanjeh.formatting import fmt_money, fmt_number, fmt_points, fmt_rate, fmt_signed_rate, fmt_value
from sanjeh.i18n import DIRECTION, digits, normalize_lang, period_label, t, t_or
from sanjeh.ingest.mapping import mapping_names
from sanjeh.schema import IMPORT_ORDER
from sanjeh.users import User, set_language
from sanjeh.web import charts
from sanjeh.web.auth import CSRF_FIELD, SESSION_COOKIE, SESSION_SECONDS
from sanjeh.web.deps import Caller, _resolve, check_csrf, log_in, log_out, state_of
from sanjeh.web.state import AppState, QuerySpec

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
LOGIN_COOKIE = "sanjeh_login"
QUICK = ("this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year")


def templates() -> Jinja2Templates:
    tpl = Jinja2Templates(directory=str(HERE / "templates"))
    tpl.env.globals.update(
        fmt_number=fmt_number,
        fmt_money=fmt_money,
        fmt_rate=fmt_rate,
        fmt_signed_rate=fmt_signed_rate,
        fmt_points=fmt_points,
        fmt_value=fmt_value,
        period_label=period_label,
        digits=digits,
    )
    return tpl


def mount_static(app: FastAPI) -> None:
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    # the Plotly route must win over the static mount: move it before the mount
    app.router.routes.insert(0, app.router.routes.pop())


# -- helpers ---------------------------------------------------------------------------------
def _lang(request: Request, user: User | None) -> str:
    asked = request.query_params.get("lang")
    if asked in ("fa", "en"):
        return asked
    if user is not None and user.language:
        return user.language
    return normalize_lang(state_of(request).ws.settings.language)


def _render(
    request: Request, name: str, c: Caller | None, status: int = 200, lang: str | None = None, **ctx: Any
) -> HTMLResponse:
    st = state_of(request)
    user = c.user if c else None
    lang = lang or _lang(request, user)

    def tr(key: str, **kw: Any) -> str:
        return t(key, lang, **kw)

    csrf = st.signer.csrf_token(c.sid) if c and c.sid else ""
    base = {
        "request": request,
        "lang": lang,
        "dir": DIRECTION[lang],
        "_": tr,
        "t_or": lambda key, fallback: t_or(key, lang, fallback),
        "user": user,
        "csrf": csrf,
        "csrf_field": CSRF_FIELD,
        "company": st.ws.settings.company,
        "currency": st.ws.settings.money_format,
        "path": request.url.path,
        "lang_param": request.query_params.get("lang") if request.query_params.get("lang") in ("fa", "en") else "",
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }
    base.update(ctx)
    tpl: Jinja2Templates = request.app.state.templates
    resp = tpl.TemplateResponse(request, name, base, status_code=status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def render_error_page(request: Request, status: int, code: str, message: str) -> Response:
    c = None
    try:
        c = _resolve(request)
    except SanjehError:
        c = None
    return _render(request, "error.html", c, status=status, status_code=status, code=code, message=message)


def page_caller(request: Request) -> Caller:
    """The logged-in browser user; unauthenticated requests are sent to the login page."""
    return _resolve(request)


def _url(path: str, params: list[tuple[str, str]]) -> str:
    clean = [(k, v) for k, v in params if v not in (None, "")]
    return path + ("?" + urlencode(clean) if clean else "")


def _quick_periods(st: AppState, calendar: str) -> list[tuple[str, str]]:
    """This/last month, quarter, year counted from :meth:`AppState.as_of` (today, or the last day
    with data when the data ends before last month)."""
    today = st.as_of()
    cal: Any = calendar
    units = {
        "this_month": current_unit(today, cal, "month"),
        "last_month": latest_complete(today, cal, "month"),
        "this_quarter": current_unit(today, cal, "quarter"),
        "last_quarter": latest_complete(today, cal, "quarter"),
        "this_year": current_unit(today, cal, "year"),
        "last_year": latest_complete(today, cal, "year"),
    }
    return [(k, units[k].label) for k in QUICK]


def _period_controls(
    request: Request, st: AppState, period: str, lang: str, extra: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    calendar = _calendar(request, st)
    if not request.query_params.get("cal"):
        calendar = parse_period(period).calendar
    lang_param = request.query_params.get("lang")
    quick = []
    for key, label in _quick_periods(st, calendar):
        params = [("period", label), *(extra or [])]
        if lang_param:
            params.append(("lang", lang_param))
        quick.append((key, label, _url(request.url.path, params)))
    as_of = st.as_of()
    data_ends = None
    if as_of != st.ws.today():  # the quick periods count from the last day with data: say so
        data_ends = period_label(unit_of(as_of, calendar, "day").label, lang)  # type: ignore[arg-type]
    return {"period": period, "calendar": calendar, "quick": quick, "data_ends": data_ends}


def _calendar(request: Request, st: AppState) -> str:
    cal = request.query_params.get("cal")
    return cal if cal in ("jalali", "gregorian") else st.ws.settings.calendar


def _period_param(request: Request, st: AppState) -> str:
    """The asked period, else the latest complete month (in the asked calendar)."""
    asked = request.query_params.get("period")
    if asked:
        return parse_period(asked).label
    cal: Any = _calendar(request, st)
    return st.default_period(cal)


def _kpi_view(k: Any, lang: str) -> dict[str, Any]:
    return {
        "name": k.name,
        "number": k.number,
        "title": k.title.get(lang) or k.name,
        "description": k.description.get(lang, ""),
        "formula": k.formula.get(lang, ""),
        "direction": k.direction,
        "dimensions": list(k.dimensions),
        "fixed": list(k.fixed),
        "measures": [
            {"name": m.name, "unit": m.unit, "title": m.title.get(lang) or m.name}
            for m in getattr(k, "visible_measures", k.measures)
        ],
    }


def _arrow(x: Any) -> str:
    return "▲" if x and x > 0 else ("▼" if x and x < 0 else "●")


def _card_view(card: dict[str, Any], lang: str, currency: Money) -> dict[str, Any]:
    unit = str(card.get("unit") or "number")
    up = card.get("direction", "up") == "up"
    points = card.get("change_in") == "points"  # a rate changes in percentage points

    def trend(x: Any) -> str:
        if x is None or x == 0:
            return "flat"
        return "good" if (float(x) > 0) == up else "bad"

    def change(prefix: str) -> tuple[Any, str | None]:
        if points:
            x = card.get(f"{prefix}change")
            return x, fmt_points(x, lang) if x is not None else None
        x = card.get(f"{prefix}change_rate")
        return x, fmt_signed_rate(x, lang) if x is not None else None

    change_x, change_text = change("")
    yoy_x, yoy_text = change("year_ago_")
    att = card.get("attainment")
    data = card.get("data") or {}
    return {
        "kpi": card.get("kpi"),
        "title": (card.get("title") or {}).get(lang) or card.get("kpi"),
        "status": data.get("status", "ok"),
        "missing": [t_or(f"table.{x}", lang, x) for x in data.get("missing") or []],
        "value": fmt_value(card.get("value"), unit, lang, currency, compact=True),
        "value_full": fmt_value(card.get("value"), unit, lang, currency),
        "target": fmt_value(card.get("target"), unit, lang, currency, compact=True) if card.get("target") else None,
        "attainment": fmt_rate(att, lang, 0) if att is not None else None,
        "attainment_pct": max(0.0, min(100.0, float(att) * 100)) if att is not None else None,
        "attainment_ok": att is not None and float(att) >= 1.0,
        "change": change_text,
        "change_arrow": _arrow(change_x),
        "change_trend": trend(change_x),
        "yoy": yoy_text,
        "yoy_arrow": _arrow(yoy_x),
        "yoy_trend": trend(yoy_x),
        "previous": fmt_value(card.get("previous"), unit, lang, currency, compact=True),
        "spark": charts.sparkline_svg(card.get("spark") or [], rtl=lang == "fa"),
        "direction": card.get("direction", "up"),
    }


def _day_text(day: str | None, calendar: str, lang: str) -> str:
    """An ISO day in the workspace's calendar, for people (``۱۵ دی ۱۴۰۳``)."""
    if not day:
        return "—"
    import datetime as dt

    return period_label(unit_of(dt.date.fromisoformat(day), calendar, "day").label, lang)  # type: ignore[arg-type]


def _data_note(data: dict[str, Any], lang: str, calendar: str) -> dict[str, Any] | None:
    """What a page says instead of zeros: which data is missing, or where the data lies."""
    status = data.get("status", "ok")
    if status == "ok":
        return None
    first, last = _day_text(data.get("first_day"), calendar, lang), _day_text(data.get("last_day"), calendar, lang)
    if status == "no_data":
        tables = [t_or(f"table.{x}", lang, x) for x in data.get("missing") or []]
        sep = "، " if lang == "fa" else ", "
        return {"status": status, "text": t("data_note.no_data", lang, tables=sep.join(tables)), "import": True}
    return {"status": status, "text": t(f"data_note.{status}", lang, first=first, last=last), "import": False}


def _cell(value: Any, column: str, kpi: Any, lang: str, currency: Money, dims: list[str]) -> str:
    if column == "period":
        return period_label(value, lang)
    if column in dims or column.endswith("_name"):
        return "—" if value is None else str(value)
    unit = charts.measure_unit(kpi, column)
    if unit == "text":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return fmt_number(value, lang)
        return "—" if value is None else str(value)
    return fmt_value(value, unit, lang, currency)


def _column_title(column: str, kpi: Any, lang: str) -> str:
    titles: dict[str, str] = {m.name: str(m.title.get(lang) or m.name) for m in kpi.measures}
    if column in titles:
        return titles[column]
    for suffix, key in (("_target", "col.measure_target"), ("_attainment", "col.measure_attainment")):
        if column.endswith(suffix) and column[: -len(suffix)] in titles:
            return t(key, lang, measure=titles[column[: -len(suffix)]])
    if column.endswith("_change_rate") and column[: -len("_change_rate")] in titles:
        return t("col.change_rate", lang, measure=titles[column[: -len("_change_rate")]])
    if column.endswith("_change") and column[: -len("_change")] in titles:
        return t("col.change", lang, measure=titles[column[: -len("_change")]])
    if column.startswith("previous_") and column[len("previous_") :] in titles:
        return t("col.previous", lang, measure=titles[column[len("previous_") :]])
    if column.endswith("_name"):
        return t_or(f"dim.{column[:-5]}", lang, column[:-5]) + " — " + t("col.name", lang)
    return t_or(f"col.{column}", lang, t_or(f"dim.{column}", lang, column))


def _table(result: dict[str, Any], kpi: Any, lang: str, currency: Money) -> dict[str, Any]:
    rows = list(result.get("rows") or [])
    dims = list(result.get("by") or [])
    columns: list[str] = list(result.get("columns") or (rows[0].keys() if rows else []))
    hidden = {m.name for m in kpi.measures if getattr(m, "hidden", False)}
    if charts.measure_unit(kpi, kpi.headline) == "rate":
        # a rate's change is shown in points (its _change column); a percent of a percent is not
        hidden |= {f"{kpi.headline}_change_rate", f"{kpi.headline}_year_ago_change_rate"}
    columns = [c for c in columns if c not in hidden]
    numeric = {c for c in columns if c != "period" and c not in dims and charts.measure_unit(kpi, c) != "text"}
    return {
        "columns": [{"name": c, "title": _column_title(c, kpi, lang), "numeric": c in numeric} for c in columns],
        "rows": [[_cell(r.get(c), c, kpi, lang, currency, dims) for c in columns] for r in rows],
    }


# -- login / logout / language -----------------------------------------------------------------
@router.get("/login")
def login_page(request: Request) -> Response:
    st = state_of(request)
    nonce = secrets.token_hex(16)
    lang = _lang(request, None)
    resp = _render(
        request,
        "login.html",
        None,
        lang=lang,
        login_csrf=st.signer.csrf_token("login:" + nonce),
        next=request.query_params.get("next", "/"),
        error=None,
    )
    resp.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="lax", secure=st.secure_cookies, max_age=3600)
    return resp


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/login")
async def login(request: Request) -> Response:
    st = state_of(request)
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    token = str(form.get(CSRF_FIELD) or "")
    lang = normalize_lang(str(form.get("lang") or ""), normalize_lang(st.ws.settings.language))
    next_url = _safe_next(str(form.get("next") or "/"))
    if not nonce or not st.signer.check_csrf("login:" + nonce, token):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again", details={"reason": "csrf"})

    def again(message: str, status: int) -> Response:
        return _render(
            request,
            "login.html",
            None,
            status=status,
            lang=lang,
            login_csrf=token,
            next=next_url,
            error=message,
            username=username[:64],
        )

    try:
        signed = await log_in(request, username, password, "session", SESSION_SECONDS)
    except RateLimited:
        return again(t("login.rate_limited", lang), 429)
    except AuthError:
        return again(t("login.failed", lang), 401)
    resp = RedirectResponse(next_url, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        signed,
        httponly=True,
        samesite="lax",
        secure=st.secure_cookies,
        max_age=SESSION_SECONDS,
        path="/",
    )
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    c = page_caller(request)
    await check_csrf(request, c)
    await log_out(request, c)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.post("/language")
async def language(request: Request) -> Response:
    c = page_caller(request)
    await check_csrf(request, c)
    form = await request.form()
    lang = str(form.get("language") or "")
    st = state_of(request)
    st.call(lambda ws: set_language(ws, c.user.username, lang))
    st.forget_user(c.user.username)
    back = _safe_next(str(form.get("next") or "/"))
    # drop an explicit ?lang= from the page we go back to, so the stored choice shows
    if "lang=" in back:
        path, _, query = back.partition("?")
        kept = [p for p in query.split("&") if not p.startswith("lang=")]
        back = path + ("?" + "&".join(kept) if kept else "")
    return RedirectResponse(back, status_code=303)


# -- scorecard -----------------------------------------------------------------------------------
@router.get("/")
def scorecard_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    period = _period_param(request, st)
    card = st.scorecard(c.user, period)
    cur = st.ws.settings.money_format
    return _render(
        request,
        "scorecard.html",
        c,
        lang=lang,
        controls=_period_controls(request, st, card.get("period", period), lang),
        period=card.get("period", period),
        goals=[t_or(f"goal.{g}", lang, g) for g in card.get("goals", [])],
        primary=[_card_view(x, lang, cur) for x in card.get("primary", [])],
        secondary=[_card_view(x, lang, cur) for x in card.get("secondary", [])],
        insights=[f["text"][lang] for f in card.get("insights", [])],
        missing=[t_or(f"table.{x}", lang, x) for x in (card.get("data") or {}).get("missing") or []],
        empty=bool((card.get("data") or {}).get("empty")),
        extra_params=[],
    )


# -- one KPI ------------------------------------------------------------------------------------
def _kpi_spec(request: Request, st: AppState, c: Caller, name: str) -> QuerySpec:
    q = request.query_params
    return st.spec(
        c.user,
        name,
        _period_param(request, st),
        q.get("grain") or None,
        q.getlist("by"),
        q.getlist("filter"),
        q.get("compare") or None,
    )


def _spec_params(spec: QuerySpec, lang_param: str | None = None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = [("period", spec.period)]
    if spec.grain:
        params.append(("grain", spec.grain))
    params += [("by", b) for b in spec.by]
    params += [("filter", f"{d}:{m}") for d, m in spec.filters]
    if spec.compare:
        params.append(("compare", spec.compare))
    if lang_param:
        params.append(("lang", lang_param))
    return params


@router.get("/kpi/{name}")
def kpi_page(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    k = st.kpi(name)
    spec = _kpi_spec(request, st, c, name)
    result = st.run(c.user, spec)
    path = f"/kpi/{k.name}"
    lang_param = request.query_params.get("lang")
    from sanjeh.web.rows_page import drill_links  # the drill-through hook (rows_page imports this module)

    def drill(dim: str, member: str) -> str:
        by = [b for b in spec.by if b != dim or b in k.fixed]
        grain = (
            spec.grain
            or k.default_grain
            or (
                "month"
                if parse_period(spec.period).unit_kind in ("year", "quarter") or parse_period(spec.period).is_range
                else ""
            )
        )
        filters = [f for f in spec.filters if f[0] != dim] + [(dim, member)]
        drilled = QuerySpec(spec.kpi, spec.period, grain or None, tuple(by), tuple(filters), spec.compare)
        return _url(path, _spec_params(drilled, lang_param))

    cur = st.ws.settings.money_format
    note = _data_note(result.get("data") or {}, lang, parse_period(spec.period).calendar)
    figure = (
        None
        if note and note["status"] in ("no_data", "outside")
        else charts.build_chart(result, k, lang, currency=cur, drill=drill)
    )
    filters = []
    for d, m in spec.filters:
        rest = QuerySpec(
            spec.kpi, spec.period, spec.grain, spec.by, tuple(f for f in spec.filters if f != (d, m)), spec.compare
        )
        filters.append(
            {
                "dim": d,
                "title": t_or(f"dim.{d}", lang, d),
                "member": m,
                "remove": _url(path, _spec_params(rest, lang_param)),
            }
        )
    return _render(
        request,
        "kpi.html",
        c,
        lang=lang,
        kpi=_kpi_view(k, lang),
        spec=spec,
        controls=_period_controls(
            request, st, spec.period, lang, [(p, v) for p, v in _spec_params(spec) if p != "period"]
        ),
        grains=list(GRAINS),
        filters=filters,
        figure=figure,
        table=_table(result, k, lang, cur),
        data_note=note,
        csv_url=_url(f"/kpi/{k.name}/csv", _spec_params(spec)),
        json_url=_url(f"/api/v1/kpis/{k.name}", _spec_params(spec)),
        extra_params=[(p, v) for p, v in _spec_params(spec) if p != "period"],
        warnings=result.get("warnings") or [],
        drill_rows=drill_links(k, spec, result, lang_param, lang),
    )


@router.get("/kpi/{name}/csv")
def kpi_csv(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    spec = _kpi_spec(request, st, c, name)
    result = st.run(c.user, spec)
    rows = list(result.get("rows") or [])
    columns = list(result.get("columns") or (rows[0].keys() if rows else []))
    filename = f"{spec.kpi}-{spec.period}.csv".replace("..", "_")
    return _csv_response(csv_text(rows, columns, bom=True), filename)


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/kpis")
def kpis_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    return _render(request, "kpis.html", c, lang=lang, kpis=[_kpi_view(k, lang) for k in st.catalogue()])


# -- reps ---------------------------------------------------------------------------------------
@router.get("/reps")
def reps_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    label = _period_param(request, st)
    cur = st.ws.settings.money_format

    def run(kpi: str, by: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = st.run(c.user, QuerySpec(kpi, label, None, by)).get("rows") or []
        return rows

    reps: dict[str, dict[str, Any]] = {}

    def rep(row: dict[str, Any]) -> dict[str, Any]:
        rid = str(row.get("rep") if row.get("rep") is not None else "unknown")
        entry = reps.setdefault(rid, {"rep": rid, "name": row.get("rep_name") or ""})
        if row.get("rep_name") and not entry["name"]:
            entry["name"] = row["rep_name"]
        return entry

    for r in run("sales_per_rep"):
        rep(r).update(
            revenue=r.get("revenue"),
            orders=r.get("orders"),
            won_deals=r.get("won_deals"),
            target=r.get("target"),
            attainment=r.get("attainment"),
        )
    for r in run("calls_per_rep"):
        rep(r).update(calls=r.get("calls"), prospect_rate=r.get("prospect_rate"))
    for r in run("data_entry_share", ("rep",)):
        rep(r).update(data_entry_share=r.get("share"))
    best: dict[str, tuple[float, str, Any]] = {}
    for r in run("sales_by_contact_method", ("contact_method", "rep")):
        rid = str(r.get("rep"))
        value = float(r.get("revenue") or 0)
        if value > 0 and (rid not in best or value > best[rid][0]):
            best[rid] = (value, str(r.get("contact_method")), r.get("win_rate"))
    for rid, (_, method, win) in best.items():
        if rid in reps:
            reps[rid].update(
                best_method=t_or(f"member.contact_method.{method}", lang, method), best_method_win_rate=win
            )
    ordered = sorted(reps.values(), key=lambda e: -float(e.get("revenue") or 0))
    rows = [
        {
            "rep": e["rep"],
            "name": e.get("name") or e["rep"],
            "revenue": fmt_money(e.get("revenue"), lang, cur, compact=True),
            "orders": fmt_number(e.get("orders"), lang),
            "won_deals": fmt_number(e.get("won_deals"), lang),
            "attainment": fmt_rate(e.get("attainment"), lang, 0),
            "calls": fmt_number(e.get("calls"), lang),
            "prospect_rate": fmt_rate(e.get("prospect_rate"), lang),
            "data_entry_share": fmt_rate(e.get("data_entry_share"), lang),
            "best_method": e.get("best_method") or "—",
            "best_method_win_rate": fmt_rate(e.get("best_method_win_rate"), lang),
            "link": _url("/kpi/revenue", [("period", label), ("filter", f"rep:{e['rep']}"), ("grain", "month")]),
        }
        for e in ordered
    ]
    top = ordered[:20]
    figure = None
    if top:
        fake = {
            "rows": [
                {"rep": e["rep"], "rep_name": e.get("name"), "revenue": e.get("revenue"), "target": e.get("target")}
                for e in top
            ],
            "by": ["rep"],
            "grain": None,
        }
        figure = charts.build_chart(fake, st.kpi("sales_per_rep"), lang, currency=cur)
    return _render(
        request,
        "reps.html",
        c,
        lang=lang,
        controls=_period_controls(request, st, label, lang),
        period=label,
        rows=rows,
        figure=figure,
        extra_params=[],
    )


# -- data -----------------------------------------------------------------------------------------
def _data_render(
    request: Request, c: Caller, summary: dict[str, Any] | None, error: Any, status: int = 200
) -> Response:
    from sanjeh.ingest import list_rejects

    st = state_of(request)
    lang = _lang(request, c.user)

    def stats(ws: Any) -> list[dict[str, Any]]:
        return _table_stats(ws)

    tables = st.call(stats)
    rejects = st.call(lambda ws: list_rejects(ws))
    return _render(
        request,
        "data.html",
        c,
        status=status,
        lang=lang,
        tables=tables,
        rejects=rejects[:200],
        rejects_total=len(rejects),
        mappings=mapping_names(st.ws.root),
        table_names=list(IMPORT_ORDER),
        summary=summary,
        error=error,
        max_mb=st.max_upload // (1024 * 1024),
    )


def _table_stats(ws: Any) -> list[dict[str, Any]]:
    """Row counts and the last import of each canonical table (for the Data page)."""
    import json

    last: dict[str, str] = {}
    imports = ws.warehouse.table("_imports").to_pyarrow().to_pylist()
    for imp in sorted(imports, key=lambda r: r.get("finished_at") or r.get("started_at") or 0):
        try:
            tables = json.loads(imp.get("summary") or "{}").get("tables", {})
        except ValueError:
            tables = {}
        when = imp.get("finished_at") or imp.get("started_at")
        for name in tables:
            last[name] = str(when)[:16] if when else ""
    return [
        {"name": n, "rows": ws.warehouse.table(n).count().execute(), "last_import": last.get(n, "")}
        for n in IMPORT_ORDER
    ]


@router.get("/data")
def data_page(request: Request) -> Response:
    c = page_caller(request)
    if not c.user.can_manage:
        raise Forbidden("only an admin or a manager may import data", details={"role": c.user.role})
    return _data_render(request, c, None, None)


@router.post("/data/import")
async def data_import(request: Request) -> Response:
    from starlette.datastructures import UploadFile

    from sanjeh.web.api import import_files, save_uploads

    c = page_caller(request)
    await check_csrf(request, c)
    if not c.user.can_manage:
        raise Forbidden("only an admin or a manager may import data", details={"role": c.user.role})
    form = await request.form()
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile) and v.filename]
    mapping = str(form.get("mapping") or "") or None
    table = str(form.get("table") or "") or None
    replace = str(form.get("replace") or "") in ("1", "on", "true")
    try:
        with tempfile.TemporaryDirectory(prefix="sanjeh-upload-") as tmp:
            paths = await save_uploads(request, files, Path(tmp))
            summary = await run_in_threadpool(import_files, request, paths, mapping, table, replace)
    except UserError as exc:
        return _data_render(request, c, None, exc, status=exc.status)
    return _data_render(request, c, dict(summary.to_dict()), None)


@router.get("/data/rejects.csv")
def rejects_csv(request: Request) -> Response:
    from sanjeh.ingest import list_rejects

    c = page_caller(request)
    if not c.user.can_manage:
        raise Forbidden("only an admin or a manager may see rejected rows", details={"role": c.user.role})
    table = request.query_params.get("table") or None
    rows = state_of(request).call(lambda ws: list_rejects(ws, table=table))
    cols = ["table", "file", "line", "column", "value", "reason"]
    return _csv_response(csv_text(rows, cols, bom=True), "rejects.csv")
