"""The Schedules page (admins and managers without a team) and the run log.

- ``/schedules``: every schedule of the workspace (reports/schedule.py's :func:`declared`: those of
  ``sanjeh.toml`` as the page changed them, then the page's own) with when it runs in words, its
  next run in the workspace's zone and calendar, period, files, KPIs, recipients, language and last
  run; a form to add one or change one (``?edit=NAME``), delete one, run one now. A save is checked
  first (a bad rule or cron line, an unknown KPI, no recipients: the form comes back with the
  sentence); a save that changes nothing writes nothing.
- ``/runs``: the run log (``_runs``), latest first, of one schedule or status if asked.

A team's manager may not: a schedule sends the whole company's report to whoever it names.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanjeh.errors import InvalidQuery, UserError
from sanjeh.formatting import fmt_moment
from sanjeh.i18n import isolate, join, period_label, t
from sanjeh.reports.build import FORMATS
from sanjeh.reports.deliver import destination, who
from sanjeh.reports.runner import STATUSES, run_now, runs, utc_now
from sanjeh.reports.schedule import DEFAULT_ZONE, PERIODS, Declared, declared, find, remove, save
from sanjeh.reports.when import MONTH_DAYS, WEEKDAYS, Rule, time_of_day, words
from sanjeh.web.deps import Caller, SchedulesEditor, state_of
from sanjeh.web.pages import _context, _lang, _render
from sanjeh.web.state import AppState

router = APIRouter(include_in_schema=False)
DONE = ("saved", "unchanged", "deleted", "started")
#: Runs shown on the run log.
RUNS_SHOWN = 200


def _moment(when: dt.datetime | None, st: AppState, lang: str, weekday: bool = False) -> str:
    if when is not None and when.tzinfo is None:  # the run log's times are UTC
        when = when.replace(tzinfo=dt.UTC)
    return fmt_moment(when, st.ws.settings.timezone, st.ws.settings.calendar, lang, weekday=weekday)


def _view(d: Declared, st: AppState, lang: str, titles: dict[str, str], last: dict[str, Any] | None) -> dict[str, Any]:
    """One schedule as the page shows it, in ``lang``."""
    s = d.schedule
    row: dict[str, Any] = {"name": d.name, "source": "over" if d.over_toml else d.source, "error": None}
    if d.changed_by:
        row["changed"] = t(
            "schedules.changed", lang, user=isolate(d.changed_by, lang), when=_moment(d.changed_at, st, lang)
        )
    if last is not None:
        row["last"] = {"status": last["status"], "when": _moment(last["planned"], st, lang)}
    if s is None:
        return row | {"error": d.error.text(lang) if d.error else ""}
    when = words(s.when, lang)
    if s.zone.key != st.ws.settings.timezone:
        when = t("schedules.rule.zone", lang, when=when, zone=isolate(s.zone.key, lang))
    kpis = join((titles.get(k, k) for k in s.kpis), lang) if s.kpis else t("schedules.all_kpis", lang)
    return row | {
        "when": when,
        "next": _moment(s.when.upcoming(utc_now(), s.zone), st, lang, weekday=True),
        "period": t(f"schedules.periods.{s.period}", lang),
        "formats": " · ".join(f.upper() for f in s.formats),
        "kpis": kpis,
        "recipients": list(s.recipients),
        "also": join((who(x) for x in s.to), lang) if s.to else "",
        "lang": t(f"users.lang.{s.lang}", lang) if s.lang else t("schedules.workspace_lang", lang),
    }


def _form_of(d: Declared | None) -> dict[str, Any]:
    """The form's fields for a schedule (a new one: every Saturday at 08:00, last week, PDF)."""
    form: dict[str, Any] = {"name": "", "kind": "weekly", "weekdays": ["sat"], "month_day": "first-working-day"}
    form |= {"at": "08:00", "cron": "", "zone": DEFAULT_ZONE, "period": "last_week", "formats": ["pdf"]}
    form |= {"kpis": [], "lang": "", "recipients": "", "to": []}
    if d is None:
        return form
    raw = d.raw
    form |= {"name": d.name, "zone": str(raw.get("zone") or DEFAULT_ZONE), "lang": raw.get("lang") or ""}
    form |= {"period": str(raw.get("period") or "last_week"), "formats": list(raw.get("formats") or ["pdf"])}
    form |= {"kpis": list(raw.get("kpis") or []), "to": list(raw.get("to") or [])}
    lines = raw.get("recipients") or []
    form["recipients"] = "\n".join(lines.splitlines() if isinstance(lines, str) else lines)
    when = d.schedule.when if d.schedule else None
    if isinstance(when, Rule):
        days = [w for w in WEEKDAYS if WEEKDAYS[w] in when.weekdays] or form["weekdays"]
        form |= {"kind": when.kind, "weekdays": days, "month_day": when.day or form["month_day"]}
        form["at"] = f"{when.at:%H:%M}"
    else:
        form |= {"kind": "cron", "cron": str(raw.get("when") or raw.get("cron") or "")}
    return form


def _posted(form: Any) -> dict[str, Any]:
    """The form's fields as posted (shown again as they were when the save is refused)."""
    one = {k: str(form.get(k) or "").strip() for k in ("name", "kind", "month_day", "at", "cron", "zone", "period")}
    many = {k: [str(x) for x in form.getlist(k)] for k in ("weekdays", "formats", "kpis")}
    return one | many | {"lang": str(form.get("lang") or ""), "recipients": str(form.get("recipients") or "")}


def _raw_of(f: dict[str, Any], to: list[Any]) -> dict[str, Any]:
    """The schedule the form's fields say (checked by :func:`save`); ``to``: the destination tables
    of ``sanjeh.toml`` the schedule keeps (the form does not edit them)."""
    when = {
        "weekly": f"weekly {','.join(f['weekdays'])} {f['at']}",
        "monthly": f"monthly {f['month_day']} {f['at']}",
        "daily": f"daily {f['at']}",
    }.get(f["kind"], f["cron"])
    raw: dict[str, Any] = {"name": f["name"], "when": when, "zone": f["zone"] or DEFAULT_ZONE, "period": f["period"]}
    raw |= {"formats": f["formats"] or ["pdf"], "kpis": f["kpis"], "lang": f["lang"] or None}
    return raw | {"recipients": f["recipients"]} | ({"to": to} if to else {})


@dataclass
class SchedulesPage:
    """What schedules.html shows: every schedule in words, the form to add or change one and its
    choices, what was done or refused (:func:`schedules_view`)."""

    schedules: list[dict[str, Any]]
    #: the schedule the form changes (None: a new one), and the destinations it keeps
    editing: str | None
    form_also: str
    form: dict[str, Any]
    kpis: list[tuple[str, str]]
    periods: list[str]
    formats: list[str]
    weekdays: list[str]
    month_days: list[str]
    #: whether the server's runner is running (else schedules do not run by themselves)
    runner: bool
    error: str | None
    done: str | None


def schedules_view(
    st: AppState,
    catalogue: list[Any],
    found: list[Declared],
    last: dict[str, dict[str, Any]],
    lang: str,
    *,
    editing: Declared | None = None,
    form: dict[str, Any] | None = None,
    error: UserError | None = None,
    done: str | None = None,
    name: str = "",
    runner: bool = False,
) -> SchedulesPage:
    """The Schedules page of the ``found`` schedules and the ``last`` run of each; ``form`` the
    fields as posted (else those of ``editing``, or a new schedule's)."""
    titles = {k.name: k.title.get(lang, k.name) for k in catalogue}
    return SchedulesPage(
        schedules=[_view(d, st, lang, titles, last.get(d.name)) for d in found],
        editing=editing.name if editing is not None else None,
        form_also=join((who(x) for x in editing.schedule.to), lang) if editing and editing.schedule else "",
        form=form or _form_of(editing),
        kpis=[(k.name, titles[k.name]) for k in catalogue],
        periods=list(PERIODS),
        formats=list(FORMATS),
        weekdays=list(WEEKDAYS),
        month_days=[*MONTH_DAYS, *(str(n) for n in range(1, 32))],
        runner=runner,
        error=error.text(lang) if error else None,
        done=t(f"schedules.done.{done}", lang, name=name) if done in DONE else None,
    )


def _page(
    request: Request,
    c: Caller,
    *,
    editing: Declared | None = None,
    form: dict[str, Any] | None = None,
    error: UserError | None = None,
    status: int = 200,
) -> Response:
    st = state_of(request)
    lang = _lang(request, c.user)
    done = request.query_params.get("done")
    name = (request.query_params.get("name") or "")[:64]
    runner = getattr(request.app.state, "runner", None)
    catalogue = st.catalogue()
    names = [k.name for k in catalogue]

    def read(ws: Any) -> tuple[list[Declared], dict[str, dict[str, Any]]]:
        found = declared(ws, names)
        last: dict[str, dict[str, Any]] = {}
        for r in runs(ws, limit=500):
            last.setdefault(r["job"], r)
        return found, last

    found, last = st.call(read)
    view = schedules_view(
        st,
        catalogue,
        found,
        last,
        lang,
        editing=editing,
        form=form,
        error=error,
        done=done,
        name=name,
        runner=runner is not None and runner.alive,
    )
    return _render(request, "schedules.html", c, status=status, lang=lang, **_context(view))


def _done(what: str, name: str, path: str = "/schedules") -> Response:
    return RedirectResponse(path + "?" + urlencode({"done": what, "name": name}), status_code=303)


@router.get("/schedules")
def schedules_page(request: Request, c: SchedulesEditor) -> Response:
    name = request.query_params.get("edit")
    editing = state_of(request).call(lambda ws: find(ws, name)) if name is not None else None
    return _page(request, c, editing=editing)


@router.post("/schedules")
async def schedules_save(request: Request, c: SchedulesEditor) -> Response:
    form = await request.form()
    st = state_of(request)
    replacing = str(form.get("editing") or "") or None
    editing = st.call(lambda ws: find(ws, replacing)) if replacing is not None else None
    to = list(editing.raw.get("to") or []) if editing is not None else []
    fields = _posted(form)
    raw = _raw_of(fields, to)
    kpis = [k.name for k in st.catalogue()]
    try:
        if fields["kind"] != "cron":
            time_of_day(fields["at"])  # said as a time, before the rule it goes into
        for d in to:  # the file's destinations as they are: checked again, so a save never hides a mistake
            destination(d)
        changed = st.call(lambda ws: save(ws, raw, user=c.user.username, now=utc_now(), replacing=replacing, kpis=kpis))
    except UserError as exc:
        return _page(request, c, editing=editing, form=fields | {"to": to}, error=exc, status=exc.status)
    return _done("saved" if changed else "unchanged", raw["name"])


@router.post("/schedules/{name}/delete")
async def schedules_delete(request: Request, name: str, c: SchedulesEditor) -> Response:
    form = await request.form()
    st = state_of(request)
    if not form.get("confirm"):
        return _page(request, c, error=UserError(key="schedule.confirm"), status=400)
    st.call(lambda ws: remove(ws, name, user=c.user.username, now=utc_now()))
    return _done("deleted", name)


@router.post("/schedules/{name}/run")
async def schedules_run(request: Request, name: str, c: SchedulesEditor) -> Response:
    """Run a schedule now, in a thread of its own (the report takes a while); the run log shows it."""
    st = state_of(request)
    d = st.call(lambda ws: find(ws, name))
    if d.schedule is None:
        return _page(request, c, error=d.error, status=400)
    job = threading.Thread(
        target=run_now, args=(st.ws, name, utc_now()), kwargs={"lock": st.locked}, name="sanjeh-run-now", daemon=True
    )
    job.start()
    return _done("started", name, "/runs")


@dataclass
class RunsPage:
    """What runs.html shows: the run log, latest first, of one schedule or status if asked
    (:func:`runs_view`)."""

    runs: list[dict[str, Any]]
    #: the schedules to choose from, the one chosen, the status chosen and the statuses
    jobs: list[str]
    job: str
    status_filter: str
    statuses: list[str]
    done: str | None


def runs_view(
    st: AppState,
    rows: list[dict[str, Any]],
    names: list[str],
    job: str | None,
    status: str | None,
    done: str | None,
    name: str,
    lang: str,
) -> RunsPage:
    """The run log of the runs ``rows`` (moments in the workspace's zone and calendar); ``names``
    the declared schedules."""
    shown = [
        {
            **r,
            "planned": _moment(r["planned"], st, lang, weekday=True),
            "period": period_label(r["period"], lang),
            "started": _moment(r["started"], st, lang),
            "ended": _moment(r["ended"], st, lang),
            "status_text": t(f"report.run_status.{r['status']}", lang),
        }
        for r in rows
    ]
    return RunsPage(
        runs=shown,
        jobs=sorted({*names, *(r["job"] for r in rows)} | ({job} if job else set())),
        job=job or "",
        status_filter=status or "",
        statuses=list(STATUSES),
        done=t(f"schedules.done.{done}", lang, name=name) if done in DONE else None,
    )


@router.get("/runs")
def runs_page(request: Request, c: SchedulesEditor) -> Response:
    st = state_of(request)
    lang = _lang(request, c.user)
    job = request.query_params.get("job") or None
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidQuery(
            key="schedule.status",
            params={"status": status, "statuses": list(STATUSES)},
            details={"status": status, "allowed": list(STATUSES)},
        )
    done = request.query_params.get("done")
    name = (request.query_params.get("name") or "")[:64]

    def read(ws: Any) -> tuple[list[dict[str, Any]], list[str]]:
        names = [d.name for d in declared(ws)]
        return runs(ws, job, status, RUNS_SHOWN), names

    rows, names = st.call(read)
    view = runs_view(st, rows, names, job, status, done, name, lang)
    return _render(request, "runs.html", c, lang=lang, **_context(view))
