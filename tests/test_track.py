"""The forecasts' track record (docs/forecast.md, "Track record"): a forecast is kept once a day in
``_forecasts`` and, once its period has closed, set beside what happened."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sanjeh.calendar import jalali_to_gregorian
from sanjeh.kpis.forecast import forecast
from sanjeh.kpis.track import FORECASTS, record, scope_key, track_record
from sanjeh.workspace import Workspace
from tests.builders import load
from tests.test_forecast import _monthly_orders, series

EARLY, LATER = dt.date(2024, 4, 2), dt.date(2024, 5, 1)  # 1403-01-14 and 1403-02-12: inside 1403-Q1
CLOSED = dt.date(2024, 6, 25)  # 1403-04-05: 1403-Q1 (ends 2024-06-20) has closed
Q1 = [(dt.date(2024, 3, 25), 300.0), (dt.date(2024, 4, 20), 1100.0), (dt.date(2024, 5, 20), 1200.0)]


def _fill(ws: Workspace) -> None:
    """Three years of monthly revenue (1400-01 .. 1402-12) and 1403-Q1's orders, all of rep R1."""
    y = series(7, 36)
    values = [(jalali_to_gregorian(1400 + i // 12, i % 12 + 1, 5), float(v)) for i, v in enumerate(y)] + Q1
    _monthly_orders(ws, values, rep="R1")
    load(ws, targets=[{"kpi": "revenue", "period": "1403-Q1", "target": 3000.0}])


def test_a_forecast_is_kept_once_a_day_and_set_beside_its_actual(workspace: Workspace) -> None:
    _fill(workspace)
    engine = workspace.engine()
    first = forecast(engine, "revenue", "1403-Q1", as_of=EARLY)
    assert record(engine, first)
    moved = dataclasses.replace(first, landing={**first.landing, "mean": 2000.0})  # later the same day
    assert record(engine, moved)
    assert record(engine, forecast(engine, "revenue", "1403-Q1", as_of=LATER))
    assert not record(engine, forecast(engine, "revenue", "1403-Q1", as_of=CLOSED))  # after the end: its actual

    running = track_record(engine, "revenue", "revenue", as_of=LATER)
    assert [(r["made_on"], r["actual"]) for r in running.rows] == [("2024-05-01", None), ("2024-04-02", None)]
    assert running.rows[1]["value"] == 2000.0  # the day's later forecast replaced the earlier one
    assert running.summary() == {"closed": 0, "inside80": 0, "mean_abs_error": None, "pace_mean_abs_error": None}
    assert track_record(engine, "revenue", "revenue", as_of=EARLY).rows[0]["made_on"] == "2024-04-02"

    done = track_record(engine, "revenue", "revenue", as_of=CLOSED)
    actual = sum(v for _, v in Q1)
    later, early = done.rows
    assert later["actual"] == early["actual"] == actual
    assert early["error"] == pytest.approx((2000.0 - actual) / actual)
    assert early["model"] == first.model and early["mase"] == first.errors[first.model]
    assert early["target"] == 3000.0 and early["chance"] == first.chance
    assert early["pace"] == first.pace.projected and first.pace.projected is not None
    assert early["pace_error"] == pytest.approx((first.pace.projected - actual) / actual)
    assert later["inside80"] == (later["lo80"] <= actual <= later["hi80"])
    s = done.summary()
    assert s["closed"] == 2 and s["inside80"] == int(later["inside80"]) + int(early["inside80"])
    assert s["mean_abs_error"] == pytest.approx((abs(later["error"]) + abs(early["error"])) / 2)
    assert s["pace_mean_abs_error"] == pytest.approx((abs(later["pace_error"]) + abs(early["pace_error"])) / 2)


def test_the_record_is_per_scope(workspace: Workspace) -> None:
    _fill(workspace)
    mine = workspace.engine(rep_scope="R1")
    assert record(mine, forecast(mine, "revenue", "1403-Q1", as_of=EARLY))
    assert scope_key(None) == "*" and scope_key(frozenset({"R2", "R1"})) == "R1,R2"
    assert track_record(workspace.engine(), "revenue", "revenue", as_of=LATER).rows == []
    (row,) = track_record(mine, "revenue", "revenue", as_of=LATER).rows
    assert row["made_on"] == "2024-04-02"
    stored = workspace.warehouse.fetch(f'SELECT scope, period FROM "{FORECASTS}"')
    assert stored == [("R1", "1403-Q1")]


def test_a_read_only_workspace_keeps_nothing(workspace: Workspace) -> None:
    _fill(workspace)
    root = workspace.settings.root
    workspace.close()
    ws = Workspace.open(root, read_only=True)
    try:
        engine = ws.engine()
        assert not record(engine, forecast(engine, "revenue", "1403-Q1", as_of=EARLY))
        assert track_record(engine, "revenue", "revenue", as_of=LATER).rows == []
    finally:
        ws.close()


def test_the_days_forecast_is_replaced_after_the_workspace_was_reopened(workspace: Workspace) -> None:
    """A server restarted the same day replaces the day's forecast (with a unique index, DuckDB
    would refuse the delete and the insert of one key in one transaction once the index was read
    back from the file)."""
    _fill(workspace)
    f = forecast(workspace.engine(), "revenue", "1403-Q1", as_of=EARLY)
    assert record(workspace.engine(), f)
    root = workspace.settings.root
    workspace.close()
    ws = Workspace.open(root)
    try:
        assert record(ws.engine(), dataclasses.replace(f, landing={**f.landing, "mean": 1234.0}))
        (row,) = track_record(ws.engine(), "revenue", "revenue", as_of=LATER).rows
        assert row["value"] == 1234.0
    finally:
        ws.close()
