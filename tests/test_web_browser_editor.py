"""The targets editor, drill-through and the users page in a real browser (Debian's chromium),
in Persian and English, and at phone width (nothing sticks out: scrollWidth ≤ innerWidth).
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from sanjeh.targets import read_changes, read_targets
from sanjeh.users import add_user
from tests.test_web_browser import ARTIFACTS, Visit, browser  # noqa: F401  (browser: the fixture)
from tests.test_web_support import PASSWORD, Served, build_demo_workspace, serve, shared_demo_server

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A demo workspace of this module's own: the editor's tests save targets."""
    ws = build_demo_workspace(tmp_path_factory.mktemp("editor") / "ws")
    add_user(ws, "lead", "manager", password=PASSWORD, team="Center")
    with serve(ws) as s:
        yield s
    ws.close()


def _visit(browser: Any, served: Served, user: str, lang: str, path: str, phone: bool = False) -> Visit:  # noqa: F811
    v = Visit(browser, served, **(PHONE if phone else {}))
    v.login(user, lang=lang, next_url="/kpis")
    sep = "&" if "?" in path else "?"
    v.goto(f"{path}{sep}lang={lang}")
    return v


def _fits(v: Visit) -> bool:
    return bool(v.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _done(v: Visit) -> None:
    assert v.outside() == [], v.outside()
    assert v.errors == [], v.errors
    v.close()


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_targets_editor_pickers_and_save(browser: Any, demo: Served, lang: str) -> None:  # noqa: F811
    v = _visit(browser, demo, "manager", lang, "/targets?kpi=sales_by_region")
    page = v.page
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
    first = page.locator('input[name="r0.target"]').input_value()
    assert re.fullmatch(r"[۰-۹٬]+", first) if lang == "fa" else re.fullmatch(r"[0-9,]+", first)
    assert page.locator("tr.target-row").first.locator(".unit").inner_text() == ("ریال" if lang == "fa" else "IRR")
    # a new row: the pickers follow each other
    rows = page.locator("tr.target-row")
    n = rows.count()
    page.click("#add-row")
    assert rows.count() == n + 1 and page.locator("#rows-n").input_value() == str(n + 1)
    new = rows.nth(n)
    new.locator(".t-kpi").select_option("win_rate")
    measures = new.locator(".t-measure option").all_inner_texts()
    assert len(measures) >= 4 and new.locator(".unit").inner_text() in ("٪", "%")
    dims = new.locator(".t-dim option").all_inner_texts()
    assert dims[0] == ("کل شرکت" if lang == "fa" else "Whole company") and len(dims) == 5
    new.locator(".t-part").select_option("other")
    assert new.locator(".t-other").is_visible()
    new.locator(".t-part").select_option("Q2")
    assert not new.locator(".t-other").is_visible()
    new.locator(".t-dim").select_option("rep")
    assert new.locator(".t-member").get_attribute("list") == "members-rep"
    reps = demo.ws.warehouse.table("reps").to_pyarrow().to_pylist()
    sara = next(r for r in reps if r["rep_id"] == ("R07" if lang == "fa" else "R08"))
    new.locator(".t-member").fill(sara["name"])
    new.locator(".t-year").select_option("1405")
    new.locator(".t-target").fill("۳۵" if lang == "fa" else "35")
    v.shot(f"targets-editor-{lang}")
    page.click("#targets-save")
    page.wait_for_selector("#targets-done")
    assert ("۱ هدف افزوده" if lang == "fa" else "1 added") in page.locator("#targets-done").inner_text()
    got = [r for r in read_targets(demo.ws) if r["period"] == "1405-Q2" and r["member"] == sara["rep_id"]]
    assert [(r["kpi"], r["target"]) for r in got] == [("win_rate", 0.35)]
    assert page.locator("#audit-table tbody tr").first.get_attribute("data-action") == "add"
    _done(v)


def test_problems_are_shown_next_to_their_rows_in_the_browser(browser: Any, demo: Served) -> None:  # noqa: F811
    v = _visit(browser, demo, "manager", "fa", "/targets?kpi=revenue")
    page = v.page
    before = read_changes(demo.ws)[1]
    page.locator('input[name="r0.target"]').fill("بسیار")
    page.click("#targets-save")
    page.wait_for_selector("#targets-error")
    assert "هیچ هدفی ذخیره نشد" in page.locator("#targets-error").inner_text()
    assert "مقدار هدف باید عدد باشد" in page.locator('[data-row-errors="0"]').inner_text()
    v.shot("targets-editor-error-fa")
    assert read_changes(demo.ws)[1] == before
    v.errors = [e for e in v.errors if "status of 422" not in e]  # the page answers 422, as it should
    _done(v)


def test_spreading_asks_before_it_drops_unsaved_edits(browser: Any, demo: Served) -> None:  # noqa: F811
    v = _visit(browser, demo, "manager", "fa", "/targets?kpi=win_rate")  # its years have targets
    page = v.page
    spread = page.locator("button[name=spread]").first
    row = spread.locator("xpath=ancestor::tr[1]")
    row.locator(".t-target").fill("۱۲۳")  # an edit not saved yet
    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    spread.click()
    page.wait_for_timeout(300)
    assert asked and "هنوز ذخیره نشده‌اند" in asked[0]
    assert "done=" not in page.url and row.locator(".t-target").input_value() == "۱۲۳"  # nothing sent, nothing lost
    page.once("dialog", lambda d: answer(d, True))
    with page.expect_navigation():
        spread.click()
    assert "done=spread" in page.url and len(asked) == 2
    _done(v)


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_targets_editor_fits_a_phone(browser: Any, demo: Served, lang: str) -> None:  # noqa: F811
    v = _visit(browser, demo, "manager", lang, "/targets", phone=True)
    assert _fits(v)
    card = v.page.locator("tr.target-row").first
    assert card.bounding_box()["width"] <= PHONE["width"]  # type: ignore[index]
    v.page.locator("tr.target-row").first.screenshot(path=str(ARTIFACTS / f"targets-editor-phone-{lang}.png"))
    _done(v)


def test_a_rep_reads_their_targets_in_the_browser(browser: Any, demo: Served) -> None:  # noqa: F811
    for phone in (False, True):
        v = _visit(browser, demo, "rep2", "fa", "/targets", phone=phone)
        assert v.page.locator("#targets-read tbody tr").count() >= 1
        assert v.page.locator("#targets-form").count() == 0
        assert _fits(v)
        v.shot("targets-rep-fa" + ("-phone" if phone else ""))
        _done(v)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return shared_demo_server(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_drill_from_a_kpi_row_to_its_rows(browser: Any, shared: Served, lang: str) -> None:  # noqa: F811
    v = _visit(browser, shared, "manager", lang, "/kpi/revenue?period=1403-Q4&by=region")
    page = v.page
    links = page.locator("#result-table a.drill-row")
    assert links.count() == page.locator("#result-table tbody tr").count() > 5
    cols = page.locator("#result-table thead th").evaluate_all("ths => ths.map(t => t.dataset.col)")
    region = page.locator("#result-table tbody tr").first.locator("td").nth(cols.index("region")).inner_text()
    links.first.click()
    page.wait_for_selector("#rows-table")
    assert "/kpi/revenue/rows" in page.url and "filter=region" in page.url
    cells = page.locator("#rows-table tbody tr").first.locator("td").all_inner_texts()
    assert ("۱۴۰۳" in cells[0]) if lang == "fa" else ("1403" in cells[0])
    assert region in page.locator("#rows-what").inner_text()
    assert page.locator("#rows-csv").count() == 1
    v.shot(f"rows-{lang}")
    _done(v)
    p = _visit(browser, shared, "manager", lang, "/kpi/win_rate/rows?period=1403-10", phone=True)
    assert _fits(p)
    p.shot(f"rows-phone-{lang}")
    _done(p)


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_users_page_in_the_browser(browser: Any, demo: Served, lang: str) -> None:  # noqa: F811
    v = _visit(browser, demo, "admin", lang, "/users")
    page = v.page
    row = page.locator('tr[data-user="lead"]')
    assert ("فقط تیم Center" if lang == "fa" else "team Center only") in row.inner_text()
    row.locator("summary").click()
    row.locator('.password-form input[name="password"]').fill(f"fresh-password-{lang}")
    row.locator(".password-form button").click()
    page.wait_for_selector("#users-done")
    assert "lead" in page.locator("#users-done").inner_text()
    demo.token("lead", f"fresh-password-{lang}")
    v.shot(f"users-{lang}")
    _done(v)
    p = _visit(browser, demo, "admin", lang, "/users", phone=True)
    assert _fits(p)
    p.shot(f"users-phone-{lang}")
    _done(p)


def test_a_click_on_a_trend_point_opens_its_rows(browser: Any, shared: Served) -> None:  # noqa: F811
    v = _visit(browser, shared, "manager", "fa", "/kpi/revenue?period=1403-Q4&grain=month")
    page = v.page
    page.wait_for_selector("#chart[data-drill-points]")
    point = page.locator("#chart .scatterlayer .trace").first.locator(".points path").nth(1)
    box = point.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/kpi/revenue/rows\?period=1403-1[012]"))
    page.wait_for_selector("#rows-table")
    assert "۱۴۰۳" in page.locator("h1").inner_text()
    _done(v)
