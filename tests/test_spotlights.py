"""A scorecard that says different things: each card shows what its KPI declares (catalogue data).

Five KPIs' company-wide headline is the same revenue (revenue, by product, by region, per rep,
by contact method). Their cards now show the best-selling product and its share, the region
furthest below its target, the median and the top rep, the contact method that wins most; the
insights do not repeat the revenue they share.
"""

from __future__ import annotations

from typing import Any

import pytest

from sanjeh.kpis import CATALOGUE
from sanjeh.kpis.insights import findings
from sanjeh.kpis.model import Spotlight
from sanjeh.kpis.scorecard import spotlight, spotlight_query
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import load

KPIS = {k.name: k for k in CATALOGUE}
REVENUE_ALIKE = ("revenue", "sales_by_product", "sales_by_region", "sales_per_rep", "sales_by_contact_method")


def _rows(*rows: tuple[str, float, float | None]) -> list[dict[str, Any]]:
    """(region, revenue, attainment) rows of sales_by_region."""
    return [
        {"period": "1403-Q1", "region": r, "revenue": v, "attainment": a, "target": v / a if a else None}
        for r, v, a in rows
    ]


def test_every_kpi_declares_its_card_and_the_revenue_alike_ones_show_something_else() -> None:
    for k in CATALOGUE:
        assert k.card.spotlights, f"{k.name} declares no spotlight"
        for s in k.card.spotlights:
            assert not s.by or s.by in k.dimensions, (k.name, s.by)
            assert s.label.get("fa") or s.pick == "company", (k.name, s)
    shows = {name: KPIS[name].card.value for name in REVENUE_ALIKE}
    assert shows == {
        "revenue": "headline",
        "sales_by_product": "spotlight",
        "sales_by_region": "spotlight",
        "sales_per_rep": "spotlight",
        "sales_by_contact_method": "spotlight",
    }
    picks = {(KPIS[n].card.spotlights[0].pick, KPIS[n].card.spotlights[0].by) for n in REVENUE_ALIKE[1:]}
    assert picks == {("top", "product"), ("below_target", "region"), ("median", "rep"), ("top", "contact_method")}
    assert KPIS["sales_by_contact_method"].card.spotlights[0].measure == "win_rate"  # best by win rate


def test_default_views_are_declared() -> None:
    revenue = KPIS["revenue"].view
    assert (revenue.period, revenue.grain, revenue.compare) == ("year", "month", "year_ago")
    assert KPIS["win_rate"].view.by == ("rep",)


def test_the_region_furthest_below_its_target() -> None:
    k = KPIS["sales_by_region"]
    spot = Spotlight("below_target", "region")
    got = spotlight(k, spot, _rows(("Tehran", 900.0, 1.2), ("Fars", 100.0, 0.4), ("Gilan", 50.0, 0.7)))
    assert got is not None and got["member"] == "Fars" and got["attainment"] == 0.4
    assert spotlight(k, spot, _rows(("Tehran", 900.0, 1.2), ("Fars", 100.0, 1.0))) is None  # none below target
    assert spotlight(k, spot, _rows(("unknown", 10.0, 0.1), ("Fars", 100.0, 0.9)))["member"] == "Fars"  # type: ignore[index]


def test_a_member_with_a_target_and_no_sales_is_the_furthest_below_it() -> None:
    """A region with a target and no sale has no attainment in the table (KPIS.md: null when the
    actual is 0), but it is the furthest below its target: 0 % of it. (Hormozgan, 71 bn of target
    and nothing sold, was left out and the card named a region at 93 %.) A rate with no cases
    is no news, and neither is a target of 0."""
    k = KPIS["sales_by_region"]
    spot = Spotlight("below_target", "region")
    rows = [
        *_rows(("Markazi", 930.0, 0.93), ("Tehran", 2000.0, 1.1)),
        {"period": "1403", "region": "Hormozgan", "revenue": None, "attainment": None, "target": 71.3},
        {"period": "1403", "region": "Yazd", "revenue": 0.0, "attainment": None, "target": 0.0},
        {"period": "1403", "region": "Fars", "revenue": 0.0, "attainment": None, "target": 8.7},  # less to miss
        {"period": "1403", "region": "unknown", "revenue": None, "attainment": None, "target": 5.0},
    ]
    got = spotlight(k, spot, rows)
    assert got is not None and (got["member"], got["attainment"], got["target"]) == ("Hormozgan", 0.0, 71.3)
    assert spotlight(k, spot, rows[:2])["member"] == "Markazi"  # type: ignore[index]
    rate = KPIS["win_rate"]
    below = Spotlight("below_target", "rep", measure="win_rate")
    no_cases = [{"period": "1403", "rep": "R1", "win_rate": None, "attainment": None, "target": 0.3}]
    assert spotlight(rate, below, no_cases) is None


def test_the_top_member_and_its_share() -> None:
    k = KPIS["sales_by_region"]
    got = spotlight(
        k, Spotlight("top", "region"), _rows(("Tehran", 600.0, None), ("Fars", 300.0, None), ("Gilan", 100.0, None))
    )
    assert got is not None and got["member"] == "Tehran" and got["share"] == pytest.approx(0.6)
    assert (
        spotlight(k, Spotlight("bottom", "region"), _rows(("Tehran", 600.0, None))) is None
    )  # one member: no "lowest"


def test_a_rate_needs_enough_cases_and_the_median_rep() -> None:
    k = KPIS["win_rate"]
    rows = [
        {"rep": "R1", "rep_name": "سارا", "win_rate": 1.0, "won": 1, "lost": 0},
        {"rep": "R2", "rep_name": "رضا", "win_rate": 0.6, "won": 6, "lost": 4},
        {"rep": "R3", "rep_name": "نگار", "win_rate": 0.3, "won": 3, "lost": 7},
    ]
    best = spotlight(k, Spotlight("top", "rep", base=("won", "lost"), least=3), rows)
    assert best is not None and best["member"] == "R2" and best["member_name"] == "رضا"  # one deal is no news
    # a year: 2 of 3 deals was «the best rep» while the median rep closed some 30; half the median is the floor
    year = [{"rep": f"R{i}", "win_rate": w / n, "won": w, "lost": n - w} for i, (w, n) in
            enumerate(((2, 3), (25, 46), (20, 50), (30, 60), (18, 40)), start=1)]  # fmt: skip
    card = next(x for x in k.card.spotlights if x.pick == "top")
    got = spotlight(k, card, year)
    assert got is not None and got["member"] == "R2"  # 54 % of 46, not 67 % of 3
    assert spotlight(k, Spotlight("top", "rep", base=("won", "lost"), least=3), year)["member"] == "R1"  # type: ignore[index]
    reps = [{"rep": f"R{i}", "revenue": float(v)} for i, v in enumerate((10, 20, 30, 1000), start=1)]
    median = spotlight(KPIS["sales_per_rep"], Spotlight("median", "rep"), reps)
    assert median is not None and median["median"] == 25.0 and median["member"] == "R4" and median["value"] == 1000.0


def test_a_spotlight_reads_the_same_query_as_the_page() -> None:
    """A fixed dimension is the KPI's own split: the query (and its cache entry) is the page's."""
    assert spotlight_query(KPIS["sales_by_region"], KPIS["sales_by_region"].card.spotlights[0], "1403-Q1").by == ()
    assert spotlight_query(KPIS["win_rate"], KPIS["win_rate"].card.spotlights[0], "1403-Q1").by == ("rep",)


def test_the_five_revenue_cards_say_five_different_things(workspace: Workspace) -> None:
    ws = kpi_data.fill(workspace)
    load(
        ws,
        targets=[
            {"kpi": "sales_by_region", "period": "1403-Q1", "dimension": "region", "member": "Tehran", "target": 1000.0}
        ],
    )
    sc = ws.scorecard("1403-Q1").to_dict()
    cards = {c["kpi"]: c for c in sc["primary"] + sc["secondary"]}
    revenue = cards["revenue"]["value"]
    said = []
    for name in REVENUE_ALIKE[:-1]:
        c = cards[name]
        if name == "revenue":
            assert c["shows"] == "headline"
            assert [s["measure"] for s in c["spotlights"][0]["show"]] == ["orders", "customers"]
            said.append(("headline", revenue))
            continue
        assert c["shows"] == "spotlight", name
        first = c["spotlights"][0]
        said.append((first["pick"], first.get("member"), first.get("median")))
    assert len(set(said)) == 4, said
    # no contact method here sold three times: no win rate worth naming, so the card keeps its headline
    assert cards["sales_by_contact_method"]["shows"] == "headline"
    assert cards["sales_by_contact_method"]["spotlights"] == []
    # markazi has a target (1,500) and no sale this quarter: 0 % of it, further below than Tehran
    region = cards["sales_by_region"]["spotlights"][0]
    assert (region["pick"], region["member"], region["attainment"]) == ("below_target", "markazi", 0.0)
    texts = [f["text"]["en"] for f in sc["insights"]]
    assert any("markazi is only at 0% of its target" in x for x in texts), texts


def test_insights_do_not_repeat_the_revenue_the_cards_share() -> None:
    base = {
        "unit": "money",
        "direction": "up",
        "target": 100.0,
        "attainment": 0.5,
        "change_rate": -0.5,
        "primary": False,
    }
    cards = [
        {"kpi": k, "title": {"fa": k, "en": k}, "shows": "spotlight" if k != "revenue" else "headline", **base}
        for k in REVENUE_ALIKE
    ]
    kpis = [f["kpi"] for f in findings(cards)]
    assert kpis == ["revenue", "revenue"]  # its miss and its fall, said once: not five times


def test_growth_from_almost_nothing_is_no_news() -> None:
    k = KPIS["sales_growth"]
    spot = next(s for s in k.card.spotlights if s.pick == "top")
    rows = [
        {"region": "تهران", "growth": 0.1, "previous_revenue": 1000.0},
        {"region": "همدان", "growth": 22.0, "previous_revenue": 5.0},  # +2,200 % from 5 rials
    ]
    got = spotlight(k, spot, rows)
    assert got is not None and got["member"] == "تهران"


def test_cards_and_spotlights_computing_fewer_measures_say_what_the_full_queries_say(workspace: Workspace) -> None:
    """A card computes only its headline, a spotlight only what it reads (compile.py ``needs``):
    their figures, and the members a spotlight picks from, are those of the full queries."""
    import dataclasses

    from sanjeh.kpis.query import Query
    from sanjeh.kpis.scorecard import card

    ws = kpi_data.fill(workspace)
    load(
        ws,
        targets=[
            {
                "kpi": "sales_by_region",
                "period": "1403-Q1",
                "dimension": "region",
                "member": "Tehran",
                "target": 1000.0,
            },
            {"kpi": "revenue", "period": "1403-Q1", "target": 5000.0},
        ],
        # a rep who won a deal and sold nothing yet: a row of sales per rep (revenue 0) all the same
        reps=[{"rep_id": "R3", "name": "Nima", "region": "Tehran"}],
        opportunities=[
            {
                "opportunity_id": "OP9",
                "created_at": "2024-04-02 00:00:00",
                "rep_id": "R3",
                "status": "won",
                "amount": 700.0,
                "closed_at": "2024-05-01 00:00:00",
                "stage": "closed",
                "contact_method": "phone",
            }
        ],
    )
    engine = ws.engine()
    checked = 0
    for k in engine.catalogue():
        c = card(engine, k, "1403-Q1", 0)
        full_plan = dataclasses.replace(engine.plan(Query(k.name, "1403-Q1"), whole=True), grain=None, compare="both")
        full = engine.run_plan(full_plan)
        row = next((r for r in full.rows if r["period"] == "1403-Q1"), {})
        h = k.headline
        for key, col in (
            ("value", h),
            ("previous", f"previous_{h}"),
            ("year_ago", f"year_ago_{h}"),
            ("target", "target"),
            ("attainment", "attainment"),
        ):
            assert c[key] == pytest.approx(row.get(col)), (k.name, key)
        for spot in k.card.spotlights:
            q = spotlight_query(k, spot, "1403-Q1")
            everything = dataclasses.replace(q, measures=())
            pruned_rows = engine.run(q).rows
            full_rows = engine.run(everything).rows
            dims = [*q.by, *k.fixed]
            assert sorted(str([r.get(d) for d in dims]) for r in pruned_rows) == sorted(
                str([r.get(d) for d in dims]) for r in full_rows
            ), (k.name, spot.pick)
            assert spotlight(k, spot, pruned_rows) == spotlight(k, spot, full_rows), (k.name, spot.pick)
            checked += 1
            if k.name == "sales_per_rep":
                assert "R3" in {r.get("rep") for r in pruned_rows}
    assert checked >= 20


def test_a_query_of_some_measures_without_the_headline_is_ordered_by_the_first(workspace: Workspace) -> None:
    from sanjeh.kpis.query import Query

    ws = kpi_data.fill(workspace)
    rows = ws.engine().run(Query("cancelled_orders", "1403-Q1", by=("region",), measures=("cancelled_value",))).rows
    assert rows and all("cancellation_rate" not in r for r in rows)
    values = [r["cancelled_value"] for r in rows]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("period", ["1403", "1403-Q3", "1403-02..1403-07"])
def test_a_spotlight_reads_the_step_its_card_shows(tmp_path_factory: pytest.TempPathFactory, period: str) -> None:
    """A KPI with a default grain (sales growth: by month) still gives its spotlight one row per
    member for the whole period, the step its card shows: the best region's growth is the region's
    growth over the period, not its best month's (a year's card said «best region: Tehran 44 %»
    and «weakest region: Tehran −32 %», two of its months). On the demo company (read only)."""
    from sanjeh.kpis.query import Query
    from tests.test_web_support import shared_demo_workspace

    engine = shared_demo_workspace(tmp_path_factory.getbasetemp()).engine()
    for k in engine.catalogue():
        label = engine.plan(Query(k.name, period)).period.label
        for spot in k.card.spotlights:
            rows = engine.run(spotlight_query(k, spot, period)).rows
            assert {r["period"] for r in rows} <= {label}, (k.name, spot.pick)
    growth = KPIS["sales_growth"]
    assert growth.default_grain == "month"
    top, bottom = growth.card.spotlights
    rows = engine.run(spotlight_query(growth, top, period)).rows
    whole = engine.run(Query("sales_growth", period, by=("region",), one_step=True)).rows
    by_region = {r["region"]: r["growth"] for r in whole}
    assert len(rows) == len(by_region) >= 5
    best, worst = spotlight(growth, top, rows), spotlight(growth, bottom, rows)
    assert best is not None and worst is not None and best["member"] != worst["member"]
    assert best["value"] == pytest.approx(by_region[best["member"]])
    assert worst["value"] == pytest.approx(by_region[worst["member"]])
    assert best["value"] > worst["value"]
    if period != "1403-02..1403-07":  # a year or a quarter as one step is its own grain's one step
        grain = "year" if period == "1403" else "quarter"
        one = engine.run(Query("sales_growth", period, grain=grain, by=("region",))).rows
        assert {r["region"]: pytest.approx(r["growth"]) for r in one} == by_region
