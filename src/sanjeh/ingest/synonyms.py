"""The words `sanjeh map suggest` reads headers and values by: data, in Persian and English.

A *concept* is what a column of a foreign export holds (an invoice number, a unit price, a deal's
status); :data:`CONCEPTS` lists the header names that say it, already in the form of
:func:`header_words` (lower case, Persian letters, no signs, single spaces). :data:`STATUS_WORDS`
places the values of enum-like columns (a deal's status, an invoice's type) on canonical values.
"""

from __future__ import annotations

import re

CONCEPTS: dict[str, tuple[str, ...]] = {
    "invoice_no": (
        "شماره فاکتور", "شماره فاکتور فروش", "ش فاکتور", "شماره سند", "شماره سفارش", "شماره صورتحساب",
        "invoice no", "invoice number", "invoiceno", "invoice", "invoice id", "order id", "order number", "order no",
    ),
    "invoice_date": (
        "تاریخ فاکتور", "تاریخ", "تاریخ سند", "تاریخ سفارش", "تاریخ صورتحساب",
        "invoice date", "invoicedate", "date", "order date", "orderdate",
    ),
    "invoice_type": ("نوع فاکتور", "نوع سند", "نوع", "invoice type", "type", "document type"),
    "customer_code": (
        "کد مشتری", "کد طرف حساب", "شماره مشتری", "شناسه مشتری", "customer id", "customerid", "customer code",
        "customer no", "account id",
    ),
    "customer_name": (
        "نام مشتری", "مشتری", "طرف حساب", "نام طرف حساب", "خریدار", "نام خریدار", "شرکت", "نام شرکت",
        "customer", "customer name", "account", "account name", "company", "client",
    ),
    "product_code": (
        "کد کالا", "کد محصول", "کد کالا خدمت", "شناسه کالا", "product code", "product id", "sku", "item code",
        "stockcode", "stock code",
    ),
    "product_name": (
        "شرح کالا", "نام کالا", "نام محصول", "کالا", "شرح", "محصول", "کالا خدمت", "شرح کالا خدمت",
        "product", "product name", "description", "item", "item name",
    ),
    "quantity": ("تعداد", "مقدار", "تعداد مقدار", "quantity", "qty"),
    "unit_price": ("فی", "قیمت واحد", "مبلغ واحد", "فی واحد", "unit price", "unitprice", "price", "price each"),
    "discount": ("تخفیف", "مبلغ تخفیف", "discount", "discount amount"),
    "tax": ("مالیات", "مالیات و عوارض", "ارزش افزوده", "مالیات بر ارزش افزوده", "عوارض", "tax", "vat"),
    "line_total": (
        "مبلغ کل", "جمع کل", "مبلغ نهایی", "جمع", "قابل پرداخت", "total", "line total", "net amount", "total amount",
    ),
    "salesperson": (
        "فروشنده", "بازاریاب", "ویزیتور", "کارشناس فروش", "مسئول", "مسئول فروش", "مسئول معامله", "مالک",
        "کارشناس", "salesperson", "sales rep", "rep", "owner", "sales agent", "agent", "deal owner",
    ),
    "region": ("استان", "منطقه", "شهر", "province", "region", "country", "state", "city", "territory"),
    "status": ("وضعیت", "وضعیت معامله", "status", "deal status", "outcome", "result"),
    "stage": ("مرحله", "مرحله فروش", "مرحله معامله", "stage", "deal stage"),
    "pipeline": ("کاریز", "قیف فروش", "قیف", "pipeline", "funnel"),
    "source": (
        "شیوه آشنایی", "نحوه آشنایی", "منبع", "منبع سرنخ", "روش آشنایی", "lead source", "source", "origin", "channel",
    ),
    "deal_title": ("عنوان معامله", "عنوان", "نام معامله", "deal", "deal name", "title", "opportunity", "subject"),
    "deal_id": (
        "شناسه معامله", "کد معامله", "شماره معامله", "شناسه", "کد", "id", "deal id", "opportunity id", "deal no",
    ),
    "created": (
        "تاریخ ایجاد", "تاریخ ثبت", "تاریخ شروع", "created", "created at", "create date", "created on",
        "creation date", "engage date", "opened",
    ),
    "closed": (
        "تاریخ بسته شدن", "تاریخ بستن", "تاریخ خاتمه", "تاریخ پایان", "تاریخ بسته شدن معامله", "close date",
        "closed", "closed at", "closed on", "closing date",
    ),
    "amount": ("مبلغ", "ارزش", "مبلغ معامله", "ارزش معامله", "value", "amount", "deal value", "close value"),
    "lost_reason": ("دلیل شکست", "علت شکست", "علت ناموفق", "دلیل ناموفق", "lost reason", "loss reason"),
}  # fmt: skip

#: concepts that are money (the Rial-or-Toman question)
MONEY = ("unit_price", "discount", "tax", "line_total", "amount")
#: concepts that are dates
DATES = ("invoice_date", "created", "closed")

#: canonical value -> the values (as :func:`header_words` gives them) that mean it
STATUS_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunities": {
        "won": ("موفق", "برنده", "بسته شده موفق", "موفقیت", "فروش موفق", "won", "closed won", "win", "success"),
        "lost": (
            "ناموفق", "شکست", "از دست رفته", "باخته", "لغو شده", "لغو", "بسته شده ناموفق", "lost", "closed lost",
            "lose", "failed", "cancelled", "canceled",
        ),
        "open": (
            "جاری", "باز", "در جریان", "در حال پیگیری", "جدید", "فعال", "open", "in progress", "active", "engaging",
            "prospecting", "new",
        ),
    },
    "orders": {
        "fulfilled": (
            "فروش", "فاکتور فروش", "قطعی", "ارسال شده", "تحویل شده", "تکمیل شده", "fulfilled", "shipped",
            "delivered", "sale", "completed", "resolved",
        ),
        "cancelled": (
            "برگشت از فروش", "مرجوعی", "برگشتی", "لغو شده", "لغو", "باطل شده", "ابطال", "cancelled", "canceled",
            "return", "returned",
        ),
        "placed": ("ثبت شده", "در انتظار", "در جریان", "باز", "placed", "open", "pending", "in process", "on hold"),
    },
}  # fmt: skip

#: words of a header or a value that say the money is in rials or tomans
RIAL = ("ریال", "rial", "rials", "irr")
TOMAN = ("تومان", "toman", "tomans", "irt")

_SIGNS = re.compile(r"[\s._\-:/\\،,؛;#*()\[\]{}]+")


def header_words(text: str) -> str:
    """A header or value as the word lists hold it: Persian letters, lower case, no signs or
    parenthesised notes (``«مبلغ کل (ریال)»`` -> ``مبلغ کل``), single spaces."""
    t = text.translate(str.maketrans("يىكۀة\u200c\u00a0", "ییکهه  "))
    t = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", t)
    return _SIGNS.sub(" ", t).strip().lower()


def place(value: str, words: dict[str, tuple[str, ...]]) -> str | None:
    """The canonical value of ``words`` (one of :data:`STATUS_WORDS`) that ``value`` means, or None."""
    w = header_words(value)
    return next((k for k, ws in words.items() if w in ws), None)


def unit_note(text: str) -> str | None:
    """``rial`` or ``toman`` when a header names the money's unit (``«فی (ریال)»``, ``Price (IRT)``)."""
    words = set(_SIGNS.sub(" ", text.translate(str.maketrans("يك", "یک"))).lower().split())
    if words & set(TOMAN):
        return "toman"
    if words & set(RIAL):
        return "rial"
    return None
