"""The controls of a KPI page, read from its URL: a bad one is reported next to it, not instead of the page.

A KPI page's state is its URL (``period``, ``grain``, ``by``, ``filter``, ``compare``). Where the
URL says nothing, the page opens with the KPI's declared view (``KPI.view``: revenue by month
of the year against target and a year ago, win rate by rep). Each control is read on its own:
one the engine cannot use (``1403-13``, a member that is not in the data) is dropped, and the
page is drawn with the rest and the reason beside the control, in the user's language, so the
user corrects it in place.

Members are picked by name: :func:`members` lists a dimension's members with their names (an
ordinary engine query over the span the KPI's data covers, cached) for the filter box's
suggestions, and :func:`find_member` takes what a user typed — an id, a name, a code's
Persian word, in Persian or Arabic letters and digits — to the member's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sanjeh.calendar import GRAINS, parse_period, unit_of
from sanjeh.errors import InvalidQuery, SanjehError, UserError
from sanjeh.i18n import member_label
from sanjeh.kpis.columns import name_column
from sanjeh.kpis.query import COMPARISONS, Query, parse_filter
from sanjeh.text import DIGITS, normalize_member, normalize_text
from sanjeh.users import User
from sanjeh.web.state import AppState

#: The URL parameters that make a view the user's own (the KPI's default view no longer applies).
VIEW_PARAMS = ("grain", "by", "filter", "compare")


@dataclass
class Asked:
    """A KPI page's request: the query to run and, per control, why a control was dropped."""

    spec: Query
    errors: dict[str, SanjehError] = field(default_factory=dict)  # per control: why it was dropped
    typed: dict[str, str] = field(default_factory=dict)  # what the user typed into a box that failed

    def texts(self, lang: str) -> dict[str, str]:
        """The errors in ``lang``, per control."""
        return {k: e.text(lang) for k, e in self.errors.items()}


def default_period(st: AppState, kpi: Any, calendar: str) -> str:
    """The KPI's default period: the latest complete month (or the one of the last data), or the
    quarter or year that holds it when the KPI's view asks for one."""
    month = st.default_period(calendar)
    kind = kpi.view.period
    if kind in ("", "month"):
        return month
    return str(unit_of(parse_period(month).start, calendar, kind).label)  # type: ignore[arg-type]


def read(st: AppState, user: User, kpi: Any, params: Any, calendar: str) -> Asked:
    """The page's query from its URL parameters (``request.query_params``)."""
    errors: dict[str, SanjehError] = {}
    typed: dict[str, str] = {}
    own = any(p in params for p in VIEW_PARAMS)
    period = None
    if params.get("period"):
        try:
            period = parse_period(params["period"]).label
        except UserError as exc:
            errors["period"] = exc
            typed["period"] = params["period"]
    if period is None:
        period = default_period(st, kpi, calendar)
    grain = params.get("grain") if own else kpi.view.grain
    if grain:
        grain = grain.strip().lower()
        if grain not in GRAINS:
            errors["grain"] = InvalidQuery(key="period.grain", params={"given": grain, "grains": list(GRAINS)})
            grain = None
    by = [b.strip().lower() for b in params.getlist("by") if b.strip()] if own else list(kpi.view.by)
    for b in by:
        if b not in kpi.dimensions:
            errors["by"] = InvalidQuery(
                key="query.cannot_split", params={"kpi": kpi.name, "dim": b, "dims": list(kpi.dimensions)}
            )
    by = [b for b in by if b in kpi.dimensions]
    compare = params.get("compare") if own else kpi.view.compare
    if compare and compare not in COMPARISONS:
        errors["compare"] = InvalidQuery(key="query.compare", params={"given": compare})
        compare = None
    filters: list[str] = []
    for raw in params.getlist("filter") if own else ():
        if not raw:
            continue
        try:
            dim, member = parse_filter(raw)
        except UserError as exc:
            errors["filter"] = exc
            continue
        if dim.strip().lower() not in kpi.dimensions:
            errors["filter"] = InvalidQuery(
                key="query.cannot_filtered", params={"kpi": kpi.name, "dim": dim, "dims": list(kpi.dimensions)}
            )
            continue
        filters.append(f"{dim.strip().lower()}:{member}")
    spec = st.spec(user, kpi.name, period, grain or None, by, filters, compare or None)
    return Asked(spec, errors, typed)


def params_of(spec: Query, lang_param: str | None = None) -> list[tuple[str, str]]:
    """The URL parameters of a view. ``grain`` is always there (empty: the whole period), so a
    link to a view the user chose never falls back to the KPI's default view."""
    params: list[tuple[str, str]] = [("period", spec.period), ("grain", spec.grain or "")]
    params += [("by", b) for b in spec.by]
    params += [("filter", f"{d}:{m}") for d, m in spec.filters]
    if spec.compare:
        params.append(("compare", spec.compare))
    if lang_param:
        params.append(("lang", lang_param))
    return params


# -- members by name ----------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """What two spellings of a name are compared by: Persian letters, ASCII digits, one space, no case."""
    return re.sub(r"[\s\u200c]+", " ", normalize_text(str(text)).translate(DIGITS)).strip().lower()


def members(st: AppState, user: User, kpi: Any, dim: str, lang: str) -> list[tuple[str, str]]:
    """(id, name) of every member of ``dim`` in the KPI's data (all its days), by name.

    Two ordinary queries, both cached: the KPI over its default period (its result says which days
    the KPI's data spans) and the KPI by ``dim`` over that span. (All its measures: a query that
    asks for one measure other than the headline fails to compile when the KPI has targets.)
    """
    if dim not in kpi.dimensions:
        return []
    cal = st.ws.settings.calendar
    probe = st.run(user, Query(kpi.name, st.default_period(cal)))
    data = probe.get("data") or {}
    if data.get("status") == "no_data" or not data.get("first_day") or not data.get("last_day"):
        return []
    import datetime as dt

    first = unit_of(dt.date.fromisoformat(data["first_day"]), cal, "day").label  # type: ignore[arg-type]
    last = unit_of(dt.date.fromisoformat(data["last_day"]), cal, "day").label  # type: ignore[arg-type]
    by = () if dim in kpi.fixed else (dim,)
    result = st.run_query(st.scope(user), Query(kpi.name, f"{first}..{last}", by=by))
    found: dict[str, str] = {}
    for r in result.get("rows") or []:
        if r.get(dim) is not None:
            found.setdefault(str(r[dim]), member_label(dim, r[dim], r.get(name_column(dim)), lang))
    return sorted(found.items(), key=lambda kv: _fold(kv[1]))


def find_member(options: list[tuple[str, str]], dim: str, typed: str) -> str | None:
    """The id of the member ``typed`` names (its id, or its name in either alphabet), or None."""
    want = _fold(typed)
    if not want:
        return None
    as_id = normalize_member(dim, typed).lower()
    for mid, _ in options:
        if mid.lower() == as_id:
            return mid
    for mid, name in options:
        if _fold(name) == want:
            return mid
    return None


def member_error(options: list[tuple[str, str]], dim: str, typed: str) -> InvalidQuery:
    """A member that is not in the data, said with the names that are (the first 12)."""
    names = [name for _, name in options][:12] or ["—"]
    return InvalidQuery(
        key="query.unknown_member",
        params={"dim": dim, "member": typed, "known": names},
        details={"dimension": dim, "member": typed},
    )
