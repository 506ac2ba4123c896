"""The Alerts page (admins, and managers of the whole company: an alert speaks of every rep's
numbers): the rules of ``sanjeh.toml`` in words with whether each holds now, and the alerts they
fired, newest first, paged (``?page=N``), one rule's only with ``?rule=NAME``. "Check now" checks
them as ``sanjeh alerts --check`` does (reports/alerts.py). Rules that cannot be read are said in
the user's language, and the history is still shown. An unknown rule is a 404, a page that is
not a number a 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sanjeh.errors import NotFound, UserError
from sanjeh.reports import alerts
from sanjeh.reports.alert_rules import rules
from sanjeh.web.deps import AlertsManager, Caller, page_number, state_of
from sanjeh.web.pages import _context, _lang, _render, _url
from sanjeh.web.state import AppState

router = APIRouter(include_in_schema=False)
#: Alerts listed per page.
PAGE = 50


@dataclass
class AlertsPage:
    """What alerts.html shows: the rules in words with their state, a check's outcome, the alerts
    that fired (one rule's, or all), paged (:func:`alerts_view`)."""

    rules: list[dict[str, Any]]
    #: why the rules cannot be read (the history is still shown)
    error: str | None
    #: the check just made, in one sentence
    checked: str | None
    chosen: str | None
    all_url: str
    history: list[dict[str, Any]]
    page: int
    pages: int
    prev_url: str
    next_url: str


def alerts_view(
    st: AppState,
    shown: list[dict[str, Any]],
    past: list[dict[str, Any]],
    error: UserError | None,
    checked: list[alerts.Outcome] | None,
    chosen: str | None,
    page: int,
    lang: str,
    lang_param: str,
) -> AlertsPage:
    """The Alerts page of the rules in words (``shown``, :func:`alerts.rule_views`), the alerts
    that fired (``past``, newest first) at ``page``, and the outcomes of a check just made."""
    pages = max(1, -(-len(past) // PAGE))
    page = min(page, pages)

    def page_url(n: int) -> str:
        return _url("/alerts", [("rule", chosen or ""), ("page", str(n)), ("lang", lang_param)]) + "#alert-history"

    return AlertsPage(
        rules=[{**r, "url": _url("/alerts", [("rule", r["name"]), ("lang", lang_param)])} for r in shown],
        error=error.text(lang) if error is not None else None,
        checked=alerts.summary(checked, lang) if checked is not None else None,
        chosen=chosen,
        all_url=_url("/alerts", [("lang", lang_param)]),
        history=alerts.history_views(st.ws, past[(page - 1) * PAGE : page * PAGE], lang),
        page=page,
        pages=pages,
        prev_url=page_url(page - 1) if page > 1 else "",
        next_url=page_url(page + 1) if page < pages else "",
    )


def _render_alerts(request: Request, c: Caller, checked: list[alerts.Outcome] | None = None) -> Response:
    st = state_of(request)
    lang = _lang(request, c.user)
    q = request.query_params
    page = page_number(q.get("page"))
    chosen = q.get("rule") or None

    def gather(ws: Any) -> tuple[UserError | None, list[dict[str, Any]], list[dict[str, Any]]]:
        error = None
        try:
            found = rules(ws)
        except UserError as exc:
            found, error = [], exc
        past = alerts.history(ws, chosen)
        if chosen is not None and not past and chosen not in {r.name for r in found}:
            raise NotFound(key="alert.unknown_rule", params={"rule": chosen[:100]}, details={"rule": chosen[:100]})
        return error, alerts.rule_views(ws, found, lang), past

    error, shown, past = st.call(gather)
    view = alerts_view(st, shown, past, error, checked, chosen, page, lang, q.get("lang") or "")
    return _render(request, "alerts.html", c, lang=lang, **_context(view))


@router.get("/alerts")
def alerts_page(request: Request, c: AlertsManager) -> Response:
    return _render_alerts(request, c)


@router.post("/alerts/check")
async def alerts_check(request: Request, c: AlertsManager) -> Response:
    st = state_of(request)
    checked = await run_in_threadpool(st.call, alerts.check)  # deliveries may take a while: not on the loop
    return _render_alerts(request, c, checked)
