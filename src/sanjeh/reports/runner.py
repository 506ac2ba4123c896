"""Running the schedules: the run log (``_runs``) and the runner of ``sanjeh scheduler`` and ``sanjeh serve``.

Each run is a row of ``_runs`` (job, planned time, period, start, end, status, error,
recipients). (job, planned) is unique in the warehouse: a runner claims a run by inserting its
row, so two runners — two schedulers, the servers of a PostgreSQL warehouse, a server and a
scheduler — never run one job twice. A runner looks back only to the job's last planned run, so
runs missed while it was down run once, the latest, when it starts again; a job that never ran
looks back one hour.

:class:`Runner` looks at the schedules every ``every`` seconds, in the calling thread
(``sanjeh scheduler``) or in a thread of its own (``sanjeh serve``: started once by the server
process, stopped with it). Every warehouse call it makes is made inside ``lock()`` (the server's
lock: one DuckDB connection serves its threads); the report's files are written and sent outside it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanjeh.errors import SanjehError
from sanjeh.reports import deliver
from sanjeh.reports.schedule import Declared, Schedule, declared, find, period_of

log = logging.getLogger("sanjeh.scheduler")
RUNS = "_runs"
LOOK_BACK = dt.timedelta(hours=1)  # how far a job that never ran looks back
STATUSES = ("running", "ok", "partial", "failed")
Lock = Callable[[], AbstractContextManager[Any]]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


# -- the run log ------------------------------------------------------------------------------------------
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


def runs(ws: Any, job: str | None = None, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The run log, latest planned first (times in UTC, naive); of one job or status if asked."""
    t = ws.warehouse.table(RUNS)
    if job is not None:
        t = t.filter(t.job == job)
    if status is not None:
        t = t.filter(t.status == status)
    t = t.order_by([t.planned.desc(), t.job])
    return list((t.limit(limit) if limit else t).to_pyarrow().to_pylist())


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
    on_invalid: Callable[[Declared], None] | None = None,
    lock: Lock = nullcontext,
    clock: Clock | None = None,
) -> list[Ran]:
    """Run every schedule whose latest planned time (≤ ``now``, after its last run) has no run yet.
    A schedule with a mistake is left out (``on_invalid`` hears of it); ``clock`` gives the run's
    start and end times (default: ``now``)."""
    due: list[tuple[Schedule, dt.datetime]] = []
    with lock():
        for d in declared(ws):
            if d.schedule is None:
                if on_invalid:
                    on_invalid(d)
                continue
            job = d.schedule
            planned = job.when.latest(now, job.zone, last_planned(ws, job.name) or (now - LOOK_BACK))
            if planned is not None:
                due.append((job, planned))
    done = []
    for job, planned in due:
        ran = run_job(ws, job, planned, clock or (lambda: now), retry=retry, env=env, on_start=on_start, lock=lock)
        if ran is not None:
            done.append(ran)
    return done


def run_now(ws: Any, name: str, now: dt.datetime, *, lock: Lock = nullcontext, **kw: Any) -> Ran | None:
    """Run the schedule ``name`` now (its planned time: now), whatever its plan says."""
    with lock():
        d = find(ws, name)
    if d.schedule is None:
        assert d.error is not None
        raise d.error
    return run_job(ws, d.schedule, now.replace(microsecond=0), lambda: now, lock=lock, **kw)


def run_job(
    ws: Any,
    job: Schedule,
    planned: dt.datetime,
    clock: Clock,
    *,
    retry: deliver.Retry | None = None,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[str, dt.datetime], None] | None = None,
    lock: Lock = nullcontext,
) -> Ran | None:
    """Claim the run of ``job`` planned at ``planned``, make its report, send it, log how it went.
    None when another runner holds it."""
    from sanjeh.i18n import normalize_lang, period_label, t
    from sanjeh.reports.build import gather, write

    period = period_of(job.period, planned.astimezone(job.zone).date(), ws.settings.calendar)
    with lock():
        if not claim(ws, job.name, planned, period, clock()):
            return None
    if on_start:
        on_start(job.name, planned)
    results: dict[str, str] = {}
    shown = normalize_lang(ws.settings.language)  # the run log is read by the workspace's managers
    try:
        with lock():
            report = gather(ws, period, job.kpis, job.lang, formats=job.formats)
        lang = normalize_lang(report.lang)
        with tempfile.TemporaryDirectory(prefix="sanjeh-report-") as tmp:
            files = [
                write(report, fmt, Path(tmp) / f"{job.name}-{period.replace('..', '_')}.{fmt}") for fmt in job.formats
            ]
            title = t("report.subject", lang, company=report.company, period=period_label(period, lang))
            lines = [i["text"][lang] for i in report.scorecard.get("insights", [])]
            msg = deliver.Message(title, "\n".join(lines), tuple(deliver.Attachment.of(f) for f in files))
            results = deliver.send(job.destinations(env), msg, retry or deliver.Retry(), env, shown)
        failed = {k: v for k, v in results.items() if v != "sent"}
        status = "ok" if not failed else ("failed" if len(failed) == len(results) else "partial")
        error = "; ".join(f"{k}: {v}" for k, v in failed.items())
    except SanjehError as exc:  # the run is logged as failed; the runner goes on with the next job
        status, error = "failed", exc.text(shown)
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    with lock():
        finish(ws, job.name, planned, status, error, ", ".join(results), clock())
    return Ran(job.name, planned, period, status, results)


class Runner:
    """Looks at the schedules every ``every`` seconds and runs what is due (:func:`run_due`)."""

    def __init__(
        self,
        ws: Any,
        *,
        every: float = 30.0,
        lock: Lock = nullcontext,
        clock: Clock = utc_now,
        env: Mapping[str, str] | None = None,
        retry: deliver.Retry | None = None,
        on_ran: Callable[[Ran], None] | None = None,
        alerts_every: float = 900.0,
        on_alerts: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.ws, self.every, self.lock, self.clock = ws, every, lock, clock
        self.env, self.retry, self.on_ran = env, retry, on_ran
        self.alerts_every, self.on_alerts = alerts_every, on_alerts
        self._alerts_checked = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()

    def look(self) -> list[Ran]:
        """Run what is due now; a failure (the warehouse gone…) is logged, and the next look tries again."""
        try:
            done = run_due(
                self.ws,
                self.clock(),
                retry=self.retry,
                env=self.env,
                on_invalid=self._invalid,
                lock=self.lock,
                clock=self.clock,
            )
        except Exception:
            log.exception("the scheduler could not look at the schedules")
            return []
        for ran in done:
            log.info("schedule %s planned %s: %s", ran.job, ran.planned.isoformat(), ran.status)
            if self.on_ran:
                self.on_ran(ran)
        self.check_alerts()
        return done

    def check_alerts(self) -> None:
        """The alert rules, at the first look and every ``alerts_every`` seconds after: an import
        checks them itself, so these looks are for the rules the clock moves (pace, a period that
        ends, no import for N days). Under the lock (it reads the warehouse), with the short tries
        of an import's check, since a server's pages wait meanwhile."""
        if time.monotonic() - self._alerts_checked < self.alerts_every:
            return
        self._alerts_checked = time.monotonic()
        from sanjeh.reports import alerts

        with self.lock():
            outcomes = alerts.check_quietly(self.ws, retry=alerts.IMPORT_RETRY)
        if self.on_alerts:
            self.on_alerts(outcomes)

    def _invalid(self, d: Declared) -> None:
        text = f"{d.name}: {d.error.message if d.error else ''}"
        if text not in self._warned:
            self._warned.add(text)
            log.warning("schedule left out: %s", text)

    def run(self) -> None:
        """Look, wait ``every`` seconds, look again… until :meth:`stop`."""
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self.every)

    def start(self) -> None:
        """Run in a thread of its own (once: a second call does nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="sanjeh-scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop looking; wait up to ``timeout`` seconds for a run under way (a run cut short by the
        process's end stays ``running`` in the log)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
