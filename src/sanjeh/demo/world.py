"""The demo company's small tables (reps, products, initiatives, customers, CPI).

They are built once, held in memory (at most a few hundred thousand customers),
and carry numpy side arrays that the chunked fact generator samples from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sanjeh.calendar import jalali_to_gregorian
from sanjeh.demo import catalog as cat
from sanjeh.demo.clock import Clock, build_clock

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
#: Chains of events may start this long before 1401 (deals closing in early 1401 began in 1400).
CLOCK_START = (1400, 7, 1)


@dataclass(frozen=True)
class World:
    clock: Clock
    regions: tuple[str, ...]
    # CPI: one index per Jalali month of 1401..1403 (month index 0..35)
    cpi: F64
    # reps
    rep_ids: tuple[str, ...]
    rep_region: I64  # index into regions
    rep_team: I64
    rep_thursday: npt.NDArray[np.bool_]  # works Thursday mornings
    rep_data_entry: F64  # share of the day spent on data entry
    region_reps: tuple[I64, ...]  # reps who own accounts of each region
    # products
    product_ids: tuple[str, ...]
    product_price: F64  # list price at the end of the span
    product_category: I64
    product_launch: F64  # work-clock time of launch (-inf = before the span)
    product_cum: F64  # cumulative pick weights, all products
    legacy_cum: F64  # cumulative pick weights, products launched before the span
    # customers (sorted by join time)
    customer_join: F64  # work-clock time the account was created (-inf = before the span)
    customer_region: I64
    customer_segment: I64
    customer_rep: I64
    customer_cum: F64  # cumulative buying weights
    tables: dict[str, pa.Table]


def _fa(n: int) -> str:
    return str(n).translate(_FA_DIGITS)


def _pick(rng: np.random.Generator, shares: list[float], n: int) -> I64:
    p = np.asarray(shares, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def customer_count(orders: int) -> int:
    return int(min(max(orders // 25, 150), 200_000))


def build_world(orders: int, seed: int) -> World:
    rng = np.random.default_rng([seed, 0])
    clock = build_clock(CLOCK_START, cat.YEARS[-1])
    regions = tuple(r for r, _, _ in cat.REGIONS)
    cpi = _cpi(rng)

    # reps: a director, then each team's manager and members
    rep_ids: list[str] = []
    names: list[str] = []
    teams: list[str | None] = []
    rep_region: list[int] = []
    managers: list[str | None] = []
    team_of: list[int] = []
    pairs = rng.permutation(len(cat.FIRST_NAMES) * len(cat.LAST_NAMES))

    def add(team: str | None, team_no: int, region: str, manager: str | None) -> str:
        i = len(rep_ids)
        rid = f"R{i + 1:02d}"
        p = int(pairs[i])
        rep_ids.append(rid)
        names.append(f"{cat.FIRST_NAMES[p // len(cat.LAST_NAMES)]} {cat.LAST_NAMES[p % len(cat.LAST_NAMES)]}")
        teams.append(team)
        rep_region.append(regions.index(region))
        managers.append(manager)
        team_of.append(team_no)
        return rid

    director = add(None, -1, cat.REGIONS[0][0], None)
    for t, (team, homes) in enumerate(cat.TEAM_REPS):
        manager = add(team, t, homes[0], director)
        for home in homes[1:]:
            add(team, t, home, manager)
    n_reps = len(rep_ids)
    a_region = np.array(rep_region, dtype=np.int64)
    a_team = np.array(team_of, dtype=np.int64)
    team_names = [team for team, _ in cat.TEAM_REPS]
    region_reps: list[I64] = []
    for r, (_, team, _) in enumerate(cat.REGIONS):
        same = np.flatnonzero((a_region == r) & (a_team >= 0))
        if len(same) == 0:
            same = np.flatnonzero(a_team == team_names.index(team))
        region_reps.append(same.astype(np.int64))
    reps = pa.table(
        {
            "rep_id": rep_ids,
            "name": names,
            "team": teams,
            "region": [regions[r] for r in rep_region],
            "manager_id": managers,
        }
    )

    products, initiatives, parrays = _products(rng, clock)
    customers, carrays = _customers(rng, clock, customer_count(orders), region_reps)
    cpi_table = pa.table(
        {
            "month": [f"{y}-{m:02d}" for y in cat.YEARS for m in range(1, 13)],
            "index": pa.array(np.round(cpi, 2), pa.float64()),
        }
    )
    return World(
        clock=clock,
        regions=regions,
        cpi=cpi,
        rep_ids=tuple(rep_ids),
        rep_region=a_region,
        rep_team=a_team,
        rep_thursday=rng.random(n_reps) < 0.5,
        rep_data_entry=rng.uniform(0.08, 0.32, n_reps),
        region_reps=tuple(region_reps),
        tables={
            "reps": reps,
            "initiatives": initiatives,
            "products": products,
            "customers": customers,
            "cpi": cpi_table,
        },
        **parrays,  # type: ignore[arg-type]
        **carrays,  # type: ignore[arg-type]
    )


def _cpi(rng: np.random.Generator) -> F64:
    rates = []
    for y in cat.YEARS:
        monthly = (1 + cat.INFLATION[y]) ** (1 / 12) - 1
        rates.extend(monthly + rng.normal(0, 0.004, 12))
    return np.asarray(100.0 * np.cumprod(np.concatenate([[1.0], 1 + np.asarray(rates[1:])])), dtype=np.float64)


def _round_price(x: F64) -> F64:
    mag = 10.0 ** (np.floor(np.log10(x)) - 2)
    return np.asarray(np.round(x / mag) * mag, dtype=np.float64)


def _products(
    rng: np.random.Generator, clock: Clock
) -> tuple[pa.Table, pa.Table, dict[str, F64 | I64 | tuple[str, ...]]]:
    span_start = clock.cum[clock.day_index(cat.YEARS[0], 1, 1)]
    ids: list[str] = []
    names: list[str] = []
    cats: list[int] = []
    prices: list[float] = []
    launched: list[dt.date] = []
    launch_w: list[float] = []
    initiative: list[str | None] = []
    weights: list[float] = []
    for ci, c in enumerate(cat.CATEGORIES):
        inits = [i for i in cat.INITIATIVES if i.category == c.code]
        n_init = sum(i.products for i in inits)
        base_w = rng.pareto(1.5, c.count) + 1.0
        base_w = base_w / base_w.sum() * c.share
        lo, hi = np.log(c.price_min), np.log(c.price_max)
        price = _round_price(np.exp(rng.uniform(lo, hi, c.count + n_init)))
        owners: list[cat.Initiative | None] = [None] * c.count + [i for i in inits for _ in range(i.products)]
        for k, owner in enumerate(owners):
            ids.append(f"P{len(ids) + 1:03d}")
            model = cat.PRODUCT_MODELS[k % len(cat.PRODUCT_MODELS)]
            names.append(f"{c.noun} {model} {_fa(100 + 10 * k + int(rng.integers(0, 10)))}")
            cats.append(ci)
            prices.append(float(price[k]))
            if owner is None:
                new = rng.random() < 0.06
                if new:  # a regular new model launched during the span
                    y, m = int(rng.integers(1401, 1404)), int(rng.integers(1, 13))
                else:
                    y, m = int(rng.integers(1385, 1400)), int(rng.integers(1, 13))
                day = jalali_to_gregorian(y, m, int(rng.integers(1, 29)))
                weights.append(float(base_w[k]))
                initiative.append(None)
            else:
                day = jalali_to_gregorian(*owner.started_on) + dt.timedelta(days=int(rng.integers(0, 45)))
                weights.append(c.share / c.count * 1.5)
                initiative.append(owner.initiative_id)
            launched.append(day)
            idx = (day - clock.first).days
            launch_w.append(float(clock.cum[idx]) if idx >= 0 else -np.inf)
    w = np.asarray(weights)
    lw = np.asarray(launch_w)
    legacy = np.where(lw <= span_start, w, 0.0)
    products = pa.table(
        {
            "product_id": ids,
            "name": names,
            "category": [cat.CATEGORIES[i].code for i in cats],
            "list_price": pa.array(np.asarray(prices).astype(np.int64)),
            "launched_on": pa.array(launched, pa.date32()),
            "initiative_id": initiative,
        }
    )
    initiatives = pa.table(
        {
            "initiative_id": [i.initiative_id for i in cat.INITIATIVES],
            "name": [i.name for i in cat.INITIATIVES],
            "started_on": pa.array([jalali_to_gregorian(*i.started_on) for i in cat.INITIATIVES], pa.date32()),
            "investment": pa.array([i.investment for i in cat.INITIATIVES], pa.int64()),
        }
    )
    arrays: dict[str, F64 | I64 | tuple[str, ...]] = {
        "product_ids": tuple(ids),
        "product_price": np.asarray(prices),
        "product_category": np.asarray(cats, dtype=np.int64),
        "product_launch": lw,
        "product_cum": np.cumsum(w / w.sum()),
        "legacy_cum": np.cumsum(legacy / legacy.sum()),
    }
    return products, initiatives, arrays


def _customers(
    rng: np.random.Generator, clock: Clock, n: int, region_reps: list[I64]
) -> tuple[pa.Table, dict[str, F64 | I64]]:
    start = clock.day_index(cat.YEARS[0], 1, 1)
    n_old = round(n * 0.35)
    join_new = np.sort(rng.uniform(clock.cum[start], clock.cum[-1], n - n_old))
    join = np.concatenate([np.full(n_old, -np.inf), join_new])
    created_new = clock.to_time(join_new) // 86_400
    # accounts opened before the span: 1390-01 .. 1400-06 (days since 1970)
    lo = (jalali_to_gregorian(1390, 1, 1) - dt.date(1970, 1, 1)).days
    created_old = np.sort(rng.integers(lo, clock.t0 // 86_400, n_old))
    created = np.concatenate([created_old, created_new]).astype(np.int32)

    region = _pick(rng, [w for _, _, w in cat.REGIONS], n)
    segment = _pick(rng, [s for _, s, _, _ in cat.SEGMENTS], n)
    industry = _pick(rng, [s for _, _, s in cat.INDUSTRIES], n)
    rep = np.empty(n, dtype=np.int64)
    for r, cands in enumerate(region_reps):
        mask = region == r
        rep[mask] = cands[rng.integers(0, len(cands), int(mask.sum()))]
    seg_weight = np.array([w for _, _, w, _ in cat.SEGMENTS])[segment]
    weight = (rng.pareto(1.3, n) + 1.0) * seg_weight

    prefix = np.array(cat.COMPANY_PREFIXES, dtype=object)[rng.integers(0, len(cat.COMPANY_PREFIXES), n)]
    stem = np.array(cat.COMPANY_STEMS, dtype=object)[rng.integers(0, len(cat.COMPANY_STEMS), n)]
    word = np.array([w for _, w, _ in cat.INDUSTRIES], dtype=object)[industry]
    name = pc.binary_join_element_wise(pa.array(prefix), pa.array(word), pa.array(stem), " ")
    ids = pc.binary_join_element_wise("C", pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), 6, "0"), "")
    table = pa.table(
        {
            "customer_id": ids,
            "name": name,
            "region": pa.array(np.array([r for r, _, _ in cat.REGIONS], dtype=object)[region]),
            "segment": pa.array(np.array([s for s, _, _, _ in cat.SEGMENTS], dtype=object)[segment]),
            "industry": pa.array(np.array([c for c, _, _ in cat.INDUSTRIES], dtype=object)[industry]),
            "created_on": pa.array(created, pa.int32()).cast(pa.date32()),
        }
    )
    arrays: dict[str, F64 | I64] = {
        "customer_join": join,
        "customer_region": region,
        "customer_segment": segment,
        "customer_rep": rep,
        "customer_cum": np.cumsum(weight),
    }
    return table, arrays
