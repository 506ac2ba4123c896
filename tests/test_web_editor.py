"""The targets editor, drill-through pages and the users page over real HTTP (the pages'
behaviour; test_web_browser_editor.py drives them in chromium)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from sanjeh.targets import read_changes, read_targets, replace_targets
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.conftest import FIXED_TODAY
from tests.test_web_support import PASSWORD, Served, build_demo_workspace, serve, shared_demo_server


class FormFields(HTMLParser):
    """The fields a browser would submit from the form ``form_id`` (selected options, checked boxes
    and radios)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.first: str | None = None
        self.chosen: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.first, self.chosen = a.get("name"), None, None
        elif tag == "option" and self.select:
            if self.first is None:
                self.first = a.get("value", "")
            if "selected" in a:
                self.chosen = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select and self.inside:
            self.fields.append((self.select, self.chosen if self.chosen is not None else (self.first or "")))
            self.select = None
        if tag == "form":
            self.inside = False


def form_of(html: str, form_id: str = "targets-form") -> list[tuple[str, str]]:
    p = FormFields(form_id)
    p.feed(html)
    assert p.fields, f"no form {form_id}"
    return p.fields


def post_form(c: httpx.Client, url: str, fields: list[tuple[str, str]]) -> httpx.Response:
    return c.post(url, content=urlencode(fields), headers={"content-type": "application/x-www-form-urlencoded"})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Served]:
    """A demo workspace of this test's own (the tests here change targets and users)."""
    ws = build_demo_workspace(tmp_path / "ws")
    add_user(ws, "lead", "manager", password=PASSWORD, team="Center")
    with serve(ws) as s:
        yield s
    ws.close()


def test_saving_every_page_unchanged_changes_nothing(demo: Served) -> None:
    """The round trip: load each page of the editor, save it as it is; no stored value moves and the
    audit records nothing (values are shown exactly, with separators, in fa and en)."""
    before = read_targets(demo.ws)
    assert len(before) > 100
    with demo.browser_session("manager") as (c, _):
        for lang in ("fa", "en"):
            page, pages = 1, 1
            while page <= pages:
                html = c.get("/targets", params={"page": page, "lang": lang}).text
                listed = re.findall(
                    r'href="/targets\?[^"]*page=(\d+)" class="chip', html.split('id="targets-tools"')[0]
                )
                pages = max(int(n) for n in listed)
                r = post_form(c, f"/targets?lang={lang}", form_of(html))
                assert r.status_code == 303, r.text[-2000:]
                assert "added=0&changed=0&deleted=0" in r.headers["location"]
                page += 1
            assert pages >= 5
        assert "2.95608e" not in html and "e+" not in html  # no %g
    assert read_targets(demo.ws) == before
    assert read_changes(demo.ws)[1] == 0


def test_editing_one_value_changes_one_row_and_is_audited(demo: Served) -> None:
    before = {(r["kpi"], r["period"], r["member"]): r["target"] for r in read_targets(demo.ws)}
    with demo.browser_session("manager") as (c, _):
        html = c.get("/targets", params={"kpi": "revenue", "q": "1403"}).text
        fields = form_of(html)
        first = next(v for k, v in fields if k == "r0.target")
        assert re.fullmatch(r"[۰-۹٬]+", first)  # Persian digits and separators, every digit
        fields = [(k, "۱٬۲۳۴٬۵۶۷٬۸۹۰" if k == "r0.target" else v) for k, v in fields]
        r = post_form(c, "/targets", fields)
        assert r.status_code == 303 and "changed=1" in r.headers["location"]
        page = c.get(r.headers["location"]).text
        assert 'id="targets-done"' in page
        audit = page.split('id="audit"')[1]
        assert "manager" in audit and "۱٬۲۳۴٬۵۶۷٬۸۹۰" in audit  # who and the new value, on the page
        # when, in the workspace's time zone (as the data page says an import's time), not the server's
        from zoneinfo import ZoneInfo

        from sanjeh.i18n import digits

        zone = ZoneInfo(demo.ws.settings.timezone)
        now = dt.datetime.now(dt.UTC).astimezone(zone)
        hours = {digits(t.strftime("%H:%M"), "fa") for t in (now, now - dt.timedelta(minutes=1))}
        assert any(h in audit.split("</table>")[0] for h in hours), (hours, audit[:400])
    after = {(r["kpi"], r["period"], r["member"]): r["target"] for r in read_targets(demo.ws)}
    changed = {k for k in after if after[k] != before.get(k)}
    assert len(changed) == 1 and after[changed.pop()] == 1234567890.0
    (one,), total = read_changes(demo.ws)
    assert total == 1 and (one["action"], one["username"], one["via"]) == ("change", "manager", "editor")


def test_errors_are_shown_next_to_their_rows_in_the_users_language(demo: Served) -> None:
    with demo.browser_session("manager") as (c, _):
        html = c.get("/targets", params={"kpi": "revenue"}).text
        fields = form_of(html)
        n = int(dict(fields)["n"])
        new = n - 1  # the blank row at the end
        fields = [(k, "-5" if k == "r1.target" else v) for k, v in fields]
        fields = [
            (k, {"target": "۱۰۰", "dimension": "region", "member": ""}.get(k.split(".")[1], v))
            if k.startswith(f"r{new}.")
            else (k, v)
            for k, v in fields
        ]
        for lang, negative, member in (
            ("fa", "هدف نمی‌تواند منفی باشد", "نام را بنویسید"),
            ("en", "A target cannot be negative", "Type a name"),
        ):
            r = post_form(c, f"/targets?lang={lang}", fields)
            assert r.status_code == 422
            rows = dict(re.findall(r'data-row-errors="(\d+)"><td colspan="7"><ul><li>([^<]+)', r.text))
            assert negative in rows["1"] and member in rows[str(new)]
            assert 'value="-5"' in r.text  # what was typed stays in the form
        # a decimal comma («۴۲,۵» was saved as 425) and a 17th digit are refused, in the reader's words
        typed = {"r1.target": "۴۲,۵", "r2.target": "9007199254740993"}
        r = post_form(c, "/targets", [(k, typed.get(k, v)) for k, v in fields])
        assert r.status_code == 422
        rows = dict(re.findall(r'data-row-errors="(\d+)"><td colspan="7"><ul><li>([^<]+)', r.text))
        assert "ممیز را با «٫» (یا نقطه) بنویسید" in rows["1"] and "رقم‌های معنادارِ بیشتری" in rows["2"]
        # a win rate typed as 120 (%) can never be met: refused beside its row, what was typed kept
        win = form_of(c.get("/targets", params={"kpi": "win_rate"}).text)
        r = post_form(c, "/targets", [(k, "۱۲۰" if k == "r1.target" else v) for k, v in win])
        assert r.status_code == 422
        rows = dict(re.findall(r'data-row-errors="(\d+)"><td colspan="7"><ul><li>([^<]+)', r.text))
        assert "هدفی بیش از ۱۰۰٪ هرگز برآورده نمی‌شود" in rows["1"] and 'value="۱۲۰"' in r.text
        # the refused page is still the win rate's (it came back as every KPI's: a copy next would copy them all)
        select = r.text.split('id="targets-kpi"')[1].split("</select>")[0]
        assert re.search(r'value="win_rate"\s+selected', select), select[:300]
        assert 'name="back" value="/targets?kpi=win_rate' in r.text
    assert read_changes(demo.ws)[1] == 0


def test_add_copy_and_spread_through_the_page(demo: Served) -> None:
    with demo.browser_session("manager") as (c, csrf):
        fields = [
            ("csrf_token", csrf),
            ("n", "1"),
            ("r0.key", ""),
            ("r0.kpi", "calls_per_rep"),
            ("r0.measure", "calls"),
            ("r0.year", "1405"),
            ("r0.part", ""),
            ("r0.period", ""),
            ("r0.dimension", "rep"),
            ("r0.member", ""),
            ("r0.target", "1,200"),
        ]
        reps = demo.ws.warehouse.table("reps").to_pyarrow().to_pylist()
        name = next(r["name"] for r in reps if r["rep_id"] == "R03")
        fields[-2] = ("r0.member", name)  # a rep chosen by name
        r = post_form(c, "/targets", fields)
        assert r.status_code == 303
        # the message says what happened, not «۰ هدف حذف شد»
        done = c.get(r.headers["location"]).text
        assert "ذخیره شد: ۱ هدف افزوده شد." in done and "۰" not in done.split("ذخیره شد:")[1].split(".")[0]
        added = [r for r in read_targets(demo.ws) if r["period"] == "1405"]
        assert [(r["member"], r["target"]) for r in added] == [("R03", 1200.0)]
        html = c.get("/targets", params={"q": "1405"}).text
        key = next(v for k, v in form_of(html) if k == "r0.key")
        r = post_form(c, "/targets/spread", [*form_of(html), ("spread", key)])
        assert r.status_code == 303 and "done=spread" in r.headers["location"]
        months = [r for r in read_targets(demo.ws) if r["period"].startswith("1405-")]
        assert len(months) == 12 and sum(m["target"] for m in months) == 1200.0
        copy = [("csrf_token", csrf), ("from_year", "1405"), ("to_year", "1406"), ("factor", "۱٫۵"), ("kpi", "")]
        r = post_form(c, "/targets/copy", copy)
        assert r.status_code == 303 and "added=13" in r.headers["location"]
        assert "رونوشت گرفته شد: ۱۳ هدف افزوده شد." in c.get(r.headers["location"]).text
        again = c.get(post_form(c, "/targets/copy", copy).headers["location"]).text
        assert "رونوشت گرفته شد: ۰ هدف افزوده شد؛ ۱۳ هدف که از پیش تعیین شده بود دست نخورد." in again
        assert sum(r["target"] for r in read_targets(demo.ws) if r["period"] == "1406") == 1800.0
        r = post_form(c, "/targets/copy?lang=en", [*copy[:2], ("to_year", "1405"), ("factor", "x")])
        assert r.status_code == 400 and "The factor must be a number" in r.text
    vias = {a["via"] for a in read_changes(demo.ws, limit=100)[0]}
    assert vias == {"editor", "spread", "copy"}


def test_a_rep_reads_their_own_targets_and_changes_none(demo: Served) -> None:
    with demo.browser_session("rep2") as (c, csrf):
        page = c.get("/targets?lang=en").text
        assert 'id="targets-form"' not in page
        table = page.split('id="targets-read"')[1].split("</table>")[0]
        assert table.count("<tr>") >= 2
        assert "تهران" not in table  # no region targets, only their own
        assert post_form(c, "/targets", [("csrf_token", csrf), ("n", "0")]).status_code == 403
        assert post_form(c, "/targets/copy", [("csrf_token", csrf)]).status_code == 403


def test_the_targets_api_patch_and_changes(demo: Served) -> None:
    with demo.api("manager") as c:
        every = c.get("/api/v1/targets").json()
        year = next(t for t in every if t["kpi"] == "revenue" and t["period"] == "1403-Q1" and not t["dimension"])
        key = {k: year[k] for k in ("kpi", "measure", "period", "dimension", "member")}
        body = {
            "changes": [
                {"old": key, "new": {**key, "target": 1.0}},
                {"new": {"kpi": "revenue", "period": "1405", "target": 2.0}},
            ]
        }
        assert c.patch("/api/v1/targets", json=body).json() == {"added": 1, "changed": 1, "deleted": 0}
        assert c.patch("/api/v1/targets", json={"changes": [{}]}).status_code == 422
        bad = {"changes": [{"new": {"kpi": "revenue", "period": "1405", "member": "a\x00b", "target": 1}}]}
        assert c.patch("/api/v1/targets", json=bad).status_code == 422
        got = c.get("/api/v1/targets/changes", params={"limit": 5}).json()
        assert got["total"] == 2 and got["changes"][0]["username"] == "manager"
        assert {(x["action"], x["old_target"], x["new_target"]) for x in got["changes"]} == {
            ("change", year["target"], 1.0),
            ("add", None, 2.0),
        }
        # PUT keeps its contract: the whole list, replaced; only what differs is written
        now = c.get("/api/v1/targets").json()
        assert c.put("/api/v1/targets", json=now).json() == now
        assert c.get("/api/v1/targets/changes").json()["total"] == 2
        copy = c.post("/api/v1/targets/copy", json={"from_year": "1405", "to_year": "1406", "factor": 3})
        assert copy.json() == {"added": 1, "kept": 0, "skipped": 0}
        spread = c.post("/api/v1/targets/spread", json={"kpi": "revenue", "period": "1406"})
        assert spread.json() == {"added": 12, "kept": 0, "skipped": 0}
    with demo.api("rep2") as rep:
        assert rep.patch("/api/v1/targets", json=body).status_code == 403
        mine = rep.get("/api/v1/targets/changes").json()
        assert all(x["member"] == "R02" for x in mine["changes"])


# -- drill-through ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return shared_demo_server(tmp_path_factory.getbasetemp())


def test_the_rows_page_lists_names_money_and_jalali_days(shared: Served) -> None:
    with shared.browser_session("manager") as (c, _):
        kpi = c.get("/kpi/revenue", params={"period": "1403-Q4", "grain": "month"}).text
        assert 'id="drill-rows"' in kpi and 'id="drill-rows-urls"' in kpi
        urls = re.search(r'<script type="application/json" id="drill-rows-urls">(.*?)</script>', kpi, re.S)
        assert urls and "/kpi/revenue/rows?period=1403-10" in urls.group(1)
        page = c.get("/kpi/revenue/rows", params={"period": "1403-10", "filter": "region:تهران"}).text
        table = page.split('id="rows-table"')[1].split("</table>")[0]
        assert "دی ۱۴۰۳" in table and "ریال" in table and "تهران" in table
        reps = shared.ws.warehouse.table("reps").to_pyarrow().to_pylist()
        assert any(r["name"] in table for r in reps)  # names, not ids
        assert re.search(r'id="rows-sum">[^<]*جمع مبلغ: [۰-۹٬]+ ریال', page)
        en = c.get("/kpi/revenue/rows", params={"period": "1403-10", "filter": "region:تهران", "lang": "en"}).text
        assert "Dey 1403" in en and "IRR" in en and "Back to Revenue" in en
        csv_text = c.get("/kpi/revenue/rows.csv", params={"period": "1403-10", "filter": "region:تهران"}).text
        rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
        api = c.get("/api/v1/kpis/revenue/rows", params={"period": "1403-10", "filter": "region:تهران"}).json()
        assert len(rows) == api["total"] and rows[0]["day_jalali"].startswith("1403-10-")
        assert abs(sum(float(r["net_amount"]) for r in rows) - api["value_sum"]) < 1e-3
        assert {r["currency"] for r in rows} == {"IRR"}
        many = c.get("/kpi/revenue/rows", params={"period": "1403"}).text
        assert 'id="rows-next"' in many and many.count("<tr>") == 51  # 50 a page, and the header
        second = c.get("/kpi/revenue/rows", params={"period": "1403", "page": 2}).text
        assert 'id="rows-prev"' in second


def test_a_rep_drills_into_their_own_rows_only(shared: Served) -> None:
    with shared.api("rep2") as rep, shared.api("admin") as admin:
        mine = rep.get("/api/v1/kpis/revenue/rows", params={"period": "1403", "limit": 500}).json()
        assert mine["total"] > 0 and {r["rep"] for r in mine["rows"]} == {"R02"}
        every = admin.get("/api/v1/kpis/revenue/rows", params={"period": "1403", "limit": 1}).json()
        assert every["total"] > mine["total"]
        r = rep.get("/api/v1/kpis/revenue/rows", params={"period": "1403", "filter": "rep:R05"})
        assert r.status_code == 403
        assert rep.get("/kpi/revenue/rows.csv", params={"period": "1403", "filter": "rep:R05"}).status_code == 403
        assert admin.get("/api/v1/kpis/revenue/rows", params={"period": "1403", "limit": 0}).status_code == 422
        assert admin.get("/api/v1/kpis/nothing/rows").status_code == 404


# -- users ----------------------------------------------------------------------------------------
def test_admins_manage_users_on_the_page(demo: Served) -> None:
    with demo.browser_session("admin") as (c, csrf):
        page = c.get("/users").text
        assert 'data-user="lead"' in page and "فقط تیم Center" in page
        assert post_form(c, "/users/rep5/password", [("password", "new-password-1")]).status_code == 403  # no CSRF
        r = post_form(c, "/users/rep5/password", [("csrf_token", csrf), ("password", "new-password-1")])
        assert r.status_code == 303 and "done=password" in r.headers["location"]
        assert "گذرواژهٔ rep5 تغییر کرد" in c.get(r.headers["location"]).text
        demo.token("rep5", "new-password-1")
        r = post_form(c, "/users/lead/role", [("csrf_token", csrf), ("role", "manager"), ("team", "South")])
        assert r.status_code == 303
        assert post_form(c, "/users/rep5/disable", [("csrf_token", csrf)]).status_code == 303
        with demo.client() as anon:
            data = {"username": "rep5", "password": "new-password-1"}
            assert anon.post("/api/v1/auth/token", data=data).status_code == 401
        r = post_form(c, "/users/rep2/remove?lang=en", [("csrf_token", csrf)])
        assert r.status_code == 400 and "I am sure" in r.text  # the box must be ticked
        assert post_form(c, "/users/rep2/remove", [("csrf_token", csrf), ("confirm", "1")]).status_code == 303
        r = post_form(c, "/users/admin/disable?lang=en", [("csrf_token", csrf)])
        assert r.status_code == 400 and "your own user" in r.text
        r = post_form(c, "/users/ghost/password?lang=en", [("csrf_token", csrf), ("password", "long-enough-2")])
        assert r.status_code == 404 and "no such user" in r.text
        # the add form chooses no role for you (it offered «مدیر سامانه» first, so a hurried add made an admin)
        add_form = page.split('id="user-form"')[1]
        assert '<option value="" disabled selected>' in add_form and 'value="admin" selected' not in add_form
        r = post_form(c, "/users", [("csrf_token", csrf), ("username", "nobody"), ("password", "long-enough-4")])
        assert r.status_code == 400 and "نقش کاربر را برگزینید" in r.text
        # a refused form keeps what was typed (never the password): an unknown rep id, then a short password
        typed = [("username", "neda"), ("role", "rep"), ("rep_id", "R99"), ("team", ""), ("language", "en")]
        r = post_form(c, "/users", [("csrf_token", csrf), *typed, ("password", "long-enough-3")])
        assert r.status_code == 400 and 'id="users-error"' in r.text
        add = r.text.split('id="user-form"')[1]
        assert 'value="neda"' in add and 'value="R99"' in add and "long-enough-3" not in r.text
        assert '<option value="rep" selected>' in add and '<option value="en" selected>' in add
        r = post_form(c, "/users/lead/role", [("csrf_token", csrf), ("role", "rep"), ("rep_id", "R98"), ("team", "")])
        assert r.status_code == 400
        assert '<a href="/users" class="active">' in r.text  # the page shown at /users/lead/role is still Users
        lead = r.text.split('data-user="lead"')[1].split("</tr>")[0]
        assert '<details class="user-manage" open>' in lead and 'value="R98"' in lead
        assert '<details class="user-manage" open>' not in r.text.split('data-user="lead"')[0]
    names = {u["username"]: u for u in httpx.get(f"{demo.url}/api/v1/users", headers=_bearer(demo)).json()}
    assert "rep2" not in names and names["rep5"]["disabled"] and names["lead"]["team"] == "South"
    with demo.browser_session("manager") as (m, csrf):
        assert post_form(m, "/users/rep5/password", [("csrf_token", csrf), ("password", "x" * 9)]).status_code == 403


def _bearer(s: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {s.token('admin')}"}


def test_the_users_api(demo: Served) -> None:
    with demo.api("admin") as c:
        assert c.patch("/api/v1/users/lead", json={"role": "manager", "team": "East"}).json()["team"] == "East"
        assert c.put("/api/v1/users/rep5/password", json={"password": "another-one-1"}).status_code == 200
        assert c.post("/api/v1/users/rep5/disable").json()["disabled"] is True
        assert c.delete("/api/v1/users/rep5").status_code == 204
        assert c.delete("/api/v1/users/admin").status_code == 400
        assert c.patch("/api/v1/users/admin", json={"role": "rep", "rep_id": "R01"}).status_code == 400
        assert c.patch("/api/v1/users/ghost", json={"role": "admin"}).status_code == 404
        assert c.patch("/api/v1/users/lead", json={"role": "rep", "team": "East"}).status_code == 400
    with demo.api("manager") as m:
        assert m.delete("/api/v1/users/lead").status_code == 403


def test_a_toman_workspace_round_trips_odd_rials(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", money_unit="toman")
    ws.clock = lambda: FIXED_TODAY
    add_user(ws, "manager", "manager", password=PASSWORD)
    rows = [
        {"kpi": "revenue", "period": "1403", "target": 12345.0},  # 1,234.5 toman
        {"kpi": "revenue", "period": "1403-Q1", "target": 2956080000001.0},
        {"kpi": "win_rate", "period": "1403", "target": 0.333333333333},
    ]
    replace_targets(ws, rows)
    before, audited = read_targets(ws), read_changes(ws)[1]
    with serve(ws) as s, s.browser_session("manager") as (c, _):
        html = c.get("/targets?lang=en").text
        values = [v for k, v in form_of(html) if k.endswith(".target") and v]
        assert values == ["1,234.5", "295,608,000,000.1", "33.3333333333"]
        assert "toman" in html
        r = post_form(c, "/targets", form_of(html))
        assert "added=0&changed=0&deleted=0" in r.headers["location"]
    assert read_targets(ws) == before
    assert read_changes(ws)[1] == audited == 3  # the three rows added above, and nothing since
    ws.close()


def test_a_page_seen_again_is_served_as_rendered_until_what_it_shows_changes(demo: Served) -> None:
    """The scorecard, a KPI page and the reps page are rendered once per URL, user and session
    (web/state.py ``AppState.page``): a view seen again is the same page, not rendered again; a
    target saved shows on the next view; a rep never gets the manager's page; a session that
    logged out is sent to log in, not served what it saw."""
    from sanjeh.web.auth import SESSION_COOKIE
    from sanjeh.web.state import AppState

    st = demo.app.state.sanjeh  # type: ignore[attr-defined]
    assert isinstance(st, AppState)
    with demo.browser_session("manager") as (c, csrf):
        first = c.get("/", params={"period": "1403-Q1"})
        n = st.rendered
        again = c.get("/", params={"period": "1403-Q1"})
        assert again.status_code == 200 and again.text == first.text and st.rendered == n
        assert again.headers["cache-control"] == "no-store" and again.headers["content-security-policy"]
        assert "Revenue" in c.get("/", params={"period": "1403-Q1", "lang": "en"}).text
        assert st.rendered == n + 1  # another URL: another page
        for path in ("/kpi/revenue?period=1403-Q1", "/reps?period=1403-Q1"):
            seen = c.get(path).text
            rendered = st.rendered
            assert c.get(path).text == seen and st.rendered == rendered
        bad = c.get("/kpi/revenue", params={"grain": "fortnight"})  # a 422 is never kept
        rendered = st.rendered
        assert bad.status_code == 422 and c.get("/kpi/revenue", params={"grain": "fortnight"}).status_code == 422
        assert st.rendered == rendered + 1
        with demo.api("manager") as api:  # a target saved by anyone: the next view is the new page
            every = api.get("/api/v1/targets").json()
            row = next(t for t in every if t["kpi"] == "revenue" and t["period"] == "1403-Q1" and not t["dimension"])
            key = {k: row[k] for k in ("kpi", "measure", "period", "dimension", "member")}
            r = api.patch("/api/v1/targets", json={"changes": [{"old": key, "new": {**key, "target": 1.0}}]})
            assert r.status_code == 200, r.text
        after = c.get("/", params={"period": "1403-Q1"})
        assert after.text != first.text and st.rendered == rendered + 2
        with demo.browser_session("rep2") as (rep, _):
            theirs = rep.get("/", params={"period": "1403-Q1"})
            assert theirs.status_code == 200 and theirs.text != after.text
        sid = c.cookies.get(SESSION_COOKIE)
        assert sid and c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with demo.client() as old:  # the closed session's cookie, sent again
        old.cookies.set(SESSION_COOKIE, sid)
        gone = old.get("/", params={"period": "1403-Q1"})
        assert gone.status_code in (302, 303, 307) and "/login" in gone.headers["location"]
