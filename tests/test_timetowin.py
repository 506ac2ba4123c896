"""Time to win (docs/forecast.md, "Time to win"): the curves on a hand-computed set of deals and
against lifelines on the Maven CRM data set (engaging deals censored), and the stale deals.

Hand-computed set, as of 2024-04-02 (days from creation; nine deals):
A won on day 10; B and H won on day 20; E won and G lost on day 30; C lost on day 15; D open,
12 days old; F open, 40 days old; I won on day 50 but created 35 days before the as-of day, so it
was open then (censored at 35). Deals at risk and outcomes per day:

    day 10: 9 at risk, 1 won   won = 1/9                       stay = 8/9
    day 15: 7 at risk, 1 lost  lost = 8/9 · 1/7 = 8/63          stay = 16/21
    day 20: 6 at risk, 2 won   won = 1/9 + 16/21 · 2/6 = 23/63  stay = 32/63
    day 30: 4 at risk, 1 + 1   won = 23/63 + 32/63 · 1/4 = 31/63, lost = 16/63, stay = 16/63

Kaplan–Meier with lost deals censored: 1 − (8/9)(4/6)(3/4) = 5/9 on day 30. 80 % of 31/63 is
24.8/63: reached on day 30 (23/63 on day 20 is short), so F (40 days) and I (35) are stale, D not.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sanjeh.errors import InvalidQuery
from sanjeh.ingest import run_import
from sanjeh.kpis.timetowin import LOST, OPEN, WON, curve, time_to_win
from sanjeh.workspace import Workspace
from tests.builders import load
from tests.conftest import DATASET_CURRENCIES, DATASETS

AS_OF = dt.date(2024, 4, 2)
MAVEN = DATASETS / "maven-crm-sales-opportunities"
MAVEN_END = dt.date(2017, 12, 31)  # the last close date in the data set


def _deal(i: str, created_days_ago: int, status: str, closed_after: int | None, amount: float, rep: str) -> dict:  # type: ignore[type-arg]
    created = AS_OF - dt.timedelta(days=created_days_ago)
    closed = created + dt.timedelta(days=closed_after) if closed_after is not None else None
    return {
        "opportunity_id": i,
        "created_at": f"{created.isoformat()} 09:00",
        "closed_at": f"{closed.isoformat()} 16:00" if closed else None,
        "status": status,
        "stage": "s",
        "amount": amount,
        "rep_id": rep,
        "source": "web",
    }


HAND = [
    _deal("A", 100, "won", 10, 10.0, "R1"),
    _deal("B", 100, "won", 20, 10.0, "R1"),
    _deal("H", 90, "won", 20, 10.0, "R2"),
    _deal("E", 80, "won", 30, 10.0, "R2"),
    _deal("G", 80, "lost", 30, 10.0, "R1"),
    _deal("C", 60, "lost", 15, 10.0, "R2"),
    _deal("D", 12, "open", None, 500.0, "R1"),
    _deal("F", 40, "open", None, 300.0, "R1"),
    _deal("I", 35, "won", 50, 700.0, "R2"),  # won after the as-of day: open then
    _deal("LATER", -3, "open", None, 9.0, "R1"),  # created after the as-of day: not counted
]


def test_time_to_win_by_hand(workspace: Workspace) -> None:
    load(workspace, opportunities=HAND)
    got = time_to_win(workspace.engine(), as_of=AS_OF)
    c = got.overall
    assert (c.deals, c.won_deals, c.lost_deals, c.open_deals) == (9, 4, 2, 3)
    assert c.days == [10, 15, 20, 30]
    assert c.at_risk == [9, 7, 6, 4]
    assert c.won == pytest.approx([1 / 9, 1 / 9, 23 / 63, 31 / 63])
    assert c.lost == pytest.approx([0, 8 / 63, 8 / 63, 16 / 63])
    assert c.km_won == pytest.approx([1 / 9, 1 / 9, 11 / 27, 5 / 9])
    assert c.won_within(25) == pytest.approx(23 / 63) and c.won_within(5) == 0.0
    assert got.stale_after == 30
    assert [(s.opportunity_id, s.age_days) for s in got.stale] == [("I", 35), ("F", 40)]  # the largest first
    assert (got.stale_count, got.stale_amount) == (2, 1000.0)


def test_time_to_win_per_rep_and_a_reps_own_deals(workspace: Workspace) -> None:
    load(workspace, opportunities=HAND)
    got = time_to_win(workspace.engine(), by="rep", as_of=AS_OF, min_deals=1)
    assert [(g.member, g.deals) for g in got.groups] == [("R1", 5), ("R2", 4)]
    r2 = next(g for g in got.groups if g.member == "R2")
    # R2: H won day 20, E won day 30, C lost day 15, I censored at 35
    assert r2.days == [15, 20, 30] and r2.won == pytest.approx([0, 3 / 4 * 1 / 3, 1 / 4 + 1 / 2 * 1 / 2])
    mine = time_to_win(workspace.engine(rep_scope="R2"), as_of=AS_OF)
    assert mine.overall.won == r2.won
    assert [s.opportunity_id for s in mine.stale] == [s.opportunity_id for s in got.stale if s.rep == "R2"] == ["I"]
    with pytest.raises(InvalidQuery) as exc:
        time_to_win(workspace.engine(), by="region")
    assert exc.value.key == "query.forecast_by"


def test_no_win_no_threshold(workspace: Workspace) -> None:
    load(workspace, opportunities=[_deal("X", 50, "open", None, 1.0, "R1"), _deal("Y", 40, "lost", 5, 1.0, "R1")])
    got = time_to_win(workspace.engine(), as_of=AS_OF)
    assert got.overall.won == [0.0] and got.overall.lost == [1 / 2]
    assert got.stale_after is None and got.stale == []


def _lifelines(days: np.ndarray, outcome: np.ndarray) -> tuple[pd.Series, pd.Series, pd.Series]:
    """lifelines' Kaplan–Meier of winning (lost censored), of staying open, and its Aalen–Johansen
    cumulative incidence of winning (which jitters tied days by ±0.0001, with a warning)."""
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    km = KaplanMeierFitter().fit(days, event_observed=outcome == WON).survival_function_.iloc[:, 0]
    stay = KaplanMeierFitter().fit(days, event_observed=outcome != OPEN).survival_function_.iloc[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Tied event times were detected": the jitter
        aj = AalenJohansenFitter(calculate_variance=False, seed=1).fit(days, outcome, event_of_interest=WON)
    return km, stay, aj.cumulative_density_.iloc[:, 0]


def _at(series: pd.Series, day: int) -> float:
    """A step function's value on ``day`` (after the day's jittered events)."""
    return float(series[series.index <= day + 0.5].iloc[-1])


def test_the_hand_set_agrees_with_lifelines() -> None:
    days = np.array([10, 20, 20, 30, 30, 15, 12, 40, 35])
    outcome = np.array([WON, WON, WON, WON, LOST, LOST, OPEN, OPEN, OPEN])
    c = curve(days, outcome)
    km, stay, aj = _lifelines(days, outcome)
    for d, won, kmw, lost in zip(c.days, c.won, c.km_won, c.lost, strict=True):
        assert kmw == pytest.approx(1 - _at(km, d), abs=1e-12)
        assert 1 - won - lost == pytest.approx(_at(stay, d), abs=1e-12)
        assert won == pytest.approx(_at(aj, d), abs=1e-9)  # no censoring on an event's day here


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = Workspace.init(Path(tmp_path_factory.mktemp("maven")) / "ws", currency=DATASET_CURRENCIES["maven-crm"])
    ws.clock = lambda: MAVEN_END
    run_import(ws.warehouse, ws.import_options(), [MAVEN], mapping="maven-crm")
    yield ws
    ws.close()


def test_maven_curves_agree_with_lifelines(maven: Workspace) -> None:
    """On the real data set, read independently with pandas: Won deals end in a win, Lost deals
    in a loss, Engaging deals are censored at the data's last day (Prospecting deals have no date
    and are not imported)."""
    p = pd.read_csv(MAVEN / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    p = p[p["deal_stage"] != "Prospecting"]
    engage = pd.to_datetime(p["engage_date"])
    close = pd.to_datetime(p["close_date"].replace("", None))
    end = close.where(p["deal_stage"] != "Engaging", pd.Timestamp(MAVEN_END))
    days = (end - engage).dt.days.to_numpy()
    outcome = p["deal_stage"].map({"Won": WON, "Lost": LOST, "Engaging": OPEN}).to_numpy()
    assert (outcome == OPEN).sum() == 1589 and len(days) == 8300

    got = time_to_win(maven.engine(), as_of=MAVEN_END)
    c = got.overall
    assert (c.deals, c.won_deals, c.lost_deals, c.open_deals) == (8300, 4238, 2473, 1589)
    km, stay, aj = _lifelines(days, outcome)
    for d, won, kmw, lost in zip(c.days, c.won, c.km_won, c.lost, strict=True):
        assert kmw == pytest.approx(1 - _at(km, d), abs=1e-12)  # Kaplan–Meier: exact
        assert 1 - won - lost == pytest.approx(_at(stay, d), abs=1e-12)
        # Aalen–Johansen: lifelines jitters tied days, so a deal censored on an event's day leaves
        # the risk set before some of that day's events: equal to about one in ten thousand
        assert won == pytest.approx(_at(aj, d), abs=5e-4)
    assert c.km_won[-1] > c.won[-1] + 0.1  # lost deals compete: censoring them overstates the wins
    # the stale deals: every engaging deal older than the threshold, oldest data first
    older = (outcome == OPEN) & (days > got.stale_after)
    assert got.stale_count == int(older.sum()) > 0
    assert all(s.age_days > (got.stale_after or 0) for s in got.stale)


def test_sanjeh_forecast_says_the_time_to_win_and_lists_the_stale_deals(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sanjeh.cli import main

    load(workspace, opportunities=HAND)
    root = workspace.settings.root
    workspace.close()
    args = ["forecast", "revenue", "--period", "1403-01", "--as-of", "2024-04-02", "-w", str(root)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "۳۰ روز" in out and "۸۰٪" in out and "راکد" in out  # in the workspace's Persian
    assert "بزرگ‌ترها نخست" not in out  # no list of the stale deals without --stale
    assert main([*args, "--stale"]) == 0
    listed = capsys.readouterr().out.split("بزرگ‌ترها نخست")[-1]
    assert listed.index(" I ") < listed.index(" F ")  # the largest first
    assert "۳۵ روز" in listed and "۱۲ روز" not in listed  # D is not stale
    assert main([*args, "--format", "json"]) == 0
    ttw = json.loads(capsys.readouterr().out)["time_to_win"]
    assert ttw["stale_after_days"] == 30 and [s["opportunity_id"] for s in ttw["stale"]] == ["I", "F"]
    assert main([*args, "--format", "csv", "--stale"]) == 0
    assert "stale,I,700.0" in capsys.readouterr().out
