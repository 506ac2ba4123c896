"""The forecasts' own track record (docs/forecast.md, "Track record").

Every statistical forecast the server shows (the forecast page, the revenue chart's band, the
API) is stored in ``_forecasts`` with the day it was made: the KPI and measure, the period, whose
rows it covered (``scope``: ``*`` everyone's, else the rep ids, comma-separated), where the period
was forecast to land and its 80 % interval, the target and the chance of reaching it, the model
and its backtest error (MASE), and where the pace (kpis/pace.py) said it would land the same day.
A forecast of the same day replaces the earlier one (it saw the day's latest data): one transaction
deletes the day's row of (kpi, measure, period, scope) and inserts the new one, so a period holds
one forecast a day. No unique index enforces it: a DuckDB file has one writing process (the
server, whose writes take turns), and DuckDB's unique indexes refuse a delete and an insert of one
key in one transaction once read back from the file, and one was seen corrupted in a benchmark
workspace ("failed to delete all rows from index": a fatal error, the database closes) after many
server restarts and an added column. Two servers on one PostgreSQL database could both keep a
forecast of a day; the record shows one of them.

Once a period has closed (its last day is before the as-of day), its forecasts are set beside what
happened: the engine's value of the whole period, the error ``(forecast − actual) / actual`` (and
the pace's), and whether the actual fell inside the 80 % interval.

A workspace opened read-only, or a Spark warehouse (no transactions here), stores nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sanjeh.calendar import parse_period
from sanjeh.kpis.pace import value_between
from sanjeh.kpis.sources import RepScope

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine
    from sanjeh.kpis.forecast import Forecast

FORECASTS = "_forecasts"
EVERYONE = "*"


def scope_key(rep_scope: RepScope) -> str:
    """Whose rows, as stored: ``*`` everyone's, a rep's id, a team's ids sorted and comma-separated."""
    if rep_scope is None:
        return EVERYONE
    if isinstance(rep_scope, str):
        return rep_scope
    return ",".join(sorted(rep_scope))


def record(engine: Engine, f: Forecast) -> bool:
    """Store forecast ``f`` (made on its as-of day, over the engine's rows); False when the
    warehouse cannot be written or the period had ended."""
    import pyarrow as pa

    from sanjeh.schema import SYSTEM_TABLES

    ws = engine.ws
    wh = ws.warehouse
    pc = f.pace
    if ws.read_only or not wh.transactional or pc.as_of > pc.period.end:
        return False  # a "forecast" made after its period ended is its actual: not one to keep
    row = {
        "kpi": pc.kpi.name,
        "measure": pc.measure.name,
        "period": pc.period.label,
        "scope": scope_key(engine.rep_scope),
        "made_on": pc.as_of,
        "value": f.landing["mean"],
        "lo80": f.landing["lo80"],
        "hi80": f.landing["hi80"],
        "target": pc.target,
        "chance": f.chance,
        "model": f.model,
        "mase": f.errors.get(f.model),
        "pace": pc.projected,
    }
    types = {"string": pa.string(), "float64": pa.float64(), "date": pa.date32()}
    schema = pa.schema([(k, types[v]) for k, v in SYSTEM_TABLES[FORECASTS].items()])
    keys = ("kpi", "measure", "period", "scope", "made_on")
    key = pa.table({k: [row[k]] for k in keys}, schema=pa.schema([schema.field(k) for k in keys]))
    with wh.transaction():
        wh.delete_matching(FORECASTS, key)
        wh.insert_arrow(FORECASTS, pa.Table.from_pylist([row], schema=schema))
    return True


@dataclass
class TrackRecord:
    kpi: str
    measure: str
    as_of: dt.date
    rows: list[dict[str, Any]] = field(default_factory=list)  # newest first

    @property
    def closed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["actual"] is not None]

    def summary(self) -> dict[str, Any]:
        """How the forecasts of closed periods did: how many, how many had the actual inside
        their 80 % interval, and their mean absolute error (relative to the actual)."""
        done = self.closed
        errors = [abs(r["error"]) for r in done if r["error"] is not None]
        paces = [abs(r["pace_error"]) for r in done if r["pace_error"] is not None]
        return {
            "closed": len(done),
            "inside80": sum(1 for r in done if r["inside80"]),
            "mean_abs_error": sum(errors) / len(errors) if errors else None,
            "pace_mean_abs_error": sum(paces) / len(paces) if paces else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "measure": self.measure, "summary": self.summary(), "rows": self.rows}


def track_record(engine: Engine, kpi_name: str, measure: str, *, as_of: dt.date | None = None) -> TrackRecord:
    """The stored forecasts of ``kpi_name``'s ``measure`` over the engine's rows, newest first,
    each of a period closed by ``as_of`` (default: today) beside its actual value."""
    day = as_of or engine.ws.today()
    kpi = engine.kpi(kpi_name)
    m = kpi.measure(measure)
    out = TrackRecord(kpi.name, m.name, day)
    if not engine.ws.warehouse.has_table(FORECASTS):  # a workspace opened read-only, made before it
        return out
    t = engine.ws.warehouse.table(FORECASTS)
    mine = t.filter((t.kpi == kpi.name) & (t.measure == m.name) & (t.scope == scope_key(engine.rep_scope)))
    mine = mine.filter(mine.made_on <= day).order_by([mine.made_on.desc(), mine.period.desc()])
    actuals: dict[str, float | None] = {}
    seen: set[tuple[str, dt.date]] = set()
    for r in mine.to_pyarrow().to_pylist():
        label = str(r["period"])
        if (label, r["made_on"]) in seen:  # two servers on one database kept the same day's
            continue
        seen.add((label, r["made_on"]))
        if label not in actuals:
            p = parse_period(label)
            actuals[label] = value_between(engine, kpi, m, p.start, p.end, p.calendar) if p.end < day else None
        actual = actuals[label]
        value, lo, hi = r["value"], r["lo80"], r["hi80"]
        error = (value - actual) / actual if actual and value is not None else None
        pace = r["pace"]
        pace_error = (pace - actual) / actual if actual and pace is not None else None
        inside = actual is not None and lo is not None and hi is not None and lo <= actual <= hi
        out.rows.append(
            {
                "period": label,
                "made_on": r["made_on"].isoformat(),
                "value": value,
                "lo80": lo,
                "hi80": hi,
                "target": r["target"],
                "chance": r["chance"],
                "model": r["model"],
                "mase": r["mase"],
                "pace": pace,
                "actual": actual,
                "error": error,
                "pace_error": pace_error,
                "inside80": inside if actual is not None else None,
            }
        )
    return out
