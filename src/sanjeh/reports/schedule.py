"""Report schedules (``[[schedules]]`` in ``sanjeh.toml``) and the runner of ``sanjeh scheduler``.

A schedule says when (a five-field cron line read in an IANA zone, ``Asia/Tehran`` by default),
which period (``last_week`` — Jalali weeks start on Saturday —, ``last_month``, ``last_quarter``,
``month_to_date``, ``quarter_to_date``, counted from the planned day in the workspace's
calendar), what (formats, KPIs, language) and to whom (destinations of ``deliver.py``, secrets
named by their environment variables)::

    [[schedules]]
    name = "weekly"
    cron = "0 8 * * 6"           # Saturdays 08:00, Tehran time
    period = "last_week"
    formats = ["pdf", "xlsx"]
    to = [{kind = "email", host = "smtp.example.com", sender = "sanjeh@example.com", to = ["ceo@example.com"], user = "sanjeh"},
          {kind = "bale", chat_id = "12345", token_env = "BALE_TOKEN"}]

Each run is a row of ``_runs`` (job, planned time, period, start, end, status, error,
recipients). (job, planned) is unique in the warehouse: a runner claims a run by inserting its
row, so two runners never run one job twice. A runner looks back only to the job's last planned
run, so runs missed while it was down run once, the latest, when it starts again; a job that
never ran looks back one hour.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sanjeh.calendar import unit_of
from sanjeh.errors import UserError
from sanjeh.reports import deliver
from sanjeh.reports.build import FORMATS

RUNS = "_runs"
PERIODS = ("last_week", "last_month", "last_quarter", "month_to_date", "quarter_to_date")
LOOK_BACK = dt.timedelta(hours=1)  # how far a job that never ran looks back
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@dataclass(frozen=True)
class Cron:
    """Five fields: minute, hour, day of month, month, day of week (0 or 7 Sunday … 6 Saturday);
    each ``*``, a number, ``a-b``, ``*/n``, ``a-b/n`` or a comma list of those."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @staticmethod
    def parse(text: str) -> Cron:
        parts = str(text).split()
        if len(parts) != 5:
            raise UserError(key="schedule.cron", params={"cron": text})
        sets = [_field(p, lo, hi, text) for p, (lo, hi) in zip(parts, _RANGES, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return Cron(
            tuple(sorted(sets[0], reverse=True)),
            tuple(sorted(sets[1], reverse=True)),
            frozenset(sets[2]),
            frozenset(sets[3]),
            weekdays,
            parts[2] == "*",
            parts[4] == "*",
        )

    def day_matches(self, d: dt.date) -> bool:
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.days, (d.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:  # cron: when both are restricted, either may match
            return dom and dow
        return dom or dow

    def latest(self, now: dt.datetime, zone: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
        """The latest planned time ≤ ``now`` and > ``after`` (aware datetimes), or None."""
        local = now.astimezone(zone)
        for back in range(0, 367):
            day = local.date() - dt.timedelta(days=back)
            if dt.datetime.combine(day, dt.time(23, 59), zone) <= after:
                return None
            if not self.day_matches(day):
                continue
            for h in self.hours:
                for m in self.minutes:
                    t = dt.datetime.combine(day, dt.time(h, m), zone)
                    if t <= local:
                        return t if t > after else None
        return None


def _field(part: str, lo: int, hi: int, text: str) -> set[int]:
    out: set[int] = set()
    try:
        for item in part.split(","):
            rng, _, step = item.partition("/")
            n = int(step) if step else 1
            if rng == "*":
                a, b = lo, hi
            elif "-" in rng:
                a, b = (int(x) for x in rng.split("-", 1))
            else:
                a = b = int(rng)
            if n < 1 or a < lo or b > hi or a > b:
                raise ValueError(item)
            out.update(range(a, b + 1, n))
    except ValueError:
        raise UserError(key="schedule.cron", params={"cron": text}) from None
    return out


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: Cron
    zone: ZoneInfo
    period: str
    formats: tuple[str, ...]
    kpis: tuple[str, ...]
    lang: str | None
    to: tuple[deliver.Destination, ...]


def schedules(raw: Iterable[Mapping[str, Any]]) -> list[Schedule]:
    """The schedules of ``sanjeh.toml``, checked: every mistake (a bad cron or zone, an unknown
    period or format, no recipients, a secret in clear) is a user error naming the schedule."""
    out: list[Schedule] = []
    for i, r in enumerate(raw):
        name = str(r.get("name") or f"schedule {i + 1}")
        try:
            out.append(_schedule(name, r))
        except UserError as exc:
            raise UserError(key="schedule.invalid", params={"name": name, "why": exc.text("en")}) from exc
    return out


def _schedule(name: str, r: Mapping[str, Any]) -> Schedule:
    known = {"name", "cron", "zone", "period", "formats", "kpis", "lang", "to"}
    if set(r) - known:
        raise UserError(key="schedule.unknown", params={"names": sorted(set(r) - known)})
    try:
        zone = ZoneInfo(str(r.get("zone") or "Asia/Tehran"))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(key="schedule.zone", params={"zone": r.get("zone")}) from None
    period = str(r.get("period") or "last_week")
    if period not in PERIODS:
        raise UserError(key="schedule.period", params={"period": period, "periods": list(PERIODS)})
    formats = tuple(str(f) for f in r.get("formats") or ("pdf",))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(key="cli.report_format", params={"format": bad[0]})
    to = tuple(deliver.destination(d) for d in r.get("to") or ())
    if not to:
        raise UserError(key="deliver.no_recipients", params={"target": name})
    lang = r.get("lang")
    return Schedule(
        name, Cron.parse(str(r.get("cron") or "")), zone, period, formats, tuple(r.get("kpis") or ()), lang, to
    )


def period_of(kind: str, day: dt.date, calendar: Any) -> str:
    """The period a run planned on ``day`` reports, in ``calendar``."""
    if kind in ("last_week", "last_month", "last_quarter"):
        return str(unit_of(day, calendar, kind.removeprefix("last_")).shift(-1).label)  # type: ignore[arg-type]
    unit = unit_of(day, calendar, "month" if kind == "month_to_date" else "quarter")
    if day == unit.start:  # nothing of it has passed: the whole previous one
        return str(unit.shift(-1).label)
    first, last = unit_of(unit.start, calendar, "day"), unit_of(day - dt.timedelta(days=1), calendar, "day")
    return first.label if first.label == last.label else f"{first.label}..{last.label}"


# -- the run log ------------------------------------------------------------------------------------------
def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def last_planned(ws: Any, job: str) -> dt.datetime | None:
    t = ws.warehouse.table(RUNS)
    found = t.filter(t.job == job).planned.max().to_pyarrow().as_py()
    return None if found is None else found.replace(tzinfo=dt.UTC)


def claim(ws: Any, job: str, planned: dt.datetime, period: str, now: dt.datetime) -> bool:
    """Insert the run's row (status ``running``); False when another runner holds it."""
    import pyarrow as pa

    from sanjeh.schema import SYSTEM_TABLES

    row = {"job": job, "planned": _utc(planned), "period": period, "started": _utc(now), "ended": None}
    row |= {"status": "running", "error": None, "recipients": None}
    schema = pa.schema(
        [(k, pa.timestamp("us") if v == "timestamp" else pa.string()) for k, v in SYSTEM_TABLES[RUNS].items()]
    )
    try:
        with ws.warehouse.transaction():
            ws.warehouse.insert_arrow(RUNS, pa.table({k: [row[k]] for k in schema.names}, schema=schema))
    except Exception:  # the unique (job, planned): another runner claimed it first
        return False
    return True


def finish(ws: Any, job: str, planned: dt.datetime, status: str, error: str, recipients: str, now: dt.datetime) -> None:
    import pyarrow as pa

    t = ws.warehouse.table(RUNS)
    key = _utc(planned)
    old = t.filter((t.job == job) & (t.planned == key)).to_pyarrow().to_pylist()
    row = dict(old[0]) if old else {"job": job, "planned": key, "period": "", "started": _utc(now)}
    row |= {"ended": _utc(now), "status": status, "error": error or None, "recipients": recipients}
    keys = pa.table({"job": [job], "planned": pa.array([key], pa.timestamp("us"))})
    with ws.warehouse.transaction():
        ws.warehouse.delete_matching(RUNS, keys)
        data = pa.Table.from_pylist([row], schema=ws.warehouse.table(RUNS).schema().to_pyarrow())
        ws.warehouse.insert_arrow(RUNS, data)


def runs(ws: Any) -> list[dict[str, Any]]:
    t = ws.warehouse.table(RUNS)
    return list(t.order_by(t.planned.desc()).to_pyarrow().to_pylist())


# -- running ----------------------------------------------------------------------------------------------
@dataclass
class Ran:
    job: str
    planned: dt.datetime
    period: str
    status: str
    results: dict[str, str]


def run_due(
    ws: Any,
    now: dt.datetime,
    *,
    retry: deliver.Retry | None = None,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[str, dt.datetime], None] | None = None,
) -> list[Ran]:
    """Run every schedule whose latest planned time (≤ ``now``, after its last run) has no run yet."""
    from sanjeh.i18n import normalize_lang, period_label, t
    from sanjeh.reports.build import gather, write

    done: list[Ran] = []
    for job in schedules(ws.settings.schedules):
        after = last_planned(ws, job.name) or (now - LOOK_BACK)
        planned = job.cron.latest(now, job.zone, after)
        if planned is None:
            continue
        period = period_of(job.period, planned.date(), ws.settings.calendar)
        if not claim(ws, job.name, planned, period, now):
            continue
        if on_start:
            on_start(job.name, planned)
        results: dict[str, str] = {}
        try:
            report = gather(ws, period, job.kpis, job.lang)
            lang = normalize_lang(report.lang)
            with tempfile.TemporaryDirectory(prefix="sanjeh-report-") as tmp:
                files = [
                    write(report, fmt, Path(tmp) / f"{job.name}-{period.replace('..', '_')}.{fmt}")
                    for fmt in job.formats
                ]
                title = t("report.subject", lang, company=report.company, period=period_label(period, lang))
                lines = [i["text"][lang] for i in report.scorecard.get("insights", [])]
                msg = deliver.Message(title, "\n".join(lines), tuple(deliver.Attachment.of(f) for f in files))
                results = deliver.send(job.to, msg, retry or deliver.Retry(), env)
            failed = {k: v for k, v in results.items() if v != "sent"}
            status = "ok" if not failed else ("failed" if len(failed) == len(results) else "partial")
            error = "; ".join(f"{k}: {v}" for k, v in failed.items())
        except Exception as exc:  # the run is logged as failed; the runner goes on with the next job
            status, error = "failed", (exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}")
        finish(ws, job.name, planned, status, error, ", ".join(results), now)
        done.append(Ran(job.name, planned, period, status, results))
    return done
