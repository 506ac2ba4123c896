"""Schedules (reports/when.py, schedule.py, runner.py) under a fake clock, on real parts.

Rules people say read in Tehran time on the Jalali calendar (Fridays and Iran's holidays off:
Nowruz, Farvardin 12 and 13, Esfand 29 and, in 1403, Esfand 30); schedules saved on the page over
those of ``sanjeh.toml``; a run missed while the runner was down runs once; two runners (two
connections to one DuckDB file, in threads, like the servers of one warehouse) racing for one run
run it once; ``sanjeh runs`` in Persian. The report goes to a real local webhook receiver.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from sanjeh.cli import main
from sanjeh.errors import UserError
from sanjeh.i18n import plain
from sanjeh.reports.deliver import who
from sanjeh.reports.runner import Ran, Runner, claim, finish, run_due, runs
from sanjeh.reports.schedule import declared, period_of, remove, save, schedule
from sanjeh.reports.when import parse, words
from sanjeh.workspace import Workspace
from tests.receivers import Endpoint, receiver
from tests.test_web_support import build_demo_workspace

TEHRAN = ZoneInfo("Asia/Tehran")
ENV = {"SANJEH_WEBHOOK_SECRET": "hook-signing-key"}


def _tehran(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TEHRAN)  # type: ignore[misc]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = build_demo_workspace(tmp_path_factory.mktemp("schedules") / "ws")
    yield w
    w.close()


@pytest.fixture
def endpoint() -> Iterator[str]:
    with receiver() as url:
        yield url


@pytest.fixture
def clean(ws: Workspace) -> Iterator[None]:
    """The workspace's settings as they were, no page rows and no runs, after the test."""
    before = ws.settings
    try:
        yield
    finally:
        ws.settings = before  # type: ignore[misc]
        ws.warehouse.execute("DELETE FROM _schedules")
        ws.warehouse.execute("DELETE FROM _runs")


def _toml(ws: Workspace, *raw: dict[str, object]) -> None:
    """Give the workspace these ``[[schedules]]`` of sanjeh.toml."""
    ws.settings = dataclasses.replace(ws.settings, schedules=tuple(raw))  # type: ignore[misc]


# -- rules -------------------------------------------------------------------------------------------------
def test_a_weekly_rule_reads_like_its_cron_line_in_tehran_time_and_in_words() -> None:
    now = _tehran(2025, 3, 22, 8, 30)  # Saturday 2 Farvardin 1404
    for plan in (parse("weekly sat 08:00"), parse("0 8 * * 6"), parse("Weekly Saturday ۰۸:۰۰")):
        assert plan.latest(now.astimezone(dt.UTC), TEHRAN, now - dt.timedelta(days=30)) == _tehran(2025, 3, 22, 8, 0)
        assert plan.latest(now - dt.timedelta(minutes=31), TEHRAN, now - dt.timedelta(days=30)) == _tehran(
            2025, 3, 15, 8, 0
        )
        assert plan.upcoming(now, TEHRAN) == _tehran(2025, 3, 29, 8, 0)
        assert words(plan, "fa") == "هر شنبه ساعت ۰۸:۰۰" and words(plan, "en") == "every Saturday at 08:00"
    assert parse("Weekly Saturday ۰۸:۰۰").text == "weekly sat 08:00"
    two = parse("weekly tue,sat 9:30")
    assert two.text == "weekly sat,tue 09:30"  # the Iranian week's order
    assert words(two, "fa") == "هر شنبه و سه‌شنبه ساعت ۰۹:۳۰"
    assert words(two, "en") == "every Saturday and Tuesday at 09:30"
    assert words(parse("daily 07:05"), "fa") == "هر روز ساعت ۰۷:۰۵"
    assert words(parse("*/5 * * * *"), "en") == "by the cron line */5 * * * *"
    with pytest.raises(UserError, match="no day"):
        parse("weekly 08:00")
    for bad in ("weekly fri 25:00", "weekly sun 8", "monthly 32 08:00", "monthly second-day 08:00"):
        with pytest.raises(UserError) as refused:
            parse(bad)
        assert refused.value.key == "schedule.when" and bad in refused.value.message
        assert "monthly first-working-day 08:00" in refused.value.text("fa")


def test_the_first_working_day_of_a_jalali_month_skips_nowruz_and_fridays() -> None:
    rule = parse("monthly first-working-day 08:00")
    assert words(rule, "fa") == "نخستین روز کاری هر ماه، ساعت ۰۸:۰۰"
    assert words(rule, "en") == "on the first working day of each Jalali month at 08:00"
    # from 29 Esfand 1403: Farvardin 1-4 are Nowruz: the next is Tuesday 5 Farvardin 1404
    assert rule.upcoming(_tehran(2025, 3, 19, 12, 0), TEHRAN) == _tehran(2025, 3, 25, 8, 0)
    # 1401: 5 Farvardin was a Friday, so Saturday 6 Farvardin
    assert rule.upcoming(_tehran(2022, 3, 20, 12, 0), TEHRAN) == _tehran(2022, 3, 26, 8, 0)
    # on 5 Farvardin 1404 at 07:59 Tehran time (04:29 UTC) it is still to come; at 08:00 it is due
    assert rule.latest(_tehran(2025, 3, 25, 7, 59), TEHRAN, _tehran(2025, 3, 20, 0, 0)) is None
    due = _tehran(2025, 3, 25, 8, 0).astimezone(dt.UTC)
    assert rule.latest(due, TEHRAN, _tehran(2025, 3, 20, 0, 0)) == _tehran(2025, 3, 25, 8, 0)
    # Farvardin 12 and 13 are holidays too, but never the first working day; the month after is plain:
    # Monday 1 Ordibehesht 1404
    assert rule.upcoming(_tehran(2025, 3, 25, 9, 0), TEHRAN) == _tehran(2025, 4, 21, 8, 0)


def test_the_last_working_day_and_day_30_around_esfand_29_and_30() -> None:
    last, day30 = parse("monthly last-working-day 17:00"), parse("monthly 30 08:00")
    assert words(last, "fa") == "آخرین روز کاری هر ماه، ساعت ۱۷:۰۰"
    # 1403 is a leap year: Esfand has 30 days, and 29 (oil nationalisation) and 30 are holidays
    assert last.upcoming(_tehran(2025, 3, 1, 0, 0), TEHRAN) == _tehran(2025, 3, 18, 17, 0)  # 28 Esfand 1403
    assert day30.upcoming(_tehran(2025, 3, 1, 0, 0), TEHRAN) == _tehran(2025, 3, 20, 8, 0)  # 30 Esfand 1403
    # 1402: 29 days, so day 30 is 29 Esfand
    assert day30.upcoming(_tehran(2024, 3, 1, 0, 0), TEHRAN) == _tehran(2024, 3, 19, 8, 0)
    # 1405: 28 Esfand is a Friday: the 27th
    assert last.upcoming(_tehran(2027, 3, 1, 0, 0), TEHRAN) == _tehran(2027, 3, 18, 17, 0)
    # what a run on 28 Esfand 1403 reports
    assert period_of("last_month", dt.date(2025, 3, 18), "jalali") == "1403-11"
    assert period_of("month_to_date", dt.date(2025, 3, 18), "jalali") == "1403-12-01..1403-12-27"


# -- running -----------------------------------------------------------------------------------------------
def _hook(endpoint: str, **extra: object) -> dict[str, object]:
    job = {"name": "monthly", "when": "monthly first-working-day 08:00", "period": "last_month", "formats": ["xlsx"]}
    return job | {"kpis": ["revenue"], "recipients": [endpoint + "/hook"]} | extra


def test_a_monthly_run_missed_while_the_runner_was_down_runs_once_on_start(
    ws: Workspace, clean: None, endpoint: str
) -> None:
    _toml(ws, _hook(endpoint))
    ran = run_due(ws, _tehran(2025, 3, 25, 8, 1).astimezone(dt.UTC), env=ENV)
    assert [(r.planned, r.period, r.status) for r in ran] == [(_tehran(2025, 3, 25, 8, 0), "1403-12", "ok")]
    # down until 12 Khordad 1404: the first working days of Ordibehesht and Khordad were missed
    later = _tehran(2025, 6, 2, 10, 0).astimezone(dt.UTC)
    again = run_due(ws, later, env=ENV)
    assert [(r.planned, r.period) for r in again] == [(_tehran(2025, 5, 22, 8, 0), "1404-02")]  # 1 Khordad, once
    assert run_due(ws, later + dt.timedelta(minutes=1), env=ENV) == []
    log = runs(ws, "monthly")
    assert [(r["period"], r["status"]) for r in log] == [("1404-02", "ok"), ("1403-12", "ok")]
    assert log[0]["planned"] == dt.datetime(2025, 5, 22, 4, 30)  # UTC
    sent = [json.loads(body)["attachments"][0]["filename"] for path, _, body in Endpoint.seen if path == "/hook"]
    assert sent == ["monthly-1403-12.xlsx", "monthly-1404-02.xlsx"]


def test_two_runners_racing_for_one_run_run_it_once(ws: Workspace, clean: None, endpoint: str) -> None:
    """Two runners in threads, each on its own connection to the warehouse (as two servers of one
    PostgreSQL warehouse, or a server and a scheduler), both seeing the schedule saved on the page
    due: the warehouse's unique (job, planned) lets one of them run it."""
    save(ws, _hook(endpoint, name="race", when="weekly sat 08:00"), user="admin", now=_tehran(2025, 3, 1, 0, 0))
    other = Workspace.open(ws.root)
    other.clock = ws.clock
    fake = _tehran(2025, 3, 22, 8, 0, 20).astimezone(dt.UTC)
    heard: list[Ran] = []

    def clock() -> dt.datetime:
        return fake

    both_saw_it_due = threading.Barrier(2, timeout=60)
    entered: collections.Counter[int] = collections.Counter()

    @contextlib.contextmanager
    def in_step() -> Iterator[None]:
        """A runner's warehouse lock that makes the race sure: its 1st entry reads what is due, its
        2nd claims the run, and neither claims before both have read it due."""
        entered[threading.get_ident()] += 1
        if entered[threading.get_ident()] == 2:
            both_saw_it_due.wait()
        yield

    runners = [Runner(w, every=0.05, lock=in_step, clock=clock, env=ENV, on_ran=heard.append) for w in (ws, other)]
    try:
        for r in runners:
            r.start()
        deadline = time.monotonic() + 120
        while not heard and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # several more looks each
        assert all(r.alive for r in runners)
    finally:
        for r in runners:
            r.stop()
        other.close()
    assert not any(r.alive for r in runners)
    assert [(r.job, r.planned) for r in heard] == [("race", _tehran(2025, 3, 22, 8, 0))]
    assert [r["status"] for r in runs(ws, "race")] == ["ok"]
    assert not both_saw_it_due.broken and len(entered) == 2  # both claimed; the warehouse let one win
    assert sum(1 for path, _, _ in Endpoint.seen if path == "/hook") == 1


# -- the page's schedules over sanjeh.toml -------------------------------------------------------------------
def test_a_schedule_saved_on_the_page_takes_the_place_of_the_toml_one_and_an_unchanged_save_writes_nothing(
    ws: Workspace, clean: None
) -> None:
    bale = {"kind": "bale", "chat_id": "42", "token_env": "BALE_TOKEN"}
    written = {"name": "weekly", "cron": "0 8 * * 6", "formats": ["pdf", "xlsx"], "kpis": ["win_rate", "revenue"]}
    _toml(ws, written | {"recipients": ["ceo@example.com"], "to": [bale]})
    (d,) = declared(ws)
    assert (d.source, d.over_toml, d.error) == ("toml", False, None) and d.schedule is not None
    at = _tehran(2025, 4, 1, 9, 0)
    # the form says what the file says (formats and KPIs in its own order): nothing is written
    form = {"name": "weekly", "when": "0 8 * * 6", "formats": ["xlsx", "pdf"], "kpis": ["revenue", "win_rate"]}
    form |= {"recipients": "ceo@example.com\n", "to": [bale]}
    assert save(ws, form, user="manager", now=at, replacing="weekly") is False
    assert ws.warehouse.fetch("SELECT count(*) FROM _schedules")[0][0] == 0
    # a change: a row in the warehouse takes the toml's place
    changed = form | {"when": "weekly sat,tue 09:00", "recipients": "ceo@example.com\nbale:-100200"}
    assert save(ws, changed, user="manager", now=at, replacing="weekly") is True
    (d,) = declared(ws)
    assert (d.source, d.over_toml, d.changed_by, d.changed_at) == (
        "page",
        True,
        "manager",
        dt.datetime(2025, 4, 1, 5, 30),
    )
    assert d.schedule is not None and d.schedule.when.text == "weekly sat,tue 09:00"
    assert d.schedule.kpis == ("win_rate", "revenue") and [who(x) for x in d.schedule.to] == ["bale:42"]
    assert d.schedule.recipients == ("ceo@example.com", "bale:-100200")
    assert save(ws, changed, user="admin", now=at + dt.timedelta(days=1), replacing="weekly") is False
    assert declared(ws)[0].changed_by == "manager"  # untouched
    # renamed: the toml's schedule is marked deleted, the new name is the page's own
    assert save(ws, changed | {"name": "Saturdays"}, user="admin", now=at, replacing="weekly") is True
    assert [(x.name, x.source, x.over_toml) for x in declared(ws)] == [("Saturdays", "page", False)]
    remove(ws, "Saturdays", user="admin", now=at)
    assert declared(ws) == [] and ws.warehouse.fetch("SELECT name, definition FROM _schedules") == [("weekly", None)]
    # mistakes are refused before anything is written, naming the schedule, in both languages
    kpis = ["revenue", "win_rate"]
    for change, key, word in (
        ({"kpis": ["revenu"]}, "query.unknown_kpi", "revenu"),
        ({"when": "every saturday"}, "schedule.when", "every saturday"),
        ({"when": "0 25 * * *"}, "schedule.cron", "0 25 * * *"),
        ({"recipients": "", "to": []}, "schedule.no_recipients", "new"),
        ({"recipients": "ceo at example"}, "deliver.recipient", "ceo at example"),
        ({"zone": "Tehran"}, "schedule.zone", "Tehran"),
        ({"lang": "de"}, "schedule.lang", "de"),
    ):
        with pytest.raises(UserError) as refused:
            save(ws, form | {"name": "new"} | change, user="admin", now=at, kpis=kpis)
        assert refused.value.key == "schedule.invalid" and refused.value.__cause__ is not None
        assert getattr(refused.value.__cause__, "key", None) == key
        assert "schedule 'new'" in refused.value.message and word in refused.value.message
        fa = plain(refused.value.text("fa"))
        assert fa.startswith("زمان‌بندی «new»") and word in fa
    assert save(ws, form | {"name": "other"}, user="admin", now=at) is True
    with pytest.raises(UserError, match="already"):
        save(ws, form | {"name": "other", "when": "daily 10:00"}, user="admin", now=at)
    assert ws.warehouse.fetch("SELECT count(*) FROM _schedules WHERE name = 'new'")[0][0] == 0


def test_a_schedule_of_the_toml_with_a_mistake_is_listed_with_it_and_left_out_by_the_runner(
    ws: Workspace, clean: None, endpoint: str
) -> None:
    _toml(ws, _hook(endpoint), {"name": "broken", "when": "monthly 32 08:00", "recipients": ["a@b.c"]})
    found = {d.name: d for d in declared(ws)}
    assert found["monthly"].error is None and found["broken"].schedule is None
    assert found["broken"].error is not None and "monthly 32 08:00" in found["broken"].error.text("fa")
    heard: list[str] = []
    ran = run_due(ws, _tehran(2025, 3, 25, 8, 1), env=ENV, on_invalid=lambda d: heard.append(d.name))
    assert [r.job for r in ran] == ["monthly"] and heard == ["broken"]
    with pytest.raises(UserError, match="broken"):
        schedule(found["broken"].raw)


def test_sanjeh_runs_in_the_workspace_s_calendar_and_digits(
    ws: Workspace, clean: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # a table line per run
    planned, started = _tehran(2025, 3, 25, 8, 0), _tehran(2025, 3, 25, 8, 0, 20)
    assert claim(ws, "monthly", planned, "1403-12", started)
    why = "could not deliver to webhook https://hooks.example.com/s after 4 tries: HTTP 503"
    finish(ws, "monthly", planned, "failed", why, "https://hooks.example.com/s", started + dt.timedelta(seconds=9))
    assert claim(ws, "weekly", _tehran(2025, 3, 22, 8, 0), "1404-W01", started)  # still running
    assert main(["runs", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert "۵ فروردین ۱۴۰۴، ساعت ۰۸:۰۰" in out and "اسفند ۱۴۰۳" in out and "ناکام ماند" in out
    assert "503" in out and "https://hooks.example.com/s" in out and "هفتهٔ ۱ سال ۱۴۰۴" in out and "در حال اجرا" in out
    assert main(["runs", "-w", str(ws.root), "--format", "json", "--job", "monthly"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["planned"] == "2025-03-25T04:30:00+00:00" and row["status"] == "failed" and row["period"] == "1403-12"
    assert main(["runs", "-w", str(ws.root), "--status", "broken"]) == 2
    err = capsys.readouterr().err
    assert "broken" in err and "running" in err and "وضعیت" in err


def test_the_page_s_rows_and_the_claim_on_duckdb_and_postgresql(any_workspace: Workspace) -> None:
    """What the page writes and the runner's claim, on each warehouse that may hold them."""
    ws = any_workspace
    _toml(ws, {"name": "weekly", "when": "weekly sat 08:00", "recipients": ["ceo@example.com"]})
    at = _tehran(2025, 4, 1, 9, 0)
    job = {"name": "monthly", "when": "monthly last-working-day 17:00", "recipients": "bale:42"}
    assert save(ws, job, user="admin", now=at) is True
    assert save(ws, job, user="admin", now=at, replacing="monthly") is False
    remove(ws, "weekly", user="admin", now=at)  # the toml's: a row says it is deleted
    assert [(d.name, d.source) for d in declared(ws)] == [("monthly", "page")]
    planned = _tehran(2025, 3, 18, 17, 0)
    assert claim(ws, "monthly", planned, "1403-11", at) is True
    assert claim(ws, "monthly", planned, "1403-11", at) is False
    finish(ws, "monthly", planned, "ok", "", "bale:42", at + dt.timedelta(seconds=5))
    (row,) = runs(ws)
    assert (row["status"], row["planned"], row["recipients"]) == ("ok", dt.datetime(2025, 3, 18, 13, 30), "bale:42")
