"""The dashboard's server-rendered pages (Jinja2): scorecard, one page per KPI, reps, targets, data, users.

Pages only parse the query string, call :class:`~sanjeh.web.state.AppState` (which
calls the engine) and render. Every view's state is in its URL, so any view can be
shared. Forms that change something carry the session's CSRF token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from sanjeh.calendar import GRAINS, current_unit, latest_complete, parse_period, unit_of
from sanjeh.currency import Money, as_money
from sanjeh.errors import AuthError, Forbidden, InvalidQuery, RateLimited, SanjehError, UserError
from sanjeh.export import csv_text, xlsx_bytes
from sanjeh.formatting import (
    fmt_attainment,
    fmt_in,
    fmt_money,
    fmt_number,
    fmt_points,
    fmt_rate,
    fmt_signed_rate,
    fmt_value,
    money_column,
)
from sanjeh.i18n import DIRECTION, digits, isolate, member_label, normalize_lang, period_label, t, t_or
from sanjeh.kpis.columns import Columns, name_column
from sanjeh.kpis.leaderboard import FIGURES, Leaderboard, leaderboard
from sanjeh.kpis.query import Query
from sanjeh.users import User, set_language
from sanjeh.web import charts, controls, views
from sanjeh.web.auth import CSRF_FIELD, SESSION_COOKIE, SESSION_SECONDS
from sanjeh.web.deps import Caller, _resolve, check_csrf, log_in, log_out, state_of
from sanjeh.web.state import AppState

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
        isolate=isolate,
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
        "company": st.ws.settings.company_name(lang),
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


def _context(view: Any) -> dict[str, Any]:
    """A page's view model as its template's variables (its fields, not copied)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}


def render_error_page(
    request: Request, status: int, code: str, message: str, exc: SanjehError | None = None
) -> Response:
    """An error page in the user's language (the error's catalogue message when it has one)."""
    c = None
    try:
        c = _resolve(request)
    except SanjehError:
        c = None
    lang = _lang(request, c.user if c else None)
    # an HTTP error of the framework (404, 405, a 413 while reading) has no key: its code's words
    text = exc.text(lang) if exc is not None else t_or(f"error.http.{code}", lang, message)
    return _render(request, "error.html", c, status=status, lang=lang, status_code=status, code=code, message=text)


def page_caller(request: Request) -> Caller:
    """The logged-in browser user; unauthenticated requests are sent to the login page."""
    return _resolve(request)


Handler = Callable[..., Response]


def remembered(handler: Handler) -> Handler:
    """A page served again as rendered while nothing it shows can have changed
    (:meth:`AppState.page`); every request is still authenticated first."""

    @functools.wraps(handler)
    def page(request: Request, **params: Any) -> Response:
        c = page_caller(request)
        url = request.url.path + ("?" + request.url.query if request.url.query else "")
        return state_of(request).page(url, c.user, c.sid, lambda: handler(request, **params))

    return page


def _url(path: str, params: list[tuple[str, str]]) -> str:
    """A page URL. Empty values are left out, but an empty ``grain`` stays: it says "the whole
    period, chosen" (a KPI's default view does not come back)."""
    clean = [(k, v) for k, v in params if v not in (None, "") or (k == "grain" and v == "")]
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
    return {
        "period": period,
        "calendar": calendar,
        "quick": quick,
        "data_ends": data_ends,
        "error": None,
        "typed": None,
    }


def _calendar(request: Request, st: AppState) -> str:
    cal = request.query_params.get("cal")
    return cal if cal in ("jalali", "gregorian") else st.ws.settings.calendar


def _period_param(
    request: Request,
    st: AppState,
    lang: str = "en",
    errors: dict[str, str] | None = None,
    default: Callable[[Any], str] | None = None,
) -> str:
    """The asked period, else ``default(calendar)`` — the latest complete month unless told — in
    the asked calendar. With ``errors``, a period that cannot be read is reported there (the page
    shows it beside the period box and falls back to the default) instead of failing the page."""
    asked = request.query_params.get("period")
    if asked:
        try:
            return parse_period(asked).label
        except UserError as exc:
            if errors is None:
                raise
            errors["period"] = exc.text(lang)
            errors["period_typed"] = asked
    cal: Any = _calendar(request, st)
    return default(cal) if default is not None else st.default_period(cal)


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
        raise Forbidden(key="auth.csrf", details={"reason": "csrf"})

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
@dataclass
class ScorecardPage:
    """What scorecard.html shows: the engine's scorecard laid out (:func:`scorecard_view`)."""

    controls: dict[str, Any]
    period: str
    goals: list[str]
    primary: list[dict[str, Any]]
    secondary: list[dict[str, Any]]
    insights: list[str]
    missing: list[str]
    empty: bool
    #: where the data ends, said when the period ends past it and some cards have nothing
    outside: str | None
    #: the cards whose KPI page explains its change (kpis/why.py: a KPI split by members)
    explained: set[str]
    extra_params: list[tuple[str, str]] = field(default_factory=list)


def _past(label: str, last_day: str | None) -> bool:
    """Does the period ``label`` end after the data's last day (the days past it have no rows)?"""
    return bool(last_day) and parse_period(label).end > dt.date.fromisoformat(str(last_day))


def scorecard_view(
    st: AppState, c: Caller, card: dict[str, Any], period_controls: dict[str, Any], lang: str
) -> ScorecardPage:
    """The scorecard page of the engine's scorecard ``card`` (its cards with their pace lines)."""
    cur = st.ws.settings.money_format
    label = str(card.get("period", period_controls["period"]))
    data = card.get("data") or {}
    return ScorecardPage(
        controls=period_controls,
        period=label,
        goals=[t_or(f"goal.{g}", lang, g) for g in card.get("goals", [])],
        primary=[_card(st, c, x, label, lang, cur) for x in card.get("primary", [])],
        secondary=[_card(st, c, x, label, lang, cur) for x in card.get("secondary", [])],
        insights=[f["text"][lang] for f in card.get("insights", [])],
        missing=[t_or(f"table.{x}", lang, x) for x in data.get("missing") or []],
        empty=bool(data.get("empty")),
        outside=t(
            "data_note.outside_cards",
            lang,
            n=digits(str(len(data["outside"])), lang),
            last=views.day_text(data["last_day"], parse_period(label).calendar, lang),
        )
        if data.get("outside") and _past(label, data.get("last_day"))
        else None,
        explained={k.name for k in st.catalogue() if k.dimensions},
    )


@router.get("/")
@remembered
def scorecard_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    errors: dict[str, str] = {}
    period = _period_param(request, st, lang, errors)
    card = st.scorecard(c.user, period)
    controls = _period_controls(request, st, str(card.get("period", period)), lang)
    controls.update(error=errors.get("period"), typed=errors.get("period_typed"))
    view = scorecard_view(st, c, card, controls, lang)
    return _render(request, "scorecard.html", c, status=422 if errors else 200, lang=lang, **_context(view))


def _card(st: AppState, c: Caller, card: dict[str, Any], label: str, lang: str, cur: Money) -> dict[str, Any]:
    from sanjeh.web.forecast_page import forecast_url  # the forecast page imports this module

    view = views.card_view(card, lang, cur, label)
    p = parse_period(label)
    # a member's page counts a one-unit period as one step, as the card's spotlight did (its figure)
    step = "" if p.is_range else p.unit_kind
    for spot in ([view["spot"]] if view.get("spot") else []) + list(view.get("lines") or []):
        if spot.get("filter"):
            spot["url"] = _url(f"/kpi/{view['kpi']}", [("period", label), ("grain", step), ("filter", spot["filter"])])
    view["pace"] = _pace_line(st, c, card, label, lang)
    view["forecast_url"] = forecast_url(str(card.get("kpi")), label)
    return view


def _pace_line(st: AppState, c: Caller, card: dict[str, Any], label: str, lang: str) -> str | None:
    """«On pace for N % of target» (kpis/pace.py, in the user's scope) on a card that shows its
    headline, has a target and a period still running (the clock's day inside it); else None
    (a closed period has its final attainment, a headline that does not add up has no pace)."""
    status = (card.get("data") or {}).get("status", "ok")
    if card.get("target") is None or status in ("no_data", "outside") or card.get("shows", "headline") != "headline":
        return None
    p = parse_period(label)
    if not p.start <= st.ws.today() <= p.end:
        return None
    att = (st.pace(c.user, str(card.get("kpi")), p.label) or {}).get("projected_attainment")
    return None if att is None else t("card.on_pace", lang, attainment=fmt_attainment(att, lang))


# -- one KPI ------------------------------------------------------------------------------------
def _kpi_asked(request: Request, st: AppState, c: Caller, k: Any) -> controls.Asked:
    return controls.read(st, c.user, k, request.query_params, _calendar(request, st))


def _kpi_result(st: AppState, c: Caller, k: Any, asked: controls.Asked, lang: str) -> dict[str, Any]:
    """The engine's result; a filter on a member the data does not hold is dropped and said
    next to the filter box, with the members that are there."""
    try:
        return st.run(c.user, asked.spec)
    except InvalidQuery as exc:
        d = exc.details
        if set(d) != {"dimension", "member", "known"}:
            raise
        dim, member = str(d["dimension"]), str(d["member"])
        asked.errors["filter"] = controls.member_error(controls.members(st, c.user, k, dim, lang), dim, member)
        kept = tuple(f for f in asked.spec.filters if f[0] != dim)
        asked.spec = dataclasses.replace(asked.spec, filters=kept)
        return st.run(c.user, asked.spec)


@router.get("/kpi/{name}")
@remembered
def kpi_page(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    k = st.kpi(name)
    asked = _kpi_asked(request, st, c, k)
    path = f"/kpi/{k.name}"
    lang_param = request.query_params.get("lang")
    q = request.query_params
    # a filter typed into the box: the member by its name (or id), then the page of that view
    fdim, fmember = (q.get("fdim") or "").strip().lower(), (q.get("fmember") or "").strip()
    if fmember and fdim in k.dimensions:
        options = controls.members(st, c.user, k, fdim, lang)
        found = controls.find_member(options, fdim, fmember)
        if found is not None:
            wanted = [f"{d}:{m}" for d, m in asked.spec.filters if d != fdim] + [f"{fdim}:{found}"]
            spec = st.spec(
                c.user, k.name, asked.spec.period, asked.spec.grain, asked.spec.by, wanted, asked.spec.compare
            )
            return RedirectResponse(_url(path, controls.params_of(spec, lang_param)), status_code=303)
        asked.errors["filter"] = controls.member_error(options, fdim, fmember)
        asked.typed.update(fdim=fdim, fmember=fmember)
    result = _kpi_result(st, c, k, asked, lang)
    view = kpi_view(request, st, c, k, asked, result, lang)
    return _render(request, "kpi.html", c, status=422 if asked.errors else 200, lang=lang, **_context(view))


@dataclass
class KpiPage:
    """What kpi.html shows: one KPI's result laid out (:func:`kpi_view`)."""

    kpi: dict[str, Any]
    spec: Query
    controls: dict[str, Any]
    grains: list[str]
    #: the view's filters as removable chips
    filters: list[dict[str, Any]]
    errors: dict[str, str]
    typed: dict[str, str]
    figure: dict[str, Any] | None
    table: views.TableView
    show_all: bool
    data_note: dict[str, Any] | None
    json_url: str
    extra_params: list[tuple[str, str]]
    warnings: list[str]
    summary: str
    drill_rows: dict[str, Any]
    why: dict[str, Any] | None
    forecast_link: str | None


def kpi_view(
    request: Request, st: AppState, c: Caller, k: Any, asked: controls.Asked, result: dict[str, Any], lang: str
) -> KpiPage:
    """The KPI page of the engine's ``result`` for ``asked``: its chart (with the forecast's months
    where it has them), its table (a long split cut to its top members unless ``?all=1``), its
    filters, the waterfall of its change and its links."""
    spec = asked.spec
    path = f"/kpi/{k.name}"
    lang_param = request.query_params.get("lang")
    show_all = request.query_params.get("all") == "1"
    from sanjeh.web.rows_page import drill_links  # the drill-through hook (rows_page imports this module)

    def drill(dim: str, member: str) -> str:
        by = [b for b in spec.by if b != dim or b in k.fixed]
        grain = spec.grain or k.default_grain or ("month" if _long(spec.period) else "")
        filters = [f for f in spec.filters if f[0] != dim] + [(dim, member)]
        drilled = Query(spec.kpi, spec.period, grain or None, tuple(by), tuple(filters), spec.compare)
        return _url(path, controls.params_of(drilled, lang_param))

    cur = st.ws.settings.money_format
    note = views.data_note(result.get("data") or {}, lang, parse_period(spec.period).calendar)
    blank = bool(note and note["status"] in ("no_data", "outside"))
    rows, folded = (list(result.get("rows") or []), 0) if show_all else views.top_members(result, k, lang)
    shown = dict(result, rows=rows)
    figure = (
        None
        if blank
        else charts.build_chart(
            shown, k, lang, currency=cur, drill=drill, forecast=_chart_forecast(st, c, k, spec, result)
        )
    )
    names = {d: dict(controls.members(st, c.user, k, d, lang)) for d, _ in spec.filters}
    chips = []
    for d, m in spec.filters:
        rest = dataclasses.replace(spec, filters=tuple(f for f in spec.filters if f != (d, m)))
        chips.append(
            {
                "dim": d,
                "title": t_or(f"dim.{d}", lang, d),
                "member": m,
                "name": names[d].get(m) or member_label(d, m, None, lang),
                "remove": _url(path, controls.params_of(rest, lang_param)),
            }
        )
    params = controls.params_of(spec)
    table = views.result_table(shown, k, lang, cur, drill=drill if spec.by else None)
    table.csv_url = _url(f"{path}/csv", params)
    table.xlsx_url = _url(f"{path}/xlsx", params + ([("lang", lang_param)] if lang_param else []))
    table.hidden = folded
    if folded:
        table.all_url = _url(path, [*controls.params_of(spec, lang_param), ("all", "1")])
    elif show_all and views.top_members(result, k, lang)[1]:
        table.all_url = _url(path, controls.params_of(spec, lang_param))
    period_controls = _period_controls(request, st, spec.period, lang, [(p, v) for p, v in params if p != "period"])
    errors = asked.texts(lang)
    period_controls.update(error=errors.get("period"), typed=asked.typed.get("period"))
    return KpiPage(
        kpi=_kpi_view(k, lang),
        spec=spec,
        controls=period_controls,
        grains=list(GRAINS),
        filters=chips,
        errors=errors,
        typed=asked.typed,
        figure=figure,
        table=table,
        show_all=show_all,
        data_note=note,
        json_url=_url(f"/api/v1/kpis/{k.name}", [(p, v) for p, v in params if v]),
        extra_params=[(p, v) for p, v in params if p != "period"],
        warnings=list(result.get("warnings") or []),
        summary=_view_summary(spec, lang),
        drill_rows=drill_links(k, spec, shown, lang_param, lang),
        why=None if blank else _why_view(st, c, k, spec, lang, cur),
        forecast_link=_forecast_link(st, k, spec, lang_param),
    )


def _forecast_link(st: AppState, k: Any, spec: Query, lang_param: str | None) -> str | None:
    """The forecast page of a KPI whose headline adds up over time: of the page's period while it
    runs (or is to come), else of the current quarter."""
    from sanjeh.kpis.targeting import rollup_of
    from sanjeh.web.forecast_page import forecast_url

    if rollup_of(k.headline_measure) != "sum":
        return None
    p = parse_period(spec.period)
    today = st.ws.today()
    label = p.label if p.end >= today else current_unit(today, p.calendar, "quarter").label
    return forecast_url(k.name, label, lang_param)


#: the KPI pages whose monthly trend shows the forecast's next months (docs/forecast.md)
FORECAST_PAGES = ("revenue",)


def _chart_forecast(st: AppState, c: Caller, k: Any, spec: Query, result: dict[str, Any]) -> dict[str, Any] | None:
    """The forecast of the period's months still to come (kpis/forecast.py, in the user's scope)
    for a monthly trend of one series, unfiltered, over a period still running; None otherwise
    and when there is too little history (the chart is then drawn as before)."""
    if k.name not in FORECAST_PAGES or result.get("grain") != "month" or spec.by or spec.filters:
        return None
    p = parse_period(spec.period)
    if not p.start <= st.ws.today() <= p.end:
        return None
    return st.forecast_months(c.user, k.name, p.label)


def _why_view(st: AppState, c: Caller, k: Any, spec: Query, lang: str, cur: Any) -> dict[str, Any] | None:
    """The page's waterfall (kpis/why.py): the period against the compared one (the previous
    period unless the view compares with a year ago), split by the view's first dimension (else
    the KPI's first one that splits), with the members that explain most of the change."""
    from sanjeh.kpis.insights import explainers
    from sanjeh.kpis.why import suggestion

    measure = k.headline if k.split_of(k.headline) != "none" else suggestion(k, k.headline_measure)
    if measure is None or not k.dimensions:
        return None
    against = "year_ago" if spec.compare == "year_ago" else "previous"
    period = parse_period(spec.period)
    baseline = period.previous() if against == "previous" else period.year_ago()
    if baseline is None:
        return None
    # a dimension that says something: not one the view is filtered on (one member: "100 %"), not
    # the rep of a rep's own view
    fixed = {d for d, _ in spec.filters} | ({"rep"} if isinstance(st.scope(c.user), str) else set())
    dims = [d for d in dict.fromkeys([*spec.by[:1], *k.dimensions]) if d not in fixed]
    filters = [f"{d}:{m}" for d, m in spec.filters]
    for dim in dims:  # the view's dimension, else the KPI's first that a why can split by (a ratio
        # refuses a dimension its cases do not fall into one member of: cancelled orders by product)
        try:
            q = st.why_spec(c.user, k.name, spec.period, measure=measure, against=against, by=[dim], filters=filters)
            why = st.why(c.user, q)
        except UserError:
            continue
        figure = charts.waterfall_chart(why, k, lang, baseline_label=period_label(baseline.label, lang), currency=cur)
        if figure is None:
            return None
        m = k.measure(measure)
        return {
            "figure": figure,
            "title": t(
                "why.page_title",
                lang,
                measure=m.title.get(lang, m.name),
                dim=t_or(f"dim.{dim}", lang, dim),
                baseline=period_label(baseline.label, lang),
            ),
            "text": explainers(why, lang),
            # the headline (a median) cannot be split over members: say which measure is explained
            "note": None
            if measure == k.headline
            else t(
                "why.other_measure",
                lang,
                measure=m.title.get(lang, m.name),
                headline=k.headline_measure.title.get(lang, k.headline),
            ),
            "json_url": _url(
                f"/api/v1/kpis/{k.name}/why",
                [("period", spec.period), ("measure", measure), ("against", against), ("by", dim)]
                + [("filter", f) for f in filters],
            ),
        }
    return None


def _long(period: str) -> bool:
    """A year, a quarter or a range: a drill shows it month by month."""
    p = parse_period(period)
    return p.unit_kind in ("year", "quarter") or p.is_range


def _view_summary(spec: Query, lang: str) -> str:
    """The view in a few words (the folded controls' button on a phone): «فصل ۴ سال ۱۴۰۳ · ماهانه · منطقه»."""
    parts = [period_label(spec.period, lang)]
    if spec.grain:
        parts.append(t(f"grain.{spec.grain}", lang))
    parts += [t_or(f"dim.{b}", lang, b) for b in spec.by]
    if spec.compare:
        parts.append(t(f"controls.{spec.compare}", lang))
    return " · ".join(parts)


@router.get("/kpi/{name}/members")
def kpi_members(request: Request, name: str) -> Response:
    """A dimension's members with their names, for the filter box's suggestions (JSON)."""
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    k = st.kpi(name)
    dim = (request.query_params.get("dim") or "").strip().lower()
    found = [{"id": m, "name": n} for m, n in controls.members(st, c.user, k, dim, lang)]
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


def _kpi_download(request: Request, name: str, fmt: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    k = st.kpi(name)
    asked = _kpi_asked(request, st, c, k)
    if asked.errors:
        raise next(iter(asked.errors.values()))
    result = st.run(c.user, asked.spec)
    rows = list(result.get("rows") or [])
    filename = f"{asked.spec.kpi}-{asked.spec.period}".replace("..", "_")
    if fmt == "csv":
        columns = list(result.get("columns") or (rows[0].keys() if rows else []))
        return csv_download(rows, columns, f"{filename}.csv")
    money = as_money(st.ws.settings.money_format)
    info = Columns.of(result, k)
    columns = [col.name for col in views.result_table(result, k, lang, money).columns]
    dims = list(result.get("by") or [])
    # whole amounts in the workspace's money (its name in the header), every number a number
    titles = [
        views.title_of(info, col, k, lang) + (f" ({money.word(lang)})" if info.unit(col) == "money" else "")
        for col in columns
    ]
    if dims:  # ids beside the names, for joining with other data
        titles += [t("col.id_of", lang, dim=t_or(f"dim.{d}", lang, d)) for d in dims]
    data = [[_raw(r, col, info, dims, lang, money.divisor) for col in columns] + [r.get(d) for d in dims] for r in rows]
    body = xlsx_bytes(data, titles, sheet=k.title.get(lang) or k.name, rtl=lang == "fa")
    return _download(body, f"{filename}.xlsx")


def _raw(row: dict[str, Any], column: str, info: Columns, dims: list[str], lang: str, divisor: float) -> Any:
    """A cell of a workbook: numbers as numbers (amounts in the workspace's money unit), a member by
    its name, a period by its label."""
    v = row.get(column)
    if column == "period":
        return period_label(v, lang)
    if column in dims:
        return member_label(column, v, row.get(name_column(column)), lang)
    if info.unit(column) == "money" and isinstance(v, int | float) and divisor != 1:
        return v / divisor
    return v


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_download(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """A table as a CSV download: the one writer of every table (:func:`sanjeh.export.csv_text`:
    formulas neutralised, a BOM so spreadsheets read the UTF-8)."""
    return _download(csv_text(rows, columns, bom=True).encode("utf-8"), filename)


def _download(body: bytes, filename: str) -> Response:
    media = "text/csv; charset=utf-8" if filename.endswith(".csv") else XLSX
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/kpi/{name}/csv")
def kpi_csv(request: Request, name: str) -> Response:
    return _kpi_download(request, name, "csv")


@router.get("/kpi/{name}/xlsx")
def kpi_xlsx(request: Request, name: str) -> Response:
    return _kpi_download(request, name, "xlsx")


@router.get("/kpis")
def kpis_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    return _render(request, "kpis.html", c, lang=lang, kpis=[_kpi_view(k, lang) for k in st.catalogue()])


# -- reps ---------------------------------------------------------------------------------------
#: The leaderboard's figures and their units (kpis/leaderboard.py), in the table's order.
REP_COLUMNS = tuple((name, unit) for name, unit, _, _ in FIGURES)


def _leaderboard(st: AppState, c: Caller, label: str) -> Leaderboard:
    """The engine's leaderboard, its queries the page's cached ones (a KPI page shares them)."""
    return leaderboard(lambda q: st.run(c.user, q), label)


def _named(board: Leaderboard, lang: str) -> list[dict[str, Any]]:
    """The leaderboard's rows with names in ``lang``: a rep's ``name``, the contact method that sold most."""
    out = []
    for r in board.rows:
        e = {k: v for k, v in r.items() if k != "rep_name"}
        e["name"] = member_label("rep", r["rep"], r.get("rep_name") or "", lang)
        if r.get("best_method") is not None:
            e["best_method"] = member_label("contact_method", r["best_method"], None, lang)
        out.append(e)
    return out


def _reps_table(
    ordered: list[dict[str, Any]], label: str, lang: str, cur: Money, lang_param: str | None
) -> views.TableView:
    scales = {
        name: money_column([e.get(name) for e in ordered], lang, cur) for name, unit in REP_COLUMNS if unit == "money"
    }
    cols = [views.Column("rank", t("reps.rank", lang), True), views.Column("rep", t("dim.rep", lang))]
    cols += [
        views.Column(name, t(f"reps.{name}", lang) + (f" ({scales[name][1]})" if name in scales else ""), True)
        for name, _ in REP_COLUMNS
    ]
    cols.append(views.Column("best_method", t("reps.best_method", lang)))
    table = views.TableView("reps-table", cols, [])
    for i, e in enumerate(ordered, start=1):
        link = _url(
            "/kpi/revenue",
            [("period", label), ("grain", "month"), ("filter", f"rep:{e['rep']}"), ("lang", lang_param or "")],
        )
        cells = [views.Cell(fmt_number(i, lang), i), views.Cell(e["name"], e["name"], e["rep"], link)]
        for name, unit in REP_COLUMNS:
            v = e.get(name)
            short = fmt_in(v, scales[name][0], lang) if name in scales else fmt_value(v, unit, lang, cur)
            full = fmt_value(v, unit, lang, cur)
            cells.append(views.Cell(short, v, full if full != short else ""))
        method = e.get("best_method") or "—"
        if method != "—":
            method = f"{method} ({t('reps.win_rate', lang)} {fmt_rate(e.get('best_method_win_rate'), lang)})"
        cells.append(views.Cell(method, method))
        table.rows.append(cells)
        table.row_attrs.append({"data-rep": e["rep"]})
    params = [("period", label)]
    table.csv_url = _url("/reps/csv", params)
    table.xlsx_url = _url("/reps/xlsx", [*params, ("lang", lang_param or "")])
    return table


@dataclass
class RepsPage:
    """What reps.html shows: the engine's leaderboard laid out (:func:`reps_view`)."""

    controls: dict[str, Any]
    period: str
    table: views.TableView
    #: the top 20 reps' sales against their targets
    figure: dict[str, Any] | None
    extra_params: list[tuple[str, str]] = field(default_factory=list)
    #: what the chart leaves out, when it shows fewer reps than the table
    chart_note: str = ""


#: The reps the leaderboard's chart shows, those who sold most (the table shows every rep).
CHART_REPS = 20


def reps_view(
    st: AppState, board: Leaderboard, period_controls: dict[str, Any], lang: str, lang_param: str | None
) -> RepsPage:
    """The reps page of the engine's leaderboard ``board``: its table and its chart."""
    label = str(period_controls["period"])
    cur = st.ws.settings.money_format
    ordered = _named(board, lang)
    figure, note = None, ""
    if ordered:
        shown = board.to_dict()
        shown["rows"] = shown["rows"][:CHART_REPS]
        figure = charts.build_chart(shown, st.kpi("sales_per_rep"), lang, currency=cur)
        if len(ordered) > CHART_REPS:
            note = t("reps.chart_top", lang, shown=fmt_number(CHART_REPS, lang), total=fmt_number(len(ordered), lang))
    table = _reps_table(ordered, label, lang, cur, lang_param)
    return RepsPage(period_controls, label, table, figure, chart_note=note)


@router.get("/reps")
@remembered
def reps_page(request: Request) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    errors: dict[str, str] = {}
    label = _period_param(request, st, lang, errors)
    board = _leaderboard(st, c, label)
    controls_ = _period_controls(request, st, label, lang)
    controls_.update(error=errors.get("period"), typed=errors.get("period_typed"))
    view = reps_view(st, board, controls_, lang, request.query_params.get("lang"))
    return _render(request, "reps.html", c, status=422 if errors else 200, lang=lang, **_context(view))


def _reps_download(request: Request, fmt: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    label = _period_param(request, st)
    ordered = _named(_leaderboard(st, c, label), lang)
    names = ["rep", "name", *(n for n, _ in REP_COLUMNS), "best_method", "best_method_win_rate"]
    rows = [{**e, "name": e.get("name")} for e in ordered]
    if fmt == "csv":
        return csv_download(rows, names, f"reps-{label}.csv")
    titles = [t("col.id_of", lang, dim=t("dim.rep", lang)), t("dim.rep", lang)]
    titles += [t(f"reps.{n}", lang) for n, _ in REP_COLUMNS] + [t("reps.best_method", lang), t("reps.win_rate", lang)]
    body = xlsx_bytes([[r.get(n) for n in names] for r in rows], titles, sheet=t("reps.title", lang), rtl=lang == "fa")
    return _download(body, f"reps-{label}.xlsx")


@router.get("/reps/csv")
def reps_csv(request: Request) -> Response:
    return _reps_download(request, "csv")


@router.get("/reps/xlsx")
def reps_xlsx(request: Request) -> Response:
    return _reps_download(request, "xlsx")
