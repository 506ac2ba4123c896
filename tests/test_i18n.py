"""The message catalogue and the rendering of numbers and periods in Persian and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanjeh.i18n import catalogue, digits, period_label, t

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


def test_persian_digits() -> None:
    assert digits("1403-Q1", "fa") == "۱۴۰۳−Q۱"
    assert digits("1403-Q1", "en") == "1403-Q1"


def test_lookup_formats_and_falls_back() -> None:
    assert t("nav.scorecard", "fa") == "کارنامه"
    assert t("nav.scorecard", "en") == "Scorecard"
    assert t("period.showing", "en", period="X") == "Showing X"
    assert t("no.such.key", "fa") == "no.such.key"
    assert t("nav.scorecard", "de") == "Scorecard"  # unknown language: English


@pytest.mark.parametrize(
    ("label", "lang", "expected"),
    [
        ("1403-10", "fa", "دی ۱۴۰۳"),
        ("1403-10", "en", "Dey 1403"),
        ("1403-01-15", "fa", "۱۵ فروردین ۱۴۰۳"),
        ("1403-Q1", "fa", "فصل ۱ سال ۱۴۰۳"),
        ("1403-Q1", "en", "Q1 1403"),
        ("1403-W05", "fa", "هفتهٔ ۵ سال ۱۴۰۳"),  # «هفتهٔ ۵ ۱۴۰۳» read as one number
        ("2024-Q2", "fa", "سه‌ماههٔ ۲ سال ۲۰۲۴"),
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
