"""What stands out in a scorecard, in words."""

from __future__ import annotations

from typing import Any

from sanjeh.kpis.insights import findings


def _card(kpi: str, **kw: Any) -> dict[str, Any]:
    base = {
        "kpi": kpi,
        "title": {"fa": kpi, "en": kpi.title()},
        "unit": "money",
        "direction": "up",
        "target": None,
        "attainment": None,
        "change": None,
        "change_rate": None,
        "year_ago_change": None,
        "year_ago_change_rate": None,
        "primary": False,
    }
    return {**base, **kw}


def test_missed_targets_and_bad_moves_come_first() -> None:
    cards = [
        _card("revenue", target=1000.0, attainment=0.8, primary=True),
        _card("win_rate", unit="rate", change=-0.091, change_rate=-0.3),  # rates move in points
        _card("new_customers", unit="count", year_ago_change_rate=0.5),
        _card("pipeline", change_rate=0.02),  # too small to mention
        _card("cancelled_orders", unit="rate", direction="down", change=0.04, change_rate=0.4),  # up is bad here
        _card("data_entry_share", unit="rate", direction="down", change=0.01, change_rate=0.5),  # 1 point: small
    ]
    out = findings(cards)
    kinds = [(f["kpi"], f["kind"]) for f in out]
    assert kinds[0] == ("revenue", "short_of_target")
    assert ("cancelled_orders", "worsened") in kinds and ("win_rate", "worsened") in kinds
    assert ("new_customers", "improved") in kinds
    assert all(k not in ("pipeline", "data_entry_share") for k, _ in kinds)
    revenue = out[0]["text"]
    assert "80%" in revenue["en"] and "Revenue" in revenue["en"]
    assert "۸۰٪" in revenue["fa"]
    worse = next(f for f in out if f["kpi"] == "cancelled_orders")["text"]["en"]
    assert "rose 4 pp" in worse and "worth a look" in worse and "%" not in worse
    win = next(f for f in out if f["kpi"] == "win_rate")["text"]
    assert "fell 9.1 pp" in win["en"]
    assert "۹٫۱ واحد درصد کاهش یافته" in win["fa"]


def test_cards_without_data_say_nothing() -> None:
    cards = [
        _card("revenue", attainment=0.1, target=5.0, data={"status": "no_data", "missing": ["orders"]}),
        _card("win_rate", unit="rate", change=-0.2, data={"status": "outside", "missing": []}),
    ]
    assert findings(cards) == []


def test_a_quiet_scorecard_has_no_findings() -> None:
    assert findings([_card("revenue", attainment=1.02, change_rate=0.03)]) == []


def test_an_explanation_through_another_measure_names_it() -> None:
    """A growth does not split over members, so its move is explained through its revenue's,
    which may have moved the other way (growth fell 12 pp while revenue rose 68 %): the sentence
    then names the measure whose change it splits, in both languages."""
    from sanjeh.kpis.insights import explainers

    why = {
        "change": 100.0,
        "against": "year_ago",
        "by": ["region"],
        "rows": [
            {"region": "Tehran", "contribution": 60.0},
            {"region": "Kerman", "contribution": 25.0},
            {"region": "Fars", "contribution": 15.0},
        ],
    }
    assert explainers(why, "en") == "Tehran and Kerman explain 85% of this change."
    assert explainers(why, "en", "Revenue") == "Of the change in Revenue, Tehran and Kerman explain 85%."
    fa = explainers(why, "fa", "درآمد")
    assert fa is not None and fa.startswith("از تغییر درآمد، ") and "۸۵٪" in fa and "این تغییر" not in fa
    pulled = {**why, "rows": [{"region": "Tehran", "contribution": 130.0}, {"region": "Fars", "contribution": -30.0}]}
    assert explainers(pulled, "en", "Revenue") == (
        "Tehran moved Revenue more than its whole change; the others together pulled the other way."
    )


def test_the_scorecard_names_revenue_when_it_explains_a_growth(tmp_path_factory: Any) -> None:
    """On the demo company: every insight about sales growth that names the members behind its
    move says that the move split is revenue's."""
    from tests.test_web_support import shared_demo_workspace

    ws = shared_demo_workspace(tmp_path_factory.getbasetemp())
    seen = 0
    for period in ("1403", "1403-Q3", "1403-12", "1403-06"):
        for f in ws.scorecard(period).to_dict()["insights"]:
            if f["kpi"] != "sales_growth" or f.get("against") is None:
                continue
            if " explain" in f["text"]["en"]:
                seen += 1
                assert "Of the change in Revenue, " in f["text"]["en"], f["text"]["en"]
                assert "از تغییر درآمد، " in f["text"]["fa"], f["text"]["fa"]
    assert seen, "no explained growth insight in these periods"


def test_a_growth_is_not_explained_by_a_revenue_that_moved_the_other_way(tmp_path_factory: Any) -> None:
    """Growth fell 12 pp against a year ago while revenue rose 68 %: the regions behind revenue's rise
    do not explain growth's fall, so the insight names none; when both moved the same way it names
    them, as revenue's."""
    from sanjeh.kpis.scorecard import explained
    from sanjeh.kpis.why import WhyQuery
    from tests.test_web_support import shared_demo_workspace

    engine = shared_demo_workspace(tmp_path_factory.getbasetemp()).engine()
    growth = next(k for k in engine.catalogue() if k.name == "sales_growth")
    checked = 0
    for period in ("1403-12", "1403-Q3", "1403"):
        for against in ("previous", "year_ago"):
            why = engine.why(WhyQuery("sales_growth", period, "revenue", against, ("region",))).to_dict()
            if not why.get("change"):
                continue
            rose = float(why["change"]) > 0
            same = explained(engine, growth, period, against, rose=rose)
            assert same and ("Of the change in Revenue, " in same["en"] or "moved Revenue" in same["en"]), same
            assert explained(engine, growth, period, against, rose=not rose) == {}, (period, against)
            checked += 1
    assert checked >= 4


def test_an_explanation_two_findings_share_is_said_once_beside_its_own_kpi(tmp_path_factory: Any) -> None:
    """Revenue rose and so did growth against the same baseline: the regions behind revenue's move
    are named once, beside revenue, not again beside growth (whose explanation is revenue's), even
    when growth's finding comes first."""
    from sanjeh.kpis.scorecard import explain_findings
    from sanjeh.kpis.why import WhyQuery
    from tests.test_web_support import shared_demo_workspace

    engine = shared_demo_workspace(tmp_path_factory.getbasetemp()).engine()
    kpis = {k.name: k for k in engine.catalogue()}
    why = engine.why(WhyQuery("revenue", "1403", "revenue", "previous", ("region",))).to_dict()
    rose = float(why["change"]) > 0

    def finding(kpi: str) -> dict[str, Any]:
        text = {"en": f"{kpi} moved.", "fa": f"{kpi} جابه‌جا شد."}
        return {"kind": "improved", "kpi": kpi, "text": text, "against": "previous", "_rose": rose}

    found = [finding("sales_growth"), finding("revenue")]
    explain_findings(engine, found, "1403", kpis)
    growth, revenue = (f["text"]["en"] for f in found)
    assert " explain" in revenue or " moved it more" in revenue, revenue
    assert growth == "sales_growth moved.", growth
    assert all("_rose" not in f for f in found)
    alone = [finding("sales_growth")]
    explain_findings(engine, alone, "1403", kpis)
    assert "Revenue" in alone[0]["text"]["en"], alone  # with no revenue finding, growth says it
