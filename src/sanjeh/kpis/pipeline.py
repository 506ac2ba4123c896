"""The weighted pipeline: open deals × the chance of winning them, placed in the period each is
expected to close in (docs/forecast.md, "Weighted pipeline").

- **Win probability by stage**, learned from the workspace's own closed deals (won or lost by the
  as-of day): a stage's rate is shrunk toward the overall win rate, as if ``prior`` more deals
  (default 10) had been closed in it at the overall rate:
  ``p(stage) = (won(stage) + prior × p) / (closed(stage) + prior)``. So a stage with 3 closed deals
  is mostly the overall rate, one with 300 is mostly its own. Each probability says how many of
  the stage's closed deals it rests on. A deal's stage is its current one; most CRMs set a closed
  deal's stage to a closing stage ("won", "lost"), and then no stage of an open deal has closed
  deals of its own and every open deal gets the overall rate, which the result says (``deals = 0``).
- **Expected close**: from the sales-cycle distribution of won deals (days from the deal's
  creation to its win): for an open deal ``a`` days old, the median of ``cycle − a`` over the won
  deals whose cycle was longer than ``a``. A deal older than every won deal's cycle is *stale*: it
  is placed on the as-of day (if it is to close, it is overdue).
- As of a day in the past, a deal closed since then was open: its stage on that day is not known
  (the table keeps only its closing stage), so it counts as stage ``unknown`` at the overall rate.
- **Expected revenue** = amount × probability, summed per period (units of the asked period's
  kind: months for a month, quarters for a quarter…), per rep and per source.

The deals are the engine's: a rep's engine sees only the rep's deals.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sanjeh.calendar import Period, parse_period, unit_of

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

PRIOR = 10.0
UNKNOWN_STAGE = "unknown"


@dataclass(frozen=True)
class StageRate:
    stage: str
    won: int
    lost: int
    probability: float

    @property
    def deals(self) -> int:
        return self.won + self.lost


@dataclass(frozen=True)
class OpenDeal:
    opportunity_id: str
    rep: str
    source: str
    stage: str
    amount: float
    age_days: int
    probability: float
    expected_close: dt.date
    period: str
    stale: bool

    @property
    def expected(self) -> float:
        return self.amount * self.probability


@dataclass
class Pipeline:
    period: Period
    as_of: dt.date
    overall: float | None  # the overall win rate of closed deals; None without closed deals
    closed: int
    stages: list[StageRate]
    deals: list[OpenDeal]
    cycle_days: list[float] = field(default_factory=list)  # won deals' cycles, sorted

    def per(self, attr: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for d in self.deals:
            out[getattr(d, attr)] += d.expected
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    @property
    def in_period(self) -> float:
        """Expected revenue from the deals expected to close within the asked period."""
        return sum(d.expected for d in self.deals if self.period.start <= d.expected_close <= self.period.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "as_of": self.as_of.isoformat(),
            "overall_win_rate": self.overall,
            "closed_deals": self.closed,
            "expected_in_period": self.in_period,
            "stages": [
                {"stage": s.stage, "won": s.won, "lost": s.lost, "deals": s.deals, "probability": s.probability}
                for s in self.stages
            ],
            "per_period": self.per("period"),
            "per_rep": self.per("rep"),
            "per_source": self.per("source"),
            "deals": [
                {
                    "opportunity_id": d.opportunity_id,
                    "rep": d.rep,
                    "source": d.source,
                    "stage": d.stage,
                    "amount": d.amount,
                    "age_days": d.age_days,
                    "probability": d.probability,
                    "expected": d.expected,
                    "expected_close": d.expected_close.isoformat(),
                    "period": d.period,
                    "stale": d.stale,
                }
                for d in sorted(self.deals, key=lambda d: -d.expected)
            ],
        }


def stage_rates(closed: list[tuple[str, bool]], prior: float = PRIOR) -> tuple[float | None, dict[str, StageRate]]:
    """The overall win rate and each stage's shrunk rate from ``(stage, won)`` of closed deals."""
    if not closed:
        return None, {}
    overall = sum(1 for _, w in closed if w) / len(closed)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for stage, w in closed:
        counts[stage][0 if w else 1] += 1
    rates = {
        s: StageRate(s, won, lost, (won + prior * overall) / (won + lost + prior)) for s, (won, lost) in counts.items()
    }
    return overall, rates


def remaining_days(age: float, cycles: list[float]) -> float | None:
    """Median days left for a deal ``age`` days old, from won deals' cycles (sorted ascending):
    the median of ``cycle − age`` over the cycles longer than ``age`` — a sorted suffix, so its
    middle, found by bisection (an open deal costs a look-up, not a pass over every won deal);
    None when no won deal took longer (the deal is stale)."""
    first = bisect.bisect_right(cycles, age)
    n = len(cycles) - first
    if n == 0:
        return None
    mid = first + n // 2
    median = cycles[mid] if n % 2 else (cycles[mid - 1] + cycles[mid]) / 2
    return float(median - age)


def weighted_pipeline(engine: Engine, period: str, *, as_of: dt.date | None = None, prior: float = PRIOR) -> Pipeline:
    """The engine's (so the user's scope's) open deals as of ``as_of`` (default: today), weighted."""
    p = parse_period(period)
    day = as_of or engine.ws.today()
    o = engine._sources().opportunities_x()
    got = o.select("opportunity_id", "status", "stage", "amount", "rep", "source", "created_day", "closed_day")
    rows = got.to_pyarrow().to_pylist()
    closed: list[tuple[str, bool]] = []
    cycles: list[float] = []
    for r in rows:
        if r["status"] in ("won", "lost") and r["closed_day"] is not None and r["closed_day"] <= day:
            closed.append((str(r["stage"]), r["status"] == "won"))
            if r["status"] == "won" and r["created_day"] is not None:
                cycles.append(float((r["closed_day"] - r["created_day"]).days))
    cycles.sort()
    overall, rates = stage_rates(closed, prior)
    kind = p.unit_kind
    deals: list[OpenDeal] = []
    for r in rows:
        still_open = r["status"] == "open" or (r["closed_day"] is not None and r["closed_day"] > day)
        if not still_open or r["created_day"] is None or r["created_day"] > day or overall is None:
            continue
        # a deal closed since the as-of day carries its closing stage: its stage then is unknown
        stage = str(r["stage"]) if r["status"] == "open" else UNKNOWN_STAGE
        rate = rates.get(stage) if stage != UNKNOWN_STAGE else None
        prob = rate.probability if rate else overall
        age = (day - r["created_day"]).days
        left = remaining_days(age, cycles)
        close = day + dt.timedelta(days=round(left)) if left is not None else day
        deals.append(
            OpenDeal(
                str(r["opportunity_id"]),
                str(r["rep"]),
                str(r["source"]),
                stage,
                float(r["amount"] or 0.0),
                age,
                prob,
                close,
                unit_of(close, p.calendar, kind).label,
                left is None,
            )
        )
    open_stages = {d.stage for d in deals}
    stages = [rates.get(s) or StageRate(s, 0, 0, overall or 0.0) for s in sorted(open_stages)]
    return Pipeline(p, day, overall, len(closed), stages, deals, cycles)
