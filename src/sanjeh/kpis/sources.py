"""The cohorts KPIs count: each an Ibis table built from the canonical tables.

Every event cohort has a ``day`` column (the local calendar day that decides which
period a row belongs to), its dimension columns (text; empty values are
``unknown``, never dropped) and its value columns. The shared definitions of
KPIS.md (revenue, region, source, segment, contact method of an order or deal,
the no-orders fallback) live here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from sanjeh.warehouse import Warehouse

UNKNOWN = "unknown"
UNSPECIFIED = "unspecified"

#: The materialised cohorts (kpis/facts.py): cohort -> (table, the column that holds the owning
#: rep for a rep's view; None: not for reps), in build order: a cohort is built from the ones
#: stored before it. The MQL leads are not stored (storing them cost an eighth of an import's
#: time): their one join, a lead's customer for its region, runs only for a query that reads the
#: region (:meth:`Sources.cohort`).
FACTS: dict[str, tuple[str, str | None]] = {
    "opportunities": ("_f_opportunities", "rep_id"),
    "orders_x": ("_f_orders_x", "rep"),  # intermediate (see below)
    "revenue_lines": ("_f_revenue_lines", "rep"),
    "orders": ("_f_orders", "rep"),
    "first_orders": ("_f_first_orders", None),
}
#: Built only to feed the cohorts after them, as temporary tables dropped at the end of the build:
#: the orders with their attributes are joined once for the three order cohorts, and writing
#: them to the warehouse file would cost more than the join saves at query time.
INTERMEDIATE = frozenset({"orders_x"})
#: The cohorts a query reads materialised when the facts are fresh.
STORED = frozenset(FACTS) - INTERMEDIATE

#: Whose rows an engine counts: every row (None), one rep's (their id) or a team's (a set of
#: rep ids; an empty set is no rows, never every row).
RepScope = str | frozenset[str] | None


def normalize_scope(scope: str | frozenset[str] | set[str] | None) -> RepScope:
    """A rep scope with its ids normalised as the import stores them (``sanjeh.text``)."""
    from sanjeh.text import normalize_member

    if scope is None:
        return None
    if isinstance(scope, str):
        return normalize_member("rep", scope)
    return frozenset(normalize_member("rep", s) for s in scope)


def in_scope(col: ir.Value, scope: str | frozenset[str]) -> ir.BooleanValue:
    """Whether a row's rep id (``col``) is in the scope; ids compare case-insensitively."""
    s: ir.StringValue = col.cast("string")  # type: ignore[assignment]
    if isinstance(scope, str):
        return s.lower() == scope.lower()  # type: ignore[no-any-return]
    return s.lower().isin(sorted({r.lower() for r in scope}))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Cohort:
    name: str
    dims: tuple[str, ...]
    #: The canonical tables its rows come from: without rows in them the cohort has no data.
    tables: tuple[str, ...] = ()
    #: The event whose day places a row in a period (an ``EVENTS`` key of kpis/coverage.py).
    event: str = ""
    snapshot: bool = False  # rows are counted at each step's end, not on a day
    #: A column unique per row (a distinct count of it counts rows), if there is one.
    key: str = ""
    #: For a column counted distinct (``order_id``), the dimensions that are the same on every row
    #: of one of its values (an order has one region, but lines of several products): along them
    #: the distinct count adds up over members (kpis/why.py).
    unit_dims: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Every column of its rows (what a declaration's measures and conditions may name; the
    #: builders below make exactly these, tests/test_check.py checks it) and the numbers among them
    #: (what a sum, mean, quantile or cumulative may read).
    columns: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()

    def partitions(self, column: str, dim: str) -> bool:
        """Whether each distinct ``column`` value has one member of ``dim`` (rows are counted once)."""
        if column == self.key:
            return True
        return dim in dict(self.unit_dims).get(column, ())

    def sources(self, *, no_orders: bool) -> tuple[tuple[str, ...], str]:
        """(tables, event) of this cohort's rows; an order cohort of a workspace without orders
        counts won opportunities (SCHEMA.md, "When there are no orders")."""
        if no_orders and "orders" in self.tables:
            return ("opportunities",), "won_closed"
        return self.tables, self.event


_ORDERS = ("orders", "order_lines")
_ORDER_COLUMNS = ("day", "order_id", "region", "product", "rep", "segment", "source", "contact_method")
_OPPORTUNITY_COLUMNS = (
    *("opportunity_id", "created_at", "closed_at", "created_day", "closed_day", "status", "amount", "days"),
    *("customer_id", "rep_id", "product_id", "source", "rep", "product", "contact_method", "segment", "stage"),
    "opp_contact_method",
)
#: The dimensions of an order itself (its lines share them; not their products).
_ORDER_DIMS = ("region", "rep", "segment", "source", "contact_method")
COHORTS: dict[str, Cohort] = {
    c.name: c
    for c in (
        Cohort(
            "revenue_lines",
            ("region", "product", "rep", "segment", "source", "contact_method", "initiative", "category"),
            _ORDERS,
            "ordered",
            unit_dims=(("order_id", _ORDER_DIMS), ("customer_id", ("segment",))),
            # real_amount: net_amount at constant prices, joined by the compiler when a measure reads it
            columns=(*_ORDER_COLUMNS, "customer_id", "initiative", "category", "quantity", "net_amount", "real_amount"),
            numbers=("quantity", "net_amount", "real_amount"),
        ),
        Cohort(
            "orders",
            ("cancel_reason", "product", "region", "rep", "segment", "source", "contact_method"),
            ("orders",),
            "ordered",
            # one row per (order, product): an order with two products is in both
            unit_dims=(("order_id", ("cancel_reason", *_ORDER_DIMS)), ("customer_id", ("segment",))),
            columns=(*_ORDER_COLUMNS, "cancelled", "cancel_reason", "net_amount"),
            numbers=("net_amount",),
        ),
        Cohort(
            "leads_mql",
            ("source", "rep", "region"),
            ("leads",),
            "mql",
            key="lead_id",
            columns=("day", "lead_id", "sql_at", "source", "rep", "region"),
        ),
        Cohort(
            "opportunities_created",
            ("source", "rep", "product", "contact_method", "segment", "stage"),
            ("opportunities",),
            "created",
            key="opportunity_id",
            columns=(*_OPPORTUNITY_COLUMNS, "day"),
            numbers=("amount", "days"),
        ),
        Cohort(
            "opportunities_closed",
            ("source", "rep", "product", "contact_method", "segment", "stage"),
            ("opportunities",),
            "closed",
            key="opportunity_id",
            columns=(*_OPPORTUNITY_COLUMNS, "day"),
            numbers=("amount", "days"),
        ),
        Cohort(
            "activities",
            ("rep", "type", "outcome"),
            ("activities",),
            "activity",
            key="activity_id",
            columns=("day", "activity_id", "type", "outcome", "rep"),
        ),
        Cohort(
            "time_entries",
            ("rep", "category"),
            ("time_entries",),
            "time",
            columns=("day", "rep", "category", "hours"),
            numbers=("hours",),
        ),
        Cohort(
            "first_orders",
            ("region", "segment"),
            ("orders",),
            "ordered",
            key="customer_id",
            columns=("day", "customer_id", "region", "segment"),
        ),
        Cohort(
            "pipeline",
            ("rep", "source", "stage", "product", "contact_method"),
            ("opportunities",),
            "created",
            snapshot=True,
            key="opportunity_id",
            columns=_OPPORTUNITY_COLUMNS,
            numbers=("amount", "days"),
        ),
    )
}

#: Dimensions where a row without a member is not a member row (not ``unknown``): only
#: cancelled orders have a cancel reason.
SPARSE_DIMS = frozenset({"cancel_reason"})


def solid(t: ir.Table) -> ir.Table:
    """End an Ibis join chain, so the table can be joined again on its own columns."""
    return t.view() if isinstance(t.op(), ops.JoinChain) else t


def _float(value: float) -> ir.FloatingValue:
    """A float constant typed as a double in every backend's SQL (PostgreSQL reads ``1.0`` as numeric)."""
    return ibis.literal(value).cast("float32").cast("float64")  # type: ignore[no-any-return]


def _blank(col: ir.Value) -> ir.StringValue:
    """Empty text is no value.

    The import already trims every text value and stores empty ones as NULL (SCHEMA.md's
    conventions), so this does not trim again: trimming a whitespace set costs more than the
    rest of a cohort's projection (measured: docs/benchmarks.md), on every row of every build.
    """
    s: ir.StringValue = col.cast("string")  # type: ignore[assignment]
    return s.nullif("")


def _member(*cols: ir.Value, default: str = UNKNOWN) -> ir.StringValue:
    return ibis.coalesce(*(_blank(c) for c in cols), ibis.literal(default))  # type: ignore[no-any-return]


class Sources:
    """Builds cohorts from the warehouse, restricted to one rep's (or one team's) rows when
    ``rep_scope`` is set."""

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        rep_scope: RepScope = None,
        no_orders: bool = False,
        facts: Collection[str] = (),
    ) -> None:
        self.wh = warehouse
        self.rep_scope = rep_scope
        self.no_orders = no_orders
        self.facts = facts  # the cohorts to read materialised (facts.py) instead of joining live
        self._cache: dict[tuple[str, bool], ir.Table] = {}

    def _t(self, name: str) -> ir.Table:
        t = self.wh.table(name)
        if self.rep_scope is not None and name in ("orders", "opportunities", "leads", "activities", "time_entries"):
            t = t.filter(in_scope(t.rep_id, self.rep_scope))  # ids compare case-insensitively
        return t

    def cohort(self, name: str, reads: Collection[str] | None = None) -> ir.Table:
        """The cohort's table; built once per Sources, so every use shares one expression.
        ``reads``: the columns the caller reads (None: any); the MQL leads join their customers
        (for a lead's region) only when the region is read: that join was most of their cost."""
        if name == "leads_mql" and reads is not None and "region" not in reads and name not in self.facts:
            key: tuple[str, bool] = (name, True)
            if key not in self._cache:
                self._cache[key] = solid(self._leads_mql(regions=False))
            return self._cache[key]
        key = (name, False)
        if key not in self._cache:
            stored = self._stored(name)
            self._cache[key] = stored if stored is not None else solid(getattr(self, "_" + name)())
        return self._cache[key]

    def _stored(self, cohort: str) -> ir.Table | None:
        """The materialised cohort, restricted to the rep's rows; None to build it live."""
        if cohort not in self.facts or cohort not in FACTS:
            return None
        table, owner = FACTS[cohort]
        if self.rep_scope is not None and owner is None:
            return None  # e.g. first orders: a rep's customers' first orders among the rep's orders
        t = self.wh.table(table)
        if self.rep_scope is not None and owner is not None:
            t = t.filter(in_scope(t[owner], self.rep_scope))
        return t

    def opportunities_x(self) -> ir.Table:
        """Opportunities with every attribute the deal KPIs use (materialised when facts are on)."""
        return self._materialised("opportunities", self._opportunities_x)

    def orders_x(self) -> ir.Table:
        """Orders with their attributes (materialised when facts are on): every order cohort starts here."""
        return self._materialised("orders_x", self._orders_x)

    def _materialised(self, cohort: str, build: Callable[[], ir.Table]) -> ir.Table:
        """The stored ``cohort`` when there is one, else ``build()``; once per Sources."""
        key = (cohort, False)
        if key not in self._cache:
            stored = self._stored(cohort)
            self._cache[key] = stored if stored is not None else solid(build())
        return self._cache[key]

    # -- orders, with the no-orders fallback ----------------------------------------------
    def _customers(self) -> ir.Table:
        c = self.wh.table("customers")
        return c.select(cust_id=c.customer_id, cust_region=c.region, cust_segment=c.segment)

    def _opportunities_x(self) -> ir.Table:
        """Opportunities with their lead's source and start, and their segment."""
        o = self._t("opportunities")
        lead = self.wh.table("leads")
        lead = lead.select(l_id=lead.lead_id, l_source=lead.source, l_created=lead.created_at, l_cust=lead.customer_id)
        o = solid(o)
        c1 = self._customers().rename(c1_id="cust_id", c1_segment="cust_segment", c1_region="cust_region")
        c2 = self._customers().rename(c2_id="cust_id", c2_segment="cust_segment", c2_region="cust_region")
        j = o.left_join(lead, o.lead_id == lead.l_id)
        j = j.left_join(c1, j.customer_id == c1.c1_id)
        j = j.left_join(c2, j.l_cust == c2.c2_id)
        start = ibis.coalesce(j.l_created, j.created_at)
        out = j.select(
            opportunity_id=j.opportunity_id,
            created_at=j.created_at,
            closed_at=j.closed_at,
            status=j.status,
            amount=ibis.coalesce(j.amount, ibis.literal(0.0)),
            customer_id=j.customer_id,
            rep_id=j.rep_id,
            product_id=j.product_id,
            source=_member(j.source, j.l_source),
            rep=_member(j.rep_id),
            product=_member(j.product_id),
            contact_method=_member(j.contact_method),
            segment=_member(j.c1_segment, j.c2_segment),
            stage=_member(j.stage),
            opp_contact_method=j.contact_method,
            days=(j.closed_at.epoch_seconds() - start.epoch_seconds()).cast("float64") / 86400.0,
        )
        return out.mutate(
            created_day=out.created_at.date(),
            closed_day=ibis.ifelse(out.status.isin(("won", "lost")), out.closed_at.date(), ibis.null("date")),
        )

    def _opportunity_attributes(self) -> ir.Table:
        """What an order takes from its opportunity: source (else the lead's) and contact method.

        Every rep's opportunities (an order's opportunity may be another rep's), so the stored
        cohort is read whole when there is one: it holds these columns, already joined.
        """
        if "opportunities" in self.facts:
            x = self.wh.table(FACTS["opportunities"][0])
            return x.select(opportunity_id=x.opportunity_id, opp_source=x.source, opp_cm=x.opp_contact_method)
        o = self.wh.table("opportunities")
        lead = self.wh.table("leads")
        lead = lead.select(l_id=lead.lead_id, l_source=lead.source)
        j = o.left_join(lead, o.lead_id == lead.l_id)
        return solid(
            j.select(
                opportunity_id=j.opportunity_id,
                opp_source=_member(j.source, j.l_source),
                opp_cm=j.contact_method,
            )
        )

    def _orders_x(self) -> ir.Table:
        """Orders with region, segment, source, contact method of KPIS.md."""
        if self.no_orders:
            o = self.opportunities_x()
            o = o.filter(o.status == "won")
            o = o.select(
                order_id=o.opportunity_id,
                ordered_at=o.closed_at,
                customer_id=o.customer_id,
                opportunity_id=o.opportunity_id,
                rep_id=o.rep_id,
                region=ibis.null("string"),
                contact_method=o.opp_contact_method,
                status=ibis.literal("fulfilled"),
                cancel_reason=ibis.null("string"),
            )
        else:
            o = self._t("orders")
        o = solid(o)
        opp = self._opportunity_attributes()
        c = self._customers()
        j = o.left_join(c, o.customer_id == c.cust_id)
        j = j.left_join(opp, j.opportunity_id == opp.opportunity_id)
        cancelled = j.status == "cancelled"
        return j.select(
            order_id=j.order_id,
            ordered_at=j.ordered_at,
            day=j.ordered_at.date(),
            customer_id=_blank(j.customer_id),
            status=j.status,
            cancelled=cancelled,
            region=_member(j.region, j.cust_region),
            segment=_member(j.cust_segment),
            source=ibis.coalesce(j.opp_source, ibis.literal(UNKNOWN)),
            contact_method=_member(j.contact_method, j.opp_cm),
            rep=_member(j.rep_id),
            cancel_reason=ibis.ifelse(cancelled, _member(j.cancel_reason, default=UNSPECIFIED), ibis.null("string")),
        )

    def _lines(self) -> ir.Table:
        if self.no_orders:
            o = self.opportunities_x()
            o = o.filter(o.status == "won")
            return o.select(
                order_id=o.opportunity_id,
                product_id=_member(o.product_id),
                quantity=_float(1.0),
                unit_price=o.amount,
                discount=_float(0.0),
            )
        return self.wh.table("order_lines")

    def _revenue_lines(self) -> ir.Table:
        o = self.orders_x()
        o = o.filter(~o.cancelled)
        lines = solid(self._lines())
        p = self.wh.table("products")
        p = p.select(prod_id=p.product_id, initiative_id=p.initiative_id, prod_category=p.category)
        j = lines.join(o, lines.order_id == o.order_id)
        j = j.left_join(p, j.product_id == p.prod_id)
        net = (j.quantity * j.unit_price - ibis.coalesce(j.discount, ibis.literal(0.0))).cast("float64")
        out = j.select(
            day=j.day,
            order_id=j.order_id,
            customer_id=j.customer_id,
            region=j.region,
            product=_member(j.product_id),
            rep=j.rep,
            segment=j.segment,
            source=j.source,
            contact_method=j.contact_method,
            initiative=_blank(j.initiative_id),
            category=_member(j.prod_category),
            quantity=j.quantity.cast("float64"),
            net_amount=net,
        )
        return out

    def with_real_amount(self, lines: ir.Table) -> ir.Table:
        """``real_amount`` = net amount / the CPI index of the line's month (null when missing).

        ``lines`` carry each line's Jalali and Gregorian month (``jm``, ``gm``: the query's step
        table holds them for each day), so the index is found whichever calendar the cpi table
        is written in.
        """
        cpi = self.wh.table("cpi")
        month = cpi.month.strip().re_replace(r"^(\d{4})-(\d)$", r"\1-0\2")
        cpi = cpi.select(cpi_month=month, cpi_index=cpi["index"])
        j1 = cpi.rename(cpi_m1="cpi_month", idx1="cpi_index")
        j2 = cpi.rename(cpi_m2="cpi_month", idx2="cpi_index")
        x = solid(lines)
        x = x.left_join(j1, x.jm == j1.cpi_m1)
        x = x.left_join(j2, x.gm == j2.cpi_m2)
        return x.select(*lines.columns, real_amount=x.net_amount / ibis.coalesce(x.idx1, x.idx2))

    def _orders(self) -> ir.Table:
        """Orders of every status, one row per (order, product) so an order counts once per product."""
        o = self.orders_x()
        lines = solid(self._lines())
        per_product = lines.group_by(lp_order="order_id", lp_product="product_id").aggregate(
            net_amount=(lines.quantity * lines.unit_price - ibis.coalesce(lines.discount, ibis.literal(0.0))).sum()
        )
        j = o.left_join(per_product, o.order_id == per_product.lp_order)
        return j.select(
            "day",
            "order_id",
            "cancelled",
            "cancel_reason",
            "region",
            "rep",
            "segment",
            "source",
            "contact_method",
            product=_member(j.lp_product),
            net_amount=ibis.coalesce(j.net_amount, ibis.literal(0.0)).cast("float64"),
        )

    def _first_orders(self) -> ir.Table:
        o = self.orders_x()
        o = o.filter(~o.cancelled & o.customer_id.notnull())
        first = o.group_by("customer_id").aggregate(first_at=o.ordered_at.min())
        c = self._customers()
        j = first.left_join(c, first.customer_id == c.cust_id)
        return j.select(
            day=j.first_at.date(),
            customer_id=j.customer_id,
            region=_member(j.cust_region),
            segment=_member(j.cust_segment),
        )

    # -- leads and deals ------------------------------------------------------------------
    def _leads_mql(self, *, regions: bool = True) -> ir.Table:
        """Leads that became MQLs; ``regions=False``: without their customer's region (a lead's
        own region, or null), for a query that does not read it."""
        lead = self._t("leads")
        lead = lead.filter(lead.mql_at.notnull())
        if regions:
            c = self._customers()
            j = lead.left_join(c, lead.customer_id == c.cust_id)
            region = _member(j.region, j.cust_region)
        else:
            j, region = lead, _member(lead.region)
        return j.select(
            day=j.mql_at.date(),
            lead_id=j.lead_id,
            sql_at=j.sql_at,
            source=_member(j.source),
            rep=_member(j.rep_id),
            region=region,
        )

    def _opportunities_created(self) -> ir.Table:
        o = self.opportunities_x()
        return o.mutate(day=o.created_day)

    def _opportunities_closed(self) -> ir.Table:
        o = self.opportunities_x()
        o = o.filter(o.status.isin(("won", "lost")) & o.closed_at.notnull())
        return o.mutate(day=o.closed_day)

    def _pipeline(self) -> ir.Table:
        return self.opportunities_x()

    # -- reps' work -----------------------------------------------------------------------
    def _activities(self) -> ir.Table:
        a = self._t("activities")
        return a.select(
            day=a.occurred_at.date(),
            activity_id=a.activity_id,
            type=a.type,
            outcome=_member(a.outcome),
            rep=_member(a.rep_id),
        )

    def _time_entries(self) -> ir.Table:
        t = self._t("time_entries")
        return t.select(day=t.day, rep=_member(t.rep_id), category=_member(t.category), hours=t.hours.cast("float64"))
