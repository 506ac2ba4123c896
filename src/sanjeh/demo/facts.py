"""The big tables, one chunk at a time, vectorised with numpy.

A chunk is (part of) one Jalali month of orders. Its won deals are the deals
behind those orders; its lost and open deals close or are created in the month;
its leads are the leads behind its deals plus the MQLs that did not become SQLs
in the same proportion per source. Everything a chunk references (customers,
reps, products) exists in the world; ids come from running counters, so they are
unique across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sanjeh.demo import catalog as cat
from sanjeh.demo.totals import Totals, add_chunk
from sanjeh.demo.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

SOURCES = tuple(s for s, _, _, _ in cat.SOURCES)
CONTACT_METHODS = tuple(c for c, _, _ in cat.CONTACT_METHODS)
ACTIVITY_TYPES = tuple(t for t, _, _, _ in cat.ACTIVITY_TYPES)
OUTCOMES = tuple(dict.fromkeys(o for _, _, _, outs in cat.ACTIVITY_TYPES for o, _ in outs))
STAGES = (*cat.OPEN_STAGES, cat.WON_STAGE, cat.LOST_STAGE)
CANCEL_REASONS = tuple(r for r, _ in cat.CANCEL_REASONS)
LINE_COUNT_P = (0.25, 0.25, 0.20, 0.17, 0.13)


@dataclass
class Counters:
    """The next number of each id, and the width ids are padded to."""

    width: int
    leads: int = 1
    opportunities: int = 1
    orders: int = 1
    activities: int = 1

    def take(self, kind: str, n: int) -> int:
        first: int = getattr(self, kind)
        setattr(self, kind, first + n)
        return first


# -- helpers -----------------------------------------------------------------------
def _choice(rng: np.random.Generator, shares: tuple[float, ...] | list[float] | F64, n: int) -> I64:
    p = np.asarray(shares, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1).astype(np.int64)


def ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    nums = pa.array(np.arange(first, first + n, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width, "0"), "")


def _ids_or_null(prefix: str, nums: I64, width: int) -> pa.Array:
    """Ids for numbers ≥ 1; null where the number is 0."""
    arr = pc.utf8_lpad(pa.array(nums).cast(pa.string()), width, "0")
    out = pc.binary_join_element_wise(prefix, arr, "")
    return pc.if_else(pa.array(nums > 0), out, pa.scalar(None, pa.string()))


def _text(vocab: tuple[str, ...], idx: I64) -> pa.Array:
    """``vocab[idx]``, null where ``idx`` < 0."""
    return pa.array(vocab, pa.string()).take(pa.array(idx, mask=idx < 0))


def _ts(t: I64, null: B | None = None) -> pa.Array:
    return pa.array(t, pa.timestamp("s"), mask=null)


def _int(x: I64 | F64, null: B | None = None) -> pa.Array:
    return pa.array(np.asarray(x).astype(np.int64), pa.int64(), mask=null)


def _customers(rng: np.random.Generator, world: World, n: int, k: int) -> I64:
    """Accounts opened before the month, weighted by buying power."""
    cum = world.customer_cum
    u = rng.random(n) * cum[k - 1]
    out: I64 = np.searchsorted(cum, u, side="right").clip(0, k - 1).astype(np.int64)
    return out


def _new_or_known(rng: np.random.Generator, world: World, n: int, k: int, k_new: int, share: float) -> I64:
    out = _customers(rng, world, n, k)
    if k > k_new:
        new = rng.random(n) < share
        out[new] = rng.integers(k_new, k, int(new.sum()))
    return out


def _reps_for(rng: np.random.Generator, world: World, customers: I64, loyal: float) -> I64:
    rep = world.customer_rep[customers].copy()
    other = rng.random(len(rep)) >= loyal
    rep[other] = rng.integers(1, len(world.rep_ids), int(other.sum()))
    return rep


def _products(rng: np.random.Generator, world: World, when: F64) -> I64:
    p = np.searchsorted(world.product_cum, rng.random(len(when)), side="right").clip(0, len(world.product_cum) - 1)
    early = world.product_launch[p] > when
    if early.any():
        legacy = np.searchsorted(world.legacy_cum, rng.random(int(early.sum())), side="right")
        p[early] = legacy.clip(0, len(world.legacy_cum) - 1)
    return p.astype(np.int64)


def _rank(order: I64) -> I64:
    r = np.empty_like(order)
    r[order] = np.arange(len(order))
    return r


# -- one chunk ---------------------------------------------------------------------
def _at(numbers: I64, refs: I64) -> I64:
    """``numbers[refs]`` where a reference is set (≥ 0), 0 elsewhere; a chunk too small to have any
    lead or deal (a demo of a few hundred orders) refers to none."""
    if len(numbers) == 0:
        return np.zeros(len(refs), dtype=np.int64)
    return numbers[np.maximum(refs, 0)]


def make_chunk(
    world: World, rng: np.random.Generator, year: int, month: int, n: int, counters: Counters, totals: Totals
) -> dict[str, pa.Table]:
    clock = world.clock
    w0, w1 = clock.month_span(year, month)
    w_end = float(clock.cum[-1]) - 1e-6
    mi = (year - cat.YEARS[0]) * 12 + month - 1
    yi = year - cat.YEARS[0]
    k = max(int(np.searchsorted(world.customer_join, w0, side="left")), 1)
    k_new = int(np.searchsorted(world.customer_join, w0 - 60.0, side="left"))
    n_reps = len(world.rep_ids)

    # orders and the won deals behind most of them
    order_w = np.sort(rng.uniform(w0, w1, n))
    n_repeat = round(n * 0.3)
    n_linked = n - n_repeat
    n_won = max(1, round(n_linked / 2.4)) if n_linked else 0
    linked = np.zeros(n, dtype=np.bool_)
    linked[rng.permutation(n)[:n_linked]] = True
    order_opp = np.full(n, -1, dtype=np.int64)
    if n_won:
        deal = np.concatenate([np.arange(n_won), rng.integers(0, n_won, n_linked - n_won)])
        order_opp[linked] = rng.permutation(deal)

    won_cust = _new_or_known(rng, world, n_won, k, k_new, 0.3)
    won_rep = _reps_for(rng, world, won_cust, 0.9)
    first_w = np.full(n_won, np.inf)
    np.minimum.at(first_w, order_opp[linked], order_w[linked])
    won_closed = np.maximum(first_w - rng.exponential(1.5, n_won), 0.0)
    seg_cycle = np.array([45.0, 25.0, 15.0])[world.customer_segment[won_cust]]
    won_created = np.maximum(won_closed - seg_cycle * rng.lognormal(0, 0.6, n_won), 0.0)
    won_product = _products(rng, world, np.minimum(first_w, w1))

    order_cust = _customers(rng, world, n, k)
    order_rep = _reps_for(rng, world, order_cust, 0.92)
    lo = order_opp[linked]
    order_cust[linked] = won_cust[lo]
    order_rep[linked] = won_rep[lo]

    # order lines
    n_lines = _choice(rng, LINE_COUNT_P, n) + 1
    line_order = np.repeat(np.arange(n), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(line_order)) - starts[line_order] + 1
    product = _products(rng, world, order_w[line_order])
    first_linked = (line_no == 1) & linked[line_order]
    product[first_linked] = won_product[order_opp[line_order[first_linked]]]
    category = world.product_category[product]
    price_factor = world.cpi[mi] / world.cpi[-1]
    unit_price = np.round(world.product_price[product] * price_factor * rng.uniform(0.96, 1.04, len(product)), -3)
    seg = world.customer_segment[order_cust[line_order]]
    qty_median = np.array([c.qty_median for c in cat.CATEGORIES])[category]
    seg_mult = np.array([m for _, _, _, m in cat.SEGMENTS])[seg]
    qty = qty_median * seg_mult * rng.lognormal(0, 0.7, len(product))
    decimals = np.array([c.qty_decimals for c in cat.CATEGORIES])[category] > 0
    qty = np.where(decimals, np.maximum(np.round(qty, 1), 0.1), np.maximum(np.round(qty), 1.0))
    gross = qty * unit_price
    has_discount = rng.random(len(product)) < np.where(seg == 0, 0.7, 0.4)
    discount = np.where(has_discount, np.floor(gross * rng.uniform(0.02, 0.15, len(product)) / 1000) * 1000, 0.0)
    net = gross - discount
    order_net: F64 = np.bincount(line_order, weights=net, minlength=n).astype(np.float64)

    # order header
    cancelled = rng.random(n) < np.where(world.customer_segment[order_cust] == 2, 0.08, 0.055)
    recent = order_w > w_end - 25
    placed = ~cancelled & (rng.random(n) < np.where(recent, 0.7, 0.01))
    status = np.where(cancelled, 2, np.where(placed, 0, 1))  # placed, fulfilled, cancelled
    cancelled_at = clock.to_time(np.minimum(order_w + rng.exponential(3.0, n), w_end))
    reason = _choice(rng, [s for _, s in cat.CANCEL_REASONS], n)
    reason[~cancelled | (rng.random(n) < 0.15)] = -1
    cust_region = world.customer_region[order_cust]
    region = np.where(rng.random(n) < 0.05, _choice(rng, [w for _, _, w in cat.REGIONS], n), cust_region)
    region[rng.random(n) < 0.3] = -1
    won_cm = _choice(rng, [w for _, w, _ in cat.CONTACT_METHODS], n_won)
    order_cm = _choice(rng, [w for _, w, _ in cat.CONTACT_METHODS], n)
    keep_deal_cm = linked & (rng.random(n) < 0.85)
    order_cm[keep_deal_cm] = won_cm[order_opp[keep_deal_cm]]
    order_cm[(linked & (rng.random(n) < 0.45)) | (~linked & (rng.random(n) < 0.06))] = -1

    # lost and open deals
    n_lost = round(n_won * 1.4)
    lost_closed = rng.uniform(w0, w1, n_lost)
    lost_cust = _new_or_known(rng, world, n_lost, k, k_new, 0.45)
    lost_cycle = np.array([40.0, 22.0, 12.0])[world.customer_segment[lost_cust]] * rng.lognormal(0, 0.7, n_lost)
    lost_created = np.maximum(lost_closed - lost_cycle, 0.0)
    open_rate = 0.03 + 0.30 * np.exp(-(12 * len(cat.YEARS) - 1 - mi) / 2.0)
    n_open = round(n * open_rate)
    open_created = rng.uniform(w0, w1, n_open)
    open_cust = _new_or_known(rng, world, n_open, k, k_new, 0.45)

    won_amount = np.bincount(order_opp[linked], weights=order_net[linked], minlength=n_won)
    pool = won_amount if n_won else np.array([5e8])
    other_amount = np.round(
        pool[rng.integers(0, len(pool), n_lost + n_open)] * rng.lognormal(0, 0.5, n_lost + n_open), -4
    )

    src_share = np.array([s for _, s, _, _ in cat.SOURCES])
    propensity = np.array([p for _, _, _, p in cat.SOURCES])
    no = n_won + n_lost + n_open
    opp_status = np.concatenate([np.full(n_won, 1), np.full(n_lost, 2), np.zeros(n_open, dtype=np.int64)])
    opp_created = np.concatenate([won_created, lost_created, open_created])
    opp_closed = np.concatenate([won_closed, lost_closed, np.full(n_open, np.nan)])
    opp_cust = np.concatenate([won_cust, lost_cust, open_cust])
    opp_rep = np.concatenate([won_rep, _reps_for(rng, world, np.concatenate([lost_cust, open_cust]), 0.9)])
    opp_source = np.concatenate(
        [
            _choice(rng, src_share * propensity, n_won),
            _choice(rng, src_share / propensity, n_lost),
            _choice(rng, src_share, n_open),
        ]
    )
    opp_cm = np.concatenate([won_cm, _choice(rng, [w for _, _, w in cat.CONTACT_METHODS], n_lost + n_open)])
    opp_product = np.concatenate([won_product, _products(rng, world, np.concatenate([lost_created, open_created]))])
    opp_amount = np.concatenate([won_amount, other_amount])
    opp_stage = np.concatenate(
        [
            np.full(n_won, STAGES.index(cat.WON_STAGE)),
            np.full(n_lost, STAGES.index(cat.LOST_STAGE)),
            rng.integers(0, len(cat.OPEN_STAGES), n_open),
        ]
    )
    lost_reason = np.full(no, -1)
    lost_reason[n_won : n_won + n_lost] = rng.integers(0, len(cat.LOST_REASONS), n_lost)
    lost_reason[rng.random(no) < 0.1] = -1

    # the leads behind deals: lead -> MQL -> SQL -> deal
    opp_has_lead = rng.random(no) < np.where(opp_status == 1, 0.65, 0.55)
    ol = np.flatnonzero(opp_has_lead)
    sql_w = np.maximum(opp_created[ol] - rng.exponential(2.0, len(ol)), 0.0)
    mql_w = np.maximum(sql_w - 8.0 * rng.lognormal(0, 0.7, len(ol)), 0.0)
    lead_w = np.maximum(mql_w - rng.exponential(4.0, len(ol)), 0.0)
    lead_mql_null = rng.random(len(ol)) < 0.03
    # extra SQLs with no deal yet, then the MQLs that never became SQLs, in proportion per source
    n_extra = round(len(ol) * 0.1)
    x_lead = rng.uniform(w0, w1, n_extra)
    x_mql = np.minimum(x_lead + rng.exponential(3.0, n_extra), w_end)
    x_sql = np.minimum(x_mql + 6.0 * rng.lognormal(0, 0.6, n_extra), w_end)
    x_source = _choice(rng, src_share, n_extra)
    sql_source = np.concatenate([opp_source[ol], x_source])
    sql_rate = np.array([r for _, _, r, _ in cat.SOURCES])
    per_source = np.round(np.bincount(sql_source, minlength=len(SOURCES)) * (1 - sql_rate) / sql_rate).astype(np.int64)
    m_source = np.repeat(np.arange(len(SOURCES)), per_source)
    nm = len(m_source)
    all_mql = np.concatenate([mql_w, x_mql]) if len(ol) + n_extra else np.array([w0])
    m_mql = np.clip(all_mql[rng.integers(0, len(all_mql), nm)] + rng.uniform(-2, 2, nm), 0.0, w_end)
    m_lead = np.maximum(m_mql - rng.exponential(4.0, nm), 0.0)
    n_cold = round((len(ol) + n_extra + nm) * 0.15)
    c_lead = rng.uniform(w0, w1, n_cold)
    c_source = _choice(rng, src_share, n_cold)

    nl = len(ol) + n_extra + nm + n_cold
    l_created = np.concatenate([lead_w, x_lead, m_lead, c_lead])
    l_mql = np.concatenate([mql_w, x_mql, m_mql, np.full(n_cold, np.nan)])
    l_mql[: len(ol)][lead_mql_null] = np.nan
    l_sql = np.concatenate([sql_w, x_sql, np.full(nm + n_cold, np.nan)])
    l_source = np.concatenate([opp_source[ol], x_source, m_source, c_source])
    free = nl - len(ol)
    l_cust = np.concatenate([opp_cust[ol], _customers(rng, world, free, k)])
    has_cust = rng.random(nl) < np.where(np.arange(nl) < len(ol), 0.75, 0.25)
    l_region = np.where(has_cust, world.customer_region[l_cust], _choice(rng, [w for _, _, w in cat.REGIONS], nl))
    l_region[(has_cust & (rng.random(nl) < 0.6)) | (~has_cust & (rng.random(nl) < 0.1))] = -1
    l_cust[~has_cust] = -1
    l_rep = np.empty(nl, dtype=np.int64)
    l_rep[: len(ol)] = opp_rep[ol]
    free_region = np.where(l_region[len(ol) :] >= 0, l_region[len(ol) :], 0)
    cand_n = np.array([len(r) for r in world.region_reps])[free_region]
    flat = np.concatenate(world.region_reps)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in world.region_reps])[:-1]])
    l_rep[len(ol) :] = flat[offsets[free_region] + (rng.random(free) * cand_n).astype(np.int64)]
    disq_base = np.concatenate([np.full(len(ol) + n_extra, np.nan), m_mql, c_lead])
    disq = (np.arange(nl) >= len(ol) + n_extra) & (rng.random(nl) < np.where(np.isnan(l_mql), 0.45, 0.35))
    l_disq = np.where(disq, np.minimum(disq_base + rng.exponential(5.0, nl), w_end), np.nan)
    l_disq_reason = np.where(disq, rng.integers(0, len(cat.DISQUALIFY_REASONS), nl), -1)
    l_disq_reason[rng.random(nl) < 0.1] = -1

    # activities on deals and on leads
    per_opp = np.where(
        opp_status == 1,
        1 + rng.poisson(3.0, no),
        np.where(opp_status == 2, 1 + rng.poisson(1.5, no), rng.poisson(2.0, no)),
    )
    a_opp = np.repeat(np.arange(no), per_opp)
    a_end = np.where(np.isnan(opp_closed), np.minimum(opp_created + 40.0, w_end), opp_closed)
    per_lead = rng.poisson(np.where(np.isnan(l_sql), 0.35, 0.6))
    a_lead = np.repeat(np.arange(nl), per_lead)
    na_o, na_l = len(a_opp), len(a_lead)
    na = na_o + na_l
    a_w = np.concatenate(
        [
            opp_created[a_opp] + rng.random(na_o) * (a_end[a_opp] - opp_created[a_opp]),
            np.minimum(l_created[a_lead] + rng.uniform(0, 5, na_l), w_end),
        ]
    )
    a_type = np.concatenate(
        [_choice(rng, [s for _, s, _, _ in cat.ACTIVITY_TYPES], na_o), np.where(rng.random(na_l) < 0.8, 0, 1)]
    )
    a_outcome = np.full(na, -1)
    a_duration = np.full(na, np.nan)
    for t, (_, _, span, outs) in enumerate(cat.ACTIVITY_TYPES):
        mask = a_type == t
        m = int(mask.sum())
        codes = np.array([OUTCOMES.index(o) for o, _ in outs])
        a_outcome[mask] = codes[_choice(rng, [s for _, s in outs], m)]
        if span is not None:
            a_duration[mask] = rng.integers(span[0], span[1] + 1, m)
    a_duration[rng.random(na) < 0.1] = np.nan
    a_outcome[rng.random(na) < 0.03] = -1
    # calls about a lead that became an SQL more often find a prospect
    sql_call = np.zeros(na, dtype=np.bool_)
    sql_call[na_o:] = ~np.isnan(l_sql[a_lead])
    a_outcome[sql_call & (a_type == 0) & (rng.random(na) < 0.25)] = OUTCOMES.index("prospect")
    a_rep = np.concatenate([opp_rep[a_opp], l_rep[a_lead]])
    stray = rng.random(na) < 0.05
    a_rep[stray] = rng.integers(1, n_reps, int(stray.sum()))
    lead_of_opp = np.full(no, -1)
    lead_of_opp[ol] = np.arange(len(ol))
    a_lead_ref = np.concatenate([np.where(rng.random(na_o) < 0.5, lead_of_opp[a_opp], -1), a_lead])
    a_opp_ref = np.concatenate([a_opp, np.full(na_l, -1)])
    a_cust = np.concatenate([opp_cust[a_opp], l_cust[a_lead]])

    # ids: each table numbered in time order within the chunk
    o_first = counters.take("orders", n)
    opp_order = np.argsort(opp_created, kind="stable")
    opp_no = _rank(opp_order) + counters.take("opportunities", no)
    lead_order = np.argsort(l_created, kind="stable")
    lead_no = _rank(lead_order) + counters.take("leads", nl)
    act_order = np.argsort(a_w, kind="stable")
    a_first = counters.take("activities", na)
    width = counters.width

    order_t = clock.to_time(order_w)
    add_chunk(world, totals, yi, mi, n, order_t, order_w, order_cust, order_rep, region, cust_region, status,
            order_net, opp_status, opp_closed, opp_created, opp_source, l_mql, l_sql, a_type, a_rep, a_w)  # fmt: skip

    orders = pa.table(
        {
            "order_id": ids("SO", o_first, n, width),
            "ordered_at": _ts(order_t),
            "customer_id": _ids_or_null("C", order_cust + 1, 6),
            "opportunity_id": _ids_or_null("OP", np.where(linked, _at(opp_no, order_opp), 0), width),
            "rep_id": _text(world.rep_ids, order_rep),
            "region": _text(world.regions, region),
            "contact_method": _text(CONTACT_METHODS, order_cm),
            "status": _text(("placed", "fulfilled", "cancelled"), status),
            "cancelled_at": _ts(cancelled_at, ~cancelled),
            "cancel_reason": _text(CANCEL_REASONS, reason),
        }
    )
    order_lines = pa.table(
        {
            "order_id": ids("SO", o_first, n, width).take(pa.array(line_order)),
            "line_no": _int(line_no),
            "product_id": _text(world.product_ids, product),
            "quantity": pa.array(qty, pa.float64()),
            "unit_price": _int(unit_price),
            "discount": _int(discount),
        }
    )
    closed_null = np.isnan(opp_closed)
    opportunities = pa.table(
        {
            "opportunity_id": ids("OP", int(opp_no.min()) if no else 1, no, width),
            "created_at": _ts(clock.to_time(opp_created[opp_order])),
            "lead_id": _ids_or_null("LD", np.where(opp_has_lead, _at(lead_no, lead_of_opp), 0)[opp_order], width),
            "customer_id": _ids_or_null("C", opp_cust[opp_order] + 1, 6),
            "rep_id": _text(world.rep_ids, opp_rep[opp_order]),
            "source": _text(SOURCES, np.where(opp_has_lead & (rng.random(no) < 0.2), -1, opp_source)[opp_order]),
            "contact_method": _text(CONTACT_METHODS, opp_cm[opp_order]),
            "product_id": _text(world.product_ids, opp_product[opp_order]),
            "status": _text(("open", "won", "lost"), opp_status[opp_order]),
            "stage": _text(STAGES, opp_stage[opp_order]),
            "amount": _int(opp_amount[opp_order]),
            "closed_at": _ts(clock.to_time(np.nan_to_num(opp_closed[opp_order])), closed_null[opp_order]),
            "lost_reason": _text(cat.LOST_REASONS, lost_reason[opp_order]),
        }
    )
    lo_ = lead_order

    def lead_ts(w: F64) -> pa.Array:
        return _ts(clock.to_time(np.nan_to_num(w[lo_])), np.isnan(w[lo_]))

    leads = pa.table(
        {
            "lead_id": ids("LD", int(lead_no.min()) if nl else 1, nl, width),
            "created_at": lead_ts(l_created),
            "source": _text(SOURCES, l_source[lo_]),
            "rep_id": _text(world.rep_ids, l_rep[lo_]),
            "customer_id": _ids_or_null("C", l_cust[lo_] + 1, 6),
            "region": _text(world.regions, l_region[lo_]),
            "mql_at": lead_ts(l_mql),
            "sql_at": lead_ts(l_sql),
            "disqualified_at": lead_ts(l_disq),
            "disqualify_reason": _text(cat.DISQUALIFY_REASONS, l_disq_reason[lo_]),
        }
    )
    ao = act_order
    activities = pa.table(
        {
            "activity_id": ids("AC", a_first, na, width),
            "rep_id": _text(world.rep_ids, a_rep[ao]),
            "type": _text(ACTIVITY_TYPES, a_type[ao]),
            "occurred_at": _ts(clock.to_time(a_w[ao])),
            "duration_min": pa.array(a_duration[ao], pa.float64(), mask=np.isnan(a_duration[ao])),
            "lead_id": _ids_or_null("LD", np.where(a_lead_ref >= 0, _at(lead_no, a_lead_ref), 0)[ao], width),
            "opportunity_id": _ids_or_null("OP", np.where(a_opp_ref >= 0, _at(opp_no, a_opp_ref), 0)[ao], width),
            "customer_id": _ids_or_null("C", a_cust[ao] + 1, 6),
            "outcome": _text(OUTCOMES, a_outcome[ao]),
        }
    )
    return {
        "leads": leads,
        "opportunities": opportunities,
        "orders": orders,
        "order_lines": order_lines,
        "activities": activities,
    }
