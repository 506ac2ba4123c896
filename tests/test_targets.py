"""Reading and replacing targets, checked against the KPI catalogue."""

from __future__ import annotations

import pytest

from sanjeh.targets import InvalidTargets, read_targets, replace_targets
from sanjeh.workspace import Workspace


def test_replace_and_read(workspace: Workspace) -> None:
    stored = replace_targets(
        workspace,
        [
            {
                "kpi": "sales_by_region",
                "period": "1403-q4",
                "dimension": "region",
                "member": "Markazi",
                "target": "1,500",
            },
            {"kpi": "revenue", "measure": "orders", "period": "2024-3", "target": 120},
            {"kpi": "revenue", "period": "1403", "target": 9e9},
        ],
    )
    assert stored == read_targets(workspace)
    assert stored == [
        {"kpi": "revenue", "measure": "revenue", "period": "1403", "dimension": None, "member": None, "target": 9e9},
        {
            "kpi": "revenue",
            "measure": "orders",
            "period": "2024-03",
            "dimension": None,
            "member": None,
            "target": 120.0,
        },
        {
            "kpi": "sales_by_region",
            "measure": "revenue",
            "period": "1403-Q4",
            "dimension": "region",
            "member": "Markazi",
            "target": 1500.0,
        },
    ]
    # replacing replaces everything
    assert replace_targets(workspace, [{"kpi": "win_rate", "period": "1403-Q1", "target": 0.3}])[0]["kpi"] == "win_rate"
    assert len(read_targets(workspace)) == 1
    assert replace_targets(workspace, []) == []


def test_a_rep_reads_only_their_targets(workspace: Workspace) -> None:
    replace_targets(
        workspace,
        [
            {"kpi": "sales_per_rep", "period": "1403", "dimension": "rep", "member": "R02", "target": 5},
            {"kpi": "sales_per_rep", "period": "1403", "dimension": "rep", "member": "R05", "target": 6},
            {"kpi": "revenue", "period": "1403", "target": 7},
        ],
    )
    assert [t["member"] for t in read_targets(workspace, rep_id="R02")] == ["R02"]


def test_every_problem_is_listed_and_nothing_changes(workspace: Workspace) -> None:
    replace_targets(workspace, [{"kpi": "revenue", "period": "1403", "target": 1}])
    bad = [
        {"kpi": "happiness", "period": "1403", "target": 1},
        {"kpi": "revenue", "measure": "smiles", "period": "1403", "target": 1},
        {"kpi": "revenue", "period": "1403-13", "target": 1},
        {"kpi": "revenue", "period": "1402..1403", "target": 1},
        {"kpi": "revenue", "period": "1403", "dimension": "colour", "member": "red", "target": 1},
        {"kpi": "revenue", "period": "1403", "dimension": "region", "target": 1},
        {"kpi": "revenue", "period": "1403", "target": "lots"},
        {"kpi": "revenue", "period": "1403", "target": -5},
        {"kpi": "revenue", "period": "1403", "target": 2, "note": "x"},
        {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "Fars", "target": 1},
        {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "FARS", "target": 2},
    ]
    with pytest.raises(InvalidTargets) as err:
        replace_targets(workspace, bad)
    issues = err.value.details["issues"]
    assert err.value.status == 422
    by_row = {(i["row"], i["column"]) for i in issues}
    assert {
        (1, "kpi"),
        (2, "measure"),
        (3, "period"),
        (4, "period"),
        (5, "dimension"),
        (6, "member"),
        (7, "target"),
        (8, "target"),
        (9, "note"),
        (11, "period"),
    } <= by_row
    assert (10, "period") not in by_row
    assert "row 1" in err.value.message
    assert "more" in err.value.message
    assert [t["target"] for t in read_targets(workspace)] == [1.0]


def test_a_target_written_as_text_is_stored_as_written_or_refused(workspace: Workspace) -> None:
    """A file's or the API's text target: thousands separators in groups of three (Persian digits and
    separators too); a comma that is not one («۴۲,۵», ``12,50``) or a 17th significant digit is
    refused with its own reason, never read as another number (``12,50`` was 1,250)."""
    good = [
        {"kpi": "revenue", "period": "1403", "target": "۱۲٬۵۰۰٬۰۰۰"},
        {"kpi": "revenue", "period": "1403-Q1", "target": "2,500,000.5"},
    ]
    replace_targets(workspace, good)
    assert sorted(t["target"] for t in read_targets(workspace)) == [2500000.5, 12500000.0]
    bad = [
        {"kpi": "revenue", "period": "1403-Q2", "target": "12,50"},
        {"kpi": "win_rate", "period": "1403", "target": "۴۲,۵"},
        {"kpi": "revenue", "period": "1403-Q3", "target": "9007199254740993"},
    ]
    with pytest.raises(InvalidTargets) as err:
        replace_targets(workspace, bad)
    codes = [(i["row"], i["code"]) for i in err.value.details["issues"]]
    assert codes == [(1, "decimal_comma"), (2, "decimal_comma"), (3, "too_precise")]
    assert sorted(t["target"] for t in read_targets(workspace)) == [2500000.5, 12500000.0]


def test_a_rate_that_is_part_of_a_whole_takes_no_target_above_100_percent(workspace: Workspace) -> None:
    """A win rate of 42.5 written as 42.5 (not 0.425) was stored as 4,250 %: a rate of parts (a
    share, won of closed) is refused above 1, with the fraction to write; growth may pass 100 %."""
    ok = [
        {"kpi": "win_rate", "period": "1403", "target": 1},
        {"kpi": "sales_growth", "period": "1403", "target": 2.5},  # growth: 250 % is a real goal
        {"kpi": "mql_to_sql", "period": "1403", "target": "0.425"},
    ]
    replace_targets(workspace, ok)
    bad = [
        {"kpi": "win_rate", "period": "1403-Q1", "target": 42.5},
        {
            "kpi": "sales_by_region",
            "measure": "revenue_share",
            "period": "1403",
            "target": "1.2",
            "dimension": "region",
            "member": "Tehran",
        },
        {"kpi": "cancelled_orders", "period": "1403", "target": "۱٫۰۱"},
        {"kpi": "sales_by_region", "period": "1403", "target": 42.5, "dimension": "region", "member": "Tehran"},
    ]
    with pytest.raises(InvalidTargets) as err:
        replace_targets(workspace, bad)
    issues = err.value.details["issues"]
    assert [(i["row"], i["code"]) for i in issues] == [(r, "rate_over_whole") for r in (1, 2, 3)]
    assert "0.425 for 42.5 %" in issues[0]["reason"]
    assert sorted(t["target"] for t in read_targets(workspace)) == [0.425, 1.0, 2.5]
