"""Views of results (web/views.py): which members a split's table shows first."""

from __future__ import annotations

from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.web.views import OTHERS, top_members

KPIS = {k.name: k for k in CATALOGUE}


def test_a_rates_top_members_are_those_it_rests_on_most() -> None:
    """Win rate by rep with 14 reps: the ten shown are those with most closed deals, not the ones at
    100 % of one deal; the four with least go into "others"."""
    rows = [{"period": "1403-Q4", "rep": f"R{i:02d}", "win_rate": 1.0, "won": 1, "lost": 0} for i in range(4)] + [
        {"period": "1403-Q4", "rep": f"R{i:02d}", "win_rate": 0.3, "won": 3 * i, "lost": 7 * i} for i in range(4, 14)
    ]
    result = {"rows": rows, "by": ["rep"], "columns": list(rows[0])}
    shown, folded = top_members(result, KPIS["win_rate"], "en", top=10)
    members = [r["rep"] for r in shown if r["rep"] != OTHERS]
    assert folded == 4 and members == [f"R{i:02d}" for i in range(4, 14)]


def test_an_amounts_top_members_are_the_largest() -> None:
    rows = [{"period": "1403-Q4", "region": f"r{i}", "revenue": float(i)} for i in range(14)]
    shown, folded = top_members(
        {"rows": rows, "by": ["region"], "columns": list(rows[0])}, KPIS["sales_by_region"], "en"
    )
    assert folded == 4 and {r["region"] for r in shown if r["region"] != OTHERS} == {f"r{i}" for i in range(4, 14)}


def test_a_tables_amounts_share_one_scale() -> None:
    """Revenue 910.8 billion and its target 1,074.1 billion are read side by side in one scale."""
    from sanjeh.web.views import result_table

    rows = [
        {"period": "1403-12", "revenue": 910.8e9, "target": 1074.1e9, "attainment": 0.848},
        {"period": "1403-11", "revenue": 710.1e9, "target": 700.0e9, "attainment": 1.01},
    ]
    result = {"kpi": "revenue", "rows": rows, "by": [], "columns": list(rows[0])}
    table = result_table(result, KPIS["revenue"], "en", "IRR")
    titles = {c.name: c.title for c in table.columns}
    assert titles["revenue"].endswith("(B IRR)") and titles["revenue"].split("(")[1] == titles["target"].split("(")[1]
    cells = [c.text for c in table.rows[0]]
    assert "910.8" in cells and "1,074.1" in cells


def test_a_change_shown_as_zero_has_no_arrow() -> None:
    from sanjeh.currency import as_money
    from sanjeh.web.views import card_view

    card = {
        "kpi": "win_rate",
        "unit": "rate",
        "value": 0.37,
        "change_in": "points",
        "change": 0.0002,
        "direction": "up",
    }
    v = card_view(card, "fa", as_money("IRR"))
    assert v["change_arrow"] == "●" and v["change_trend"] == "flat"  # not "▼ ۰ واحد درصد"
    v = card_view({**card, "change": -0.012}, "fa", as_money("IRR"))
    assert v["change_arrow"] == "▼" and v["change_trend"] == "bad"


def test_a_card_of_a_kpi_always_split_says_its_figure_is_everyones() -> None:
    """'Calls per rep' shows the company's calls: the card says they are all reps' together;
    a KPI not always split, or whose headline does not add up, says nothing."""
    from sanjeh.currency import as_money
    from sanjeh.web.views import card_view

    irr = as_money("IRR")
    base = {"kpi": "calls_per_rep", "title": {"fa": "تماس‌های هر نماینده"}, "unit": "number", "value": 248}
    assert card_view({**base, "all_of": "rep"}, "fa", irr)["all_of"] == "همه‌ی کارشناسان فروش با هم"
    assert card_view({**base, "all_of": "rep"}, "en", irr)["all_of"] == "all reps together"
    assert card_view(base, "fa", irr)["all_of"] is None


def test_the_others_row_of_a_rate_is_worked_out_from_its_counts() -> None:
    """MQL → SQL by region with 13 regions: the "others" row's rate is their SQLs over their MQLs
    (not an average of rates, not empty)."""
    rows = [
        {"period": "1403-Q4", "region": f"r{i:02d}", "mqls": 10 * (i + 1), "sqls": i + 1, "rate": 0.1}
        for i in range(13)
    ]
    rows[0].update(mqls=10, sqls=5, rate=0.5)  # 5 of 10 and 2 of 20 (r00, r01) are folded with r02: 10 of 60
    shown, folded = top_members({"rows": rows, "by": ["region"], "columns": list(rows[0])}, KPIS["mql_to_sql"], "en")
    (others,) = [r for r in shown if r["region"] == OTHERS]
    assert folded == 3 and others["mqls"] == 60 and others["sqls"] == 10
    assert others["rate"] == 10 / 60
