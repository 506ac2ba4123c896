"""The forecast page (web/forecast_page.py, docs/forecast.md "The forecast page") over HTTP in
Persian and English, a rep's own deals, bad parameters, the track record once a period has
closed, the links to it, and one look in a real browser. The demo workspace's clock is in the
middle of a quarter: 1403-08-10 (2024-10-31), inside 1403-Q3."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanjeh.formatting import fmt_number, fmt_rate
from sanjeh.i18n import period_label, t
from sanjeh.kpis.forecast import outlook
from tests.test_web_pages import figure_of
from tests.test_web_support import Served, build_demo_workspace, serve

TODAY = dt.date(2024, 10, 31)  # 1403-08-10
RUNNING = "1403-Q3"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws = build_demo_workspace(Path(tmp_path_factory.mktemp("forecast-page")) / "ws")
    ws.clock = lambda: TODAY
    with serve(ws) as s:
        yield s


@pytest.fixture(scope="module")
def truth(served: Served) -> dict[str, Any]:
    """What the engine says, everyone's rows, asked directly (nothing kept)."""
    return outlook(served.ws.engine(), "revenue", RUNNING, as_of=TODAY)


def page(served: Served, user: str, **params: str) -> httpx.Response:
    with served.browser_session(user) as (c, _):
        return c.get("/kpi/revenue/forecast", params=params)


def rows_of(html: str, table: str) -> list[str]:
    """The ``data-deal`` of each row of a table."""
    body = re.search(rf'<table class="data sortable" id="{table}">(.*?)</table>', html, re.S)
    assert body, f"no table {table}"
    return re.findall(r'<tr data-deal="([^"]+)"', body.group(1))


def reps_of(html: str, table: str) -> set[str]:
    body = re.search(rf'<table class="data sortable" id="{table}">(.*?)</table>', html, re.S)
    assert body
    return set(re.findall(r'data-rep="([^"]+)"', body.group(1)))


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_page_shows_the_forecast_the_deals_and_time_to_win(
    served: Served, truth: dict[str, Any], lang: str
) -> None:
    r = page(served, "admin", lang=lang)  # the default period: the current quarter
    assert r.status_code == 200, r.text
    html = r.text
    assert f'dir="{"rtl" if lang == "fa" else "ltr"}"' in html
    assert period_label(RUNNING, lang) in html
    fc = truth["forecast"]
    assert fc is not None
    want = t("forecast.chance", lang, chance=fmt_rate(fc["chance_of_target"], lang, 0))
    assert f"<strong>{want}</strong>" in html
    # the chart: history, then the forecast's months in a 95 % and an 80 % band, in the user's calendar
    data = figure_of(html, "forecast-figure")["data"]
    assert isinstance(data, list)
    bands = [d for d in data if d.get("fill") == "tonexty"]
    assert len(bands) == 2 and {b["fillcolor"] for b in bands} == {
        "rgba(31, 111, 139, 0.09)",
        "rgba(31, 111, 139, 0.18)",
    }
    months = [m["month"] for m in fc["months"]]
    assert bands[0]["x"] == [period_label(m, lang) for m in months]
    assert data[0]["x"][-1] == period_label(fc["history"][-1]["month"], lang)
    assert 'data-model="{}" data-chosen="1"'.format(fc["model"]) in html
    # models by what they do, in the reader's language; not "AutoETS"
    names = {"AutoETS": ("هموارسازی نمایی", "Exponential smoothing (ETS)"), "AutoTheta": ("روش تتا", "Theta method"),
             "SeasonalNaive": ("تکرار همان ماه سال پیش", "Same month last year")}  # fmt: skip
    models = html.split('id="models-table"')[1].split("</table>")[0]
    assert all(names[m][lang != "fa"] in models for m in names) and "<bdi>Auto" not in models
    # the deals that carry the pipeline, largest expected value first; the stale deals
    assert rows_of(html, "pipeline-deals") == [d["opportunity_id"] for d in truth["pipeline"]["deals"][:15]]
    ttw = truth["time_to_win"]
    assert rows_of(html, "stale-deals") == [d["opportunity_id"] for d in ttw["stale"][:15]]
    assert ttw["stale_after_days"] and ttw["stale_count"] > 0
    curve = figure_of(html, "ttw-figure")
    assert curve["data"][0]["y"][-1] == pytest.approx(ttw["overall"]["won"][-1])  # type: ignore[index]
    ticks = curve["layout"]["xaxis"]["ticktext"]  # type: ignore[index]
    if lang == "fa":
        assert "۱۴۰۳" in str(bands[0]["x"]) and re.search("[۰-۹]", ticks[1]) and "بازهٔ ۹۵٪" in bands[0]["name"]
        assert "نامعلوم" in html  # a deal closed since the as-of day: its stage then is unknown
    else:
        assert "1403" in str(bands[0]["x"]) and ticks[1].isdigit()


def test_a_rep_sees_only_their_own_deals(served: Served, truth: dict[str, Any]) -> None:
    html = page(served, "rep2", lang="en", by="source").text
    assert reps_of(html, "pipeline-deals") == {"R02"} and reps_of(html, "stale-deals") == {"R02"}
    assert len(reps_of(page(served, "admin", lang="en").text, "pipeline-deals")) > 1
    mine = outlook(served.ws.engine(rep_scope="R02"), "revenue", RUNNING, as_of=TODAY)
    assert mine["forecast"]["chance_of_target"] != truth["forecast"]["chance_of_target"]
    chance = t("forecast.chance", "en", chance=fmt_rate(mine["forecast"]["chance_of_target"], "en", 0))
    assert f"<strong>{chance}</strong>" in html
    assert figure_of(html, "ttw-figure")["data"][0]["y"][-1] == pytest.approx(mine["time_to_win"]["overall"]["won"][-1])  # type: ignore[index]


def test_a_count_has_no_deals_views(served: Served) -> None:
    """The deals' views go with money: a count (opportunities by source) shows pace, forecast and
    track record only."""
    with served.browser_session("admin") as (c, _):
        r = c.get("/kpi/opportunities_by_source/forecast", params={"lang": "en"})
    assert r.status_code == 200
    assert 'id="pace"' in r.text and 'id="track-record"' in r.text
    assert 'id="pipeline"' not in r.text and 'id="time-to-win"' not in r.text and 'id="by-form"' not in r.text


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/kpi/revenue/forecast", {"by": "region", "lang": "en"}, 422, "rep or source"),
        ("/kpi/revenue/forecast", {"measure": "nope", "lang": "en"}, 422, "nope"),
        ("/kpi/revenue/forecast", {"period": "1403-13", "lang": "en"}, 422, 'id="period-error"'),
        ("/kpi/win_rate/forecast", {"lang": "en"}, 422, "does not add up"),
        ("/kpi/no_such_kpi/forecast", {"lang": "en"}, 404, "no_such_kpi"),
    ],
)
def test_bad_parameters_are_4xx_with_a_message(
    served: Served, path: str, params: dict[str, str], status: int, says: str
) -> None:
    with served.browser_session("admin") as (c, _):
        r = c.get(path, params=params)
    assert r.status_code == status and says in r.text


def test_the_track_record_once_the_period_has_closed(served: Served) -> None:
    """The page viewed in 1403-Q2 keeps its forecast; viewed after the quarter, it sets it beside
    the quarter's actual value."""
    served.ws.clock = lambda: dt.date(2024, 9, 1)  # 1403-06-11, inside 1403-Q2
    try:
        first = page(served, "admin", lang="en", period="1403-Q2")
        # the forecast shown is kept at once: the record lists it, its period still running
        assert first.status_code == 200 and 'data-period="1403-Q2" data-made-on="2024-09-01"' in first.text
        assert t("forecast.track.running", "en") in first.text
    finally:
        served.ws.clock = lambda: TODAY
    html = page(served, "admin", lang="fa", period="1403-Q2").text
    assert 'id="forecast-closed"' in html and 'id="chance"' not in html
    body = re.search(r'<table class="data sortable" id="track-table">(.*?)</table>', html, re.S)
    assert body and 'data-period="1403-Q2" data-made-on="2024-09-01"' in body.group(1)
    assert "۱۱ شهریور ۱۴۰۳" in body.group(1)  # made on, in the Jalali calendar
    with served.api("admin") as api:
        track = api.get("/api/v1/kpis/revenue/forecast", params={"period": "1403-Q2"}).json()["track_record"]
    (row,) = [r for r in track["rows"] if r["period"] == "1403-Q2"]  # the record holds every period's
    assert row["actual"] == pytest.approx(outlook(served.ws.engine(), "revenue", "1403-Q2")["pace"]["so_far"])
    assert track["summary"]["closed"] == 1
    summary = t(
        "forecast.track.summary",
        "fa",
        n="۱",
        inside="۱" if row["inside80"] else "۰",
        error=fmt_rate(abs(row["error"]), "fa"),
        pace_error=fmt_rate(abs(row["pace_error"]), "fa"),
    )
    assert summary in html


def test_the_scorecard_and_the_revenue_page_link_to_it(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        card = c.get("/", params={"period": RUNNING, "lang": "en"}).text
        kpi = c.get("/kpi/revenue", params={"period": "1403", "lang": "en"}).text
        rate = c.get("/kpi/win_rate", params={"period": RUNNING, "lang": "en"}).text
    assert re.search(r'data-pace><a href="/kpi/revenue/forecast\?period=1403-Q3">On pace for', card)
    assert 'href="/kpi/revenue/forecast?period=1403&amp;lang=en" id="forecast-link"' in kpi
    assert 'id="forecast-link"' not in rate  # a rate does not add up: no forecast


@pytest.mark.browser
def test_the_page_in_a_browser(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_web_browser import ARGS, CHROMIUM, Visit

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        v = Visit(browser, served)
        try:
            v.login("admin", next_url="/kpi/revenue/forecast", lang="fa")
            v.page.wait_for_selector("#forecast-chart[data-ready]")
            v.page.wait_for_selector("#ttw-chart[data-ready]")
            assert v.page.get_attribute("html", "dir") == "rtl"
            assert v.page.locator("#forecast-chart .main-svg").count() > 0
            assert v.page.locator("#ttw-chart .main-svg").count() > 0
            v.shot("forecast-fa")
            assert v.outside() == [] and v.errors == []
        finally:
            v.close()
            browser.close()


def test_the_pace_of_a_period_not_begun_or_over_is_said_as_such(served: Served) -> None:
    """A month not begun read «… با این آهنگ به — می‌رسد (— هدف)» and a closed quarter «… می‌رسد»."""
    later = page(served, "manager", period="1403-10").text  # the clock is on 1403-08-10
    pace = later.split('id="pace"')[1].split("</section>")[0]
    assert "این دوره هنوز آغاز نشده است" in pace and "—" not in pace
    over = page(served, "manager", period="1403-Q1").text
    pace = over.split('id="pace"')[1].split("</section>")[0]
    assert "این دوره به پایان رسیده است و به" in pace and "با این آهنگ" not in pace
    assert 'id="pipeline"' not in over  # no open deal closes in a period that is over
    assert 'id="pipeline"' in later


def test_one_rate_for_every_stage_is_said(served: Served, truth: dict[str, Any]) -> None:
    """The demo's closed deals keep only their closing stage, as most CRMs do: every open deal gets
    the overall rate (42 % beside «ارزیابی اولیه» and «مذاکره» alike), and the page says why."""
    stages = truth["pipeline"]["stages"]
    assert stages and not any(s["deals"] for s in stages)
    html = page(served, "manager", period=RUNNING).text
    text = html.split('id="pipeline-text">')[1].split("</p>")[0]
    assert "در هر مرحله‌ای که باشد، همان نرخ کل" in text
    # deals open longer than any deal ever won are weighed like the others: the page says how much of
    # the figure they are (on the demo at 1404-01-12: 317 of 1,198 bn)
    stale = [d for d in truth["pipeline"]["deals"] if d["stale"] and d["period"] == RUNNING]
    assert stale and f"از {fmt_number(len(stale), 'fa')} فرصتی است که بیش از بلندترین چرخه" in text
    assert "راکد" not in text  # the stale list below uses another rule under that word
    # its periods in calendar order, not by their amounts
    months = page(served, "manager", period="1403-09").text.split('id="pipeline-split"')[1].split("</table>")[0]
    keys = re.findall(r'data-sort="(\d{4}-\d{2})"', months)
    assert keys and keys == sorted(keys), keys
