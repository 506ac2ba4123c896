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

import ibis

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
            "per_period": dict(sorted(self.per("period").items())),  # in calendar order
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


def stage_rates(counts: dict[str, tuple[int, int]], prior: float = PRIOR) -> tuple[float | None, dict[str, StageRate]]:
    """The overall win rate and each stage's shrunk rate from the ``(won, lost)`` closed deals of
    each stage."""
    won, closed = sum(w for w, _ in counts.values()), sum(w + lo for w, lo in counts.values())
    if not closed:
        return None, {}
    overall = won / closed
    rates = {s: StageRate(s, w, lo, (w + prior * overall) / (w + lo + prior)) for s, (w, lo) in counts.items()}
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
    """The engine's (so the user's scope's) open deals as of ``as_of`` (default: today), weighted.
    The warehouse counts the closed deals by stage and lists the won deals' cycles and the open
    deals; only the open deals come back one by one."""
    p = parse_period(period)
    day = as_of or engine.ws.today()
    o = engine.sources().opportunities_x()
    o = o.filter(o.created_day.notnull() & (o.created_day <= day))
    closed = o.filter(o.status.isin(("won", "lost")) & o.closed_day.notnull() & (o.closed_day <= day))
    won = closed.status == "won"
    by_stage = closed.group_by("stage").aggregate(won=ibis.ifelse(won, 1, 0).sum(), lost=ibis.ifelse(won, 0, 1).sum())
    counts = {str(r["stage"]): (int(r["won"]), int(r["lost"])) for r in by_stage.to_pyarrow().to_pylist()}
    wins = closed.filter(won)
    cycles = sorted(
        float(d)
        for d in wins.select(d=wins.closed_day.delta(wins.created_day, unit="day")).to_pyarrow()["d"].to_pylist()
    )
    overall, rates = stage_rates(counts, prior)
    if overall is None:
        return Pipeline(p, day, None, 0, [], [], cycles)
    # open on the as-of day: still open, or closed since (then its stage on that day is not known:
    # the table keeps only its closing stage, so it counts as stage "unknown" at the overall rate)
    still = o.filter((o.status == "open") | (o.closed_day > day))
    stage = ibis.ifelse(still.status == "open", still.stage, ibis.literal(UNKNOWN_STAGE))
    rows = still.select(
        "opportunity_id",
        "rep",
        "source",
        "amount",
        stage=stage,
        age=ibis.literal(day).delta(still.created_day, unit="day"),
    )
    kind = p.unit_kind
    labels: dict[dt.date, str] = {}
    deals: list[OpenDeal] = []
    for r in rows.to_pyarrow().to_pylist():
        rate = rates.get(r["stage"]) if r["stage"] != UNKNOWN_STAGE else None
        age = int(r["age"])
        left = remaining_days(age, cycles)
        close = day + dt.timedelta(days=round(left)) if left is not None else day
        if close not in labels:
            labels[close] = unit_of(close, p.calendar, kind).label
        deals.append(
            OpenDeal(
                str(r["opportunity_id"]),
                str(r["rep"]),
                str(r["source"]),
                str(r["stage"]),
                float(r["amount"] or 0.0),
                age,
                rate.probability if rate else overall,
                close,
                labels[close],
                left is None,
            )
        )
    open_stages = {d.stage for d in deals}
    stages = [rates.get(s) or StageRate(s, 0, 0, overall) for s in sorted(open_stages)]
    closed_deals = sum(w + lo for w, lo in counts.values())
    return Pipeline(p, day, overall, closed_deals, stages, deals, cycles)
