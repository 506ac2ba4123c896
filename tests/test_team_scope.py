"""A manager with a team sees the rows of that team's reps only (docs/security.md, "Who may do
what"): the engine's rep scope is a set of reps (sources.py, targeting.py), the web caches per
scope, and another team's rep is 403 — as the rep tests check for one rep."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanjeh.kpis.query import Query
from sanjeh.targets import replace_targets
from sanjeh.users import add_user, create_demo_users, list_users, scope_of, team_reps, top_sellers
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.test_web_support import PASSWORD, Served, build_demo_workspace, serve

TEAM_TARGETS = [
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "rep", "member": "R1", "target": 100.0},
    {"kpi": "revenue", "period": "1403-Q1", "dimension": "rep", "member": "R2", "target": 50.0},
    {"kpi": "revenue", "period": "1403-Q1", "target": 9999.0},
]


def test_a_teams_numbers_are_its_reps_numbers(any_workspace: Workspace) -> None:
    ws = kpi_data.fill(any_workspace)
    replace_targets(ws, TEAM_TARGETS)
    one = {r: ws.engine(rep_scope=r).run(Query("revenue", "1403-Q1")).rows[0]["revenue"] for r in ("R1", "R2")}
    team = ws.engine(rep_scope=frozenset({"r1", "R2"})).run(Query("revenue", "1403-Q1")).rows[0]
    assert math.isclose(team["revenue"], one["R1"] + one["R2"])
    assert team["target"] == 150.0  # the team's reps' targets, never the company's 9,999
    by_rep = ws.engine(rep_scope=frozenset({"R1"})).run(Query("revenue", "1403-Q1", by=("rep",))).rows
    assert [(r["rep"], r["target"]) for r in by_rep] == [("R1", 100.0)]  # only the team's reps, with their targets
    nobody = ws.engine(rep_scope=frozenset()).run(Query("revenue", "1403-Q1")).rows[0]
    assert nobody["revenue"] == 0 and nobody["target"] is None  # an empty team sees nothing, not everything


def test_team_members_and_demo_logins(workspace: Workspace) -> None:
    from sanjeh.demo import iter_demo_tables

    with workspace.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=400):
            workspace.warehouse.insert_arrow(name, chunk)
    reps = workspace.warehouse.table("reps").to_pyarrow().to_pylist()
    tehran = {r["rep_id"] for r in reps if r["team"] == "تهران"}
    manager = next(r["rep_id"] for r in reps if r["team"] == "تهران" and r["manager_id"] == "R01")
    assert team_reps(workspace, " تهران ") == tehran  # by the team's name (the demo's teams are Persian)
    assert team_reps(workspace, manager) == tehran  # by its manager's rep id
    assert team_reps(workspace, "Atlantis") == frozenset()
    sellers = top_sellers(workspace, 2)
    revenue = {
        r["rep"]: r["revenue"] for r in workspace.engine().run(Query("sales_per_rep", "2021-01-01..2026-01-01")).rows
    }
    assert sellers == sorted(revenue, key=lambda k: -revenue[k])[:2]  # the reps who sold most
    logins = {u: (role, rep, team) for u, _, role, rep, team in create_demo_users(workspace)}
    team = next(r["team"] for r in reps if r["rep_id"] == sellers[0])
    assert logins["rep1"] == ("rep", sellers[0], None) and logins["rep2"] == ("rep", sellers[1], None)
    assert logins["teamlead"] == ("manager", None, team)
    assert logins["manager"] == ("manager", None, None)
    lead = next(u for u in list_users(workspace) if u.team)
    assert scope_of(workspace, lead) == team_reps(workspace, team)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws = build_demo_workspace(tmp_path_factory.mktemp("team") / "ws")
    add_user(ws, "lead", "manager", password=PASSWORD, team="مرکز")
    add_user(ws, "nobody", "manager", password=PASSWORD, team="Atlantis")
    with serve(ws) as s:
        yield s


def _center(s: Served) -> set[str]:
    reps = s.ws.warehouse.table("reps").to_pyarrow().to_pylist()
    return {r["rep_id"] for r in reps if r["team"] == "مرکز"}


def test_a_team_manager_sees_their_team_only_on_every_surface(served: Served) -> None:
    center = _center(served)
    period = {"period": "1403"}
    with served.api("admin") as admin, served.api("lead") as lead, served.api("nobody") as nobody:
        every = admin.get("/api/v1/kpis/sales_per_rep", params=period).json()["rows"]
        mine = lead.get("/api/v1/kpis/sales_per_rep", params=period).json()["rows"]
        assert {r["rep"] for r in mine} == center and len(every) > len(mine)
        whole = lead.get("/api/v1/kpis/revenue", params=period).json()["rows"][0]["revenue"]
        assert math.isclose(whole, sum(r["revenue"] for r in mine))
        outsider = next(r["rep"] for r in every if r["rep"] not in center)
        r = lead.get("/api/v1/kpis/revenue", params={**period, "filter": f"rep:{outsider}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        inside = sorted(center)[0]
        assert lead.get("/api/v1/kpis/revenue", params={**period, "filter": f"rep:{inside}"}).status_code == 200
        rows = lead.get("/api/v1/kpis/revenue/rows", params={**period, "limit": 500}).json()
        assert {r["rep"] for r in rows["rows"]} <= center and math.isclose(rows["value_sum"], whole)
        assert lead.get("/api/v1/kpis/revenue/rows", params={**period, "filter": f"rep:{outsider}"}).status_code == 403
        assert nobody.get("/api/v1/kpis/revenue", params=period).json()["rows"][0]["revenue"] == 0  # an unknown team
        targets = lead.get("/api/v1/targets").json()
        assert targets and all(t["dimension"] == "rep" and t["member"] in center for t in targets)
        assert lead.put("/api/v1/targets", json=[]).status_code == 403  # would replace others' targets
        ok = {"new": {"kpi": "sales_per_rep", "period": "1404", "dimension": "rep", "member": inside, "target": 5}}
        assert lead.patch("/api/v1/targets", json={"changes": [ok]}).json() == {"added": 1, "changed": 0, "deleted": 0}
        bad = {"new": {"kpi": "revenue", "period": "1404", "target": 5}}
        r = lead.patch("/api/v1/targets", json={"changes": [bad]})
        assert r.status_code == 422 and r.json()["error"]["details"]["issues"][0]["code"] == "not_your_team"
    with served.browser_session("lead") as (c, _):
        page = c.get("/reps", params=period).text
        import re

        assert set(re.findall(r'<tr data-rep="([^"]+)"', page)) == center
        assert "مرکز" in c.get("/kpis").text  # the header says which team


def test_the_cache_keeps_scopes_apart(served: Served) -> None:
    st = served.app.state.sanjeh  # type: ignore[attr-defined]
    with served.api("admin") as admin, served.api("lead") as lead:
        a = admin.get("/api/v1/kpis/revenue", params={"period": "1403-11"}).json()["rows"][0]["revenue"]
        b = lead.get("/api/v1/kpis/revenue", params={"period": "1403-11"}).json()["rows"][0]["revenue"]
        again = admin.get("/api/v1/kpis/revenue", params={"period": "1403-11"}).json()["rows"][0]["revenue"]
    assert a == again and b < a
    assert frozenset(_center(served)) in {k[-2] for k in st.cache._data}  # keyed by the team's reps


def test_stamps_of_users_without_a_team_are_unchanged(tmp_path: Path) -> None:
    """Existing tokens survive the new ``team`` column: a user without a team keeps their stamp."""
    import hashlib

    from sanjeh.users import get_user

    ws = Workspace.init(tmp_path / "ws")
    add_user(ws, "sara", "manager", password="long-enough-1")
    user = get_user(ws, "sara")
    assert user is not None
    row = ws.warehouse.table("_users").to_pyarrow().to_pylist()[0]
    old = "\0".join((row["username"], row["role"], "", row["password_hash"]))
    assert user.stamp == hashlib.sha256(old.encode()).hexdigest()[:32]
    ws.close()
