"""The KPI catalogue of KPIS.md, declared as data (numbers 1–9 follow the article in shared/seed)."""

from __future__ import annotations

from sanjeh.kpis.model import KPI, CardSpec, Cond, Measure, Spotlight, Unit, View

WON = Cond("status", "eq", "won")
LOST = Cond("status", "eq", "lost")
CANCELLED = Cond("cancelled", "eq", True)


def _t(fa: str, en: str) -> dict[str, str]:
    return {"fa": fa, "en": en}


def _spot(pick: str, by: str, fa: str, en: str, **kw: object) -> Spotlight:
    """A card's spotlight (model.Spotlight) with its label in both languages."""
    return Spotlight(pick, by, label=_t(fa, en), **kw)  # type: ignore[arg-type]


def _sum(name: str, column: str, unit: Unit, fa: str, en: str, **kw: object) -> Measure:
    return Measure(name, "sum", column=column, unit=unit, title=_t(fa, en), split="additive", **kw)  # type: ignore[arg-type]


def _count(name: str, fa: str, en: str, **kw: object) -> Measure:
    return Measure(name, "count", unit="count", title=_t(fa, en), split="additive", **kw)  # type: ignore[arg-type]


def _distinct(name: str, column: str, fa: str, en: str, **kw: object) -> Measure:
    kw.setdefault("split", "distinct")
    return Measure(name, "nunique", column=column, unit="count", title=_t(fa, en), **kw)  # type: ignore[arg-type]


def _ratio(name: str, num: str, den: str, fa: str, en: str, unit: Unit = "rate") -> Measure:
    return Measure(name, "ratio", num=num, den=den, unit=unit, title=_t(fa, en), split="ratio")


REVENUE = _sum("revenue", "net_amount", "money", "درآمد", "Revenue")
UNITS = _sum("units", "quantity", "number", "تعداد فروخته‌شده", "Units")
ORDERS = _distinct("orders", "order_id", "سفارش‌ها", "Orders", target_rollup="sum")  # an order has one day
REVENUE_SHARE = Measure(
    "revenue_share",
    "share",
    of="revenue",
    cohort="revenue_lines",
    unit="rate",
    title=_t("سهم از درآمد", "Revenue share"),
    split="none",
)
WON_COUNT = _count("won", "معامله‌های موفق", "Won", where=(WON,))
LOST_COUNT = _count("lost", "معامله‌های ناموفق", "Lost", where=(LOST,))
WON_VALUE = _sum("won_value", "amount", "money", "ارزش معامله‌های موفق", "Won value", where=(WON,))
WIN_RATE_PARTS = (
    _count("_won", "موفق", "Won", where=(WON,), hidden=True),
    _count("_closed", "بسته‌شده", "Closed", where=(Cond("status", "in", ("won", "lost")),), hidden=True),
)
WIN_RATE = _ratio("win_rate", "_won", "_closed", "نرخ موفقیت", "Win rate")


CATALOGUE: tuple[KPI, ...] = (
    KPI(
        name="new_initiative_revenue",
        number="1",
        title=_t("درآمد حاصل از طرح‌های جدید", "Revenue from new initiatives"),
        description=_t(
            "درآمدی که محصولات و طرح‌های جدید به دست آورده‌اند و بازگشت سرمایه‌ی آن‌ها.",
            "What new products and initiatives earn, and how much of their investment has come back.",
        ),
        formula=_t(
            "درآمد خطوط سفارش محصولاتی که به یک طرح تعلق دارند؛ بازگشت = درآمد تجمعی از شروع طرح ÷ سرمایه‌گذاری",
            "Revenue of order lines whose product belongs to an initiative; return = cumulative revenue since "
            "the start ÷ investment",
        ),
        cohort="revenue_lines",
        where=(Cond("initiative", "not_null"),),
        measures=(
            REVENUE,
            Measure(
                "cumulative_revenue",
                "cumulative",
                column="net_amount",
                unit="money",
                title=_t("درآمد تجمعی", "Cumulative revenue"),
                split="none",
            ),
            Measure(
                "investment",
                "lookup",
                column="investment",
                unit="money",
                title=_t("سرمایه‌گذاری", "Investment"),
                split="none",
            ),
            Measure(
                "return_ratio",
                "ratio",
                num="cumulative_revenue",
                den="investment",
                unit="ratio",
                title=_t("نسبت بازگشت", "Return ratio"),
                split="none",
            ),
            REVENUE_SHARE,
        ),
        headline="revenue",
        dimensions=("initiative",),
        fixed=("initiative",),
        goals=("more_annual_revenue",),
        card=CardSpec(
            spotlights=(
                _spot("top", "initiative", "پرفروش‌ترین طرح", "Best-selling initiative", show=("return_ratio",)),
            )
        ),
    ),
    KPI(
        name="sales_by_product",
        number="2",
        title=_t("فروش بر اساس محصول", "Sales by product"),
        description=_t(
            "کدام محصولات بیشترین فروش را دارند و کدام‌ها عقب مانده‌اند.",
            "Which products sell best and which are falling behind.",
        ),
        formula=_t(
            "جمع (تعداد × قیمت واحد − تخفیف) خطوط سفارش‌های لغونشده، به تفکیک محصول",
            "Σ (quantity × unit price − discount) of lines of orders not cancelled, by product",
        ),
        cohort="revenue_lines",
        measures=(REVENUE, UNITS, ORDERS, REVENUE_SHARE),
        headline="revenue",
        dimensions=("product",),
        fixed=("product",),
        goals=("more_annual_revenue",),
        # the company-wide revenue is the revenue card's: this card names the product that sells most
        card=CardSpec(
            "spotlight",
            (_spot("top", "product", "پرفروش‌ترین محصول", "Best-selling product"),),
        ),
        view=View(period="quarter"),
    ),
    KPI(
        name="mql_to_sql",
        number="3",
        title=_t("نرخ تبدیل سرنخ بازاریابی به سرنخ فروش", "MQL to SQL conversion"),
        description=_t(
            "چه سهمی از سرنخ‌های واجد شرایط بازاریابی (MQL) به سرنخ واجد شرایط فروش (SQL) تبدیل شده‌اند.",
            "The share of marketing-qualified leads (MQLs) that became sales-qualified (SQLs).",
        ),
        formula=_t(
            "SQLها ÷ MQLها؛ گروه: سرنخ‌هایی که در دوره MQL شده‌اند. مثال: ۱۰۰۰ MQL و ۱۵۰ SQL ← ۰٫۱۵",
            "SQLs ÷ MQLs, over the leads that became MQL in the period. Example: 1000 MQLs, 150 SQLs → 0.15",
        ),
        cohort="leads_mql",
        measures=(
            _ratio("rate", "sqls", "mqls", "نرخ تبدیل", "Conversion rate"),
            _count("mqls", "سرنخ بازاریابی (MQL)", "MQLs"),
            _count("sqls", "سرنخ فروش (SQL)", "SQLs", where=(Cond("sql_at", "not_null"),)),
        ),
        headline="rate",
        dimensions=("source", "rep", "region"),
        goals=("more_customers", "better_conversion"),
        card=CardSpec(
            spotlights=(
                _spot("top", "source", "بهترین منبع", "Best source", base=("mqls",), least=10),
                _spot("bottom", "source", "ضعیف‌ترین منبع", "Weakest source", base=("mqls",), least=10),
            )
        ),
        view=View(by=("source",), chart="funnel"),
    ),
    KPI(
        name="sales_by_region",
        number="4",
        title=_t("فروش بر اساس منطقه", "Sales by region"),
        description=_t("فروش هر منطقه و سهم آن از کل فروش.", "Each region's sales and its share of all sales."),
        formula=_t(
            "درآمد خطوط سفارش‌های لغونشده به تفکیک منطقه‌ی سفارش (وگرنه منطقه‌ی مشتری)",
            "Revenue of lines of orders not cancelled, by the order's region (else its customer's)",
        ),
        cohort="revenue_lines",
        measures=(REVENUE, UNITS, ORDERS, REVENUE_SHARE),
        headline="revenue",
        dimensions=("region",),
        fixed=("region",),
        goals=("more_annual_revenue",),
        card=CardSpec(
            "spotlight",
            (
                _spot("below_target", "region", "دورترین منطقه از هدف", "Furthest below target", show=("revenue",)),
                _spot("top", "region", "پرفروش‌ترین منطقه", "Best-selling region"),
            ),
        ),
        view=View(period="quarter"),
    ),
    KPI(
        name="cancelled_orders",
        number="5",
        title=_t("سفارش‌های لغوشده", "Cancelled orders"),
        description=_t(
            "چه سهمی از سفارش‌ها لغو شده، به چه ارزشی و به چه دلیلی.",
            "How many orders were cancelled, for how much, and why.",
        ),
        formula=_t(
            "سفارش‌های لغوشده ÷ همه‌ی سفارش‌های دوره (بر اساس تاریخ سفارش)",
            "Cancelled orders ÷ all orders placed in the period",
        ),
        cohort="orders",
        measures=(
            _ratio("cancellation_rate", "cancelled_orders", "orders", "نرخ لغو", "Cancellation rate"),
            _distinct("cancelled_orders", "order_id", "سفارش‌های لغوشده", "Cancelled orders", where=(CANCELLED,)),
            _sum("cancelled_value", "net_amount", "money", "ارزش لغوشده", "Cancelled value", where=(CANCELLED,)),
            _distinct("orders", "order_id", "همه‌ی سفارش‌ها", "Orders", ignore_dims=("cancel_reason",)),
        ),
        headline="cancellation_rate",
        dimensions=("cancel_reason", "product", "region", "rep"),
        direction="down",
        card=CardSpec(
            spotlights=(
                _spot(
                    "top",
                    "cancel_reason",
                    "دلیل اصلی لغو",
                    "Main reason",
                    measure="cancelled_orders",
                    show=("cancelled_value",),
                ),
            )
        ),
        view=View(by=("cancel_reason",)),
    ),
    KPI(
        name="opportunities_by_source",
        number="6",
        title=_t("فرصت‌های فروش بر اساس منبع", "Opportunities by source"),
        description=_t(
            "هر منبع سرنخ چند فرصت فروش و چه ارزشی در قیف فروش ساخته است.",
            "How many deals, and how much pipeline, each lead source created.",
        ),
        formula=_t(
            "فرصت‌هایی که در دوره ایجاد شده‌اند، به تفکیک منبع",
            "Opportunities created in the period, by source",
        ),
        cohort="opportunities_created",
        measures=(
            _count("opportunities", "فرصت‌ها", "Opportunities"),
            _sum("pipeline_value", "amount", "money", "ارزش قیف", "Pipeline value"),
            WON_COUNT,
            LOST_COUNT,
            WON_VALUE,
            *WIN_RATE_PARTS,
            WIN_RATE,
        ),
        headline="opportunities",
        dimensions=("source",),
        fixed=("source",),
        goals=("more_customers",),
        card=CardSpec(
            spotlights=(_spot("top", "source", "بیشترین فرصت از", "Most deals from", show=("pipeline_value",)),)
        ),
    ),
    KPI(
        name="sales_growth",
        number="7",
        title=_t("رشد فروش", "Sales growth"),
        description=_t(
            "درآمد نسبت به دوره‌ی قبل و سال قبل چقدر رشد کرده، و پس از تورم چقدر.",
            "How revenue grew against the step before and a year ago, and after inflation.",
        ),
        formula=_t(
            "(درآمد − درآمد دوره‌ی قبل) ÷ درآمد دوره‌ی قبل",
            "(revenue − previous revenue) ÷ previous revenue",
        ),
        cohort="revenue_lines",
        measures=(
            Measure("growth", "growth", of="revenue", unit="rate", title=_t("رشد", "Growth"), split="none"),
            REVENUE,
            Measure(
                "previous_revenue",
                "previous",
                of="revenue",
                unit="money",
                title=_t("درآمد دوره‌ی قبل", "Previous revenue"),
                split="none",
            ),
            Measure(
                "yoy_growth",
                "growth",
                of="revenue",
                offset="year_ago",
                unit="rate",
                title=_t("رشد سالانه", "YoY growth"),
                split="none",
            ),
            Measure(
                "_real_revenue",
                "sum",
                column="real_amount",
                unit="money",
                title=_t("درآمد واقعی", "Real revenue"),
                hidden=True,
                split="additive",
            ),
            Measure(
                "real_growth",
                "growth",
                of="_real_revenue",
                unit="rate",
                title=_t("رشد واقعی", "Real growth"),
                split="none",
            ),
        ),
        headline="growth",
        dimensions=("region", "product"),
        default_grain="month",
        goals=("more_annual_revenue",),
        card=CardSpec(
            spotlights=(
                _spot("top", "region", "بهترین منطقه", "Best region", base=("previous_revenue",), least_share=0.03),
                _spot(
                    "bottom", "region", "ضعیف‌ترین منطقه", "Weakest region", base=("previous_revenue",), least_share=0.03
                ),
            )
        ),
        view=View(period="year", grain="month"),
    ),
    KPI(
        name="sales_per_rep",
        number="8a",
        title=_t("فروش هر نماینده", "Sales per rep"),
        description=_t("فروش و معامله‌های موفق هر نماینده‌ی فروش.", "Each sales rep's sales and won deals."),
        formula=_t(
            "درآمد سفارش‌ها به تفکیک نماینده‌ی سفارش؛ معامله‌های موفقی که در دوره بسته شده‌اند به تفکیک مالک",
            "Revenue by the order's rep; deals won with close date in the period, by owner",
        ),
        cohort="revenue_lines",
        measures=(
            REVENUE,
            ORDERS,
            _count("won_deals", "معامله‌های موفق", "Won deals", where=(WON,), cohort="opportunities_closed"),
            _sum(
                "won_value",
                "amount",
                "money",
                "ارزش معامله‌های موفق",
                "Won value",
                where=(WON,),
                cohort="opportunities_closed",
            ),
        ),
        headline="revenue",
        dimensions=("rep",),
        fixed=("rep",),
        # the company's revenue is the revenue card's: this card tells how the reps spread around it
        card=CardSpec("spotlight", (_spot("median", "rep", "فروش نماینده‌ی میانه", "Median rep's sales"),)),
    ),
    KPI(
        name="calls_per_rep",
        number="8b",
        title=_t("تماس‌های هر نماینده", "Calls per rep"),
        description=_t(
            "هر نماینده چند تماس گرفته و چند تماس به مشتری بالقوه رسیده است.",
            "How many calls each rep made and how many found a prospect.",
        ),
        formula=_t(
            "فعالیت‌های از نوع تماس؛ نرخ = تماس‌های با نتیجه‌ی مشتری بالقوه ÷ تماس‌ها",
            "Activities of type call; prospect rate = calls with outcome prospect ÷ calls",
        ),
        cohort="activities",
        where=(Cond("type", "eq", "call"),),
        measures=(
            _count("calls", "تماس‌ها", "Calls"),
            _count("prospects", "مشتریان بالقوه", "Prospects", where=(Cond("outcome", "eq", "prospect"),)),
            _ratio("prospect_rate", "prospects", "calls", "نرخ یافتن مشتری بالقوه", "Prospect rate"),
            Measure(
                "calls_per_month",
                "per_month",
                of="calls",
                unit="number",
                title=_t("تماس در ماه", "Calls per month"),
                split="none",
            ),
        ),
        headline="calls",
        dimensions=("rep",),
        fixed=("rep",),
        card=CardSpec(spotlights=(_spot("median", "rep", "تماس نماینده‌ی میانه", "Median rep's calls"),)),
    ),
    KPI(
        name="data_entry_share",
        number="8c",
        title=_t("سهم زمان ورود داده", "Time spent on data entry"),
        description=_t(
            "چه سهمی از ساعت‌های کاری نمایندگان صرف ورود داده می‌شود به جای فروش.",
            "The share of reps' hours spent on data entry instead of selling.",
        ),
        formula=_t("ساعت‌های ورود داده ÷ همه‌ی ساعت‌ها", "Data-entry hours ÷ all hours"),
        cohort="time_entries",
        measures=(
            _ratio("share", "data_entry_hours", "total_hours", "سهم ورود داده", "Data-entry share"),
            _sum(
                "data_entry_hours",
                "hours",
                "hours",
                "ساعت‌های ورود داده",
                "Data-entry hours",
                where=(Cond("category", "eq", "data_entry"),),
            ),
            _sum("total_hours", "hours", "hours", "همه‌ی ساعت‌ها", "Total hours"),
        ),
        headline="share",
        dimensions=("rep",),
        direction="down",
        card=CardSpec(
            spotlights=(_spot("top", "rep", "بیشترین سهم", "Highest share", base=("total_hours",), least=8),)
        ),
        view=View(by=("rep",)),
    ),
    KPI(
        name="sales_by_contact_method",
        number="8d",
        title=_t("فروش بر اساس روش ارتباط", "Sales by contact method"),
        description=_t(
            "کدام روش ارتباط با مشتری (تلفن، ایمیل، جلسه...) بیشتر می‌فروشد.",
            "Which way of reaching customers (phone, email, meetings...) sells best.",
        ),
        formula=_t(
            "درآمد به تفکیک روش ارتباط سفارش؛ نرخ موفقیت فرصت‌هایی که در دوره بسته شده‌اند",
            "Revenue by the order's contact method; win rate of deals closed in the period",
        ),
        cohort="revenue_lines",
        measures=(
            REVENUE,
            ORDERS,
            Measure(
                "_won",
                "count",
                where=(WON,),
                cohort="opportunities_closed",
                unit="count",
                hidden=True,
                split="additive",
            ),
            Measure(
                "_closed",
                "count",
                where=(Cond("status", "in", ("won", "lost")),),
                cohort="opportunities_closed",
                unit="count",
                hidden=True,
                split="additive",
            ),
            WIN_RATE,
        ),
        headline="revenue",
        dimensions=("contact_method", "rep"),
        fixed=("contact_method",),
        # the company's revenue is the revenue card's: this card names the method that wins most
        card=CardSpec(
            "spotlight",
            (
                _spot(
                    "top",
                    "contact_method",
                    "روش ارتباط با بیشترین نرخ موفقیت",
                    "Best contact method by win rate",
                    measure="win_rate",
                    show=("revenue",),
                    base=("orders",),  # a method that sold a few times: a win rate of one deal is no news
                    least=3,
                ),
            ),
        ),
    ),
    KPI(
        name="sales_cycle",
        number="9",
        title=_t("طول چرخه‌ی فروش", "Sales cycle length"),
        description=_t(
            "از اولین تماس تا بستن معامله چند روز طول می‌کشد.",
            "How many days it takes from first contact to a won deal.",
        ),
        formula=_t(
            "میانه‌ی روزها از ایجاد سرنخ (وگرنه فرصت) تا بستن معامله‌های موفقِ بسته‌شده در دوره",
            "Median days from the lead's (else the deal's) creation to close, over deals won in the period",
        ),
        cohort="opportunities_closed",
        where=(WON,),
        measures=(
            Measure(
                "median_days",
                "quantile",
                column="days",
                q=0.5,
                unit="days",
                title=_t("میانه‌ی روزها", "Median days"),
                split="none",
            ),
            # a mean splits as a ratio: Σ days / deals with days
            Measure(
                "mean_days", "mean", column="days", unit="days", title=_t("میانگین روزها", "Mean days"), split="ratio"
            ),
            Measure(
                "p90_days",
                "quantile",
                column="days",
                q=0.9,
                unit="days",
                title=_t("صدک ۹۰ روزها", "90th percentile days"),
                split="none",
            ),
            _count("deals", "معامله‌ها", "Deals"),
            _count("_negative_days", "روزهای منفی", "Negative days", where=(Cond("days", "lt", 0),), hidden=True),
        ),
        warnings=(
            (
                "_negative_days",
                _t(
                    "{n} معامله پیش از شروعشان بسته شده‌اند (روزهای منفی)؛ در محاسبه مانده‌اند",
                    "{n} deal(s) closed before they started (negative days); they are kept",
                ),
            ),
        ),
        headline="median_days",
        dimensions=("rep", "source", "product", "segment"),
        direction="down",
        goals=("better_conversion",),
        card=CardSpec(
            spotlights=(_spot("top", "segment", "کندترین بخش بازار", "Slowest segment", base=("deals",), least=3),)
        ),
        view=View(by=("segment",), chart="cycle"),
    ),
    KPI(
        name="revenue",
        title=_t("درآمد", "Revenue"),
        description=_t("درآمد فروش، سفارش‌ها و مشتریان خریدار.", "Sales revenue, orders and buying customers."),
        formula=_t(
            "جمع (تعداد × قیمت واحد − تخفیف) خطوط سفارش‌های لغونشده",
            "Σ (quantity × unit price − discount) of lines of orders not cancelled",
        ),
        cohort="revenue_lines",
        measures=(
            REVENUE,
            ORDERS,
            UNITS,
            _distinct("customers", "customer_id", "مشتریان", "Customers"),
        ),
        headline="revenue",
        dimensions=("region", "product", "rep", "segment", "source"),
        goals=("more_annual_revenue",),
        card=CardSpec(spotlights=(_spot("company", "", "", "", show=("orders", "customers")),)),
        # months of the year, against their targets and a year ago
        view=View(period="year", grain="month", compare="year_ago"),
    ),
    KPI(
        name="win_rate",
        title=_t("نرخ موفقیت معامله‌ها", "Win rate"),
        description=_t(
            "از معامله‌هایی که بسته شده‌اند، چه سهمی موفق بوده‌اند.", "Of the deals closed, the share that was won."
        ),
        formula=_t("موفق ÷ (موفق + ناموفق)", "won ÷ (won + lost)"),
        cohort="opportunities_closed",
        measures=(
            *WIN_RATE_PARTS,
            WIN_RATE,
            WON_COUNT,
            LOST_COUNT,
            WON_VALUE,
            _ratio(
                "average_deal_size", "won_value", "won", "میانگین اندازه‌ی معامله", "Average deal size", unit="money"
            ),
        ),
        headline="win_rate",
        dimensions=("rep", "source", "product", "contact_method"),
        goals=("better_conversion",),
        card=CardSpec(
            spotlights=(
                _spot("top", "rep", "بهترین نماینده", "Best rep", base=("won", "lost"), least=3, least_of_median=0.5),
                _spot(
                    "bottom",
                    "rep",
                    "ضعیف‌ترین نماینده",
                    "Weakest rep",
                    base=("won", "lost"),
                    least=3,
                    least_of_median=0.5,
                ),
            )
        ),
        view=View(by=("rep",)),
    ),
    KPI(
        name="new_customers",
        title=_t("مشتریان جدید", "New customers"),
        description=_t(
            "چند مشتری اولین سفارش خود را در این دوره داده‌اند.", "How many customers placed their first order."
        ),
        formula=_t(
            "مشتریانی که اولین سفارش لغونشده‌ی آن‌ها در دوره است",
            "Customers whose first non-cancelled order is in the period",
        ),
        cohort="first_orders",
        # a customer has one first order: a count of the cohort's rows, so additive
        measures=(_distinct("new_customers", "customer_id", "مشتریان جدید", "New customers", split="additive"),),
        headline="new_customers",
        dimensions=("region", "segment"),
        goals=("more_customers",),
        card=CardSpec(spotlights=(_spot("top", "region", "بیشترین مشتری جدید در", "Most new customers in"),)),
        view=View(period="year", grain="month"),
    ),
    KPI(
        name="pipeline",
        title=_t("قیف فروش باز", "Open pipeline"),
        description=_t(
            "ارزش و تعداد معامله‌های باز در پایان دوره.", "The value and number of deals open at the period's end."
        ),
        formula=_t(
            "فرصت‌هایی که تا پایان دوره ایجاد و هنوز بسته نشده‌اند",
            "Opportunities created on or before the period's end and not closed by then",
        ),
        cohort="pipeline",
        measures=(
            _sum("open_value", "amount", "money", "ارزش باز", "Open value"),
            _count("open_deals", "معامله‌های باز", "Open deals"),
        ),
        headline="open_value",
        dimensions=("rep", "source", "stage"),
        card=CardSpec(spotlights=(_spot("top", "stage", "بزرگ‌ترین مرحله", "Largest stage", show=("open_deals",)),)),
        view=View(by=("stage",)),
    ),
)

# The ordering of measures in CATALOGUE puts the headline first for the reader; the headline is explicit.
