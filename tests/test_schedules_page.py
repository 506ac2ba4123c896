"""The Schedules page and the run log (web/schedules_page.py), and the schedules run by ``sanjeh serve``.

Real parts: the app served by uvicorn on a demo workspace (real DuckDB), a manager's browser
session (its cookie and CSRF token), a real SMTP server (aiosmtpd) and a local bot API receiving
what a schedule set on the page sends at its Tehran time; ``sanjeh serve`` in a process of its
own running a due schedule (and, with ``--no-scheduler``, not); one Persian form filled in
chromium.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sanjeh.i18n import plain
from sanjeh.reports.runner import run_due
from sanjeh.reports.schedule import declared, save
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.receivers import TOKEN, Endpoint, receiver
from tests.test_web_support import PASSWORD, Served, build_demo_workspace, free_port, serve

TEHRAN = ZoneInfo("Asia/Tehran")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws = build_demo_workspace(tmp_path_factory.mktemp("schedules-page") / "ws")
    add_user(ws, "lead", "manager", password=PASSWORD, team="Center")
    with serve(ws) as s:
        yield s
    ws.close()


@pytest.fixture
def endpoint() -> Iterator[str]:
    with receiver() as url:
        yield url


def _form(name: str, **fields: Any) -> dict[str, Any]:
    """The Schedules form as a browser posts it (a weekly schedule unless told otherwise)."""
    form: dict[str, Any] = {"name": name, "kind": "weekly", "weekdays": ["sat"], "month_day": "first-working-day"}
    form |= {"at": "۰۸:۰۰", "cron": "", "zone": "Asia/Tehran", "period": "last_week", "formats": ["pdf", "xlsx"]}
    return form | {"kpis": ["revenue"], "lang": "", "recipients": "ceo@example.com\nbale:12345"} | fields


def _row(html: str, name: str) -> str:
    found = re.search(rf'<tr data-schedule="{re.escape(name)}".*?</tr>', html, re.S)
    assert found, f"no row for {name}"
    return plain(re.sub(r"<[^>]+>", " ", found.group(0)))


def _changed_at(s: Served, name: str) -> Any:
    st = s.app.state.sanjeh  # type: ignore[attr-defined]
    return st.call(lambda ws: ws.warehouse.fetch("SELECT changed_at FROM _schedules WHERE name = ?", [name]))


def test_a_manager_adds_changes_and_deletes_a_schedule_in_persian(served: Served) -> None:
    with served.browser_session("manager") as (c, csrf):
        page = c.get("/schedules?lang=fa")
        assert page.status_code == 200 and 'id="no-schedules"' in page.text
        assert "زمان‌بندی‌ها را اجرا نمی‌کند" in page.text  # this test server runs no scheduler
        r = c.post("/schedules", data=_form("هفتگی") | {"csrf_token": csrf})
        assert r.status_code == 303 and "done=saved" in r.headers["location"]
        page = c.get(r.headers["location"])
        assert "زمان‌بندی «هفتگی» ذخیره شد." in page.text
        row = _row(page.text, "هفتگی")
        assert "هر شنبه ساعت ۰۸:۰۰" in row and "همین صفحه" in row and "هفتهٔ گذشته" in row
        assert "XLSX · PDF" in row and "درآمد" in row and "ceo@example.com" in row and "bale:12345" in row
        # who changed it is a Latin name inside a Persian sentence: isolated, so the date stays after it
        assert "تغییر به دست \u2066manager\u2069،" in page.text
        # the next run: a Saturday at 08:00, Tehran time, in Jalali words and Persian digits
        assert re.search(
            r"شنبه [۰-۹]+ (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) [۰-۹]{4}، ساعت ۰۸:۰۰",
            row,
        )
        stamp = _changed_at(served, "هفتگی")
        # the same form again (as the edit form gives it back): nothing is written
        edit = c.get("/schedules?edit=" + "هفتگی")
        assert edit.status_code == 200 and 'name="editing" value="هفتگی"' in edit.text and 'value="۰۸:۰۰"' in edit.text
        r = c.post(
            "/schedules", data=_form("هفتگی", formats=["xlsx", "pdf"]) | {"editing": "هفتگی", "csrf_token": csrf}
        )
        assert r.status_code == 303 and "done=unchanged" in r.headers["location"]
        assert _changed_at(served, "هفتگی") == stamp
        # mistakes come back with the form as it was typed and one sentence, in Persian
        for fields, words in (
            ({"kpis": ["revenue", "nope"]}, ["nope", "شاخصی به نام"]),
            ({"kind": "cron", "cron": "every day"}, ["every day", "زمان‌بندی نیست"]),
            ({"kind": "weekly", "weekdays": []}, ["weekly ۰۸:۰۰", "روزی نمی‌گوید"]),
            ({"recipients": ""}, ["دست‌کم یک گیرنده بنویسید"]),  # the name once: «… «دوم»: دوم گیرنده‌ای ندارد» was twice
            ({"recipients": "ceo at example"}, ["ceo at example", "گیرنده نیست"]),
            ({"recipients": "ali@example"}, ["ali@example", "گیرنده نیست"]),  # a domain without its ending
        ):
            r = c.post("/schedules", data=_form("دوم", **fields) | {"csrf_token": csrf})
            assert r.status_code == 400, fields
            error = plain(re.search(r'id="schedules-error">([^<]*)<', r.text).group(1))  # type: ignore[union-attr]
            assert error.startswith("زمان‌بندی «دوم»:") and all(w in error for w in words), error
            assert 'name="name" required maxlength="64" value="دوم"' in r.text
            assert error.count("دوم") == 1, error
        # a time that is none is said as a time, not as a rule the person never wrote
        r = c.post("/schedules", data=_form("دوم", at="۲۵:۷۰") | {"csrf_token": csrf})
        assert r.status_code == 400 and "ساعت «۲۵:۷۰» درست نیست" in r.text and "زمان‌بندی نیست" not in r.text
        # a change of day: saved; then deleted (the box ticked)
        r = c.post(
            "/schedules",
            data=_form("هفتگی", kind="monthly", month_day="last-working-day")
            | {"editing": "هفتگی", "csrf_token": csrf},
        )
        assert "done=saved" in r.headers["location"]
        assert "آخرین روز کاری هر ماه، ساعت ۰۸:۰۰" in _row(c.get("/schedules").text, "هفتگی")
        assert c.post("/schedules/هفتگی/delete", data={"csrf_token": csrf}).status_code == 400
        r = c.post("/schedules/هفتگی/delete", data={"csrf_token": csrf, "confirm": "1"})
        assert "done=deleted" in r.headers["location"] and 'id="no-schedules"' in c.get("/schedules").text
        # bad parameters: a 4xx with a sentence, never a 500
        assert c.get("/schedules?edit=nothing").status_code == 404
        bad = c.get("/runs?status=lost")
        assert bad.status_code == 422 and "lost" in bad.text
        assert c.post("/schedules/nothing/run", data={"csrf_token": csrf}).status_code == 404
        assert c.post("/schedules", data=_form("سوم")).status_code == 403  # no CSRF token
    for user in ("rep2", "lead"):  # a rep; a team's manager (a schedule sends the whole company's report)
        with served.browser_session(user) as (c, _):
            r = c.get("/schedules")
            assert r.status_code == 403 and c.get("/runs").status_code == 403
            if user == "lead":
                assert "مدیر یک تیم" in r.text


def test_a_schedule_set_on_the_page_reaches_the_mail_server_and_the_bot_at_its_tehran_time(
    served: Served, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.controller import Controller

    got: list[bytes] = []

    class Mailbox:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            got.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    env = {"SANJEH_SMTP_HOST": "127.0.0.1", "SANJEH_SMTP_PORT": str(port), "SANJEH_SMTP_STARTTLS": "off"}
    env |= {"SANJEH_SMTP_SENDER": "sanjeh@example.com", "SANJEH_BALE_TOKEN": TOKEN, "SANJEH_BALE_URL": endpoint}
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    st = served.app.state.sanjeh  # type: ignore[attr-defined]
    try:
        with served.browser_session("admin") as (c, csrf):
            fields = _form("ماهانه", kind="monthly", at="08:00", period="last_month", formats=["xlsx"])
            r = c.post(
                "/schedules", data=fields | {"recipients": "director@example.com\nbale:-100200", "csrf_token": csrf}
            )
            assert "done=saved" in r.headers["location"]
            assert "نخستین روز کاری هر ماه، ساعت ۰۸:۰۰" in _row(c.get("/schedules").text, "ماهانه")
            # Tuesday 5 Farvardin 1404 (Nowruz ended the day before), 08:00:20 Tehran time: due
            due = dt.datetime(2025, 3, 25, 8, 0, 20, tzinfo=TEHRAN)
            assert run_due(st.ws, due - dt.timedelta(minutes=1), env=env, lock=st.locked) == []
            ran = run_due(st.ws, due, env=env, lock=st.locked)
            assert [(r.job, r.period, r.status) for r in ran] == [("ماهانه", "1403-12", "ok")]
            assert len(got) == 1
            mail = BytesParser(policy=policy.default).parsebytes(got[0])
            assert str(mail["To"]) == "director@example.com" and "اسفند ۱۴۰۳" in str(mail["Subject"])
            assert [p.get_filename() for p in mail.iter_attachments()] == ["ماهانه-1403-12.xlsx"]
            assert [p for p, _, _ in Endpoint.seen] == [f"/bot{TOKEN}/sendMessage", f"/bot{TOKEN}/sendDocument"]
            log = c.get("/runs?lang=fa&job=ماهانه").text
            assert "سه‌شنبه ۵ فروردین ۱۴۰۴، ساعت ۰۸:۰۰" in log and "اسفند ۱۴۰۳" in log and "فرستاده شد" in log
            assert "director@example.com, bale:-100200" in log
            # "run now", in a thread of the server; the run log shows it
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            r = c.post("/schedules/ماهانه/run", data={"csrf_token": csrf})
            assert r.status_code == 303 and r.headers["location"].startswith("/runs?done=started")
            deadline = time.monotonic() + 300
            while len(got) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            while time.monotonic() < deadline and 'data-status="running"' in c.get("/runs").text:
                time.sleep(0.2)
            assert len(got) == 2 and c.get("/runs?job=ماهانه&status=ok").text.count('data-status="ok"') == 2
    finally:
        smtp.stop()
        st.call(lambda ws: ws.warehouse.execute("DELETE FROM _schedules"))


# -- sanjeh serve runs the schedules (once per server), or not --------------------------------------------
def test_sanjeh_serve_runs_a_due_schedule_and_not_with_no_scheduler(tmp_path: Path, endpoint: str) -> None:
    from tests.test_local_channel import cli, serving

    root = tmp_path / "ws"
    ws = build_demo_workspace(root, orders=300)
    now = dt.datetime.now(TEHRAN) - dt.timedelta(minutes=1)  # a minute ago: due, once
    job = {"name": "daily", "when": f"daily {now:%H:%M}", "period": "last_week", "formats": ["xlsx"]}
    save(ws, job | {"kpis": ["revenue"], "recipients": [endpoint + "/hook"]}, user="admin", now=now)
    ws.close()
    env = {"SANJEH_WEBHOOK_SECRET": "hook-signing-key"}
    with serving(root, tmp_path / "quiet.log", "--no-scheduler", **env) as server, server.api() as api:
        assert "sanjeh scheduler" in plain(api.get("/schedules?lang=en").text)
        time.sleep(3)
        code, out, err = cli("runs", "-w", str(root), "--format", "json")
        assert code == 0 and json.loads(out) == [], err
    assert not [p for p, _, _ in Endpoint.seen]
    with serving(root, tmp_path / "serve.log", **env) as server, server.api() as api:
        assert "looks every 30 seconds" in api.get("/schedules?lang=en").text
        deadline = time.monotonic() + 300
        while not Endpoint.seen and time.monotonic() < deadline:
            time.sleep(0.2)
        code, out, err = cli("runs", "-w", str(root), "--format", "json")
        while time.monotonic() < deadline and json.loads(out)[0]["status"] == "running":
            time.sleep(0.2)
            code, out, err = cli("runs", "-w", str(root), "--format", "json")
        (run,) = json.loads(out)
        assert (run["job"], run["status"], run["recipients"]) == ("daily", "ok", endpoint + "/hook")
        proc = server.proc
    assert proc.wait(timeout=60) in (0, -15) and "Traceback" not in (tmp_path / "serve.log").read_text()
    assert [p for p, _, _ in Endpoint.seen] == ["/hook"]
    with Workspace.open(root) as again:
        assert [d.name for d in declared(again)] == ["daily"]


# -- in a browser ----------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_schedule_added_on_the_persian_page_in_a_browser(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    from sanjeh.web.screenshots import CHROMIUM_ARGS
    from tests.test_web_browser import CHROMIUM, Visit

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        v = Visit(browser, served)
        try:
            v.login("manager", next_url="/schedules", lang="fa")
            page = v.page
            assert page.get_attribute("html", "dir") == "rtl"
            page.fill("input[name=name]", "گزارش ماه")
            page.select_option("#when-kind", "monthly")
            assert not page.locator("fieldset.only-weekly").is_visible()  # the form shows what the kind needs
            assert not page.locator("input[name=cron]").is_visible()
            page.select_option("select[name=month_day]", "first-working-day")
            page.fill("input[name=at]", "۰۸:۳۰")
            page.select_option("select[name=period]", "last_month")
            page.fill("textarea[name=recipients]", "ceo@example.com")
            page.click("#schedule-save")
            page.wait_for_selector("#schedules-done")
            row = page.locator('tr[data-schedule="گزارش ماه"]')
            assert plain(row.locator("td.when").inner_text()) == "نخستین روز کاری هر ماه، ساعت ۰۸:۳۰"
            assert re.search("[۰-۹]{4}، ساعت ۰۸:۳۰$", plain(row.locator("td.next").inner_text()))
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            v.shot("schedules-fa")
            assert v.outside() == [] and v.errors == []
        finally:
            v.close()
            browser.close()
            served.app.state.sanjeh.call(lambda ws: ws.warehouse.execute("DELETE FROM _schedules"))  # type: ignore[attr-defined]
