"""The fixed vocabulary of the demo company: provinces, teams, names, products, codes.

Ids (``R01``, ``P001``) and codes (sources, contact methods, segments, categories) are
plain Latin text, shown in the user's language by the message catalogue; what people
write in their own words is Persian: provinces (``region=مرکزی``), teams, stages,
reasons and the names of reps, customers, products and initiatives.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Provinces (the demo's regions), their team and their share of the market.
REGIONS: tuple[tuple[str, str, float], ...] = (
    ("تهران", "تهران", 0.27),
    ("البرز", "تهران", 0.05),
    ("قزوین", "تهران", 0.03),
    ("آذربایجان شرقی", "شمال‌غرب", 0.07),
    ("گیلان", "شمال‌غرب", 0.03),
    ("مازندران", "شمال‌غرب", 0.04),
    ("همدان", "شمال‌غرب", 0.02),
    ("اصفهان", "مرکز", 0.10),
    ("مرکزی", "مرکز", 0.05),
    ("یزد", "مرکز", 0.03),
    ("سمنان", "مرکز", 0.02),
    ("فارس", "جنوب", 0.07),
    ("خوزستان", "جنوب", 0.08),
    ("بوشهر", "جنوب", 0.03),
    ("کرمان", "جنوب", 0.04),
    ("خراسان رضوی", "شرق", 0.07),
)
#: A province the company plans to enter: it has a target but no customers yet.
PLANNED_REGION = "هرمزگان"

#: Reps per team (the first one of each team is its manager) by home region.
TEAM_REPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("تهران", ("تهران", "تهران", "تهران", "تهران", "تهران", "البرز", "البرز", "قزوین")),
    ("شمال‌غرب", ("آذربایجان شرقی", "آذربایجان شرقی", "گیلان", "مازندران", "همدان")),
    ("مرکز", ("اصفهان", "اصفهان", "اصفهان", "مرکزی", "یزد", "سمنان")),
    ("جنوب", ("خوزستان", "خوزستان", "فارس", "فارس", "بوشهر", "کرمان")),
    ("شرق", ("خراسان رضوی", "خراسان رضوی", "خراسان رضوی")),
)

FIRST_NAMES = (
    "علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "سعید", "حمید", "مجید", "بهرام",
    "کاوه", "آرش", "پیمان", "فرهاد", "مریم", "زهرا", "فاطمه", "سارا", "نرگس", "لیلا",
    "مینا", "شیرین", "الهام", "نازنین", "پریسا", "سمیرا", "رویا", "ندا",
)  # fmt: skip
LAST_NAMES = (
    "محمدی", "حسینی", "احمدی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی",
    "هاشمی", "نوری", "طاهری", "قاسمی", "عباسی", "کاظمی", "مرادی", "زارعی", "یزدانی",
    "شریفی", "فرهادی", "اکبری", "نیک‌نام", "سلطانی", "بهرامی", "توکلی", "امینی",
)  # fmt: skip

COMPANY_PREFIXES = ("شرکت", "صنایع", "گروه صنعتی", "کارخانه", "مجتمع", "شرکت تولیدی", "شرکت مهندسی")
COMPANY_STEMS = (
    "آریا", "پارس", "سپاهان", "البرز", "کاوه", "دماوند", "زاگرس", "خلیج فارس", "کوثر", "نوین",
    "پیشگامان", "بهین", "آسیا", "ایران", "فجر", "سهند", "سبلان", "کویر", "هامون", "مهر",
    "تابان", "اطلس", "راد", "پویا", "ستاره", "آفتاب", "شرق", "غرب", "کیان", "آرمان",
)  # fmt: skip
#: Industries: (code, Persian word used in company names, share).
INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("steel", "فولاد", 0.14),
    ("petrochemical", "پتروشیمی", 0.12),
    ("food", "غذایی", 0.12),
    ("automotive", "خودرو", 0.10),
    ("cement", "سیمان", 0.08),
    ("mining", "معدنی", 0.08),
    ("water_utilities", "آب و فاضلاب", 0.09),
    ("pharma", "دارویی", 0.07),
    ("textile", "نساجی", 0.06),
    ("construction", "ساختمانی", 0.10),
    ("oil_gas", "نفت و گاز", 0.04),
)
#: Segments: (code, share of accounts, relative buying weight, quantity multiplier).
SEGMENTS: tuple[tuple[str, float, float, float], ...] = (
    ("enterprise", 0.15, 4.0, 2.5),
    ("mid_market", 0.35, 1.6, 1.3),
    ("smb", 0.50, 0.6, 0.6),
)


@dataclass(frozen=True)
class Category:
    code: str
    noun: str  # Persian product family name
    count: int  # products in the category
    price_min: float  # list price range (end of 1403, rials)
    price_max: float
    qty_median: float  # quantity per line (for a mid-market customer)
    qty_decimals: int  # 0 = whole units
    share: float  # share of line picks


CATEGORIES: tuple[Category, ...] = (
    Category("industrial_pumps", "پمپ", 22, 150e6, 3_000e6, 2, 0, 0.20),
    Category("valves", "شیر صنعتی", 24, 5e6, 150e6, 12, 0, 0.20),
    Category("electric_motors", "الکتروموتور", 18, 50e6, 1_500e6, 2, 0, 0.15),
    Category("bearings", "بلبرینگ", 16, 0.5e6, 20e6, 60, 0, 0.14),
    Category("pipes_fittings", "لوله و اتصالات", 14, 0.2e6, 10e6, 150, 0, 0.12),
    Category("industrial_chemicals", "مواد شیمیایی صنعتی (تن)", 10, 100e6, 600e6, 3, 1, 0.10),
    Category("automation", "سامانه کنترل", 8, 100e6, 2_500e6, 1, 0, 0.09),
)
PRODUCT_MODELS = ("مدل", "سری", "تیپ")


@dataclass(frozen=True)
class Initiative:
    initiative_id: str
    name: str
    started_on: tuple[int, int, int]  # Jalali date
    investment: int  # rials
    category: str  # where its products are listed
    products: int


INITIATIVES: tuple[Initiative, ...] = (
    Initiative("solar_pumps", "خط تولید پمپ خورشیدی", (1402, 3, 15), 180_000_000_000, "industrial_pumps", 3),
    Initiative("smart_valves", "شیرهای هوشمند اینترنت اشیا", (1402, 7, 1), 95_000_000_000, "valves", 4),
    Initiative("vfd_drives", "درایوهای دور متغیر", (1402, 10, 10), 120_000_000_000, "automation", 3),
)

#: Lead sources: (code, share of deals, SQL rate of its MQLs, win propensity).
SOURCES: tuple[tuple[str, float, float, float], ...] = (
    ("referral", 0.20, 0.38, 1.7),
    ("exhibition", 0.15, 0.28, 1.2),
    ("webinar", 0.12, 0.24, 1.0),
    ("website", 0.18, 0.18, 0.9),
    ("cold_call", 0.15, 0.14, 0.6),
    ("download", 0.11, 0.12, 0.8),
    ("podcast", 0.09, 0.16, 0.9),
)
#: Contact methods: (code, share on won deals, share on lost deals).
CONTACT_METHODS: tuple[tuple[str, float, float], ...] = (
    ("phone", 0.26, 0.34),
    ("meeting", 0.26, 0.16),
    ("visit", 0.18, 0.10),
    ("email", 0.14, 0.20),
    ("web", 0.10, 0.14),
    ("social", 0.06, 0.06),
)
OPEN_STAGES = ("ارزیابی اولیه", "نیازسنجی", "پیشنهاد قیمت", "مذاکره")
WON_STAGE = "بسته‌شده: موفق"
LOST_STAGE = "بسته‌شده: ناموفق"
LOST_REASONS = ("قیمت", "رقیب", "نبود بودجه", "زمان‌بندی", "تصمیم‌نگرفتن مشتری", "قطع ارتباط")
DISQUALIFY_REASONS = ("مناسب نبود", "نبود بودجه", "دانشجو یا کارجو", "تکراری", "بی‌پاسخ")
CANCEL_REASONS = (
    ("ناموجود بودن کالا", 0.22),
    ("تغییر قیمت", 0.20),
    ("درخواست مشتری", 0.22),
    ("مشکل پرداخت", 0.16),
    ("تأخیر در تحویل", 0.12),
    ("سفارش تکراری", 0.08),
)

#: Activities: (type, share, duration range in minutes or None, outcomes with shares).
ACTIVITY_TYPES: tuple[tuple[str, float, tuple[int, int] | None, tuple[tuple[str, float], ...]], ...] = (
    (
        "call",
        0.46,
        (2, 25),
        (
            ("no_answer", 0.32),
            ("connected", 0.38),
            ("prospect", 0.13),
            ("left_message", 0.09),
            ("not_interested", 0.08),
        ),
    ),
    ("email", 0.20, None, (("sent", 0.55), ("replied", 0.35), ("bounced", 0.10))),
    ("meeting", 0.12, (30, 120), (("held", 0.80), ("rescheduled", 0.15), ("cancelled", 0.05))),
    ("demo", 0.06, (45, 120), (("held", 0.85), ("rescheduled", 0.15))),
    ("visit", 0.08, (60, 240), (("held", 0.88), ("rescheduled", 0.12))),
    ("message", 0.07, (1, 5), (("sent", 0.60), ("replied", 0.40))),
    ("other", 0.01, (5, 60), (("done", 1.0),)),
)

#: Time-entry categories: (code, base share of a working day).
TIME_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("selling", 0.46),
    ("data_entry", 0.17),
    ("admin", 0.10),
    ("meeting", 0.11),
    ("travel", 0.11),
    ("training", 0.05),
)

#: Official holidays fixed in the Jalali calendar (month, day); the lunar ones move and are left out.
JALALI_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (1, 2), (1, 3), (1, 4), (1, 12), (1, 13), (3, 14), (3, 15), (11, 22), (12, 29)}
)
#: Relative order volume per Jalali month: the Nowruz dip and the Esfand push.
MONTH_SEASON = (0.55, 0.92, 1.0, 1.0, 0.95, 0.98, 1.05, 1.06, 1.05, 1.0, 1.12, 1.40)
#: Annual inflation per Jalali year (the CPI series follows it, prices too).
INFLATION = {1401: 0.45, 1402: 0.40, 1403: 0.35}
#: Real growth of order volume per year.
VOLUME_GROWTH = 0.07
YEARS = (1401, 1402, 1403)
