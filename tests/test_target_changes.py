"""Changing targets row by row, with an audit; copying a year; spreading a year over its months;
exact numbers in the editor's units (sanjeh.targets, sanjeh.target_plans, formatting.fmt_exact)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanjeh.errors import Forbidden, UserError
from sanjeh.formatting import NumberError, fmt_exact, parse_exact
from sanjeh.kpis.query import Query, plan
from sanjeh.kpis.targeting import resolve_targets
from sanjeh.target_plans import copy_year, parse_factor, spread_year
from sanjeh.targets import (
    CHANGES_TABLE,
    Change,
    InvalidTargets,
    apply_changes,
    check_team,
    read_changes,
    read_targets,
    replace_targets,
)
from sanjeh.workspace import Workspace

ROWS = [
    {"kpi": "revenue", "period": "1403", "target": 2.95608e12},
    {"kpi": "revenue", "period": "1403-Q1", "target": 123456789.5},
    {"kpi": "win_rate", "period": "1403", "target": 0.123456789012},
    {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "Tehran", "target": 7e11},
    {"kpi": "sales_per_rep", "period": "1403", "dimension": "rep", "member": "R02", "target": 5e10},
    {"kpi": "calls_per_rep", "period": "1403", "dimension": "rep", "member": "R02", "target": 151},
]


@settings(max_examples=300, deadline=None)
@given(
    value=st.floats(min_value=0, max_value=1e16, allow_nan=False, allow_infinity=False),
    lang=st.sampled_from(["fa", "en"]),
    unit=st.sampled_from([(1.0, False), (10.0, False), (1.0, True)]),
)
def test_exact_numbers_come_back_unchanged(value: float, lang: str, unit: tuple[float, bool]) -> None:
    divisor, percent = unit
    text = fmt_exact(value, lang, divisor=divisor, percent=percent)
    assert "e" not in text.lower()
    assert parse_exact(text, divisor=divisor, percent=percent) == value


def test_exact_numbers_read_what_people_type() -> None:
    assert fmt_exact(2.95608e12, "fa") == "۲٬۹۵۶٬۰۸۰٬۰۰۰٬۰۰۰"
    assert fmt_exact(2.95608e12, "en", divisor=10) == "295,608,000,000"  # toman
    assert fmt_exact(0.3, "fa", percent=True) == "۳۰"
    assert parse_exact("30%", percent=True) == 0.3
    assert parse_exact("۱۲٬۵۰۰", divisor=10) == 125000.0
    assert parse_exact("1.5 میلیارد") == 1.5e9
    assert parse_exact("") is None
    with pytest.raises(ValueError, match="not a number"):
        parse_exact("lots")
    # a comma is a thousands separator in groups of three, or the number is refused, not guessed
    assert parse_exact("12,500") == 12500.0 and parse_exact("۱۲٬۵۰۰٬۰۰۰٫۵") == 12500000.5
    for typed in ("12,50", "۴۲,۵", "1,5 میلیارد", "1,2345", "12,500,00"):
        with pytest.raises(NumberError) as err:
            parse_exact(typed, percent=True)
        assert err.value.code == "decimal_comma", typed
    # what is stored is what was typed: a 17th significant digit a float cannot keep is refused
    assert parse_exact("9007199254740992") == 2.0**53 and parse_exact("0.1") == 0.1
    for typed in ("9,007,199,254,740,993", "12345678901234567"):
        with pytest.raises(NumberError) as err:
            parse_exact(typed)
        assert err.value.code == "too_precise", typed


def _audit(ws: Workspace) -> list[dict[str, object]]:
    return read_changes(ws, limit=500)[0]


def test_saving_unchanged_rows_writes_and_audits_nothing(any_workspace: Workspace) -> None:
    ws = any_workspace
    replace_targets(ws, ROWS, username="sara")
    first = _audit(ws)
    assert len(first) == len(ROWS) and {a["action"] for a in first} == {"add"}
    assert {a["username"] for a in first} == {"sara"}
    stored = read_targets(ws)
    assert replace_targets(ws, stored, username="sara") == stored  # PUT of what GET gave: no change
    assert apply_changes(ws, [Change(r, dict(r)) for r in stored], username="sara").total == 0
    assert _audit(ws) == first
    assert read_targets(ws) == stored
    # one value changes: one row is rewritten, one audit row says old -> new
    changed = [dict(r, target=r["target"] + 0.5) if r["kpi"] == "win_rate" else r for r in stored]
    replace_targets(ws, changed, username="neda", via="editor")
    audit = _audit(ws)
    assert len(audit) == len(ROWS) + 1
    last = audit[0]
    assert (last["action"], last["username"], last["kpi"], last["via"]) == ("change", "neda", "win_rate", "editor")
    assert (last["old_target"], last["new_target"]) == (0.123456789012, 0.623456789012)


def test_changes_add_change_delete_and_check_everything_first(any_workspace: Workspace) -> None:
    ws = any_workspace
    replace_targets(ws, ROWS, username="sara")
    year = {"kpi": "revenue", "measure": "revenue", "period": "1403"}
    done = apply_changes(
        ws,
        [
            Change(year, {**year, "target": 3e12}),
            Change({"kpi": "calls_per_rep", "period": "1403", "dimension": "rep", "member": "r02"}, None),
            Change(None, {"kpi": "revenue", "period": "1403-2", "target": 10}),
        ],
        username="sara",
    )
    assert done.to_dict() == {"added": 1, "changed": 1, "deleted": 1}
    got = {(r["kpi"], r["period"], r["member"]): r["target"] for r in read_targets(ws)}
    assert got[("revenue", "1403", None)] == 3e12 and got[("revenue", "1403-02", None)] == 10.0
    assert ("calls_per_rep", "1403", "R02") not in got
    before = read_targets(ws)
    bad = [
        Change(None, {"kpi": "win_rate", "period": "1403", "target": 0.5}),  # already set
        Change(
            None,
            {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "Teh\x00ran", "target": 1},
        ),
        Change({"kpi": "revenue", "period": "1399"}, None),  # no such target
        Change(None, {"kpi": "revenue", "period": "1403-13", "target": "x"}),
        Change(year, {**year, "target": -1}),
    ]
    with pytest.raises(InvalidTargets) as err:
        apply_changes(ws, bad, username="sara")
    codes = {(i["row"], i["code"]) for i in err.value.details["issues"]}
    assert codes >= {(1, "already_set"), (2, "control_character"), (3, "not_found"), (4, "bad_period"),
                     (4, "not_a_number"), (5, "negative")}  # fmt: skip
    assert read_targets(ws) == before  # all or nothing
    assert len(_audit(ws)) == len(ROWS) + 3


def test_a_nul_in_a_member_is_refused_by_every_write(workspace: Workspace) -> None:
    row = {"kpi": "sales_by_region", "period": "1403", "dimension": "region", "member": "Teh\x00ran", "target": 5}
    with pytest.raises(InvalidTargets) as err:
        replace_targets(workspace, [row])
    assert err.value.details["issues"][0]["code"] == "control_character"
    assert read_targets(workspace) == []


def test_a_team_manager_changes_only_the_teams_targets(workspace: Workspace) -> None:
    replace_targets(workspace, ROWS, username="admin")
    team = ["R02", "R03"]
    assert [r["member"] for r in read_targets(workspace, reps=team)] == ["R02", "R02"]
    ok = Change(None, {"kpi": "sales_per_rep", "period": "1403", "dimension": "rep", "member": "r03", "target": 9})
    assert apply_changes(workspace, [ok], username="lead", reps=team).added == 1
    outside = Change(None, {"kpi": "revenue", "period": "1404", "target": 9})
    with pytest.raises(InvalidTargets) as err:
        apply_changes(workspace, [outside], username="lead", reps=team)
    assert err.value.details["issues"][0]["code"] == "not_your_team"
    with pytest.raises(Forbidden):
        check_team([{"kpi": "revenue", "period": "1404", "target": 1}], team)
    assert [a["member"] for a in read_changes(workspace, reps=team)[0]] == ["r03", "R02", "R02"]


def test_copy_a_year_with_a_factor(workspace: Workspace) -> None:
    replace_targets(workspace, ROWS, username="admin")
    replace_targets(workspace, [*read_targets(workspace), {"kpi": "revenue", "period": "1404-Q1", "target": 1}])
    done = copy_year(workspace, "1403", "1404", parse_factor("۱٫۱"), username="sara")
    assert done.to_dict() == {"added": 5, "kept": 1, "skipped": 0}
    got = {(r["kpi"], r["period"], r["member"]): r["target"] for r in read_targets(workspace)}
    assert got[("revenue", "1404", None)] == 3251688000000.0  # exactly 2,956,080,000,000 × 1.1
    assert got[("revenue", "1404-Q1", None)] == 1.0  # already set: kept
    assert got[("win_rate", "1404", None)] == 0.123456789012  # a rate is copied as it is
    assert got[("calls_per_rep", "1404", "R02")] == 166.0  # a count: 151 × 1.1 = 166.1, whole
    assert {a["via"] for a in read_changes(workspace)[0] if a["period"].startswith("1404")} >= {"copy"}
    with pytest.raises(UserError):
        copy_year(workspace, "1403", "1403", Decimal(1), username="sara")
    with pytest.raises(UserError):
        copy_year(workspace, "1403", "2025", Decimal(1), username="sara")
    with pytest.raises(UserError):
        parse_factor("-2")


def test_spread_a_year_by_days_as_the_engine_does(any_workspace: Workspace) -> None:
    ws = any_workspace
    replace_targets(
        ws,
        [
            {"kpi": "revenue", "period": "1403", "target": 1_000_000_000.0},
            {"kpi": "revenue", "period": "1403-Q1", "target": 300_000_000.0},
            {"kpi": "revenue", "period": "1403-05", "target": 5.0},
            {"kpi": "win_rate", "period": "1403", "target": 0.3},
            {"kpi": "revenue", "measure": "customers", "period": "1403", "target": 10},
        ],
    )
    kpis = {k.name: k for k in ws.engine().catalogue()}
    raw = read_targets(ws)
    derived = {}  # what the engine measures each month against (kpis/targeting.py)
    for m in range(1, 13):
        found = resolve_targets(raw, plan(Query("revenue", f"1403-{m:02d}"), kpis))
        derived[f"1403-{m:02d}"] = next(t.value for t in found if t.measure == "revenue")
    done = spread_year(ws, {"kpi": "revenue", "measure": "revenue", "period": "1403"}, username="sara")
    assert done.to_dict() == {"added": 11, "kept": 1, "skipped": 0}  # 1403-05 was set
    months = {
        r["period"]: r["target"] for r in read_targets(ws) if r["kpi"] == "revenue" and r["period"][5:6].isdigit()
    }
    assert sum(months.values()) == 1_000_000_000.0  # whole rials that add up to the year
    for label, value in months.items():
        assert value == round(value) and abs(value - derived[label]) <= 1, label  # the engine's share by days
    q1 = sum(months[f"1403-0{m}"] for m in (1, 2, 3))
    assert q1 == 300_000_000.0
    rate = spread_year(ws, {"kpi": "win_rate", "period": "1403"}, username="sara")
    assert rate.added == 12
    assert {r["target"] for r in read_targets(ws) if r["kpi"] == "win_rate" and len(r["period"]) == 7} == {0.3}
    with pytest.raises(UserError, match="cannot be spread"):
        spread_year(ws, {"kpi": "revenue", "measure": "customers", "period": "1403"}, username="sara")
    with pytest.raises(UserError, match="whole year"):
        spread_year(ws, {"kpi": "revenue", "period": "1403-Q1"}, username="sara")


def test_a_workspace_made_before_the_audit_gets_its_table(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path)) / "ws"
    ws = Workspace.init(root)
    ws.warehouse.execute(f'DROP TABLE "{CHANGES_TABLE}"')
    ws.warehouse.execute('ALTER TABLE "_users" DROP COLUMN "team"')
    ws.close()
    again = Workspace.open(root)
    try:
        assert again.warehouse.has_table(CHANGES_TABLE)
        assert "team" in again.warehouse.table("_users").columns
        replace_targets(again, ROWS[:1], username="sara")
        assert len(read_changes(again)[0]) == 1
    finally:
        again.close()
