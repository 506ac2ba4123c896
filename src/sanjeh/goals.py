"""The business goals a workspace may pursue (``[workspace] goals``), declared once: their titles,
and the KPIs each puts first on the scorecard (KPIS.md, Goals). Settings check a workspace's goals
against these; the engine orders the scorecard by them."""

from __future__ import annotations

#: goal -> the KPIs it puts first, in order.
GOALS: dict[str, tuple[str, ...]] = {
    "more_customers": ("new_customers", "opportunities_by_source", "mql_to_sql"),
    "more_annual_revenue": ("revenue", "sales_growth", "sales_by_product"),
    "better_conversion": ("mql_to_sql", "win_rate", "sales_cycle"),
}
GOAL_TITLES: dict[str, dict[str, str]] = {
    "more_customers": {"fa": "به‌دست‌آوردن مشتریان بیشتر", "en": "More customers"},
    "more_annual_revenue": {"fa": "افزایش درآمد سالانه", "en": "More annual revenue"},
    "better_conversion": {"fa": "بهبود نرخ تبدیل", "en": "Better conversion"},
}
