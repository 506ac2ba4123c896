"""Dashboard pages, sessions, CSRF, the login rate limit, imports and targets, over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from sanjeh.i18n import digits
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.test_web_support import PASSWORD, PERIOD, Served, csrf_of, serve, shared_demo_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return shared_demo_server(tmp_path_factory.getbasetemp())


@pytest.fixture
def empty(workspace: Workspace) -> Iterator[Served]:
    """A served empty workspace (for tests that change data), with an admin, a manager and a rep."""
    add_user(workspace, "admin", "admin", password=PASSWORD)
    add_user(workspace, "manager", "manager", password=PASSWORD)
    add_user(workspace, "rep2", "rep", "R02", password=PASSWORD)
    with serve(workspace, max_upload=64 * 1024, login_limit=3) as s:
        yield s


def figure_of(html: str, name: str = "kpi-figure") -> dict[str, object]:
    m = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.S)
    assert m, "no figure in the page"
    return dict(json.loads(m.group(1)))


# -- sessions ----------------------------------------------------------------------------------
def test_login_sets_a_safe_session_cookie(served: Served) -> None:
    with served.client() as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "/kpis"})
        assert r.status_code == 303
        assert r.headers["location"] == "/kpis"
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "sanjeh_session=" in v)
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie.replace("Lax", "lax")
        assert c.get("/kpis").status_code == 200


def test_login_refuses_a_foreign_next_url(served: Served) -> None:
    with served.client() as c:
        token = csrf_of(c.get("/login").text)
        r = c.post(
            "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "//evil.test/x"}
        )
        assert r.headers["location"] == "/"


def test_login_form_needs_its_csrf_token(served: Served) -> None:
    with served.client() as c:
        c.get("/login")
        r = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
        assert r.status_code == 403
        assert "sanjeh_session" not in r.headers.get("set-cookie", "")


def test_wrong_password_on_the_form_shows_a_message(served: Served) -> None:
    with served.client() as c:
        token = csrf_of(c.get("/login?lang=en").text)
        r = c.post("/login", data={"username": "manager", "password": "nope-nope", "csrf_token": token, "lang": "en"})
        assert r.status_code == 401
        assert "Wrong user name or password." in r.text


def test_logout_needs_csrf_and_ends_the_session(served: Served) -> None:
    with served.browser_session("manager") as (c, csrf):
        assert c.post("/logout").status_code == 403
        r = c.post("/logout", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert c.get("/kpis", follow_redirects=False).status_code == 303


def test_session_cookie_with_unsafe_api_call_needs_the_csrf_header(empty: Served) -> None:
    with empty.browser_session("manager") as (c, csrf):
        assert c.get("/api/v1/targets").status_code == 200  # reading with the cookie is fine
        r = c.put("/api/v1/targets", json=[])
        assert r.status_code == 403
        assert r.json()["error"]["details"]["reason"] == "csrf"
        assert c.put("/api/v1/targets", json=[], headers={"X-CSRF-Token": csrf}).status_code == 200


# -- rate limit ----------------------------------------------------------------------------------
def test_failed_logins_are_rate_limited(empty: Served) -> None:
    with empty.client() as c:
        for _ in range(3):
            r = c.post("/api/v1/auth/token", data={"username": "manager", "password": "bad-password"})
            assert r.status_code == 401
        r = c.post("/api/v1/auth/token", data={"username": "manager", "password": PASSWORD})
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "rate_limited"
        # the login form shares the limit
        token = csrf_of(c.get("/login?lang=en").text)
        r = c.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": token, "lang": "en"})
        assert r.status_code == 429
        assert "Too many failed attempts" in r.text
        # another user name is not blocked
        ok = c.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        assert ok.status_code == 200


# -- pages ----------------------------------------------------------------------------------------
def test_scorecard_page_in_persian_and_english(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        fa = c.get("/", params={"period": PERIOD}).text
        assert '<html lang="fa" dir="rtl">' in fa
        assert "اسفند ۱۴۰۳" in fa  # Jalali month name, Persian digits
        assert fa.count('class="card primary ') == 3
        assert 'data-kpi="revenue"' in fa
        assert "میلیارد ریال" in fa
        assert 'class="spark"' in fa
        en = c.get("/", params={"period": PERIOD, "lang": "en"}).text
        assert '<html lang="en" dir="ltr">' in en
        assert "Esfand 1403" in en
        assert "Main KPIs" in en
        assert 'id="insights"' in en and "What stands out" in en  # the scorecard says where to look
        # a month's card compares with the month before and a year ago; a year's previous period is
        # the year before, so its card says the one change once («+۶۲٪ … قبل» and «+۶۲٪ … پارسال» were both shown)
        assert fa.count("نسبت به دورهٔ قبل") == fa.count("نسبت به پارسال") > 0
        year = c.get("/", params={"period": "1403"}).text
        assert "نسبت به دورهٔ قبل" not in year and year.count("نسبت به پارسال") >= 3


def test_kpi_page_with_breakdown_drill_urls_and_table(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        r = c.get("/kpi/sales_by_region", params={"period": "1403-Q4", "lang": "en"})
        assert r.status_code == 200
        fig = figure_of(r.text)
        bars = fig["data"][0]  # type: ignore[index]
        assert bars["type"] == "bar" and bars["orientation"] == "h"  # names beside the bars, largest on top
        first_member, first_url = bars["y"][0], bars["customdata"][0]
        query = parse_qs(urlsplit(first_url).query)
        assert query["filter"] == [f"region:{first_member}"]
        assert query["period"] == ["1403-Q4"]
        assert query["grain"] == ["month"]
        drilled = c.get(first_url)
        assert drilled.status_code == 200
        trend = figure_of(drilled.text)["data"][0]  # type: ignore[index]
        assert trend["type"] == "scatter"
        assert trend["name"] == first_member
        assert "Region = <bdi>" + first_member + "</bdi>" in drilled.text
        assert '<table class="data sortable" id="result-table">' in r.text


def test_kpi_page_is_mirrored_in_persian(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        fig = figure_of(c.get("/kpi/revenue", params={"period": "1403", "grain": "month"}).text)
        layout = fig["layout"]
        assert layout["xaxis"]["autorange"] == "reversed"  # type: ignore[index]
        assert layout["yaxis"]["side"] == "right"  # type: ignore[index]
        assert fig["data"][0]["x"][0] == "فروردین ۱۴۰۳"  # type: ignore[index]
        assert all("میلیارد" in t or t == "۰" for t in layout["yaxis"]["ticktext"])  # type: ignore[index]


def test_funnel_and_cycle_charts(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        # the funnel is the whole company's (the page opens split by source: bars of each one's rate)
        funnel = figure_of(c.get("/kpi/mql_to_sql", params={"period": "1403-Q4", "grain": ""}).text)
        assert funnel["data"][0]["type"] == "funnel"  # type: ignore[index]
        mqls, sqls = funnel["data"][0]["x"]  # type: ignore[index]
        assert mqls >= sqls > 0
        cycle = figure_of(c.get("/kpi/sales_cycle", params={"period": "1403", "by": "segment"}).text)
        assert cycle["data"][0]["error_y"]["type"] == "data"  # type: ignore[index]


def test_kpi_csv_download(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        r = c.get("/kpi/sales_by_region/csv", params={"period": "1403-Q4"})
        assert r.headers["content-type"].startswith("text/csv")
        lines = r.text.lstrip("\ufeff").splitlines()
        assert lines[0].startswith("period,region,revenue")
        assert len(lines) > 3


def test_pages_render_bad_input_as_error_pages(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        r = c.get("/kpi/happiness", params={"lang": "en"})
        assert r.status_code == 404
        assert "unknown KPI" in r.text
        assert "<html" in r.text
        fa = c.get("/kpi/happiness").text
        assert "شاخصی به نام" in fa and "unknown KPI" not in fa  # the error in the user's language
        assert c.get("/no/such/page").status_code == 404
        assert "پیدا نشد" in c.get("/no/such/page").text


def test_a_bad_control_is_said_next_to_it_and_the_page_stays(served: Served) -> None:
    """A bad period re-renders the KPI page (chart, table, controls) with the error beside the
    period box, in the user's language; the same for a split and a filter."""
    with served.browser_session("admin") as (c, _):
        r = c.get("/kpi/revenue", params={"period": "1403-13", "grain": "month"})
        assert r.status_code == 422
        assert 'id="period-error"' in r.text and "ماه ۱۳ وجود ندارد" in r.text
        assert 'value="1403-13"' in r.text  # what was typed stays in the box, to be corrected
        # a period the page chose is in the user's digits, and the box reads them back (۱۴۰۳−Q۴ is 1403-Q4)
        fa = c.get("/kpi/revenue", params={"period": "1403-Q4"}).text
        assert 'value="۱۴۰۳−Q۴" id="period-input"' in fa
        assert c.get("/kpi/revenue", params={"period": "۱۴۰۳−Q۴"}).status_code == 200
        assert 'id="kpi-figure"' in r.text and 'id="result-table"' in r.text  # the page is all there
        en = c.get("/kpi/revenue", params={"period": "1403-13", "lang": "en"}).text
        assert "month 13 does not exist" in en
        r = c.get("/kpi/revenue", params={"period": PERIOD, "by": "colour"})
        assert r.status_code == 422
        assert 'id="by-error"' in r.text and "تفکیک" in r.text
        r = c.get("/kpi/sales_by_product", params={"period": PERIOD, "by": "category"})  # no split to pick from
        assert r.status_code == 422 and 'id="by-error"' in r.text
        r = c.get("/kpi/sales_by_region", params={"period": PERIOD, "filter": "region:Atlantis", "lang": "en"})
        assert r.status_code == 422
        assert 'id="filter-error"' in r.text and "no region &#39;Atlantis&#39; in the data" in r.text
        assert "تهران" in r.text.split('id="filter-error"')[1].split("</p>")[0]  # says which members there are
        r = c.get("/", params={"period": "1403-Q7"})
        assert r.status_code == 422 and 'id="period-error"' in r.text and 'id="primary-cards"' in r.text


def test_reps_page_and_rep_isolation_on_pages(served: Served) -> None:
    with served.browser_session("admin") as (admin, _):
        page = admin.get("/reps", params={"period": "1403"}).text
        reps = set(re.findall(r'<tr data-rep="([^"]+)"', page))
        assert len(reps) > 5
        # the demo's 29 reps: the chart shows the 20 who sold most, and says it leaves the rest out
        assert len(reps) > 20 and len(figure_of(page, "reps-figure")["data"][0]["y"]) == 20  # type: ignore[index]
        note = page.split('id="chart-note">')[1].split("</p>")[0]
        assert digits(str(len(reps)), "fa") in note and "همه در جدول زیر" in note
    with served.browser_session("rep2") as (rep, _):
        page = rep.get("/reps", params={"period": "1403"}).text
        assert set(re.findall(r'<tr data-rep="([^"]+)"', page)) == {"R02"}
        assert 'id="chart-note"' not in page  # one rep: the chart leaves nobody out
        regions = figure_of(rep.get("/kpi/sales_per_rep", params={"period": "1403"}).text)
        reps_t = served.ws.warehouse.table("reps")
        name = reps_t.filter(reps_t.rep_id == "R02").select("name").to_pyarrow()["name"][0].as_py()
        assert regions["data"][0]["y"] == [name]  # type: ignore[index]  # names shown, ids behind
        assert "R02" in regions["data"][0]["customdata"][0]  # type: ignore[index]  # a click drills by id
        for path in ("/data", "/users", "/data/rejects.csv"):
            assert rep.get(path).status_code == 403
        assert rep.get("/kpi/revenue", params={"period": "1403", "filter": "rep:R05"}).status_code == 403
        # a rep reads their own targets, and changes none
        mine = rep.get("/targets").text
        assert 'id="targets-read"' in mine and 'id="targets-form"' not in mine
        # the nav offers a rep only what a rep may use
        nav = rep.get("/kpis").text
        assert nav.count('href="/targets"') == 1  # "my targets"
        assert 'href="/data"' not in nav
        assert 'href="/users"' not in nav


def test_language_switch_is_stored_per_user(served: Served) -> None:
    with served.browser_session("rep5") as (c, csrf):
        assert c.post("/language", data={"language": "en", "next": "/kpis"}).status_code == 403
        r = c.post("/language", data={"language": "en", "next": "/kpis?lang=fa", "csrf_token": csrf})
        assert r.status_code == 303
        assert r.headers["location"] == "/kpis"
        assert '<html lang="en" dir="ltr">' in c.get("/kpis").text
        c.post("/language", data={"language": "fa", "next": "/kpis", "csrf_token": csrf})
        assert '<html lang="fa" dir="rtl">' in c.get("/kpis").text


def test_a_scorecard_past_the_data_says_where_the_data_ends(served: Served) -> None:
    """Cards of a period after the data's last day each say "no data in this period"; the page
    says once where the data ends and how many cards that leaves empty (a quarter just begun
    looked like an empty company). A period inside the data says nothing of it."""
    with served.browser_session("admin") as (c, _):
        after = c.get("/", params={"period": "1404-Q1"}).text
        m = re.search(r'<p class="data-outside notice" id="data-outside" role="status">([^<]*)</p>', after)
        assert m, "no note of where the data ends"
        assert re.fullmatch(r"داده‌ها تا [۰-۹]+ اسفند ۱۴۰۳ است: [۰-۹]+ کارت در این دوره داده‌ای ندارند\.", m.group(1)), (
            m.group(1)
        )
        en = c.get("/", params={"period": "1404-Q1", "lang": "en"}).text
        assert re.search(r"The data ends on \d+ Esfand 1403: \d+ cards have no data in this period\.", en)
        assert 'id="data-outside"' not in c.get("/", params={"period": PERIOD}).text


def test_every_paged_list_reads_its_page_number_one_way(served: Served) -> None:
    """The rows behind a number, the Data page's rejects, the targets and their audit, and the
    alerts read ``page`` (``audit``) alike: a whole number from 1 (Persian digits too), or a 400
    that says the value is not a page number — never a 500. A page number past the rows' end is
    an empty page; one past a billion (the rows' offset no longer a 64-bit number: a 500 before)
    is refused."""
    lists = [
        ("/kpi/revenue/rows", "page", {"period": "1403-10"}),
        ("/data", "page", {}),
        ("/targets", "page", {}),
        ("/targets", "audit", {}),
        ("/alerts", "page", {}),
    ]
    with served.browser_session("admin") as (c, _):
        for path, param, extra in lists:
            for good in ("1", "۲", "1000000000"):
                r = c.get(path, params={**extra, param: good}, follow_redirects=True)
                assert r.status_code == 200, (path, param, good, r.status_code)
            for bad in ("abc", "0", "-5", "1.5", "1000000001", "9" * 30):
                r = c.get(path, params={**extra, param: bad, "lang": "en"})
                assert r.status_code == 400 and "is not a page number" in r.text, (path, param, bad, r.status_code)
            r = c.get(path, params={**extra, param: "x"})
            assert r.status_code == 400 and "شماره‌ی صفحه نیست" in r.text
            r = c.get(path, params={**extra, param: "9" * 30, "lang": "en"})
            assert f"&#39;{'9' * 20}…&#39; is not a page number" in r.text  # quoted cut, and says so
        # past the rows' end: their last page, not an empty one that reads like an empty period
        r = c.get("/kpi/revenue/rows", params={"period": "1403-10", "page": "999", "lang": "en"})
        assert r.status_code == 303
        last = int(parse_qs(urlsplit(r.headers["location"]).query)["page"][0])
        assert 1 <= last < 999 and parse_qs(urlsplit(r.headers["location"]).query)["period"] == ["1403-10"]
        page = c.get(r.headers["location"]).text
        assert f"Page {last} of {last}" in page and "<tbody>" in page


# -- targets and data (on an empty workspace) ---------------------------------------------------------
def _new_rows(*rows: dict[str, str]) -> dict[str, str]:
    """The editor's form fields for new rows (``r0.kpi``, ``r0.year``, …)."""
    fields = {"n": str(len(rows))}
    for i, r in enumerate(rows):
        for f in ("key", "kpi", "measure", "year", "part", "period", "dimension", "member", "target"):
            fields[f"r{i}.{f}"] = r.get(f, "")
    return fields


def test_targets_page_edits_through_the_form(empty: Served) -> None:
    with empty.browser_session("manager") as (c, csrf):
        assert c.get("/targets").status_code == 200
        form = {
            "csrf_token": csrf,
            **_new_rows(
                {"kpi": "revenue", "year": "1403", "target": "9,000,000"},
                {"kpi": "sales_by_region", "year": "1403", "part": "Q4", "dimension": "region", "member": "Fars",
                 "target": "۱٬۵۰۰"},
                {"kpi": "revenue", "year": "1403"},  # an empty new row: ignored
            ),
        }  # fmt: skip
        no_token = {k: v for k, v in form.items() if k != "csrf_token"}
        assert c.post("/targets", data=no_token).status_code == 403
        r = c.post("/targets", data=form)
        assert r.status_code == 303
        api = c.get("/api/v1/targets").json()
        assert [(t["kpi"], t["period"], t["member"], t["target"]) for t in api] == [
            ("revenue", "1403", None, 9e6),
            ("sales_by_region", "1403-Q4", "Fars", 1500.0),
        ]
        bad = dict(form, **{"r0.part": "other", "r0.period": "1403-13", "r1.target": "lots"})
        r = c.post("/targets?lang=en", data=bad)
        assert r.status_code == 422
        assert "is not a period" in r.text and "must be a number" in r.text
        assert len(c.get("/api/v1/targets").json()) == 2  # nothing changed
        # deleting a row: its key (as the page renders it) and the delete box
        page = c.get("/targets?kpi=sales_by_region").text
        key = re.search(r'name="r0.key" value="([^"]+)"', page)
        assert key
        fields = {"csrf_token": csrf, **_new_rows({"key": key.group(1).replace("&#34;", '"')}), "r0.delete": "1"}
        assert c.post("/targets", data=fields).status_code == 303
        assert [t["kpi"] for t in c.get("/api/v1/targets").json()] == ["revenue"]


def test_targets_api_validates(empty: Served) -> None:
    with empty.api("admin") as c:
        r = c.put("/api/v1/targets", json=[{"kpi": "happiness", "period": "1403", "target": 1}])
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_targets"
        r = c.put("/api/v1/targets", json=[{"kpi": "revenue", "period": "1403", "target": "x"}])
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_request"
        r = c.put("/api/v1/targets", json=[{"kpi": "revenue", "period": "1403", "target": 5}])
        assert r.status_code == 200
        assert r.json()[0]["measure"] == "revenue"


REPS_CSV = "rep_id,name,region\nR01,Sara,Tehran\nR02,Ali,Fars\n,Nameless,Tehran\n"


def test_import_through_the_api_and_rejects(empty: Served) -> None:
    with empty.api("manager") as c:
        r = c.post("/api/v1/imports", files=[("files", ("reps.csv", REPS_CSV.encode(), "text/csv"))])
        assert r.status_code == 200, r.text
        assert r.json()["tables"]["reps"] == {"read": 3, "accepted": 2, "rejected": 1}
        rejects = c.get("/api/v1/rejects").json()
        assert len(rejects) == 1
        assert rejects[0]["table"] == "reps"
        assert rejects[0]["column"] == "rep_id"
        assert empty.ws.warehouse.table("reps").count().execute() == 2
        # a bad mapping name is the client's error
        r = c.post(
            "/api/v1/imports",
            files=[("files", ("reps.csv", REPS_CSV.encode(), "text/csv"))],
            data={"mapping": "no-such-mapping"},
        )
        assert 400 <= r.status_code < 500
        assert "error" in r.json()
        assert c.post("/api/v1/imports", data={"mapping": ""}).status_code == 400


def test_uploads_over_the_limit_are_413(empty: Served) -> None:
    big = b"rep_id,name\n" + b"R1,x\n" * 20_000  # 100 KB > the 64 KB limit of this app
    with empty.api("admin") as c:
        r = c.post("/api/v1/imports", files=[("files", ("reps.csv", big, "text/csv"))])
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large"
    assert empty.ws.warehouse.table("reps").count().execute() == 0


def test_data_page_upload_summary_and_rejects_csv(empty: Served) -> None:
    with empty.browser_session("admin") as (c, csrf):
        page = c.get("/data?lang=en").text
        assert 'enctype="multipart/form-data"' in page
        files = [("files", ("reps.csv", REPS_CSV.encode(), "text/csv"))]
        assert c.post("/data/import", files=files).status_code == 403  # no CSRF token
        r = c.post("/data/import?lang=en", files=files, data={"csrf_token": csrf})
        assert r.status_code == 200
        assert 'id="import-summary"' in r.text
        rows = re.findall(r'<tr class="has-rejects" data-table="reps"><td>Reps</td>.*?</tr>', r.text)
        assert rows
        assert ">2<" in rows[0]
        assert 'data-status="rejected"' in r.text  # the summary says rows were rejected (amber)
        page = c.get("/data?lang=en").text
        assert re.search(
            r'<tr data-table="reps"><td>Reps .*?</td><td class="num">2</td><td class="when">\d+ \w+ 14\d\d, \d\d:\d\d<',
            page,
        )
        csv_text = c.get("/data/rejects.csv").text.lstrip("\ufeff")
        assert csv_text.splitlines()[0] == "table,file,line,column,value,mapped_value,reason"
        assert len(csv_text.splitlines()) == 2


def test_users_page_for_admins(empty: Served) -> None:
    with empty.browser_session("admin") as (c, csrf):
        r = c.post(
            "/users?lang=en",
            data={"csrf_token": csrf, "username": "neda", "role": "rep", "rep_id": "", "password": "x" * 9},
        )
        assert r.status_code == 400
        assert "A rep needs a rep id" in r.text
        r = c.post(
            "/users", data={"csrf_token": csrf, "username": "neda", "role": "rep", "rep_id": "R09", "password": "x" * 9}
        )
        assert r.status_code == 303
        assert "neda" in c.get("/users").text
    with empty.browser_session("manager") as (m, _):
        assert m.get("/users").status_code == 403


def test_serve_binds_localhost_by_default() -> None:
    import inspect

    from sanjeh.web.app import serve as real_serve

    assert inspect.signature(real_serve).parameters["host"].default == "127.0.0.1"


def test_comparison_and_targets_are_drawn(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        bars = figure_of(
            c.get("/kpi/sales_by_region", params={"period": PERIOD, "compare": "year_ago", "lang": "en"}).text
        )
        names = [trace["name"] for trace in bars["data"]]  # type: ignore[attr-defined]
        assert "Compared period" in names
        line = figure_of(
            c.get("/kpi/revenue", params={"period": "1403", "grain": "month", "compare": "previous", "lang": "en"}).text
        )
        names = [trace["name"] for trace in line["data"]]  # type: ignore[attr-defined]
        assert names[1:] == ["Compared period", "Target"]  # the demo sets monthly revenue targets


def test_concurrent_views_compute_a_result_once(served: Served) -> None:
    from concurrent.futures import ThreadPoolExecutor

    state = served.app.state.sanjeh  # type: ignore[attr-defined]
    with served.api("manager") as c:
        params = {"period": "1402-Q3", "grain": "month", "by": "region"}
        before = state.computed
        with ThreadPoolExecutor(8) as pool:
            bodies = list(pool.map(lambda _: c.get("/api/v1/kpis/revenue", params=params).json(), range(8)))
        assert all(b == bodies[0] for b in bodies)
        assert state.computed == before + 1  # one computes, the others wait and take its result
        c.get("/api/v1/kpis/revenue", params=params)
        assert state.computed == before + 1


def test_a_company_nobody_named_is_my_company_in_the_pages_language(empty: Served) -> None:
    """The footer and title name the company; a workspace made without ``--company`` (or with
    ``My company``, what ``sanjeh init`` wrote before) says so in the page's language."""
    import dataclasses

    with empty.client() as c:
        fa, en = c.get("/login").text, c.get("/login?lang=en").text
    assert "شرکت من · " in fa and "My company" not in fa
    assert "My company · " in en
    settings = empty.ws.settings
    assert dataclasses.replace(settings, company="My company").company_name("fa") == "شرکت من"
    assert dataclasses.replace(settings, company=" فولاد البرز ").company_name("en") == "فولاد البرز"


def test_a_spotlight_member_opens_its_kpi_page_on_that_member(served: Served) -> None:
    """A card's named member (best rep, furthest below target, …) links to the KPI page filtered on
    it, so a member the KPI's table folds into «سایر» (a rate's table keeps the reps with the most
    deals) is one click away; every such link opens, and its table is that member's."""
    with served.browser_session("admin") as (c, _):
        for period in ("1403", PERIOD):
            page = c.get("/", params={"period": period}).text
            links = set(re.findall(r'<a href="(/kpi/[^"]+filter=[^"]+)" class="member-link"><bdi>(.*?)</bdi>', page))
            assert len(links) >= 5, links
            for href, label in links:
                url = href.replace("&amp;", "&")
                r = c.get(url)
                assert r.status_code == 200, (url, r.status_code)
                member = parse_qs(urlsplit(url).query)["filter"][0].split(":", 1)[1]
                chip = r.text.split('<p class="filters">')[1].split("</p>")[0]  # the page says whose figures
                assert f'data-member="{member}"' in chip and f"<bdi>{label}</bdi>" in chip, (url, label)
                assert 'id="result-table"' in r.text and f"grain={'year' if period == '1403' else 'month'}&" in url
                body = r.text.split('id="result-table"')[1].split("<tbody>")[1].split("</tbody>")[0]
                assert body.count("<tr") == 1, (url, body[:500])  # one row: the member's figure for the period
                assert not re.search(r'id="data-note" data-status="(no_data|outside|empty)"', r.text), url


def test_every_why_link_of_the_scorecard_lands_on_a_why(served: Served) -> None:
    """A card's «چرا؟» link opens its KPI page at ``#why``: that section is there (cancelled orders'
    link led to a page without one: its first two dimensions, cancel reason and product, are ones its
    rate cannot be split by, and no other was tried)."""
    with served.browser_session("admin") as (c, _):
        page = c.get("/", params={"period": PERIOD}).text
        links = set(re.findall(r'<p class="why-link small"><a href="([^"]+)#why">', page))
        assert any("cancelled_orders" in x for x in links), links
        for href in links:
            r = c.get(href.replace("&amp;", "&"))
            assert r.status_code == 200 and '<section class="why" id="why">' in r.text, href
