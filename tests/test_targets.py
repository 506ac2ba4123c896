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
