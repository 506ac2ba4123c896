"""The dashboard in a real browser: Debian's chromium driven by Playwright against the real app.

Screenshots of the main pages go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sanjeh.users import set_language
from sanjeh.web.screenshots import CHROMIUM_ARGS
from tests.test_web_support import PASSWORD, PERIOD, Served, shared_demo_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = CHROMIUM_ARGS  # the launch flags that work on this machine, shared with the screenshot tool


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return shared_demo_server(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """A browser page that records every request it makes."""

    def __init__(self, browser: Any, served: Served, width: int = 1280, height: int = 900) -> None:
        self.base = served.url
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.set_default_timeout(120_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        # console errors include Content-Security-Policy violations and failed loads
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def login(self, username: str, next_url: str = "/kpis", lang: str = "fa") -> None:
        self.page.goto(f"{self.base}/login?lang={lang}&next={next_url}")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("load")

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        if self.page.locator("[data-figure]").count():
            self.page.wait_for_selector("[data-ready]")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.base + "/", "data:", "blob:"))]

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser: Any, served: Served) -> Iterator[Visit]:
    v = Visit(browser, served)
    try:
        yield v
    finally:
        assert v.outside() == [], f"requests left the app: {v.outside()}"
        assert v.errors == [], f"errors in the browser console: {v.errors}"
        v.close()


def test_login_and_read_the_scorecard_in_persian(visit: Visit) -> None:
    visit.login("admin", next_url=f"/?period={PERIOD}")
    page = visit.page
    page.wait_for_selector("#primary-cards .card")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator("#primary-cards .card").count() == 3
    value = page.locator('#primary-cards .card[data-kpi="revenue"] .value').inner_text()
    assert re.search("[۰-۹]", value)
    assert "ریال" in value
    assert page.locator("h1").inner_text().endswith("اسفند ۱۴۰۳")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Vazirmatn" in font
    assert page.evaluate("document.fonts.check('16px Vazirmatn', 'سنجه')")
    visit.shot("scorecard-fa")


def test_change_the_period_and_drill_into_a_member(visit: Visit) -> None:
    visit.login("admin", lang="en")
    visit.goto("/kpi/sales_by_region?period=1403-Q3&lang=en")
    page = visit.page
    page.fill("#period-input", "1403-Q4")
    page.click("#period-apply")
    page.wait_for_url(re.compile(r"period=1403-Q4"))
    page.wait_for_selector("[data-ready]")
    assert "Q4 1403" in page.locator("h1").inner_text()
    visit.shot("kpi-sales-by-region-en")
    # a quick choice
    page.click('a[data-quick="last_year"]')
    page.wait_for_url(re.compile(r"period=1403(&|$)"))
    page.wait_for_selector("[data-ready]")
    # click the first (largest, top) bar: the page drills into that region, by month
    first = page.locator("#result-table tbody tr").first.locator("td").nth(0).inner_text()
    bar = page.locator("#chart .bars .point path").first
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"filter=region%3A"))
    page.wait_for_selector("[data-ready]")
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(page.url).query)["filter"] == [f"region:{first}"]
    assert "grain=month" in page.url
    assert page.locator(".filters .chip").inner_text().startswith("Region = ")
    assert page.locator("#result-table tbody tr").count() == 12
    visit.shot("kpi-drilled-en")


def test_calendar_switch_and_filter_controls(visit: Visit) -> None:
    visit.login("manager", lang="en")
    visit.goto("/kpi/revenue?period=1403-Q4&grain=month&lang=en")
    page = visit.page
    page.select_option("select[name=cal]", "gregorian")
    page.wait_for_url(re.compile(r"cal=gregorian"))
    assert "period=" not in page.url  # revenue's own period (the year of the latest month) in that calendar
    assert page.locator("h1 small").inner_text() == "2025"
    assert page.locator('a[data-quick="last_year"]').get_attribute("data-period") == "2024"
    page.select_option("#filter-dim", "region")
    page.fill("#filter-member", "تهران")
    page.click("#filter-add")
    page.wait_for_url(re.compile(r"filter=region%3A"))
    assert page.locator(".filters .chip").inner_text().startswith("Region = تهران")
    page.select_option("#compare", "year_ago")
    page.wait_for_url(re.compile(r"compare=year_ago"))
    assert "filter=region%3A" in page.url  # the other controls are kept
    page.click(".filters .chip")  # removes the filter
    page.wait_for_url(re.compile(r"^((?!filter=).)*$"))
    assert "compare=year_ago" in page.url


def test_a_schedules_period_follows_how_often_it_runs_until_one_is_picked(visit: Visit) -> None:
    visit.login("admin", next_url="/schedules")
    page = visit.page
    period = page.locator('#schedule-form select[name="period"]')
    assert period.input_value() == "last_week"  # a new schedule: weekly, last week
    page.select_option("#when-kind", "monthly")
    assert period.input_value() == "last_month"  # not a monthly report of last week
    page.select_option("#when-kind", "weekly")
    assert period.input_value() == "last_week"
    period.select_option("last_quarter")  # the person's choice stays
    page.select_option("#when-kind", "monthly")
    assert period.input_value() == "last_quarter"


def test_switch_language_changes_direction(visit: Visit, served: Served) -> None:
    set_language(served.ws, "rep5", "fa")  # other tests change rep5's stored language; start from Persian
    visit.login("rep5", lang="fa")
    page = visit.page
    visit.goto("/kpi/revenue?period=1403&grain=month")
    assert page.get_attribute("html", "dir") == "rtl"
    rtl_first_tick = page.locator("#chart .xtick text").first.text_content()
    page.click("#switch-language")
    page.wait_for_load_state("load")
    page.wait_for_selector("[data-ready]")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.get_attribute("html", "lang") == "en"
    assert "Revenue" in page.locator("h1").inner_text()
    assert page.locator("#chart .xtick text").first.text_content() == "Farvardin 1403"  # leftmost in English
    assert rtl_first_tick == "اسفند ۱۴۰۳"  # the leftmost tick: Persian charts run right to left
    # back to Persian (the choice is stored for the user)
    page.click("#switch-language")
    page.wait_for_load_state("load")
    assert page.get_attribute("html", "dir") == "rtl"


def test_a_rep_sees_only_their_own_rows(visit: Visit, served: Served) -> None:
    visit.login("rep2", lang="en")
    visit.goto("/reps?period=1403&lang=en")
    page = visit.page
    assert page.locator("#reps-table tbody tr").count() == 1
    assert page.locator("#reps-table tbody tr").get_attribute("data-rep") == "R02"
    assert "Only your own data" in page.locator(".scope").inner_text()
    assert page.locator('nav a[href="/data"]').count() == 0
    visit.shot("reps-rep2-en")
    visit.goto("/kpi/sales_per_rep?period=1403&lang=en")
    ticks = page.locator("#chart .ytick text").all_text_contents()  # names beside horizontal bars
    reps_t = served.ws.warehouse.table("reps")
    name = reps_t.filter(reps_t.rep_id == "R02").select("name").to_pyarrow()["name"][0].as_py()
    assert ticks == [name]  # the rep's name, not the id


def test_a_table_box_shows_that_rows_or_columns_are_out_of_sight(browser: Any, served: Served) -> None:
    """A table in its own scroll box shades the edge where rows (below) or columns (beside: to the
    left in Persian) are out of sight, and drops the shade once scrolled there: the reps after the
    16th, or a year's last months on a phone, were hidden with no hint."""
    v = Visit(browser, served, width=390, height=844)
    try:
        v.login("manager", lang="fa", next_url=f"/kpi/revenue?period={PERIOD[:4]}&grain=month&compare=previous")
        page = v.page
        wrap = page.locator(".table-box .table-wrap").first
        wrap.wait_for()
        classes = wrap.get_attribute("class") or ""
        assert "more-below" in classes and "more-aside" in classes, classes
        shade = page.evaluate("getComputedStyle(document.querySelector('.table-box .table-wrap')).boxShadow")
        assert "inset" in shade, shade
        wrap.evaluate("w => { w.scrollTop = w.scrollHeight; w.scrollLeft = -w.scrollWidth; }")
        from playwright.sync_api import expect

        # Playwright's own retrying assertion: wait_for_function polls a string with eval() in the page,
        # which the page's CSP refuses, so it failed whenever the classes had not changed at its first look
        expect(wrap).not_to_have_class(re.compile(r"\bmore-below\b"))
        expect(wrap).not_to_have_class(re.compile(r"\bmore-aside\b"))
        v.shot("table-cues-phone-fa")
        v.page.set_viewport_size({"width": 1280, "height": 900})
        v.goto(f"/kpi/revenue?period={PERIOD}&lang=fa")  # one row: nothing out of sight
        cls = page.locator(".table-box .table-wrap").first.get_attribute("class") or ""
        assert "more-below" not in cls and "more-aside" not in cls, cls
        assert v.errors == [], v.errors
    finally:
        v.close()


def test_phone_width_and_data_page(browser: Any, served: Served) -> None:
    v = Visit(browser, served, width=390, height=844)
    try:
        v.login("manager", lang="fa", next_url="/data")
        page = v.page
        assert page.locator("#tables tbody tr").count() == 12
        # the page fits the phone: no horizontal scrolling of the document
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert not page.locator("nav.nav").is_visible()
        page.click(".nav-burger")
        assert page.locator("nav.nav").is_visible()
        v.shot("data-phone-fa")
        assert v.outside() == []
    finally:
        v.close()


#: A percent sign with no digit before it (how 0 % used to print), or one digit and a percent
#: sign where a whole number of percent was cut (100 % as "1%", 50 % as "5%") is found by the
#: engine's own numbers in tests/test_empty_data.py; here any bare sign fails.
BARE_PERCENT = re.compile(r"(?<![0-9۰-۹])\s*[%٪]")


MANAGERS_ONLY = ("/data", "/targets")


def _sweep(browser: Any, served: Served, visits: tuple[tuple[str, str], ...], paths: tuple[str, ...]) -> list[str]:
    """Visit every path as each (user, language); the problems found (none expected). A rep
    does not visit the managers' pages."""
    problems: list[str] = []
    for user, lang in visits:
        v = Visit(browser, served)
        try:
            v.login(user, lang=lang, next_url="/kpis")
            for path in paths:
                if user.startswith("rep") and path.startswith(MANAGERS_ONLY):
                    continue
                sep = "&" if "?" in path else "?"
                response = v.page.goto(f"{served.url}{path}{sep}lang={lang}")
                status = response.status if response else 0
                if status >= 400:
                    problems.append(f"{user} {lang} {path}: HTTP {status}")
                if v.page.locator("[data-figure]").count():
                    v.page.wait_for_selector("[data-ready]")
                text = v.page.locator("main").inner_text()
                if BARE_PERCENT.search(text):
                    problems.append(f"{user} {lang} {path}: a percent sign without a number")
            problems += [f"{user} {lang}: console: {e}" for e in v.errors]
            problems += [f"{user} {lang}: left the app: {u}" for u in v.outside()]
        finally:
            v.close()
    return problems


FIRST_PAGES = ("/", "/kpi/revenue", "/kpi/win_rate?compare=previous", "/reps", "/data", "/targets")


@pytest.mark.parametrize("tables", [(), ("leads", "opportunities", "reps")], ids=["empty", "no-orders"])
def test_a_new_and_a_crm_only_workspace_in_the_browser(browser: Any, tmp_path: Path, tables: tuple[str, ...]) -> None:
    """No 500, no console error, no mis-formatted percentage, as admin, manager and rep, fa and en."""
    from sanjeh.users import add_user
    from sanjeh.workspace import Workspace
    from tests import kpi_data
    from tests.builders import load
    from tests.conftest import FIXED_TODAY
    from tests.test_web_support import serve

    ws = Workspace.init(tmp_path / "ws")
    ws.clock = lambda: FIXED_TODAY
    load(ws, **{t: kpi_data.TABLES[t] for t in tables})
    for name, role, rep in (("admin", "admin", None), ("manager", "manager", None), ("rep1", "rep", "R1")):
        add_user(ws, name, role, rep, password=PASSWORD)
    with serve(ws) as s:
        visits = (("admin", "fa"), ("admin", "en"), ("manager", "fa"), ("rep1", "fa"), ("rep1", "en"))
        assert _sweep(browser, s, visits, FIRST_PAGES) == []


def test_the_demo_as_each_role_in_the_browser(browser: Any, served: Served) -> None:
    paths = (f"/?period={PERIOD}", "/kpi/win_rate?compare=previous&by=rep", f"/reps?period={PERIOD}")
    assert _sweep(browser, served, (("admin", "fa"), ("manager", "en"), ("rep2", "fa")), paths) == []
