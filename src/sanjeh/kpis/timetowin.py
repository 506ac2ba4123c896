"""Time to win: how long deals take to win, with the deals still open counted honestly, and the
deals that have been open too long (docs/forecast.md, "Time to win").

Every deal created by the as-of day is one observation, counted in whole days from the day it
was created (``opportunities.created_at``) to:

- the day it was **won**, when it was won by the as-of day: the outcome of interest;
- the day it was **lost**, when it was lost by the as-of day: a *competing* outcome (a lost deal
  can no longer win), not a censored one;
- the as-of day, when it is still open (or closed since: then its stage is listed as ``unknown``,
  as in the pipeline): **censored** — it has not won *yet*.

Two curves, each a step at every day on which a deal was won or lost:

- ``won`` (Aalen–Johansen): the share of deals won within ``t`` days, lost deals competing:
  ``won(t) = Σ_{t_j ≤ t} S(t_j−) · w_j / n_j``, where ``n_j`` deals are still at risk on day
  ``t_j`` (open, and observed that long: a deal censored on day ``t_j`` is at risk on it),
  ``w_j`` of them won that day and ``S`` is the Kaplan–Meier curve of staying open (a win or a
  loss ends it). ``lost`` is the same sum over the losses; ``won + lost + S = 1``.
- ``km_won`` (Kaplan–Meier with lost deals censored): ``1 − Π (1 − w_j / n_j)``, the share that
  would win if no deal were ever lost. It is above ``won``, which is why lost deals compete.

The curves are computed here with numpy (tests/test_timetowin.py checks them against lifelines'
``KaplanMeierFitter`` and ``AalenJohansenFitter`` on the Maven CRM data set and against a
hand-computed set); the library is not needed at run time.

**Stale deals**: open on the as-of day and older than the day by which :data:`STALE_SHARE`
(80 %) of the deals that win have won — the first day on which ``won(t)`` reaches 80 % of its
last value. Not the plain 80th percentile of won deals' cycles: deals created lately could only
have won fast so far, which pulls that percentile down; the curve weighs them by how long they
were watched. No deal won yet: no threshold and no stale list.

Split ``by`` rep or source: a curve per member with at least :data:`MIN_DEALS` deals (the
:data:`MAX_GROUPS` with most deals). The deals are the engine's: a rep's engine sees the rep's
deals only, so a rep's threshold is their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np

from sanjeh.errors import InvalidQuery
from sanjeh.kpis.pipeline import UNKNOWN_STAGE

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

STALE_SHARE = 0.8
MIN_DEALS = 20
MAX_GROUPS = 6
STALE_LIMIT = 100  # stale deals listed (the largest); the count and amount cover them all
BY = ("rep", "source")
OPEN, WON, LOST = 0, 1, 2


@dataclass(frozen=True)
class Curve:
    """The curves of one set of deals (``member`` None: every deal in the scope)."""

    member: str | None
    deals: int
    won_deals: int
    lost_deals: int
    open_deals: int  # censored: still open on the as-of day
    days: list[int]  # the days on which a deal was won or lost
    at_risk: list[int]
    won: list[float]  # Aalen–Johansen: share won within the day, lost deals competing
    lost: list[float]  # Aalen–Johansen: share lost within the day
    km_won: list[float]  # 1 − Kaplan–Meier with lost deals censored

    def day_of_share(self, share: float = STALE_SHARE) -> int | None:
        """The first day by which ``share`` of the deals that win have won (``won`` reaches that
        share of its last value); None without a win."""
        if not self.won or self.won[-1] <= 0:
            return None
        goal = share * self.won[-1]
        return next(d for d, w in zip(self.days, self.won, strict=True) if w >= goal - 1e-12)

    def won_within(self, day: int) -> float:
        """``won`` on ``day`` (0 before the first event)."""
        i = int(np.searchsorted(self.days, day, side="right"))
        return self.won[i - 1] if i else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "deals": self.deals,
            "won_deals": self.won_deals,
            "lost_deals": self.lost_deals,
            "open_deals": self.open_deals,
            "days_to_share": self.day_of_share(),
            "days": self.days,
            "at_risk": self.at_risk,
            "won": self.won,
            "lost": self.lost,
            "km_won": self.km_won,
        }


def curve(days: np.ndarray, outcome: np.ndarray, member: str | None = None) -> Curve:
    """The curves of deals observed ``days`` long (whole days ≥ 0) with ``outcome`` :data:`OPEN`
    (censored), :data:`WON` or :data:`LOST`."""
    d = np.asarray(days, dtype=np.int64)
    o = np.asarray(outcome, dtype=np.int64)
    ended = o != OPEN
    times = np.unique(d[ended])
    n = len(d) - np.searchsorted(np.sort(d), times, side="left")  # observed at least that long
    size = int(d.max()) + 1 if len(d) else 1
    w = np.bincount(d[o == WON], minlength=size)[times].astype(float)
    lo = np.bincount(d[o == LOST], minlength=size)[times].astype(float)
    stay = np.cumprod(1.0 - (w + lo) / n)  # Kaplan–Meier of staying open
    before = np.concatenate(([1.0], stay[:-1]))
    return Curve(
        member,
        len(d),
        int((o == WON).sum()),
        int((o == LOST).sum()),
        int((o == OPEN).sum()),
        [int(x) for x in times],
        [int(x) for x in n],
        [float(x) for x in np.cumsum(before * w / n)],
        [float(x) for x in np.cumsum(before * lo / n)],
        [float(x) for x in 1.0 - np.cumprod(1.0 - w / n)],
    )


@dataclass(frozen=True)
class StaleDeal:
    opportunity_id: str
    rep: str
    source: str
    stage: str
    amount: float
    created: dt.date
    age_days: int


@dataclass
class TimeToWin:
    as_of: dt.date
    by: str | None
    overall: Curve
    groups: list[Curve]
    stale_after: int | None  # days; None without a win
    stale: list[StaleDeal] = field(default_factory=list)  # the largest, at most STALE_LIMIT
    stale_count: int = 0
    stale_amount: float = 0.0
    share: float = STALE_SHARE

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "share": self.share,
            "stale_after_days": self.stale_after,
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "stale_count": self.stale_count,
            "stale_amount": self.stale_amount,
            "stale": [
                {
                    "opportunity_id": s.opportunity_id,
                    "rep": s.rep,
                    "source": s.source,
                    "stage": s.stage,
                    "amount": s.amount,
                    "created": s.created.isoformat(),
                    "age_days": s.age_days,
                }
                for s in self.stale
            ],
        }


def check_by(by: str | None) -> None:
    if by is not None and by not in BY:
        raise InvalidQuery(
            key="query.forecast_by", params={"given": by, "allowed": list(BY)}, details={"by": by, "allowed": list(BY)}
        )


def time_to_win(
    engine: Engine, *, by: str | None = None, as_of: dt.date | None = None, min_deals: int = MIN_DEALS
) -> TimeToWin:
    """The engine's (so the user's scope's) deals as of ``as_of`` (default: today): the curves,
    split ``by`` rep or source when asked (members with ``min_deals`` deals or more), and the
    stale deals."""
    check_by(by)
    day = as_of or engine.ws.today()
    o = engine.sources().opportunities_x()
    o = o.filter(o.created_day.notnull() & (o.created_day <= day))
    closed = o.closed_day.notnull() & (o.closed_day <= day)
    end = ibis.ifelse(closed, o.closed_day, ibis.literal(day))
    outcome = ibis.cases((closed & (o.status == "won"), WON), (closed & (o.status == "lost"), LOST), else_=OPEN)
    cols: dict[str, Any] = {"days": end.delta(o.created_day, unit="day"), "outcome": outcome}
    if by is not None:
        cols["member"] = o[by]
    got = o.select(**cols).to_pyarrow()
    days = np.maximum(got["days"].to_numpy(zero_copy_only=False), 0)
    outcomes = got["outcome"].to_numpy(zero_copy_only=False)
    overall = curve(days, outcomes)
    groups: list[Curve] = []
    if by is not None and len(days):
        members = np.asarray([str(m) for m in got["member"].to_pylist()])
        names, counts = np.unique(members, return_counts=True)
        big = [(int(c), str(m)) for m, c in zip(names, counts, strict=True) if c >= min_deals]
        for _, m in sorted(big, key=lambda x: (-x[0], x[1]))[:MAX_GROUPS]:
            mask = members == m
            groups.append(curve(days[mask], outcomes[mask], m))
    threshold = overall.day_of_share()
    out = TimeToWin(day, by, overall, groups, threshold)
    if threshold is None:
        return out
    age = ibis.literal(day).delta(o.created_day, unit="day")
    stale = o.filter(~closed & (age > threshold))  # open on the as-of day (or closed since)
    # a deal closed since the as-of day carries its closing stage: its stage then is not known
    stage = ibis.ifelse(stale.status == "open", stale.stage, ibis.literal(UNKNOWN_STAGE))
    stale = stale.select("opportunity_id", "rep", "source", "amount", "created_day", stage=stage, age=age)
    totals = stale.aggregate(n=stale.count(), amount=stale.amount.sum()).to_pyarrow().to_pylist()[0]
    rows = stale.order_by([stale.amount.desc(), stale.age.desc(), "opportunity_id"]).limit(STALE_LIMIT)
    out.stale = [
        StaleDeal(
            str(r["opportunity_id"]),
            str(r["rep"]),
            str(r["source"]),
            str(r["stage"]),
            float(r["amount"] or 0.0),
            r["created_day"],
            int(r["age"]),
        )
        for r in rows.to_pyarrow().to_pylist()
    ]
    out.stale_count, out.stale_amount = int(totals["n"] or 0), float(totals["amount"] or 0.0)
    return out
