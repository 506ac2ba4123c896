"""The weighted pipeline on a hand-computed set of deals (docs/forecast.md, "Weighted pipeline").

Closed by 2024-04-02: stage A 3 won (cycles 10, 20, 40 days) and 1 lost, stage B 2 lost: overall
3/6 = 0.5. With a prior of 10 deals: p(A) = (3 + 5) / (4 + 10) = 4/7, p(B) = (0 + 5) / (2 + 10) = 5/12,
stage C (no closed deal) = 0.5.
Open: X (A, 5 days old, 1,000): days left median(5, 15, 35) = 15 → 2024-04-17 (1403-01), 571.43.
Y (B, 2 days old, 1,200): median(8, 18, 38) = 18 → 2024-04-20 = 1 Ordibehesht (1403-02), 500.
Z (C, 50 days old, 400): older than every won cycle → stale, placed on the as-of day, 200.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sanjeh.kpis.pipeline import weighted_pipeline
from sanjeh.workspace import Workspace
from tests.builders import load

AS_OF = dt.date(2024, 4, 2)


def _deal(i: str, stage: str, status: str, created: str, closed: str | None, amount: float, rep: str, source: str):  # type: ignore[no-untyped-def]
    return {
        "opportunity_id": i,
        "created_at": f"{created} 09:00",
        "closed_at": f"{closed} 17:00" if closed else None,
        "status": status,
        "stage": stage,
        "amount": amount,
        "rep_id": rep,
        "source": source,
    }


def _fill(ws: Workspace) -> Workspace:
    load(
        ws,
        opportunities=[
            _deal("W1", "A", "won", "2024-01-01", "2024-01-11", 100.0, "R1", "web"),
            _deal("W2", "A", "won", "2024-01-01", "2024-01-21", 100.0, "R1", "web"),
            _deal("W3", "A", "won", "2024-01-01", "2024-02-10", 100.0, "R1", "web"),
            _deal("L1", "A", "lost", "2024-01-01", "2024-02-01", 100.0, "R1", "web"),
            _deal("L2", "B", "lost", "2024-01-01", "2024-02-01", 100.0, "R2", "ads"),
            _deal("L3", "B", "lost", "2024-01-01", "2024-02-01", 100.0, "R2", "ads"),
            _deal("X", "A", "open", "2024-03-28", None, 1000.0, "R1", "web"),
            _deal("Y", "B", "open", "2024-03-31", None, 1200.0, "R2", "ads"),
            _deal("Z", "C", "open", "2024-02-12", None, 400.0, "R1", "web"),
            _deal("LATE", "A", "open", "2024-04-05", None, 9999.0, "R1", "web"),  # after the as-of day
            _deal("LATER_WON", "won", "won", "2024-03-01", "2024-05-01", 10.0, "R3", "ads"),  # open on the day
        ],
    )
    return ws


def test_weighted_pipeline_by_hand(workspace: Workspace) -> None:
    pipe = weighted_pipeline(_fill(workspace).engine(), "1403-01", as_of=AS_OF)
    assert pipe.overall == 0.5 and pipe.closed == 6
    stages = {s.stage: (s.deals, s.probability) for s in pipe.stages}
    assert stages == {
        "A": (4, pytest.approx(4 / 7)),
        "B": (2, pytest.approx(5 / 12)),
        "C": (0, 0.5),
        "unknown": (0, 0.5),
    }
    deals = {d.opportunity_id: d for d in pipe.deals}
    assert set(deals) == {"X", "Y", "Z", "LATER_WON"}
    assert (deals["LATER_WON"].stage, deals["LATER_WON"].probability) == ("unknown", 0.5)  # not its closing stage
    assert (deals["X"].expected_close, deals["X"].period) == (dt.date(2024, 4, 17), "1403-01")
    assert (deals["Y"].expected_close, deals["Y"].period) == (dt.date(2024, 4, 20), "1403-02")
    assert (deals["Z"].expected_close, deals["Z"].stale) == (AS_OF, True)
    # LATER_WON: 32 days old, median(8) = 8 days left -> 2024-04-10 (1403-01), 10 x 0.5 = 5
    x, y, z, w = 1000 * 4 / 7, 1200 * 5 / 12, 400 * 0.5, 5.0
    assert pipe.per("period") == {"1403-01": pytest.approx(x + z + w), "1403-02": pytest.approx(y)}
    assert pipe.per("rep") == {"R1": pytest.approx(x + z), "R2": pytest.approx(y), "R3": pytest.approx(w)}
    assert pipe.per("source") == {"web": pytest.approx(x + z), "ads": pytest.approx(y + w)}
    assert pipe.in_period == pytest.approx(x + z + w)
    assert pipe.to_dict()["deals"][0]["opportunity_id"] == "X"


def test_a_reps_pipeline_is_their_own_deals(workspace: Workspace) -> None:
    pipe = weighted_pipeline(_fill(workspace).engine(rep_scope="R2"), "1403-01", as_of=AS_OF)
    assert [d.opportunity_id for d in pipe.deals] == ["Y"]
    assert pipe.closed == 2 and pipe.overall == 0.0


def test_days_left_is_the_median_of_the_longer_cycles() -> None:
    """remaining_days finds the longer cycles by bisection: the same as the median over a filter."""
    import random
    import statistics

    from sanjeh.kpis.pipeline import remaining_days

    rng = random.Random(18)
    cycles = sorted(float(rng.randint(0, 200)) for _ in range(301))
    for age in (0, 5, 57, 57.5, 120, 199, 200, 250):
        longer = [c - age for c in cycles if c > age]
        assert remaining_days(age, cycles) == (statistics.median(longer) if longer else None)
    assert remaining_days(3, []) is None
