"""Report schedules: declared in ``sanjeh.toml`` (``[[schedules]]``) or on the Schedules page.

A schedule says when (``when``: a cron line or a rule people say, reports/when.py, read in an
IANA zone, ``Asia/Tehran`` by default; ``cron`` is the older name of a cron line), which period
(``last_week`` — Jalali weeks start on Saturday —, ``last_month``, ``last_quarter``,
``month_to_date``, ``quarter_to_date``, counted from the planned day in the workspace's
calendar), what (formats, KPIs, language) and to whom: ``recipients`` (an email address,
``telegram:CHAT``, ``bale:CHAT`` or a webhook's address, deliver.py's :func:`recipients`) and
``to`` (destination tables of deliver.py, secrets named by their environment variables)::

    [[schedules]]
    name = "weekly"
    when = "weekly sat 08:00"          # or "monthly first-working-day 08:00", or "0 8 * * 6"
    period = "last_week"
    formats = ["pdf", "xlsx"]
    recipients = ["ceo@example.com", "bale:123456789"]

**Edits made on the page live in the warehouse** (``_schedules``: name, definition as JSON,
who, when), not in ``sanjeh.toml``: every process of the workspace (the server, a scheduler, the
servers of a PostgreSQL warehouse) reads the same rows, a save is one transaction, and the file
(which holds the session secret and its owner's comments) is never rewritten. A row overrides
the toml schedule of its name; a row without a definition deletes it. :func:`declared` is the
result: the toml's schedules as overridden, then the page's own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sanjeh.calendar import CalendarName, unit_of
from sanjeh.errors import NotFound, UserError
from sanjeh.reports import deliver
from sanjeh.reports.build import FORMATS
from sanjeh.reports.when import Cron, Rule, parse

STORED = "_schedules"
PERIODS = ("last_week", "last_month", "last_quarter", "month_to_date", "quarter_to_date")
FIELDS = ("name", "when", "cron", "zone", "period", "formats", "kpis", "lang", "recipients", "to")
DEFAULT_ZONE = "Asia/Tehran"
_NAME = re.compile(r"^[\w\u200c][\w\u200c .-]{0,63}$")


@dataclass(frozen=True)
class Schedule:
    name: str
    when: Cron | Rule
    zone: ZoneInfo
    period: str
    formats: tuple[str, ...]
    kpis: tuple[str, ...]
    lang: str | None
    to: tuple[deliver.Destination, ...]
    recipients: tuple[str, ...] = ()
    #: the destination tables as written (kept as they are when the page saves the schedule)
    to_raw: tuple[Mapping[str, Any], ...] = ()

    def destinations(self, env: Mapping[str, str] | None = None) -> list[deliver.Destination]:
        return [*self.to, *deliver.recipients(self.recipients, env)]

    def definition(self) -> dict[str, Any]:
        """The schedule as data, each value in one spelling (what the page stores and compares)."""
        return {
            "when": self.when.text,
            "zone": self.zone.key,
            "period": self.period,
            "formats": list(self.formats),
            "kpis": list(self.kpis),
            "lang": self.lang,
            "recipients": list(self.recipients),
            "to": [dict(d) for d in self.to_raw],
        }


def schedules(
    raw: Iterable[Mapping[str, Any]], calendar: CalendarName = "jalali", kpis: Collection[str] | None = None
) -> list[Schedule]:
    """Schedules as written, checked: every mistake (a bad cron line or rule, zone, period, format,
    language or KPI, no recipients, a secret in clear) is a user error naming the schedule."""
    return [schedule(r, calendar, kpis, i) for i, r in enumerate(raw)]


def schedule(
    r: Mapping[str, Any], calendar: CalendarName = "jalali", kpis: Collection[str] | None = None, i: int = 0
) -> Schedule:
    """One schedule, checked (:func:`schedules`); ``kpis``: the workspace's KPIs, when known."""
    name = str(r.get("name") or f"schedule {i + 1}").strip()
    try:
        return _schedule(name, r, calendar, kpis)
    except UserError as exc:
        raise UserError(key="schedule.invalid", params={"name": name, "why": exc}) from exc


def _schedule(name: str, r: Mapping[str, Any], calendar: CalendarName, kpis: Collection[str] | None) -> Schedule:
    if set(r) - set(FIELDS):
        raise UserError(key="schedule.unknown", params={"names": sorted(set(r) - set(FIELDS))})
    if not _NAME.match(name):
        raise UserError(key="schedule.name", params={"name": name})
    if r.get("when") and r.get("cron"):
        raise UserError(key="schedule.when_twice")
    when = parse(str(r["when"]), calendar) if r.get("when") else Cron.parse(str(r.get("cron") or ""))
    try:
        zone = ZoneInfo(str(r.get("zone") or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(key="schedule.zone", params={"zone": r.get("zone")}) from None
    period = str(r.get("period") or "last_week")
    if period not in PERIODS:
        raise UserError(key="schedule.period", params={"period": period, "periods": list(PERIODS)})
    given = [str(f).lower() for f in r.get("formats") or ("pdf",)]
    bad = [f for f in given if f not in FORMATS]
    if bad:
        raise UserError(key="cli.report_format", params={"format": bad[0]})
    formats = tuple(f for f in FORMATS if f in given)
    chosen = tuple(dict.fromkeys(str(k).strip().lower() for k in r.get("kpis") or ()))
    unknown = [k for k in chosen if kpis is not None and k not in kpis]
    if unknown:
        raise UserError(key="query.unknown_kpi", params={"kpi": unknown[0], "kpis": list(kpis or ())})
    lang = r.get("lang") or None
    if lang not in (None, "fa", "en"):
        raise UserError(key="schedule.lang", params={"given": lang})
    to_raw = tuple(dict(d) for d in r.get("to") or ())
    to = tuple(deliver.destination(d) for d in to_raw)
    found = deliver.recipient_lines(r.get("recipients") or ())
    if not to and not found:  # said after the schedule's name (schedule.invalid): not named twice
        raise UserError(key="schedule.no_recipients")
    return Schedule(name, when, zone, period, formats, chosen, lang, to, found, to_raw)


def period_of(kind: str, day: dt.date, calendar: Any) -> str:
    """The period a run planned on ``day`` reports, in ``calendar``."""
    if kind in ("last_week", "last_month", "last_quarter"):
        return str(unit_of(day, calendar, kind.removeprefix("last_")).shift(-1).label)  # type: ignore[arg-type]
    unit = unit_of(day, calendar, "month" if kind == "month_to_date" else "quarter")
    if day == unit.start:  # nothing of it has passed: the whole previous one
        return str(unit.shift(-1).label)
    first, last = unit_of(unit.start, calendar, "day"), unit_of(day - dt.timedelta(days=1), calendar, "day")
    return first.label if first.label == last.label else f"{first.label}..{last.label}"


# -- the schedules of a workspace: sanjeh.toml, and the page's rows over it ------------------------------
@dataclass(frozen=True)
class Declared:
    """A schedule of the workspace as it stands: where it is declared, and parsed or why not."""

    name: str
    raw: dict[str, Any]
    source: str  # "toml" | "page"
    over_toml: bool  # a page's row in place of the toml's schedule of that name
    schedule: Schedule | None
    error: UserError | None
    changed_by: str | None = None
    changed_at: dt.datetime | None = None  # UTC


def declared(ws: Any, kpis: Collection[str] | None = None) -> list[Declared]:
    """The workspace's schedules: those of ``sanjeh.toml`` (as the page's rows override or delete
    them), then those added on the page; each parsed, or with the error that stops it."""
    calendar = ws.settings.calendar
    toml = {str(r.get("name") or f"schedule {i + 1}").strip(): dict(r) for i, r in enumerate(ws.settings.schedules)}
    rows = {r["name"]: r for r in _rows(ws)}
    out: list[Declared] = []
    for name in [*toml, *(n for n in rows if n not in toml)]:
        row = rows.get(name)
        if row is not None and row["definition"] is None:
            continue  # deleted on the page
        raw = {"name": name, **json.loads(row["definition"])} if row is not None else toml[name]
        try:
            parsed, error = schedule(raw, calendar, kpis), None
        except UserError as exc:
            parsed, error = None, exc
        if row is None:
            out.append(Declared(name, raw, "toml", False, parsed, error))
        else:
            by, at = row["changed_by"], row["changed_at"]
            out.append(Declared(name, raw, "page", name in toml, parsed, error, changed_by=by, changed_at=at))
    return out


def _rows(ws: Any) -> list[dict[str, Any]]:
    t = ws.warehouse.table(STORED)
    return list(t.order_by(t.changed_at).to_pyarrow().to_pylist())


def find(ws: Any, name: str) -> Declared:
    found = next((d for d in declared(ws) if d.name == name), None)
    if found is None:
        raise NotFound(key="schedule.not_found", params={"name": name}, details={"schedule": name})
    return found


def save(
    ws: Any,
    raw: Mapping[str, Any],
    *,
    user: str,
    now: dt.datetime,
    replacing: str | None = None,
    kpis: Collection[str] | None = None,
) -> bool:
    """Save a schedule from the page (a new one, or ``replacing`` the one of that name, which may
    be renamed), checked first. Returns False, writing nothing, when it says what it said."""
    job = schedule(raw, ws.settings.calendar, kpis)
    current = {d.name: d for d in declared(ws)}
    if replacing is not None and replacing not in current:
        raise NotFound(key="schedule.not_found", params={"name": replacing}, details={"schedule": replacing})
    if job.name != replacing and job.name in current:
        raise UserError(key="schedule.exists", params={"name": job.name})
    old = current[replacing].schedule if replacing is not None else None
    if old is not None and set(old.kpis) == set(job.kpis):  # the page ticks KPIs in its own order
        job = replace(job, kpis=old.kpis)
    if old is not None and old.name == job.name and old.definition() == job.definition():
        return False
    with ws.warehouse.transaction():
        if replacing is not None and replacing != job.name:
            _forget(ws, replacing, user, now)
        _write(ws, job.name, job.definition(), user, now)
    return True


def remove(ws: Any, name: str, *, user: str, now: dt.datetime) -> None:
    """Delete a schedule: the page's row goes; a toml schedule is marked deleted (a row says so)."""
    find(ws, name)
    with ws.warehouse.transaction():
        _forget(ws, name, user, now)


def _forget(ws: Any, name: str, user: str, now: dt.datetime) -> None:
    import pyarrow as pa

    if any(str(r.get("name") or "").strip() == name for r in ws.settings.schedules):
        _write(ws, name, None, user, now)
    else:
        ws.warehouse.delete_matching(STORED, pa.table({"name": [name]}))


def _write(ws: Any, name: str, definition: dict[str, Any] | None, user: str, now: dt.datetime) -> None:
    import pyarrow as pa

    text = None if definition is None else json.dumps(definition, ensure_ascii=False, sort_keys=True)
    at = now.astimezone(dt.UTC).replace(tzinfo=None)
    ws.warehouse.delete_matching(STORED, pa.table({"name": [name]}))
    schema = pa.schema([("name", pa.string()), ("definition", pa.string()), ("changed_by", pa.string())])
    row = pa.table({"name": [name], "definition": [text], "changed_by": [user]}, schema=schema)
    ws.warehouse.insert_arrow(STORED, row.append_column("changed_at", pa.array([at], pa.timestamp("us"))))
