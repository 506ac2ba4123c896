"""What the targets are set from, accumulated chunk by chunk while the data is generated."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sanjeh.demo import catalog as cat
from sanjeh.demo.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

YEARS = len(cat.YEARS)
SOURCES = tuple(s for s, _, _, _ in cat.SOURCES)


@dataclass
class Totals:
    """What the targets are set from, accumulated chunk by chunk."""

    regions: int
    reps: int
    customers: int
    revenue_month: F64 = field(init=False)
    revenue_region: F64 = field(init=False)  # [year, region]
    revenue_rep: F64 = field(init=False)  # [year, rep]
    orders: F64 = field(init=False)  # [year]
    cancelled: F64 = field(init=False)
    won: F64 = field(init=False)
    lost: F64 = field(init=False)
    mqls: F64 = field(init=False)
    sqls: F64 = field(init=False)
    calls_rep: F64 = field(init=False)  # [year, rep]
    opps_source: F64 = field(init=False)  # [year, source]
    first_order: F64 = field(init=False)  # work clock of each customer's first non-cancelled order

    def __post_init__(self) -> None:
        self.revenue_month = np.zeros(12 * YEARS)
        self.revenue_region = np.zeros((YEARS, self.regions))
        self.revenue_rep = np.zeros((YEARS, self.reps))
        self.orders = np.zeros(YEARS)
        self.cancelled = np.zeros(YEARS)
        self.won = np.zeros(YEARS)
        self.lost = np.zeros(YEARS)
        self.mqls = np.zeros(YEARS)
        self.sqls = np.zeros(YEARS)
        self.calls_rep = np.zeros((YEARS, self.reps))
        self.opps_source = np.zeros((YEARS, len(SOURCES)))
        self.first_order = np.full(self.customers, np.inf)


def _year(world: World, t: I64) -> I64:
    """0..2 for timestamps in 1401..1403, -1 before."""
    y = world.clock.jy[world.clock.day_of(t)] - cat.YEARS[0]
    return np.where(y >= 0, y, -1).astype(np.int64)


def _add(target: F64, idx: I64, weights: F64 | None = None) -> None:
    ok = idx >= 0
    target += np.bincount(idx[ok], weights=None if weights is None else weights[ok], minlength=len(target))


def add_chunk(
    world: World,
    totals: Totals,
    yi: int,
    mi: int,
    n: int,
    order_t: I64,
    order_w: F64,
    order_cust: I64,
    order_rep: I64,
    region: I64,
    cust_region: I64,
    status: I64,
    order_net: F64,
    opp_status: I64,
    opp_closed: F64,
    opp_created: F64,
    opp_source: I64,
    l_mql: F64,
    l_sql: F64,
    a_type: I64,
    a_rep: I64,
    a_w: F64,
) -> None:
    clock = world.clock
    live = status != 2
    revenue = float(order_net[live].sum())
    totals.revenue_month[mi] += revenue
    eff_region = np.where(region >= 0, region, cust_region)
    totals.revenue_region[yi] += np.bincount(eff_region[live], weights=order_net[live], minlength=len(world.regions))
    totals.revenue_rep[yi] += np.bincount(order_rep[live], weights=order_net[live], minlength=len(world.rep_ids))
    totals.orders[yi] += n
    totals.cancelled[yi] += int((~live).sum())
    np.minimum.at(totals.first_order, order_cust[live], order_w[live])
    closed = ~np.isnan(opp_closed)
    cy = np.full(len(opp_closed), -1)
    cy[closed] = _year(world, clock.to_time(opp_closed[closed]))
    _add(totals.won, np.where(opp_status == 1, cy, -1))
    _add(totals.lost, np.where(opp_status == 2, cy, -1))
    has_mql = ~np.isnan(l_mql)
    my = np.full(len(l_mql), -1)
    my[has_mql] = _year(world, clock.to_time(l_mql[has_mql]))
    _add(totals.mqls, my)
    _add(totals.sqls, np.where(~np.isnan(l_sql), my, -1))
    calls = a_type == 0
    ay = _year(world, clock.to_time(a_w[calls]))
    ok = ay >= 0
    np.add.at(totals.calls_rep, (ay[ok], a_rep[calls][ok]), 1)
    oy = _year(world, clock.to_time(opp_created))
    ok = oy >= 0
    np.add.at(totals.opps_source, (oy[ok], opp_source[ok]), 1)
