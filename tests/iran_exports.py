"""Iranian exports for the tests, built to the column lists of docs/mappings.md ("Profiles"):
a sales-invoice workbook as accounting packages export it, and a CRM deals export."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import jdatetime
import openpyxl

INVOICE_HEADERS = [
    "شماره فاکتور",
    "تاریخ فاکتور",
    "نوع فاکتور",
    "کد مشتری",
    "نام مشتری",
    "استان",
    "فروشنده",
    "کد کالا",
    "شرح کالا",
    "تعداد",
    "فی (ریال)",
    "تخفیف (ریال)",
    "مالیات (ریال)",
    "مبلغ کل (ریال)",
]
DEAL_HEADERS = [
    "شناسه",
    "عنوان معامله",
    "نام مشتری",
    "کاریز",
    "مرحله",
    "وضعیت",
    "شیوه آشنایی",
    "تاریخ ایجاد",
    "تاریخ بسته شدن",
    "مسئول",
    "مبلغ (تومان)",
]
CUSTOMERS = [("C-1", "بازرگانی آرمان", "تهران"), ("C-2", "صنایع نوین", "اصفهان"), ("C-3", "پخش البرز", "البرز")]
CUSTOMERS += [("C-4", "فروشگاه کوثر", "خراسان رضوی"), ("C-5", "شرکت ماهان", "فارس")]
PRODUCTS = [("K-101", "کاغذ A4", 1_250_000), ("K-102", "خودکار آبی", 85_000), ("K-205", "پرینتر لیزری", 98_000_000)]
PRODUCTS += [("K-300", "کارتریج", 4_700_000)]
SELLERS = ["علی رضایی", "سارا محمدی", "رضا کریمی"]
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _jalali(rng: random.Random, year: int = 1403) -> jdatetime.date:
    return jdatetime.date(year, 1, 1) + jdatetime.timedelta(days=rng.randrange(0, 365))


def _text(d: jdatetime.date, rng: random.Random) -> str:
    """A Jalali date as exports write it: 1403/01/15, sometimes 1403/1/5 or in Persian digits."""
    r = rng.random()
    if r < 0.15:
        return f"{d.year}/{d.month}/{d.day}"
    text = f"{d.year}/{d.month:02d}/{d.day:02d}"
    return text.translate(_PERSIAN) if r < 0.3 else text


def invoice_rows(seed: int = 16, invoices: int = 70, negative_returns: bool = True) -> list[list[object]]:
    """Rows of an invoice export (one per invoice line); returns are «برگشت از فروش» invoices, their
    quantities negative when ``negative_returns``."""
    rng = random.Random(seed)
    rows: list[list[object]] = []
    for n in range(invoices):
        ret = n % 12 == 11
        number = 14030000 + n + 1
        day = _text(_jalali(rng), rng)
        code, name, province = rng.choice(CUSTOMERS)
        seller = rng.choice(SELLERS)
        for _ in range(rng.randint(1, 3)):
            pcode, pname, price = rng.choice(PRODUCTS)
            qty = rng.randint(1, 20)
            discount = rng.choice([0, 0, 0, price // 10])
            discount = min(discount, qty * price)
            net = qty * price - discount
            tax = net // 10
            sign = -1 if ret and negative_returns else 1
            kind = "برگشت از فروش" if ret else "فروش"
            rows.append(
                [number, day, kind, code, name, province, seller, pcode, pname, sign * qty, price, discount, tax,
                 sign * (net + tax)]
            )  # fmt: skip
    return rows


def write_invoices_xlsx(path: Path, **kw: object) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "فاکتورهای فروش"
    ws.append(INVOICE_HEADERS)
    for r in invoice_rows(**kw):  # type: ignore[arg-type]
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_invoices_csv(path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(INVOICE_HEADERS)
        w.writerows(invoice_rows(**kw))  # type: ignore[arg-type]
    return path


def deal_rows(seed: int = 16, deals: int = 90) -> list[list[object]]:
    rng = random.Random(seed)
    rows: list[list[object]] = []
    pipelines = {"فروش سازمانی": ["مذاکره", "ارسال پیش‌فاکتور", "قرارداد"], "فروش آنلاین": ["تماس اول", "دمو"]}
    for n in range(deals):
        pipeline = rng.choice(list(pipelines))
        status = rng.choice(["موفق", "موفق", "ناموفق", "جاری"])
        created = _jalali(rng, 1402 if n % 7 == 0 else 1403)
        closed = ""
        if status != "جاری":
            closed = _text(created + jdatetime.timedelta(days=rng.randrange(1, 90)), rng)
        _, customer, _ = rng.choice(CUSTOMERS)
        rows.append(
            [f"D-{n + 1}", f"معامله {n + 1}", customer, pipeline, rng.choice(pipelines[pipeline]), status,
             rng.choice(["تبلیغات", "معرفی مشتریان", "نمایشگاه", "وب‌سایت"]), _text(created, rng), closed,
             rng.choice(SELLERS), rng.randrange(10, 500) * 1_000_000]
        )  # fmt: skip
    return rows


def write_deals_csv(path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(DEAL_HEADERS)
        w.writerows(deal_rows(**kw))  # type: ignore[arg-type]
    return path


def write_deals_xlsx(path: Path, **kw: object) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(DEAL_HEADERS)
    for r in deal_rows(**kw):  # type: ignore[arg-type]
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
