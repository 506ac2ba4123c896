"""The message catalogue and the rendering of numbers and periods in Persian and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanjeh.i18n import (
    catalogue,
    digits,
    fmt_compact,
    fmt_money,
    fmt_number,
    fmt_rate,
    fmt_signed_rate,
    fmt_value,
    period_label,
    t,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "sanjeh" / "web" / "templates"


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    fa, en = catalogue("fa"), catalogue("en")
    assert set(fa) == set(en), set(fa) ^ set(en)
    for key in fa:
        assert set(re.findall(r"{(\w+)}", fa[key])) == set(re.findall(r"{(\w+)}", en[key])), key
        assert fa[key].strip(), key


def test_every_key_a_template_uses_exists() -> None:
    keys = set(catalogue("en"))
    used: set[str] = set()
    for tpl in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'_\(\s*["\']([a-z_.]+)["\']', tpl.read_text(encoding="utf-8")))
    assert used, "no message keys found in the templates"
    prefixes = {k for k in used if k.endswith((".", "_"))}  # keys built with ~, e.g. "grain." ~ g
    assert used - prefixes <= keys, (used - prefixes) - keys
    for p in prefixes:
        assert any(k.startswith(p) for k in keys), p


def test_templates_hold_no_hard_coded_words() -> None:
    """Text between tags comes from the catalogue: no Latin or Persian words outside {{ }} / {% %}."""
    for tpl in TEMPLATES.glob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        text = re.sub(r"{[{%#].*?[}%#]}", "", text, flags=re.S)
        text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        text = re.sub(r"<[^>]+>", "\n", text)
        words = list(re.findall(r"[A-Za-z\u0600-\u06FF]{2,}", text))
        assert words == [], (tpl.name, words)


def test_lookup_formats_and_falls_back() -> None:
    assert t("nav.scorecard", "fa") == "کارنامه"
    assert t("nav.scorecard", "en") == "Scorecard"
    assert t("period.showing", "en", period="X") == "Showing X"
    assert t("no.such.key", "fa") == "no.such.key"
    assert t("nav.scorecard", "de") == "Scorecard"  # unknown language: English


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1234567, "fa", "۱٬۲۳۴٬۵۶۷"),
        (1234567, "en", "1,234,567"),
        (1234.5, "fa", "۱٬۲۳۴٫۵"),
        (-12, "fa", "\u2066−۱۲\u2069"),
        (None, "fa", "—"),
        (float("nan"), "en", "—"),
        (0.0, "en", "0"),
    ],
)
def test_numbers(value: object, lang: str, expected: str) -> None:
    assert fmt_number(value, lang) == expected


def test_rates_money_and_compact() -> None:
    assert fmt_rate(0.153, "fa") == "۱۵٫۳٪"
    assert fmt_rate(0.15, "en") == "15%"
    assert fmt_rate(None, "en") == "—"
    assert fmt_signed_rate(0.05, "en") == "+5%"
    assert fmt_signed_rate(-0.05, "en") == "-5%"
    assert fmt_compact(1.5e9, "fa") == "۱٫۵ میلیارد"
    assert fmt_compact(2_300_000, "en") == "2.3M"
    assert fmt_money(1.5e9, "fa", "IRR", compact=True) == "۱٫۵ میلیارد ریال"
    assert fmt_money(1500, "en", "USD") == "1,500 USD"
    assert fmt_value(12.345, "days", "en") == "12.3 days"
    assert fmt_value(0.25, "rate", "fa") == "۲۵٪"
    assert digits("1403-Q1", "fa") == "۱۴۰۳−Q۱"
    assert fmt_signed_rate(-0.131, "fa") == "\u2066−۱۳٫۱٪\u2069"  # isolated: the sign stays before the digits
    assert fmt_signed_rate(0.0001, "en") == "0%"


@pytest.mark.parametrize(
    ("label", "lang", "expected"),
    [
        ("1403-10", "fa", "دی ۱۴۰۳"),
        ("1403-10", "en", "Dey 1403"),
        ("1403-01-15", "fa", "۱۵ فروردین ۱۴۰۳"),
        ("1403-Q1", "fa", "فصل ۱ ۱۴۰۳"),
        ("1403-Q1", "en", "Q1 1403"),
        ("1403-W05", "en", "Week 5, 1403"),
        ("1403", "fa", "۱۴۰۳"),
        ("2024-03", "en", "March 2024"),
        ("2024-03", "fa", "مارس ۲۰۲۴"),
        ("1402-07..1403-Q2", "en", "Mehr 1402 – Q2 1403"),
        ("Markazi", "fa", "Markazi"),
        (None, "en", "—"),
    ],
)
def test_period_labels(label: object, lang: str, expected: str) -> None:
    assert period_label(label, lang) == expected
