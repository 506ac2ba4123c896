"""No data is not an error: a new workspace, and every canonical table filled alone.

Users meet these first (a new workspace, a CRM export with leads and deals but no orders).
Every KPI, the scorecard, the CLI, the API and every page must answer, say which data is
missing, and never show a zero for a KPI whose source table is empty.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.kpis import CATALOGUE, Query
from sanjeh.kpis.sources import COHORTS
from sanjeh.schema import IMPORT_ORDER
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.builders import load
from tests.conftest import FIXED_TODAY
from tests.test_web_support import PASSWORD, Served, serve

#: None: every table empty; else the one table that holds rows.
CONFIGS = [None, *IMPORT_ORDER]
CRM_ONLY = ("leads", "opportunities")  # a CRM export without orders


def _fill(ws: Workspace, tables: tuple[str, ...]) -> Workspace:
    load(ws, **{t: kpi_data.TABLES[t] for t in tables if t in kpi_data.TABLES})
    return ws


def _tables(config: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if config is None:
        return ()
    return (config,) if isinstance(config, str) else config


def _needed(kpi: str, filled: tuple[str, ...]) -> bool:
    """Does the KPI's headline cohort have its source tables (or the no-orders stand-in)?"""
    k = next(x for x in CATALOGUE if x.name == kpi)
    tables, _ = COHORTS[k.cohort].sources(no_orders="orders" not in filled)
    return all(t in filled for t in tables)


#: PostgreSQL runs the configurations where the warehouse's answers differ (no orders, no lines).
BACKENDS = [("duckdb", c) for c in CONFIGS] + [("postgres", c) for c in (None, CRM_ONLY, "orders", "order_lines")]


@pytest.mark.parametrize(("backend", "config"), BACKENDS, ids=lambda c: str(c or "empty"))
def test_engine_answers_on_any_one_table(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, config: str | tuple[str, ...] | None
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    ws = Workspace.init(tmp_path / "ws", warehouse=url)
    ws.clock = lambda: FIXED_TODAY
    _fill(ws, _tables(config))
    filled = _tables(config)
    period = ws.default_period()
    # the clock's latest complete quarter, or the quarter of the last day with data (all of
    # kpi_data's events fall in 1402-12..1403-03)
    assert period == ("1403-Q4" if ws.engine().coverage().last_day is None else "1403-Q1")
    sc = ws.scorecard("1403-Q1").to_dict()
    cards = sc["primary"] + sc["secondary"]
    assert len(cards) == len(CATALOGUE)
    for card in cards:
        status = card["data"]["status"]
        if _needed(card["kpi"], filled) and card["kpi"] not in ("new_initiative_revenue",):
            assert status != "no_data", card["kpi"]
        if status == "no_data":
            assert card["value"] is None and card["data"]["missing"], card["kpi"]
            assert not card["spark"] or all(p["value"] is None for p in card["spark"])
    if not filled or filled == ("targets",) or filled == ("cpi",):
        assert sc["data"]["empty"] and sc["insights"] == []
    for k in CATALOGUE:
        result = ws.engine().run(Query(k.name, "1403-Q1", grain="month", compare="previous"))
        d = result.to_dict()
        assert d["data"]["status"] in ("ok", "partial", "outside", "no_data")
        if d["data"]["status"] == "no_data":
            assert d["rows"] == []
    ws.close()


def test_a_period_outside_the_data_says_so(any_workspace: Workspace) -> None:
    ws = kpi_data.fill(any_workspace)
    before = ws.engine().run(Query("revenue", "1399")).to_dict()
    assert before["data"]["status"] == "outside"
    assert before["data"]["first_day"] == "2024-03-10" and before["data"]["last_day"] == "2024-05-30"
    assert before["rows"][0]["revenue"] == 0  # the rows stay what KPIS.md says: zero revenue
    partial = ws.engine().run(Query("revenue", "1403")).to_dict()
    assert partial["data"]["status"] == "partial"
    inside = ws.engine().run(Query("revenue", "1403-02")).to_dict()
    assert inside["data"]["status"] == "ok"
    # the open pipeline goes on after the last deal was created
    assert ws.engine().run(Query("pipeline", "1404")).to_dict()["data"]["status"] != "outside"


def test_default_period_and_quick_periods_follow_the_data(workspace: Workspace) -> None:
    """Data that ends before today: the default period is the last one with data, and "this
    month" counts from the last day with data; data that reaches this month counts from today."""
    ws = kpi_data.fill(workspace)
    assert ws.today() == FIXED_TODAY  # 1404-01-12; the data ends on 2024-05-30 (1403-03-10)
    assert ws.default_period() == "1403-Q1"
    assert ws.default_period("month") == "1403-03"
    assert ws.engine().as_of() == dt.date(2024, 5, 30)
    ws.clock = lambda: dt.date(2024, 6, 2)  # 1403-03-13: the data reaches this month
    assert ws.engine().as_of() == dt.date(2024, 6, 2)
    assert ws.default_period("month") == "1403-02"
    empty = Workspace.init(workspace.root.parent / "empty")
    empty.clock = lambda: FIXED_TODAY
    assert empty.engine().as_of() == FIXED_TODAY and empty.default_period("month") == "1403-12"
    empty.close()


# -- the surfaces on each configuration ---------------------------------------------------------
@pytest.fixture
def served_config(request: pytest.FixtureRequest, workspace: Workspace) -> Iterator[Served]:
    _fill(workspace, _tables(request.param))
    for name, role, rep in (("admin", "admin", None), ("manager", "manager", None), ("rep1", "rep", "R1")):
        add_user(workspace, name, role, rep, password=PASSWORD)
    with serve(workspace) as s:
        yield s


PAGES = [
    *("/", "/reps", "/kpis", "/targets", "/data", "/users", "/alerts", "/schedules", "/runs", "/kpi/revenue/forecast"),
    *[f"/kpi/{k.name}" for k in CATALOGUE],
]
#: A percent sign with no digit before it ("%" for 0 %, as the old formatting printed).
BARE_PERCENT = re.compile(r"(?<![0-9۰-۹])\s*[%٪](?![;\w{])")
#: What is not a formatted number: data for scripts, and the unit beside a targets editor's box ("[50] %").
SCRIPTS = re.compile(r"<script[^>]*>.*?</script>|<span class=\"unit\">[%٪]</span>", re.S)
SURFACE_CONFIGS = [None, CRM_ONLY, "orders", "order_lines", "targets", "activities"]


@pytest.mark.parametrize("served_config", SURFACE_CONFIGS, indirect=True, ids=lambda c: str(c or "empty"))
def test_every_page_and_api_call_answers(served_config: Served) -> None:
    s = served_config
    for user in ("admin", "rep1"):
        with s.browser_session(user) as (c, _):
            for path in PAGES:
                for lang in ("fa", "en"):
                    r = c.get(path, params={"lang": lang})
                    assert r.status_code in (200, 403), (user, path, r.status_code)
                    shown = SCRIPTS.sub("", r.text)
                    assert not BARE_PERCENT.search(shown), (path, BARE_PERCENT.search(shown))
                    # no heading over nothing (no won deal yet: no stale deals to list, and no line saying so)
                    assert ('id="stale-heading"' in shown) == ('id="stale-text"' in shown), (path, lang)
                    # no open deal or no rate: no weighted pipeline («… از ۰ فرصت باز (نرخ موفقیت کل — …)»)
                    pipeline = (
                        shown.split('id="pipeline-text">')[1].split("</p>")[0] if "pipeline-text" in shown else ""
                    )
                    assert "—" not in pipeline and ("pipeline-text" not in shown or " ۰ فرصت" not in pipeline), pipeline
        with s.api(user) as api:
            for path in (
                "/api/v1/scorecard",
                "/api/v1/kpis/revenue",
                "/api/v1/kpis/win_rate?by=rep",
                "/api/v1/kpis",
                "/api/v1/kpis/revenue/forecast",
            ):
                r = api.get(path)
                assert r.status_code == 200, (user, path, r.text)
    with s.browser_session("admin") as (c, _):
        page = c.get("/").text
        filled = s.ws.engine().coverage().rows
        if not filled.get("orders") and not filled.get("opportunities"):
            assert 'id="data-missing"' in page and 'href="/data"' in page
            assert 'data-status="no_data"' in page


def test_a_crm_export_without_orders_counts_won_deals(workspace: Workspace) -> None:
    ws = _fill(workspace, CRM_ONLY)
    sc = ws.scorecard("1403-Q1").to_dict()
    cards = {c["kpi"]: c for c in sc["primary"] + sc["secondary"]}
    assert cards["revenue"]["data"]["status"] != "no_data" and cards["revenue"]["value"] == 1300.0
    assert cards["calls_per_rep"]["data"] == {
        "status": "no_data",
        "missing": ["activities"],
        "first_day": None,
        "last_day": None,
    }
    assert "activities" in sc["data"]["missing"] and "orders" not in sc["data"]["missing"]


@pytest.mark.parametrize("config", [None, "orders", "targets"], ids=lambda c: c or "empty")
def test_the_cli_answers(workspace: Workspace, config: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(workspace, _tables(config))
    root = str(workspace.root)
    workspace.close()
    for args in (
        ["scorecard", "-w", root],
        ["scorecard", "-w", root, "--format", "json"],
        ["kpi", "revenue", "--period", "1403", "-w", root],
        ["kpi", "--all", "--period", "1403-Q1", "-w", root, "--format", "csv"],
        ["kpis", "-w", root],
        ["rejects", "-w", root],
    ):
        assert main(args) == 0, (args, capsys.readouterr().err)
    capsys.readouterr()
    main(["scorecard", "-w", root, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["data"]["empty"] is (config != "orders")


def test_whole_percentages_on_the_pages(workspace: Workspace) -> None:
    """100 % is "100%", not "1%"; 50 % is "50%", not "5%" (attainment on cards and the leaderboard)."""
    ws = kpi_data.fill(workspace)
    ws.warehouse.truncate("targets")
    load(
        ws,
        targets=[
            {"kpi": "revenue", "period": "1403-Q1", "target": 1265.0},  # attainment exactly 100 %
            {"kpi": "sales_per_rep", "period": "1403-Q1", "dimension": "rep", "member": "R1", "target": 480.0},
        ],
    )
    add_user(ws, "admin", "admin", password=PASSWORD)
    with serve(ws) as s, s.browser_session("admin") as (c, _):
        en = c.get("/", params={"period": "1403-Q1", "lang": "en"}).text
        assert "100% of target" in en
        fa = c.get("/", params={"period": "1403-Q1", "lang": "fa"}).text
        assert "۱۰۰٪" in fa
        reps = c.get("/reps", params={"period": "1403-Q1", "lang": "en"}).text
        assert re.search(r">\s*50%\s*<", reps), "R1 sold 240 of 480"
