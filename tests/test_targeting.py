"""Which target a row is measured against: set, summed, spread by days, or its members' sum
(kpis/targeting.py, docs/kpis.md "Targets")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanjeh.calendar import parse_period, unit_of
from sanjeh.kpis import CATALOGUE, Query
from sanjeh.kpis.query import plan
from sanjeh.kpis.targeting import _Set, resolve, resolve_targets
from sanjeh.settings import Settings
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import load

approx = pytest.approx
KPIS = {k.name: k for k in CATALOGUE}


def _set(label: str, value: float) -> _Set:
    p = parse_period(label)
    return _Set(p.start, p.end, value)


def _span(label: str) -> tuple[dt.date, dt.date]:
    p = parse_period(label)
    return p.start, p.end


def test_a_year_of_quarterly_or_monthly_targets_has_their_sum() -> None:
    quarters = [_set(f"1403-Q{q}", 100.0 * q) for q in (1, 2, 3, 4)]
    assert resolve(*_span("1403"), quarters, "sum") == approx(1000.0)
    months = [_set(f"1403-{m:02d}", 10.0) for m in range(1, 13)]
    assert resolve(*_span("1403"), months, "sum") == approx(120.0)
    # a mix: Q1 set as a whole, the other quarters month by month
    mix = [_set("1403-Q1", 50.0)] + [_set(f"1403-{m:02d}", 10.0) for m in range(4, 13)]
    assert resolve(*_span("1403"), mix, "sum") == approx(140.0)
    # one month missing: the year has no target (never a sum of a part)
    assert resolve(*_span("1403"), months[:-1], "sum") is None


def test_a_month_of_a_quarterly_target_gets_its_share_by_days() -> None:
    q4 = [_set("1402-Q4", 890.0)]  # Dey 30 + Bahman 30 + Esfand 29 days (1402 is not leap) = 89
    assert resolve(*_span("1402-10"), q4, "sum") == approx(300.0)
    assert resolve(*_span("1402-12"), q4, "sum") == approx(290.0)
    # a month set inside the quarter takes its own value; the rest is spread over the other days
    with_dey = [*q4, _set("1402-10", 500.0)]
    assert resolve(*_span("1402-10"), with_dey, "sum") == approx(500.0)
    assert resolve(*_span("1402-11"), with_dey, "sum") == approx(390.0 * 30 / 59)
    assert resolve(*_span("1402-Q4"), with_dey, "sum") == approx(890.0)
    # a week across two months (Saturday 30 Dey to Friday 6 Bahman): a day from Dey, six from Bahman
    week = unit_of(dt.date(2024, 1, 20), "jalali", "week")
    assert (week.start, week.end) == (dt.date(2024, 1, 20), dt.date(2024, 1, 26))
    assert resolve(week.start, week.end, with_dey, "sum") == approx(500.0 / 30 + 6 * 390.0 / 59)
    # a target set below what its parts already take leaves nothing for the other days
    assert resolve(*_span("1402-11"), [*q4, _set("1402-10", 1000.0)], "sum") == 0.0


def test_rates_keep_their_target_and_distinct_counts_only_match_exactly() -> None:
    q1 = [_set("1403-Q1", 0.3)]
    assert resolve(*_span("1403-02"), q1, "same") == approx(0.3)
    halves = [_set("1403-Q1", 0.2), _set("1403-Q2", 0.4), _set("1403-Q3", 0.4), _set("1403-Q4", 0.4)]
    days = [(parse_period(f"1403-Q{q}").end - parse_period(f"1403-Q{q}").start).days + 1 for q in (1, 2, 3, 4)]
    weighted = (0.2 * days[0] + 0.4 * sum(days[1:])) / sum(days)
    assert resolve(*_span("1403"), halves, "same") == approx(weighted)
    assert resolve(*_span("1403-02"), q1, "none") is None
    assert resolve(*_span("1403-Q1"), q1, "none") == 0.3


def _targets(rows: list[dict[str, Any]], kpi: str, period: str, **kw: Any) -> list[tuple[Any, ...]]:
    rep = kw.pop("rep_scope", None)
    p = plan(Query(kpi, period, **kw), KPIS)
    return [(t.measure, t.step, t.member, t.value) for t in resolve_targets(rows, p, rep_scope=rep)]


REGION_TARGETS = [
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "region", "member": "Tehran", "target": 600.0},
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "region", "member": "markazi", "target": 400.0},
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "rep", "member": "R1", "target": 700.0},
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "rep", "member": "R2", "target": 300.0},
]


def test_a_company_row_without_its_own_target_has_its_members_sum() -> None:
    assert _targets(REGION_TARGETS, "revenue", "1403-Q1") == [("revenue", "1403-Q1", None, 1000.0)]
    company = [*REGION_TARGETS, {"kpi": "revenue", "period": "1403-Q1", "target": 900.0}]
    assert _targets(company, "revenue", "1403-Q1") == [("revenue", "1403-Q1", None, 900.0)]
    by_month = _targets(REGION_TARGETS, "revenue", "1403-Q1", grain="month")
    assert [v for *_, v in by_month] == approx([1000.0 * 31 / 93] * 3)
    # a rate's members do not add up to the company's
    rates = [{"kpi": "win_rate", "period": "1403-Q1", "dimension": "rep", "member": "R1", "target": 0.3}]
    assert _targets(rates, "win_rate", "1403-Q1") == []


def test_a_filter_or_a_reps_own_view_is_measured_against_that_members_target() -> None:
    got = _targets(REGION_TARGETS, "revenue", "1403-Q1", filters=(("region", "MARKAZI"),))
    assert got == [("revenue", "1403-Q1", None, 400.0)]
    assert _targets(REGION_TARGETS, "revenue", "1403-Q1", filters=(("region", "Fars"),)) == []
    two = (("region", "Tehran"), ("rep", "R1"))
    assert _targets(REGION_TARGETS, "revenue", "1403-Q1", filters=two) == []
    assert _targets(REGION_TARGETS, "revenue", "1403-Q1", rep_scope="r1") == [("revenue", "1403-Q1", None, 700.0)]
    # a rep's view split by rep: only the rep's own row
    own = _targets(REGION_TARGETS, "revenue", "1403-Q1", by=("rep",), rep_scope="R2")
    assert own == [("revenue", "1403-Q1", "r2", 300.0)]
    # split by region, the rep sees no region targets (those are the company's)
    assert _targets(REGION_TARGETS, "revenue", "1403-Q1", by=("region",), rep_scope="R2") == []


def test_a_gregorian_target_never_reaches_a_jalali_row() -> None:
    rows = [{"kpi": "revenue", "period": "2024", "target": 366.0}]
    assert _targets(rows, "revenue", "2024-03") == [("revenue", "2024-03", None, approx(31.0))]
    assert _targets(rows, "revenue", "1403-01") == []


def test_members_of_code_dimensions_match_their_code() -> None:
    rows = [
        {
            "kpi": "opportunities_by_source",
            "period": "1403-Q1",
            "dimension": "source",
            "member": "Cold - Call",
            "target": 5,
        }
    ]
    got = _targets(rows, "opportunities_by_source", "1403-Q1")  # fixed by source
    assert got == [("opportunities", "1403-Q1", "cold_call", 5.0)]


def test_workspace_kpi_split_by_outcome_meets_its_target(any_workspace: Workspace) -> None:
    """One normalisation for import, filters and targets: a target on member "No Answer" of a
    code dimension meets the rows stored as ``no_answer``."""
    ws = kpi_data.fill(any_workspace)
    raw = {
        "name": "calls_by_outcome",
        "cohort": "activities",
        "headline": "calls",
        "dimensions": ["outcome"],
        "measures": [{"name": "calls", "kind": "count", "unit": "count"}],
    }
    ws.settings = Settings.from_dict(ws.root, {"workspace": {}, "kpis": [raw]})
    load(
        ws,
        activities=[
            {
                "activity_id": "X1",
                "rep_id": "R1",
                "type": "call",
                "occurred_at": "2024-03-25 10:00",
                "outcome": "no_answer",
            }
        ],
    )
    load(
        ws,
        targets=[
            {"kpi": "calls_by_outcome", "period": "1403-01", "dimension": "outcome", "member": "No Answer", "target": 4}
        ],
    )
    rows = ws.engine().run(Query("calls_by_outcome", "1403-01", by=("outcome",))).rows
    row = next(r for r in rows if r["outcome"] == "no_answer")
    assert row["target"] == 4.0 and row["attainment"] == approx(row["calls"] / 4)
    filtered = ws.engine().run(Query("calls_by_outcome", "1403-01", filters=(("outcome", "NO ANSWER"),))).rows
    assert filtered[0]["target"] == 4.0


def test_a_reps_id_is_one_rule_for_data_and_targets(any_workspace: Workspace) -> None:
    """A rep user whose id is written in another case sees their own rows and their own targets."""
    ws = kpi_data.fill(any_workspace)
    load(ws, targets=[{"kpi": "revenue", "period": "1403-Q1", "dimension": "rep", "member": "R1", "target": 480.0}])
    upper = ws.engine(rep_scope="R1").run(Query("revenue", "1403-Q1")).rows[0]
    lower = ws.engine(rep_scope="r1").run(Query("revenue", "1403-Q1")).rows[0]
    assert upper["revenue"] == lower["revenue"] == approx(240.0)
    assert upper["target"] == lower["target"] == 480.0
    assert lower["attainment"] == approx(0.5)


def test_attainment_on_a_month_of_a_quarterly_target(any_workspace: Workspace) -> None:
    ws = kpi_data.fill(any_workspace)
    rows = ws.engine().run(Query("sales_by_region", "1403-02", by=("region",))).rows
    markazi = next(r for r in rows if r["region"].lower() == "markazi")
    assert markazi["target"] == approx(1500.0 * 31 / 93)
    year = ws.engine().run(Query("revenue", "1403")).rows[0]
    assert year["target"] is None  # only Q1 has targets: a year is never measured against a part
