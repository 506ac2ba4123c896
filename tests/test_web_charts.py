"""Chart specs that read right in Persian (the browser tests draw them; these pin the spec)."""

from __future__ import annotations

from sanjeh.kpis import CATALOGUE
from sanjeh.web.charts import RLM, _tick_text, build_chart, nice_ticks, wrap
from sanjeh.workspace import Workspace

KPIS = {k.name: k for k in CATALOGUE}


def test_value_ticks_speak_one_scale_and_start_right_to_left() -> None:
    ticks = nice_ticks(0, 1.2e12)
    texts = [_tick_text("money", "fa", ticks)(v) for v in ticks]
    assert texts[0] == "۰"
    assert all(
        x.startswith(RLM) and x.endswith("میلیارد") for x in texts[1:]
    )  # never «۱ هزار میلیارد» beside «۸۰۰ میلیارد»
    assert texts[1] == RLM + "۲۵۰ میلیارد" and texts[-1] == RLM + "۱٬۲۵۰ میلیارد"
    en = [_tick_text("money", "en", ticks)(v) for v in ticks]
    assert en[-1] == "1,250B" and not any(RLM in x for x in en)


def test_rate_ticks_have_the_decimals_their_step_needs() -> None:
    ticks = nice_ticks(0, 0.014)
    texts = [_tick_text("rate", "en", ticks)(v) for v in ticks]
    assert texts == ["0%", "0.5%", "1%", "1.5%"]  # not 0%, 0%, 1%, 2%


def test_long_names_wrap_at_the_space_nearest_their_middle() -> None:
    assert wrap("سامانه کنترل سری ۲۰۷") == "سامانه کنترل<br>سری ۲۰۷"
    assert wrap("کوتاه") == "کوتاه"


def test_a_split_is_horizontal_bars_named_largest_first_without_the_others_line() -> None:
    result = {
        "grain": None,
        "by": ["product"],
        "rows": [
            {"period": "1403", "product": "P2", "product_name": "شیر صنعتی تیپ ۲۷۲", "revenue": 9.0},
            {"period": "1403", "product": "P1", "product_name": "۱۲ پمپ", "revenue": 5.0},
            {"period": "1403", "product": "\0others", "product_name": "سایر (۹۴ مورد)", "revenue": 40.0, "_others": 94},
        ],
    }
    fig = build_chart(result, KPIS["sales_by_product"], "fa", drill=lambda d, m: f"/kpi/x?filter={d}:{m}")
    assert fig is not None
    bars = fig["data"][0]
    assert bars["orientation"] == "h" and len(bars["y"]) == 2  # "others" stays in the table
    assert bars["y"] == ["شیر صنعتی تیپ ۲۷۲", RLM + "۱۲ پمپ"]  # a name that starts with digits reads right to left
    assert bars["customdata"] == ["/kpi/x?filter=product:P2", "/kpi/x?filter=product:P1"]  # names shown, ids behind
    assert fig["layout"]["yaxis"]["side"] == "right" and fig["layout"]["xaxis"]["autorange"] == "reversed"


def test_codes_are_shown_in_the_users_words() -> None:
    result = {"grain": None, "by": ["source"], "rows": [{"period": "1403", "source": "cold_call", "opportunities": 3}]}
    fa = build_chart(result, KPIS["opportunities_by_source"], "fa")
    en = build_chart(result, KPIS["opportunities_by_source"], "en")
    assert fa is not None and en is not None
    assert fa["data"][0]["y"] == ["تماس سرد"] and en["data"][0]["y"] == ["Cold call"]


def test_a_trend_of_one_step_draws_its_target_and_comparison_and_spans_its_ticks(workspace: Workspace) -> None:
    """A card opens its KPI page on one month: the trend has one point. A line of one point draws
    nothing, so the target and the compared value are wide ticks at their values; the value axis
    spans its ticks (left alone, Plotly fitted the one point and squeezed the ticks into a band)."""
    from sanjeh.kpis.query import Query
    from tests import kpi_data
    from tests.builders import load

    ws = kpi_data.fill(workspace)
    load(ws, targets=[{"kpi": "revenue", "period": "1403-02", "target": 5000.0}])
    for period, points in (("1403-02", 1), ("1403-Q1", 3)):
        result = ws.engine().run(Query("revenue", period, grain="month", compare="previous")).to_dict()
        fig = build_chart(result, KPIS["revenue"], "fa")
        assert fig is not None
        traces = fig["data"]
        assert len(traces) == 3 and all(len(t["x"]) == points for t in traces), [t["name"] for t in traces]
        for beside in traces[1:]:
            assert beside["mode"] == ("markers" if points == 1 else "lines"), beside["name"]
        axis = fig["layout"]["yaxis"]
        lo, hi = axis["range"]
        ticks = axis["tickvals"]
        assert lo < ticks[0] <= ticks[-1] < hi
        values = [v for t in traces for v in t["y"] if v is not None]
        assert 5000.0 in values and all(lo < v < hi for v in values)
    # a value past the last tick (ticks may stop up to half a step below the largest value)
    assert nice_ticks(0.0, 1075.7)[-1] == 1000.0
    load(ws, targets=[{"kpi": "revenue", "period": "1403-03", "target": 1075.7}])
    result = ws.engine().run(Query("revenue", "1403-03", grain="month")).to_dict()
    fig = build_chart(result, KPIS["revenue"], "fa")
    assert fig is not None
    values = [v for t in fig["data"] for v in t["y"] if v is not None]
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert 1075.7 in values and all(lo < v < hi for v in values), (values, lo, hi)
