"""The statistical forecast on synthetic series whose truth is known (docs/forecast.md).

A level, a Jalali year's seasonality with a Farvardin dip (Nowruz: the first month sells 40 %
less) and noise. statsforecast's models run on numpy arrays; one fit takes milliseconds (no
numba in statsforecast 2), so the coverage test fits a model per seed and stays fast.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sanjeh.errors import InvalidQuery
from sanjeh.kpis.forecast import MIN_MONTHS, choose_and_forecast, forecast, predict
from sanjeh.workspace import Workspace
from tests.builders import load

#: month 1 (Farvardin) dips; the rest follow a gentle wave
SEASONAL = np.array([0.6, 1.0, 1.05, 1.1, 1.05, 1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.15])


def series(seed: int, months: int, *, level: float = 1000.0, noise: float = 0.05, seasonal: bool = True) -> np.ndarray:
    """``months`` values starting at a Farvardin: level × season × (1 + noise)."""
    rng = np.random.default_rng(seed)
    season = np.resize(SEASONAL if seasonal else np.ones(12), months)
    return level * season * (1 + rng.normal(0, noise, months))


def test_the_backtest_picks_a_model_that_sees_the_farvardin_dip() -> None:
    y = series(1, 48)
    choice = choose_and_forecast(y, 12)
    assert set(choice.errors) == {"AutoETS", "AutoTheta", "SeasonalNaive"}
    assert choice.errors[choice.model] == min(choice.errors.values())
    assert choice.errors[choice.model] < 1.2  # about as good as last year's month, or better
    mean = choice.forecast["mean"]
    assert mean[0] < 0.75 * mean[1:].mean()  # next Farvardin dips


def test_no_seasonal_naive_on_a_series_without_seasons() -> None:
    y = series(2, 48, seasonal=False, noise=0.1)
    choice = choose_and_forecast(y, 6)
    assert choice.model != "SeasonalNaive"  # last year's noise is a worse guess than the level


def test_a_short_series_fits_without_warnings() -> None:
    """A backtest origin of 16-19 months (a workspace with 24-25 months of history): AutoETS
    discards the candidates it cannot fit, without a warning (warnings are errors here)."""
    for n in (16, 18, 19):
        f = predict("AutoETS", series(0, n), 3)
        assert all(np.isfinite(v).all() for v in f.values())


def test_the_80_percent_interval_covers_about_80_percent() -> None:
    hits, n = 0, 0
    for seed in range(8):
        y = series(100 + seed, 48 + 12)
        train, held = y[:48], y[48:]
        f = predict("AutoETS", train, 12)
        hits += int(((held >= f["lo-80"]) & (held <= f["hi-80"])).sum())
        n += len(held)
    assert 0.65 <= hits / n <= 0.95, hits / n


def _monthly_orders(ws: Workspace, values: list[tuple[dt.date, float]], rep: str | None = None) -> None:
    orders = [
        {"order_id": f"O{i}", "ordered_at": f"{d.isoformat()} 10:00", "customer_id": "C1", "status": "placed"}
        | ({"rep_id": rep} if rep else {})
        for i, (d, _) in enumerate(values)
    ]
    lines = [
        {"order_id": f"O{i}", "line_no": 1, "product_id": "P1", "quantity": 1.0, "unit_price": v}
        for i, (_, v) in enumerate(values)
    ]
    load(ws, customers=[{"customer_id": "C1"}], products=[{"product_id": "P1"}], orders=orders, order_lines=lines)


def test_forecast_of_revenue_lands_with_a_chance_of_the_target(workspace: Workspace) -> None:
    from sanjeh.calendar import jalali_to_gregorian

    y = series(7, 36)  # 1400-01 .. 1402-12
    values = [(jalali_to_gregorian(1400 + i // 12, i % 12 + 1, 5), float(v)) for i, v in enumerate(y)]
    values.append((dt.date(2024, 3, 25), 300.0))  # 1403-01-06: booked in the quarter so far
    _monthly_orders(workspace, values)
    load(workspace, targets=[{"kpi": "revenue", "period": "1403-Q1", "target": 3000.0}])
    f = forecast(workspace.engine(), "revenue", "1403-Q1", as_of=dt.date(2024, 4, 2))
    assert len(f.history) == 36 and f.history[0][0] == "1400-01"
    assert [m["month"] for m in f.months] == ["1403-01", "1403-02", "1403-03"]
    assert f.landing["booked"] == 300.0
    assert f.landing["lo80"] < f.landing["mean"] < f.landing["hi80"] < f.landing["hi95"]
    assert f.chance is not None and 0.0 <= f.chance <= 1.0
    assert (f.chance > 0.5) == (f.landing["mean"] > 3000.0)


def test_too_little_history_is_a_clear_error(workspace: Workspace) -> None:
    _monthly_orders(workspace, [(dt.date(2024, 1, 10), 100.0), (dt.date(2024, 2, 10), 120.0)])
    with pytest.raises(InvalidQuery) as e:
        forecast(workspace.engine(), "revenue", "1403-Q1", as_of=dt.date(2024, 4, 2))
    assert e.value.key == "query.forecast_history"
    assert e.value.details == {"months": 3, "need": MIN_MONTHS}  # Dey, Bahman and an empty Esfand 1402
    assert "24" in e.value.text("en") and "۲۴" in e.value.text("fa")


def test_days_after_the_data_ends_are_forecast_not_lost(workspace: Workspace) -> None:
    """The data ends before the quarter and today is twelve days into it: nothing is booked, so the
    landing is the forecast of all three months (it left out Farvardin's first days: 1.9 against
    the 2.1 the chart's months add up to)."""
    from sanjeh.calendar import jalali_to_gregorian

    y = series(7, 36)  # 1400-01 .. 1402-12, each on the 5th
    _monthly_orders(
        workspace, [(jalali_to_gregorian(1400 + i // 12, i % 12 + 1, 5), float(v)) for i, v in enumerate(y)]
    )
    f = forecast(workspace.engine(), "revenue", "1403-Q1", as_of=dt.date(2024, 4, 1))  # 1403-01-13
    assert f.landing["booked"] == 0.0 and f.pace.last_data_day == dt.date(2024, 2, 24)  # 1402-12-05
    assert f.landing["mean"] == pytest.approx(sum(m["mean"] for m in f.months))
    # data that reaches into the quarter: booked to its last day, the rest of Farvardin forecast
    order = {"order_id": "LATE", "ordered_at": "2024-04-08 10:00", "customer_id": "C1", "status": "placed"}  # 01-20
    line = {"order_id": "LATE", "line_no": 1, "product_id": "P1", "quantity": 1.0, "unit_price": 500.0}
    load(workspace, orders=[order], order_lines=[line])
    g = forecast(workspace.engine(), "revenue", "1403-Q1", as_of=dt.date(2024, 4, 18))  # 1403-01-30
    assert g.landing["booked"] == 500.0 and g.pace.last_data_day == dt.date(2024, 4, 8)
    first, *rest = g.months
    assert (
        500.0 + sum(m["mean"] for m in rest) < g.landing["mean"] < 500.0 + first["mean"] + sum(m["mean"] for m in rest)
    )
    share = (g.landing["mean"] - 500.0 - sum(m["mean"] for m in rest)) / first["mean"]
    assert share > 0.25  # 1403-01-21 .. 01-31 (after today, the 30th, only the 31st was counted)
