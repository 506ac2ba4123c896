"""The Targets page: an editor a sales manager can use (docs/dashboard.md, "The targets editor").

Each target is a row of pickers: the KPI and its measure by their titles, the period as a year
and a part of it (the whole year, a quarter, a month by its name; any other label typed), the
dimension by its title and the member by name (from the data; a new member may be typed), the
value exactly as stored, with separators, in the unit people think in (money in the
workspace's unit, a rate in percent) — so saving an unchanged form changes nothing. Search and
pages keep the list short; saving changes only the rows that changed, in one transaction, after
every row is checked (problems are shown next to their rows, in the user's language). Copy a
year's targets (× a factor), spread a year over its months, and read the audit of every change.
A rep reads their own targets; a team's manager edits their reps' targets.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanjeh.calendar import parse_period, unit_of
from sanjeh.currency import Money
from sanjeh.errors import InvalidPeriod, UserError
from sanjeh.formatting import NumberError, fmt_exact, parse_exact
from sanjeh.i18n import digits, has, month_name, period_label, t, t_or
from sanjeh.kpis.targeting import rollup_of
from sanjeh.targets import Change, InvalidTargets, apply_changes, read_changes, read_targets
from sanjeh.users import User
from sanjeh.web.deps import Caller, Manager, page_number, state_of
from sanjeh.web.pages import _context, _lang, _render, _url, page_caller
from sanjeh.web.state import AppState

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
AUDIT_PAGE = 15
MAX_FORM_ROWS = 500
PARTS = ("", "Q1", "Q2", "Q3", "Q4", *(f"{m:02d}" for m in range(1, 13)), "other")
FIELDS = ("key", "kpi", "measure", "year", "part", "period", "dimension", "member", "target")


# -- what a row shows ----------------------------------------------------------------------------
@dataclass
class Unit:
    """How a measure's values are shown and typed: money ÷ ``divisor`` (toman), a rate in percent."""

    label: str
    divisor: float = 1.0
    percent: bool = False

    def show(self, value: Any, lang: str) -> str:
        return fmt_exact(value, lang, divisor=self.divisor, percent=self.percent)

    def read(self, text: str) -> float | None:
        return parse_exact(text, divisor=self.divisor, percent=self.percent)


def unit_of_measure(kpi: Any, measure: str, lang: str, money: Money) -> Unit:
    try:
        unit = kpi.measure(measure or kpi.headline).unit
    except KeyError:
        unit = "number"
    if unit == "money":
        return Unit(money.word(lang), money.divisor)
    if unit == "rate":
        return Unit("٪" if lang == "fa" else "%", percent=True)
    return Unit(t(f"targets.unit.{unit}", lang) if has(f"targets.unit.{unit}") else "")


class Members:
    """The members of one dimension for people: names (``name (id)``) and back."""

    def __init__(self, dim: str, items: list[tuple[str, str | None]], lang: str) -> None:
        self.dim = dim
        self.lang = lang
        self.items = items
        self.by_id = {m.lower(): (m, n) for m, n in items}
        names: dict[str, list[str]] = {}
        for m, n in items:
            names.setdefault(self.label(m, n).lower(), []).append(m)
            if n:
                names.setdefault(n.lower(), []).append(m)
        self.by_name = names

    def label(self, member: str, name: str | None) -> str:
        if name and name != member:
            return f"{name} ({member})"
        return t_or(f"member.{self.dim}.{member}", self.lang, member)

    def show(self, member: str | None) -> str:
        if not member:
            return ""
        hit = self.by_id.get(member.lower())
        return self.label(hit[0], hit[1]) if hit else member

    def read(self, text: str) -> str:
        """The member a typed text names: an id, ``name (id)``, a unique name or label; else the text."""
        s = " ".join(text.split())
        if not s:
            return ""
        if s.lower() in self.by_id:
            return self.by_id[s.lower()][0]
        hits = self.by_name.get(s.lower(), [])
        if len(hits) == 1:
            return hits[0]
        if s.endswith(")") and "(" in s:
            inner = s[s.rindex("(") + 1 : -1].strip()
            if inner.lower() in self.by_id:
                return self.by_id[inner.lower()][0]
        return s


def _split_period(label: str) -> tuple[str, str, str]:
    """(year, part, other text) of a stored period label: the pickers' values."""
    try:
        p = parse_period(label)
    except InvalidPeriod:
        return "", "other", label
    u = p.first
    if p.is_range or u.kind not in ("year", "quarter", "month"):
        return str(u.year), "other", label
    part = "" if u.kind == "year" else (f"Q{u.number}" if u.kind == "quarter" else f"{u.number:02d}")
    return str(u.year), part, ""


def _join_period(year: str, part: str, other: str) -> str:
    if part == "other" or not year:
        return other.strip() or (year if part != "other" else "")
    return year if not part else f"{year}-{part}"


def _key(row: dict[str, Any]) -> str:
    return json.dumps([row.get(c) for c in ("kpi", "measure", "period", "dimension", "member")], ensure_ascii=False)


@dataclass
class Editor:
    """What the page needs to show and read rows: the catalogue, the members, the money."""

    st: AppState
    lang: str
    kpis: dict[str, Any]
    money: Money
    books: dict[str, Members]
    reps: frozenset[str] | None  # a team's manager: their reps

    @staticmethod
    def build(st: AppState, c: Caller, lang: str) -> Editor:
        kpis = {k.name: k for k in st.catalogue()}
        dims = sorted({d for k in kpis.values() for d in k.dimensions})
        books = {d: Members(d, st.members(c.user, d), lang) for d in dims}
        scope = st.scope(c.user)
        return Editor(
            st, lang, kpis, st.ws.settings.money_format, books, scope if isinstance(scope, frozenset) else None
        )

    def unit(self, kpi: str, measure: str) -> Unit:
        k = self.kpis.get(kpi)
        return unit_of_measure(k, measure, self.lang, self.money) if k else Unit("")

    def to_form(self, row: dict[str, Any]) -> dict[str, str]:
        """A stored target as the form's texts."""
        kpi, measure = str(row.get("kpi") or ""), str(row.get("measure") or "")
        if not measure and kpi in self.kpis:
            measure = self.kpis[kpi].headline  # an imported target without a measure: the headline's
        year, part, other = _split_period(str(row.get("period") or ""))
        dim = str(row.get("dimension") or "")
        book = self.books.get(dim)
        member = str(row.get("member") or "")
        return {
            "key": _key(row),
            "kpi": kpi,
            "measure": measure,
            "year": year,
            "part": part,
            "period": other,
            "dimension": dim,
            "member": book.show(member) if book else member,
            "target": self.unit(kpi, measure).show(row.get("target"), self.lang),
        }

    def from_form(self, raw: dict[str, str], old: dict[str, Any] | None) -> dict[str, Any]:
        """A row of the form as a target; what is shown unchanged keeps its stored value exactly."""
        shown = self.to_form(old) if old else {}
        dim = raw["dimension"]
        book = self.books.get(dim)
        member = raw["member"]
        if old and member == shown.get("member") and dim == shown.get("dimension"):
            member = str(old.get("member") or "")
        elif book:
            member = book.read(member)
        target: Any
        refused: str | None = None
        if old and raw["target"].strip() == shown.get("target") and raw["kpi"] == old.get("kpi"):
            target = old.get("target")
        else:
            try:
                target = self.unit(raw["kpi"], raw["measure"]).read(raw["target"])
            except NumberError as exc:  # not stored as typed: said below, with the value typed
                target, refused = raw["target"], exc.code
            except ValueError:
                target = float("nan")  # checked below: "not a number"
        period = _join_period(raw["year"], raw["part"], raw["period"])
        if old and (raw["year"], raw["part"], raw["period"]) == (shown["year"], shown["part"], shown["period"]):
            period = str(old.get("period") or "")
        measure = raw["measure"]
        if old and measure == shown.get("measure"):
            measure = str(old.get("measure") or "")
        return {
            "kpi": raw["kpi"],
            "measure": measure or None,
            "period": period,
            "dimension": dim or None,
            "member": member or None,
            "target": target,
            **({"target_error": refused} if refused else {}),
        }

    # -- for the template ------------------------------------------------------------------
    def view(
        self, i: int, raw: dict[str, str], errors: list[str] | None = None, delete: bool = False
    ) -> dict[str, Any]:
        k = self.kpis.get(raw["kpi"])
        measure = raw["measure"] or (k.headline if k else "")
        year = raw["year"]
        cal = "gregorian" if year.isdigit() and int(year) >= 1700 else self.st.ws.settings.calendar
        spread = False
        if k is not None and raw["key"] and raw["part"] == "" and year:
            try:
                spread = rollup_of(k.measure(measure)) != "none"
            except KeyError:
                spread = False
        return {
            "i": i,
            **raw,
            "measure": raw["measure"],
            "measures": [(m.name, m.title.get(self.lang) or m.name) for m in k.visible_measures] if k else [],
            "headline": k.headline if k else "",
            "dims": [(d, t_or(f"dim.{d}", self.lang, d)) for d in k.dimensions] if k else [],
            "unit": self.unit(raw["kpi"], measure).label,
            "months": [month_name(cal, m, self.lang) for m in range(1, 13)],
            "errors": errors or [],
            "delete": delete,
            "spread": spread,
        }

    def summary(self, row: dict[str, Any]) -> dict[str, str]:
        """A stored target in words (the read-only list and the audit)."""
        k = self.kpis.get(str(row.get("kpi") or ""))
        measure = str(row.get("measure") or (k.headline if k else ""))
        mtitle = ""
        if k is not None:
            try:
                mtitle = str(k.measure(measure).title.get(self.lang) or measure)
            except KeyError:
                mtitle = measure
        dim = str(row.get("dimension") or "")
        book = self.books.get(dim)
        member = str(row.get("member") or "")
        return {
            "kpi": str(k.title.get(self.lang) or k.name) if k else str(row.get("kpi") or ""),
            "measure": mtitle if k is None or measure != k.headline else "",
            "period": period_label(row.get("period"), self.lang),  # type: ignore[arg-type]
            "dimension": t_or(f"dim.{dim}", self.lang, dim) if dim else t("targets.company", self.lang),
            "member": (book.show(member) if book else member) if dim else "",
        }

    def value_text(self, row: dict[str, Any], value: Any) -> str:
        if value is None:
            return "—"
        u = self.unit(str(row.get("kpi") or ""), str(row.get("measure") or ""))
        sep = "" if u.percent else " "  # 35٪, 35%; 1,200 IRR
        return f"{u.show(value, self.lang)}{sep}{u.label}".strip()

    def catalogue_json(self) -> dict[str, Any]:
        return {
            "kpis": {
                k.name: {
                    "headline": k.headline,
                    "measures": [
                        [m.name, m.title.get(self.lang) or m.name, self.unit(k.name, m.name).label]
                        for m in k.visible_measures
                    ],
                    "dims": [[d, t_or(f"dim.{d}", self.lang, d)] for d in k.dimensions],
                }
                for k in self.kpis.values()
            }
        }


def _matches(ed: Editor, row: dict[str, Any], q: str) -> bool:
    if not q:
        return True
    s = ed.summary(row)
    hay = " ".join([*s.values(), *(str(row.get(c) or "") for c in ("kpi", "measure", "period", "member"))])
    return all(word in hay.lower() for word in q.lower().split())


def _order(ed: Editor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {name: i for i, name in enumerate(ed.kpis)}
    return sorted(rows, key=lambda r: (rank.get(str(r.get("kpi")), 999), str(r.get("kpi")), str(r.get("period")),
                                       str(r.get("dimension") or ""), str(r.get("member") or "")))  # fmt: skip


def _years(ed: Editor, rows: list[dict[str, Any]]) -> list[str]:
    today = ed.st.as_of()
    cal: Any = ed.st.ws.settings.calendar
    now = unit_of(today, cal, "year").year
    years = {now - 1, now, now + 1}
    for r in rows:
        y = str(r.get("period") or "")[:4]
        if y.isdigit():
            years.add(int(y))
    return [str(y) for y in sorted(years)]


def _issue_text(issue: dict[str, Any], lang: str) -> str:
    key = f"targets.err.{issue.get('code')}"
    column = issue.get("column") or ""
    col = (
        t(f"targets.{column}", lang) if column in ("kpi", "measure", "period", "dimension", "member", "target") else ""
    )
    if has(key):
        params = {k: digits(str(v), lang) for k, v in (issue.get("params") or {}).items()}
        return t(key, lang, value=issue.get("value") or "", column=col, **params)
    return str(issue.get("reason") or "")


# -- the page -------------------------------------------------------------------------------------
@dataclass
class TargetsPage:
    """What targets.html (and _target_row.html) shows: the editor's rows, or a rep's read-only
    list, with search, pages, the pickers' choices, what was done or refused, and the audit of
    changes (:func:`targets_view`)."""

    editable: bool
    #: the form's rows (:meth:`Editor.view`): the page's targets and blank ones, or as posted
    rows: list[dict[str, Any]]
    #: the page's targets as a rep reads them
    read_rows: list[dict[str, Any]]
    total: int
    stored_total: int
    page: int
    pages: int
    page_urls: list[tuple[int, str]]
    add_url: str
    q: str
    only: str
    catalogue: list[tuple[str, str]]
    editor_json: dict[str, Any]
    books: dict[str, list[str]]
    parts: tuple[str, ...]
    years: list[str]
    team: str | None
    done: str | None
    #: whether the last change was refused, and why (in the user's language)
    error: bool
    error_text: str
    audit: list[dict[str, Any]]
    audit_total: int
    audit_pages: list[tuple[int, str]]
    audit_page: int
    back: str


def targets_view(
    ed: Editor,
    user: User,
    stored: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    audit_total: int,
    *,
    q: str,
    only: str,
    page: int,
    add: int,
    audit_page: int,
    lang_param: str,
    done: str | None = None,
    form_rows: list[dict[str, Any]] | None = None,
    error: UserError | None = None,
) -> TargetsPage:
    """The Targets page of the ``stored`` targets the user may see (those matching ``q`` and KPI
    ``only``, at ``page``, with ``add`` blank rows) and a page of the audit (``changes`` of
    ``audit_total``); ``form_rows`` the rows as posted when a save is refused."""
    lang = ed.lang
    shown = _order(ed, [r for r in stored if (not only or r.get("kpi") == only) and _matches(ed, r, q)])
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(1, page), pages)
    window = shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    if form_rows is None:
        form_rows = [ed.view(i, ed.to_form(r)) for i, r in enumerate(window)]
        first = only or ("revenue" if "revenue" in ed.kpis else next(iter(ed.kpis)))
        blank = dict.fromkeys(FIELDS, "") | {"kpi": first, "year": _years(ed, stored)[-2]}
        if ed.reps is not None:  # a team's manager sets their reps' targets
            first = only or "sales_per_rep"
            blank |= {"kpi": first if first in ed.kpis else blank["kpi"], "dimension": "rep"}
        form_rows += [ed.view(len(form_rows) + j, blank) for j in range(max(1, min(add, 20)))]
    keep = [("q", q), ("kpi", only)]
    if lang_param:
        keep.append(("lang", lang_param))
    return TargetsPage(
        editable=user.role != "rep",
        rows=form_rows,
        read_rows=[{**ed.summary(r), "value": ed.value_text(r, r.get("target"))} for r in window],
        total=len(shown),
        stored_total=len(stored),
        page=page,
        pages=pages,
        page_urls=[(n, _url("/targets", [*keep, ("page", str(n))])) for n in range(1, pages + 1)],
        add_url=_url("/targets", [*keep, ("page", str(page)), ("add", "5")]),
        q=q,
        only=only,
        catalogue=[(k.name, k.title.get(lang) or k.name) for k in ed.kpis.values()],
        editor_json=ed.catalogue_json(),
        books={d: [b.label(m, n) for m, n in b.items] for d, b in ed.books.items()},
        parts=PARTS,
        years=_years(ed, stored),
        team=user.team if ed.reps is not None else None,
        done=done,
        error=error is not None,
        error_text=_error_text(error, lang) if error else "",
        audit=[_audit_view(ed, a) for a in changes],
        audit_total=audit_total,
        audit_pages=[
            (n, _url("/targets", [*keep, ("page", str(page)), ("audit", str(n))]) + "#audit")
            for n in range(1, max(1, -(-audit_total // AUDIT_PAGE)) + 1)
        ],
        audit_page=audit_page,
        back=_url("/targets", [*keep, ("page", str(page))]),
    )


def _render_page(
    request: Request,
    c: Caller,
    *,
    ed: Editor | None = None,
    form_rows: list[dict[str, Any]] | None = None,
    error: UserError | None = None,
    status: int = 200,
    form: Any = None,
) -> Response:
    """The page; after a refused POST (``form``), of the view the form came from (its ``back``:
    the KPI, search and page it was on), not of every KPI."""
    st = state_of(request)
    lang = _lang(request, c.user)
    qp: Any = request.query_params if form is None else _query_of(_back(form))
    q = (qp.get("q") or "").strip()[:100]
    only = qp.get("kpi") or ""
    audit_page = page_number(qp.get("audit"), "audit")
    lang_param = qp.get("lang") if qp.get("lang") in ("fa", "en") else ""
    ed = ed or Editor.build(st, c, lang)
    scope = st.scope(c.user)
    if isinstance(scope, str):
        stored = st.call(lambda ws: read_targets(ws, rep_id=scope))
    else:
        stored = st.call(lambda ws: read_targets(ws, reps=scope))
    reps = [scope] if isinstance(scope, str) else (sorted(scope) if scope is not None else None)
    changes, audit_total = st.call(
        lambda ws: read_changes(ws, limit=AUDIT_PAGE, offset=(audit_page - 1) * AUDIT_PAGE, reps=reps)
    )
    view = targets_view(
        ed,
        c.user,
        stored,
        changes,
        audit_total,
        q=q,
        only=only,
        page=page_number(qp.get("page")),
        add=_int(qp.get("add"), 1),
        audit_page=audit_page,
        lang_param=lang_param or "",
        done=_done(qp, lang),
        form_rows=form_rows,
        error=error,
    )
    return _render(request, "targets.html", c, status=status, lang=lang, **_context(view))


def _error_text(error: UserError, lang: str) -> str:
    """An error above the form, in the user's language."""
    if isinstance(error, InvalidTargets):
        n = sum(1 for _ in error.details.get("issues", [])) or 1
        return t("targets.problems", lang, n=digits(str(n), lang))
    why = error.details.get("why")
    if why and has(f"targets.err.{why}"):
        return t(f"targets.err.{why}", lang, period=period_label(error.details.get("period"), lang))  # type: ignore[arg-type]
    return error.text(lang)


def _int(text: str | None, default: int) -> int:
    try:
        return int(str(text))
    except ValueError:
        return default


def _done(qp: Any, lang: str) -> str | None:
    """The message after a save, a copy or a spread (from the redirect's query)."""
    what = qp.get("done")
    if what not in ("save", "copy", "spread"):
        return None
    n = {k: _int(qp.get(k), 0) for k in ("added", "changed", "deleted", "kept", "skipped")}
    if what == "save" and not any(n[k] for k in ("added", "changed", "deleted")):
        return t("targets.saved_nothing", lang)
    # each count a clause, said only when it is not 0 (what was added is said even then)
    parts = {
        "save": (("added", "added"), ("changed", "changed"), ("deleted", "deleted")),
        "copy": (("added", "added"), ("kept", "kept"), ("skipped", "skipped")),
        "spread": (("added", "monthly_added"), ("kept", "kept_months")),
    }[what]
    said = [
        t(f"targets.done_part.{key}", lang, n=digits(str(n[count]), lang))
        for i, (count, key) in enumerate(parts)
        if n[count] or (i == 0 and what != "save")
    ]
    return t(f"targets.done_{what}", lang, parts=("؛ " if lang == "fa" else "; ").join(said))


def _audit_view(ed: Editor, a: dict[str, Any]) -> dict[str, Any]:
    from sanjeh.formatting import when_text  # one rule for a moment: the workspace's zone and calendar

    when = a.get("changed_at")
    text = when_text(when, ed.st.ws, ed.lang) if isinstance(when, dt.datetime) else ""
    return {
        "when": text,
        "who": a.get("username") or "—",
        "action": a.get("action"),
        "what": ed.summary(a),
        "old": ed.value_text(a, a.get("old_target")),
        "new": ed.value_text(a, a.get("new_target")),
        "via": t_or(f"targets.via.{a.get('via')}", ed.lang, str(a.get("via") or "")),
    }


@router.get("/targets")
def targets_page(request: Request) -> Response:
    c = page_caller(request)
    return _render_page(request, c)


def _form_rows(form: Any) -> list[tuple[dict[str, str], bool]]:
    n = min(max(0, _int(str(form.get("n") or "0"), 0)), MAX_FORM_ROWS)
    out = []
    for i in range(n):
        raw = {f: str(form.get(f"r{i}.{f}") or "") for f in FIELDS}
        out.append((raw, bool(form.get(f"r{i}.delete"))))
    return out


@router.post("/targets")
async def targets_save(request: Request, c: Manager) -> Response:
    form = await request.form()
    st = state_of(request)
    lang = _lang(request, c.user)
    ed = Editor.build(st, c, lang)
    stored = {_key(r): r for r in st.call(lambda ws: read_targets(ws))}
    changes: list[Change] = []
    where: list[int] = []  # the form row of each change
    lost: dict[int, str] = {}
    rows = _form_rows(form)
    for i, (raw, delete) in enumerate(rows):
        old = stored.get(raw["key"]) if raw["key"] else None
        if raw["key"] and old is None:
            lost[i] = t("targets.err.not_found", lang)
            continue
        if delete:
            if old is not None:
                changes.append(Change(old, None))
                where.append(i)
            continue
        if old is None and not raw["target"].strip() and not raw["member"].strip():
            continue  # an empty new row
        changes.append(Change(old, ed.from_form(raw, old)))
        where.append(i)
    errors: dict[int, list[str]] = {i: [m] for i, m in lost.items()}
    try:
        if lost:
            raise InvalidTargets("some targets changed meanwhile", details={"issues": []})
        done = st.call(lambda ws: apply_changes(ws, changes, username=c.user.username, via="editor", reps=ed.reps))
    except InvalidTargets as exc:
        for issue in exc.details.get("issues", []):
            errors.setdefault(where[issue["row"] - 1], []).append(_issue_text(issue, lang))
        views = [ed.view(i, raw, errors.get(i), delete) for i, (raw, delete) in enumerate(rows)]
        return _render_page(request, c, ed=ed, form_rows=views, error=exc, status=422, form=form)
    st.targets_changed()
    back = _back(form)
    return RedirectResponse(_with(back, [("done", "save"), *((k, str(v)) for k, v in done.to_dict().items())]), 303)


def _back(form: Any) -> str:
    back = str(form.get("back") or "/targets")
    return back if back.startswith("/targets") and "//" not in back else "/targets"


def _query_of(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def _with(url: str, params: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    return url + ("&" if "?" in url else "?") + urlencode(params)


@router.post("/targets/copy")
async def targets_copy(request: Request, c: Manager) -> Response:
    from sanjeh.target_plans import copy_year, parse_factor

    form = await request.form()
    st = state_of(request)
    lang = _lang(request, c.user)
    ed = Editor.build(st, c, lang)
    try:
        factor = parse_factor(str(form.get("factor") or "1"))
        done = st.call(
            lambda ws: copy_year(
                ws,
                str(form.get("from_year") or ""),
                str(form.get("to_year") or ""),
                factor,
                username=c.user.username,
                kpi=str(form.get("kpi") or "") or None,
                reps=ed.reps,
            )
        )
    except UserError as exc:
        return _render_page(request, c, ed=ed, error=exc, status=exc.status, form=form)
    st.targets_changed()
    return RedirectResponse(
        _with(_back(form), [("done", "copy"), *((k, str(v)) for k, v in done.to_dict().items())]), 303
    )


@router.post("/targets/spread")
async def targets_spread(request: Request, c: Manager) -> Response:
    from sanjeh.target_plans import spread_year

    form = await request.form()
    st = state_of(request)
    lang = _lang(request, c.user)
    ed = Editor.build(st, c, lang)
    key = str(form.get("spread") or "")
    stored = {_key(r): r for r in st.call(lambda ws: read_targets(ws))}
    try:
        if key not in stored:
            raise UserError(t("targets.err.not_found", lang))
        done = st.call(lambda ws: spread_year(ws, stored[key], username=c.user.username, reps=ed.reps))
    except UserError as exc:
        return _render_page(request, c, ed=ed, error=exc, status=exc.status, form=form)
    st.targets_changed()
    return RedirectResponse(
        _with(_back(form), [("done", "spread"), *((k, str(v)) for k, v in done.to_dict().items())]), 303
    )
