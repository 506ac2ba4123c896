"""The forecast on the pages (docs/forecast.md, "On the dashboard"): the scorecard's "on pace"
line on a card of a period still running, and the revenue trend's forecast band."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanjeh.formatting import fmt_rate
from sanjeh.i18n import period_label, t
from sanjeh.kpis.pace import pace
from tests.test_web_pages import figure_of
from tests.test_web_support import Served, build_demo_workspace, serve

TODAY = dt.date(2024, 10, 31)  # 1403-08-10: inside 1403-Q3 and 1403
RUNNING, CLOSED = "1403-Q3", "1403-Q2"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws = build_demo_workspace(Path(tmp_path_factory.mktemp("forecast-pages")) / "ws")
    ws.clock = lambda: TODAY
    with serve(ws) as s:
        yield s


def pace_lines(html: str) -> dict[str, str]:
    """The pace line of each card: {kpi: text}."""
    found = {}
    for card in re.findall(r'<article class="card.*?</article>', html, re.S):
        kpi = re.search(r'data-kpi="([^"]+)"', card)
        line = re.search(r"<p class=\"pace small\" data-pace>(.*?)</p>", card, re.S)
        if kpi and line:
            found[kpi.group(1)] = re.sub(r"<[^>]+>", "", line.group(1))  # the line links to the forecast page
    return found


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_running_quarter_says_where_revenue_lands(served: Served, lang: str) -> None:
    expected = pace(served.ws.engine(), "revenue", RUNNING, as_of=TODAY).projected_attainment
    assert expected is not None
    with served.browser_session("admin") as (c, _):
        lines = pace_lines(c.get("/", params={"period": RUNNING, "lang": lang}).text)
    want = t("card.on_pace", lang, attainment=fmt_rate(expected, lang, 0))
    assert lines["revenue"] == want
    assert ("با این روند به" in want) == (lang == "fa") and ("٪" in want) == (lang == "fa")
    assert "mql_to_sql" not in lines and "win_rate" not in lines  # rates do not add up: no pace


def test_a_reps_pace_covers_their_own_rows(served: Served) -> None:
    mine = pace(served.ws.engine(rep_scope="R02"), "revenue", RUNNING, as_of=TODAY).projected_attainment
    every = pace(served.ws.engine(), "revenue", RUNNING, as_of=TODAY).projected_attainment
    assert mine is not None and every is not None and round(mine, 2) != round(every, 2)
    with served.browser_session("rep2") as (c, _):
        lines = pace_lines(c.get("/", params={"period": RUNNING, "lang": "en"}).text)
    assert lines["revenue"] == t("card.on_pace", "en", attainment=fmt_rate(mine, "en", 0))


def test_a_closed_period_has_no_pace_line(served: Served) -> None:
    with served.browser_session("admin") as (c, _):
        html = c.get("/", params={"period": CLOSED, "lang": "en"}).text
    assert 'data-kpi="revenue"' in html and "data-pace" not in html


def traces(served: Served, period: str, lang: str = "en", grain: str = "month") -> list[dict[str, object]]:
    with served.browser_session("admin") as (c, _):
        html = c.get("/kpi/revenue", params={"period": period, "grain": grain, "lang": lang}).text
    data = figure_of(html)["data"]
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_revenue_trend_shows_the_forecast_in_an_80_percent_band(served: Served, lang: str) -> None:
    data = traces(served, "1403", lang)
    band = [d for d in data if d.get("fill") == "tonexty"]
    assert len(band) == 1
    i = data.index(band[0])
    low, mean = data[i - 1], data[i + 1]
    months = ["1403-08", "1403-09", "1403-10", "1403-11", "1403-12"]
    assert low["x"] == band[0]["x"] == [period_label(m, lang) for m in months]  # the user's calendar
    assert all(lo <= hi for lo, hi in zip(low["y"], band[0]["y"], strict=True))  # type: ignore[call-overload]
    assert mean["line"]["dash"] == "dash"  # type: ignore[index]
    assert len(mean["x"]) == 6  # type: ignore[arg-type]  # from Mehr's value (the last complete month)
    word = "تقریبی" if lang == "fa" else "approximate"
    assert word in str(mean["name"]) and word in str(band[0]["name"])
    if lang == "fa":
        assert "۱۴۰۳" in str(band[0]["x"])  # Persian digits


def test_no_band_for_a_closed_period_another_grain_or_too_little_history(served: Served) -> None:
    assert not [d for d in traces(served, "1402") if d.get("fill")]
    assert not [d for d in traces(served, "1403", grain="quarter") if d.get("fill")]
    served.ws.clock = lambda: dt.date(2024, 1, 5)  # 1402-10-15: 21 complete months since Farvardin 1401
    try:
        data = traces(served, "1402")
    finally:
        served.ws.clock = lambda: TODAY
    assert data and not [d for d in data if d.get("fill")]
