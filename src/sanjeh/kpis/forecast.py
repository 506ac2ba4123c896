"""A statistical forecast of an additive measure's monthly values (docs/forecast.md, "Forecast").

The history is the measure's value in each complete month (of the period's calendar: Jalali
months in a Jalali workspace) before the as-of day's month, from the first month with data.
Three models of ``statsforecast`` (AutoETS, AutoTheta, SeasonalNaive, a season of 12 months)
are compared by a **rolling-origin backtest**: from each of the last six months as an origin,
each model is fitted on the months before it and forecasts up to ``h`` months ahead; its error
is the MASE (mean absolute error over the in-sample mean absolute error of the seasonal naive
forecast, lag 12) averaged over the origins. The model with the lowest error forecasts the
rest of the period, with 80 % and 95 % intervals — approximate: they assume the model is right
and, summed over months, that its errors move together (the wider, cautious choice).

The **chance of hitting the target** is read from that distribution (taken as normal, its
spread from the 80 % interval) of what is booked so far plus the forecast of the rest: the
months after the current one, and the current month's forecast times the share of its working
days still left. With fewer than :data:`MIN_MONTHS` complete months there is no forecast: a
user error (``query.forecast_history``) and surfaces show the pace only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sanjeh.calendar import Period, Unit, parse_period, unit_of
from sanjeh.errors import InvalidQuery, SanjehError
from sanjeh.i18n import PeriodText
from sanjeh.kpis.columns import STEP
from sanjeh.kpis.pace import Pace, WorkWeek, pace
from sanjeh.kpis.query import Query

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

SEASON = 12
ORIGINS = 6
MIN_MONTHS = 24
MAX_MONTHS = 120  # the history read: at most ten years
MODELS = ("AutoETS", "AutoTheta", "SeasonalNaive")
LEVELS = (80, 95)
Z80 = 1.2815515655446004


def _model(name: str) -> Any:
    try:
        from statsforecast.models import AutoETS, AutoTheta, SeasonalNaive
    except ImportError as exc:  # installed without make (pyproject.toml says why it is apart)
        raise SanjehError(
            "statsforecast is not installed: pip install --no-deps 'statsforecast>=2.1,<3' 'fugue>=0.9.4,<0.10'"
        ) from exc

    return {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "SeasonalNaive": SeasonalNaive}[name](season_length=SEASON)


def predict(name: str, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """``mean``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95`` of model ``name`` fitted on ``y``."""
    # AutoETS tries candidate models that a short series cannot fit (more parameters than points:
    # a division by zero in their variance); it discards them, but numpy warns, which would fail a
    # backtest origin of 16-19 months under warnings-as-errors. The chosen fit is finite.
    with np.errstate(divide="ignore", invalid="ignore"):
        got = _model(name).forecast(y=np.asarray(y, dtype=float), h=h, level=list(LEVELS))
    return {k: np.asarray(v, dtype=float) for k, v in got.items()}


def _scale(y: np.ndarray) -> float:
    lag = SEASON if len(y) > SEASON else 1
    d = np.abs(y[lag:] - y[:-lag])
    s = float(d.mean()) if len(d) else 0.0
    return s if s > 0 else float(np.abs(y).mean() or 1.0)


def backtest(y: np.ndarray, h: int, models: tuple[str, ...] = MODELS) -> dict[str, float]:
    """Each model's MASE averaged over the last :data:`ORIGINS` origins (horizons up to ``h``)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    out: dict[str, float] = {}
    for name in models:
        errors = []
        for origin in range(n - ORIGINS, n):
            train, test = y[:origin], y[origin : origin + h]
            f = predict(name, train, len(test))["mean"]
            errors.append(float(np.abs(test - f).mean()) / _scale(train))
        out[name] = float(np.mean(errors))
    return out


@dataclass(frozen=True)
class Choice:
    model: str
    errors: dict[str, float]  # MASE of each model in the backtest
    forecast: dict[str, np.ndarray]


def choose_and_forecast(y: np.ndarray, h: int, *, horizon_test: int = 3) -> Choice:
    """The model with the lowest backtest MASE, fitted on all of ``y``, forecasting ``h`` months."""
    errors = backtest(y, max(1, min(horizon_test, h)))
    best = min(errors, key=lambda k: (errors[k], MODELS.index(k)))
    return Choice(best, errors, predict(best, y, h))


@dataclass
class Forecast:
    pace: Pace
    model: str
    errors: dict[str, float]
    history: list[tuple[str, float]]
    months: list[dict[str, Any]]  # month, mean, lo80, hi80, lo95, hi95
    landing: dict[str, float]  # the period's total: mean and intervals
    chance: float | None  # of reaching the target
    approximate: bool = True
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "backtest_mase": self.errors,
            "history": [{"month": m, "value": v} for m, v in self.history],
            "months": self.months,
            "landing": self.landing,
            "chance_of_target": self.chance,
            "intervals_approximate": self.approximate,
        }


def monthly_history(engine: Engine, kpi: str, measure: str, last: Unit) -> list[tuple[str, float]]:
    """The measure's value in each month up to ``last``, from the first month with data."""
    first = last.shift(-(MAX_MONTHS - 1))
    res = engine.run(Query(kpi, f"{first.label}..{last.label}", grain="month", measures=(measure,)), whole=True)
    rows = [(str(r[STEP]), float(r.get(measure) or 0.0)) for r in res.rows]
    while rows and rows[0][1] == 0.0:
        rows.pop(0)
    return rows


def forecast(
    engine: Engine, kpi_name: str, period: str, *, measure: str | None = None, as_of: dt.date | None = None
) -> Forecast:
    """Where ``period`` lands: the pace, the chosen model's forecast of its months, the landing
    interval and the chance of the target. Too little history: ``query.forecast_history``."""
    p: Period = parse_period(period)
    pc = pace(engine, kpi_name, period, measure=measure, as_of=as_of)
    day = pc.as_of
    current = unit_of(day, p.calendar, "month")
    last_complete = current.shift(-1)
    history = monthly_history(engine, pc.kpi.name, pc.measure.name, last_complete)
    if len(history) < MIN_MONTHS:
        raise InvalidQuery(
            key="query.forecast_history",
            params={"kpi": pc.kpi.name, "n": len(history), "period": PeriodText(current.label), "need": MIN_MONTHS},
            details={"months": len(history), "need": MIN_MONTHS},
        )
    end_month = unit_of(p.end, p.calendar, "month")
    h = max(1, _months_between(last_complete, end_month))
    y = np.array([v for _, v in history])
    choice = choose_and_forecast(y, h)
    f = choice.forecast
    months = []
    mean_rest, sd_rest = 0.0, 0.0
    week = WorkWeek.for_calendar(p.calendar)
    # what is booked ends with the data: days after its last one, up to today, are forecast too
    # (data ending before the period, or days into it, left those days counted by nothing: a
    # landing below the months the chart showed)
    booked_to = min(day, pc.last_data_day) if pc.last_data_day is not None else day
    for i in range(h):
        u = last_complete.shift(i + 1)
        row: dict[str, Any] = {"month": u.label, "mean": float(f["mean"][i])}
        for lv in LEVELS:
            row[f"lo{lv}"], row[f"hi{lv}"] = float(f[f"lo-{lv}"][i]), float(f[f"hi-{lv}"][i])
        months.append(row)
        if u.end < p.start or u.start > p.end or u.end <= booked_to:
            continue
        share = 1.0
        if u.start <= booked_to:  # the month the data ends in: what its working days after it bring
            total = week.count(max(u.start, p.start), min(u.end, p.end))
            share = week.count(booked_to + dt.timedelta(days=1), min(u.end, p.end)) / total if total else 0.0
        mean_rest += share * row["mean"]
        sd_rest += share * max(0.0, row["hi80"] - row["mean"]) / Z80
    booked = pc.so_far
    total_mean = booked + mean_rest
    landing = {"booked": booked, "mean": total_mean}
    for lv, z in ((80, Z80), (95, 1.959963984540054)):
        landing[f"lo{lv}"], landing[f"hi{lv}"] = total_mean - z * sd_rest, total_mean + z * sd_rest
    chance = None
    if pc.target is not None:
        if sd_rest > 0:
            chance = 0.5 * math.erfc((pc.target - total_mean) / (sd_rest * math.sqrt(2)))
        else:
            chance = 1.0 if total_mean >= pc.target else 0.0
    return Forecast(pc, choice.model, choice.errors, history, months, landing, chance)


def _months_between(a: Unit, b: Unit) -> int:
    return (b.year * 12 + b.number) - (a.year * 12 + a.number)


def outlook(
    engine: Engine,
    kpi_name: str,
    period: str,
    *,
    measure: str | None = None,
    by: str | None = None,
    as_of: dt.date | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    """The views side by side, for the surfaces: ``pace``, ``forecast`` (or, with too little
    history, ``forecast_error`` in fa and en and no forecast), for a money measure the deals'
    views — the weighted ``pipeline`` and ``time_to_win`` with the stale deals (kpis/timetowin.py),
    split ``by`` rep or source when asked — and the ``track_record`` of the forecasts stored
    before (kpis/track.py). ``keep``: store this forecast in the track record (the dashboard's)."""
    from sanjeh.kpis.pipeline import weighted_pipeline
    from sanjeh.kpis.timetowin import check_by, time_to_win
    from sanjeh.kpis.track import record, track_record

    check_by(by)
    pc = pace(engine, kpi_name, period, measure=measure, as_of=as_of)
    out: dict[str, Any] = {"kpi": pc.kpi.name, "measure": pc.measure.name, "unit": pc.measure.unit}
    out["pace"] = pc.to_dict()
    try:
        f = forecast(engine, kpi_name, period, measure=pc.measure.name, as_of=pc.as_of)
        out["forecast"] = f.to_dict()
        if keep:
            record(engine, f)
    except InvalidQuery as e:
        if e.key != "query.forecast_history":
            raise
        out["forecast"] = None
        out["forecast_error"] = {"code": e.key, "fa": e.text("fa"), "en": e.text("en"), "details": e.details}
    if pc.measure.unit == "money":
        pipe = weighted_pipeline(engine, period, as_of=pc.as_of).to_dict()
        if by is not None:
            pipe["by"] = by
        out["pipeline"] = pipe
        out["time_to_win"] = time_to_win(engine, by=by, as_of=pc.as_of).to_dict()
    out["track_record"] = track_record(engine, pc.kpi.name, pc.measure.name, as_of=pc.as_of).to_dict()
    return out
