"""Time entries, targets, and how many orders each Jalali month gets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sanjeh.calendar import jalali_month_days
from sanjeh.demo import catalog as cat
from sanjeh.demo.totals import SOURCES, Totals
from sanjeh.demo.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: The most orders generated at once (bounds memory whatever the total).
CHUNK_ORDERS = 200_000
TIME_CATEGORIES = tuple(c for c, _ in cat.TIME_CATEGORIES)


def month_plan(orders: int, chunk_orders: int = CHUNK_ORDERS) -> list[tuple[int, int, int]]:
    """(Jalali year, month, orders) chunks: seasonality and growth, split to at most ``chunk_orders``."""
    months = [(y, m) for y in cat.YEARS for m in range(1, 13)]
    w = np.array(
        [
            cat.MONTH_SEASON[m - 1] * (1 + cat.VOLUME_GROWTH) ** (i / 12) * jalali_month_days(y, m) / 30
            for i, (y, m) in enumerate(months)
        ]
    )
    exact = orders * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = orders - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    out: list[tuple[int, int, int]] = []
    for (y, m), c in zip(months, counts.tolist(), strict=True):
        parts = -(-c // chunk_orders)
        out.extend((y, m, int(size)) for size in np.diff(np.linspace(0, c, parts + 1).round().astype(np.int64)))
    return out


def time_entries(world: World, seed: int) -> tuple[pa.Table, F64]:
    """One row per rep, working day and category with hours; and the data-entry share per year."""
    rng = np.random.default_rng([seed, 3])
    c = world.clock
    first = c.day_index(cat.YEARS[0], 1, 1)
    days = np.arange(first, c.days)
    n_reps = len(world.rep_ids)
    rep = np.repeat(np.arange(n_reps), len(days))
    day = np.tile(days, n_reps)
    thursday = c.weekday[day] == 3
    works = (c.weekday[day] != 4) & ~c.holiday[day] & (~thursday | world.rep_thursday[rep])
    works &= rng.random(len(day)) >= 0.04  # leave and sick days
    rep, day, thursday = rep[works], day[works], thursday[works]
    n = len(rep)
    total = np.where(thursday, rng.normal(4.5, 0.5, n), rng.normal(8.2, 0.7, n)).clip(3.0, 11.0)
    base = np.array([s for _, s in cat.TIME_CATEGORIES])
    shares = np.tile(base, (n, 1))
    shares[:, 1] = world.rep_data_entry[rep]
    shares = shares * rng.gamma(8.0, 1 / 8.0, shares.shape)
    shares[:, 5] *= rng.random(n) < 0.2  # training on some days only
    shares /= shares.sum(axis=1, keepdims=True)
    hours = np.round(shares * total[:, None] * 4) / 4
    r_idx, c_idx = np.nonzero(hours > 0)
    h = hours[r_idx, c_idx]
    d = day[r_idx]
    year = c.jy[d] - cat.YEARS[0]
    de = c_idx == 1
    share = np.bincount(year, weights=h * de, minlength=3) / np.bincount(year, weights=h, minlength=3)
    table = pa.table(
        {
            "rep_id": pa.array(world.rep_ids).take(pa.array(rep[r_idx])),
            "day": pa.array((c.t0 // 86_400 + d).astype(np.int32), pa.int32()).cast(pa.date32()),
            "category": pa.array(TIME_CATEGORIES).take(pa.array(c_idx)),
            "hours": pa.array(h, pa.float64()),
        }
    )
    return table, share


def _shares(whole: float, weights: F64) -> list[float]:
    """``whole`` (a whole number of millions) shared in proportion to ``weights``, in millions, the
    rounding's remainder on the largest part: the parts add up to ``whole`` exactly."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if w.sum() <= 0:
        w = np.ones_like(w)
    parts = np.round(whole * w / w.sum(), -6)
    parts[int(np.argmax(parts))] += whole - parts.sum()
    return [float(v) for v in parts]


def targets(world: World, totals: Totals, data_entry_share: F64, seed: int) -> pa.Table:
    """Targets near what happened (a plan is never exact), for several KPIs of KPIS.md."""
    rng = np.random.default_rng([seed, 4])
    rows: list[tuple[str, str, str, str | None, str | None, str]] = []

    def add(kpi: str, measure: str, period: str, value: float, dim: str | None = None, member: str | None = None,
            digits: int = -6, spread: float = 0.12) -> None:  # fmt: skip
        v = round(value * rng.uniform(1 - spread, 1 + spread), digits)
        rows.append((kpi, measure, period, dim, member, f"{v:.{max(digits, 0)}f}"))

    years = cat.YEARS
    rev_q = totals.revenue_month.reshape(len(years), 4, 3).sum(axis=2)
    # revenue targets are one plan cut into parts that add up: the company's quarters, its last
    # year's months (in the quarter's seasonal shape), and each quarter shared over regions and reps
    # by their share of the year (a plan's shares are never exact): a director sees the members'
    # targets make up the company's, and a region over its target means the company gained by it
    company_q = np.round(rev_q * rng.uniform(0.88, 1.12, rev_q.shape), -6)
    for yi, y in enumerate(years):
        for q in range(4):
            rows.append(("revenue", "revenue", f"{y}-Q{q + 1}", None, None, f"{company_q[yi, q]:.0f}"))
        add(
            "win_rate",
            "win_rate",
            str(y),
            totals.won[yi] / max(totals.won[yi] + totals.lost[yi], 1),
            digits=3,
            spread=0.08,
        )
        add("mql_to_sql", "rate", str(y), totals.sqls[yi] / max(totals.mqls[yi], 1), digits=3, spread=0.1)
        add(
            "cancelled_orders",
            "cancellation_rate",
            str(y),
            totals.cancelled[yi] / max(totals.orders[yi], 1),
            digits=3,
            spread=0.15,
        )
        add("data_entry_share", "share", str(y), float(data_entry_share[yi]) * 0.85, digits=3, spread=0.05)
    last = len(years) - 1
    for q in range(4):
        months = totals.revenue_month[12 * last + 3 * q : 12 * last + 3 * q + 3]
        plan = months * rng.uniform(0.85, 1.15, 3)  # a plan's months are not what happened
        for m, v in zip(range(3 * q, 3 * q + 3), _shares(company_q[last, q], plan), strict=True):
            rows.append(("revenue", "revenue", f"{years[-1]}-{m + 1:02d}", None, None, f"{v:.0f}"))
    for yi, y in enumerate(years[1:], start=1):
        weights = totals.revenue_region[yi] * rng.uniform(0.9, 1.1, len(world.regions))
        planned = yi == last  # a province the company plans to enter takes 1 % of the last year's plan
        for q in range(4):
            whole = company_q[yi, q]
            new = np.round(whole * 0.01, -6) if planned else 0.0
            for r, v in enumerate(_shares(whole - new, weights)):
                rows.append(("sales_by_region", "revenue", f"{y}-Q{q + 1}", "region", world.regions[r], f"{v:.0f}"))
                if yi == last:  # the revenue KPI split by region: the same plan, not a second one
                    rows.append(("revenue", "revenue", f"{y}-Q{q + 1}", "region", world.regions[r], f"{v:.0f}"))
            if planned:
                for name in ("sales_by_region", "revenue"):
                    rows.append((name, "revenue", f"{y}-Q{q + 1}", "region", cat.PLANNED_REGION, f"{new:.0f}"))
    sellers = [p for p in range(len(world.rep_ids)) if totals.revenue_rep[last, p] > 0]
    weights = totals.revenue_rep[last, sellers] * rng.uniform(0.85, 1.15, len(sellers))
    for q in range(4):
        for p, v in zip(sellers, _shares(company_q[last, q], weights), strict=True):
            for name in ("sales_per_rep", "revenue"):  # a team's revenue target is its reps' (kpis/targeting.py)
                rows.append((name, "revenue", f"{years[-1]}-Q{q + 1}", "rep", world.rep_ids[p], f"{v:.0f}"))
    for p, rep in enumerate(world.rep_ids):
        if totals.calls_rep[last, p] > 0:
            add("calls_per_rep", "calls", str(years[-1]), totals.calls_rep[last, p], "rep", rep, digits=0)
    for s, source in enumerate(SOURCES):
        add(
            "opportunities_by_source",
            "opportunities",
            str(years[-1]),
            totals.opps_source[last, s],
            "source",
            source,
            digits=0,
        )
    # new customers per quarter: accounts whose first non-cancelled order falls in it
    seen = np.isfinite(totals.first_order)
    day = world.clock.day_of(world.clock.to_time(totals.first_order[seen]))
    quarter = (world.clock.jy[day] - years[0]) * 4 + (world.clock.jm[day] - 1) // 3
    per_q = np.bincount(quarter[quarter >= 0], minlength=4 * len(years))
    for yi, y in enumerate(years):
        for qq in range(4):
            add("new_customers", "new_customers", f"{y}-Q{qq + 1}", float(per_q[yi * 4 + qq]), digits=0)
    kpi, measure, period, dim, member, target = zip(*rows, strict=True)
    return pa.table(
        {
            "kpi": list(kpi),
            "measure": list(measure),
            "period": list(period),
            "dimension": pa.array(dim, pa.string()),
            "member": pa.array(member, pa.string()),
            "target": pa.array(target, pa.string()),  # plain digits, never 1e+12
        }
    )
