"""Currencies: the ISO 4217 codes a workspace may count in, their decimals and their names.

A workspace counts money in one currency (``currency`` in ``sanjeh.toml``, set by
``sanjeh init --currency``). :class:`Money` says how amounts of it are shown: how many
decimals, the word that names the unit in Persian and English and, for the Iranian
rial, whether amounts are shown in toman (÷ 10) — the unit is always named.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanjeh.errors import SettingsError

#: Active ISO 4217 currency codes (funds and precious metals left out).
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

#: Minor-unit digits that differ from 2 (ISO 4217). The rial is shown without decimals: its
#: hundredth (the dinar) is not used in Iran, and ISO's 2 would print ``.00`` on every amount.
DECIMALS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
            "IRR",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}

#: How the unit is named in Persian; other currencies show their code.
NAMES_FA = {
    "IRR": "ریال",
    "USD": "دلار",
    "EUR": "یورو",
    "GBP": "پوند",
    "AED": "درهم امارات",
    "TRY": "لیر ترکیه",
    "CNY": "یوان",
    "RUB": "روبل",
    "IQD": "دینار عراق",
    "AFN": "افغانی",
    "BRL": "رئال برزیل",
    "CAD": "دلار کانادا",
    "AUD": "دلار استرالیا",
    "CHF": "فرانک سوئیس",
    "JPY": "ین",
    "INR": "روپیه",
    "PKR": "روپیه پاکستان",
    "SAR": "ریال سعودی",
    "QAR": "ریال قطر",
    "OMR": "ریال عمان",
    "KWD": "دینار کویت",
    "BHD": "دینار بحرین",
    "AMD": "درام",
    "AZN": "منات",
    "TMT": "منات ترکمنستان",
}

#: How the unit is shown (``money_unit`` in sanjeh.toml): the currency itself, or toman for IRR.
MONEY_UNITS = ("currency", "toman")


@dataclass(frozen=True)
class Money:
    """How amounts of one currency are shown: ``value / divisor`` with ``decimals``, named ``word``."""

    code: str = "IRR"
    decimals: int = 0
    divisor: float = 1.0
    words: tuple[str, str] = ("ریال", "IRR")  # (fa, en)

    def word(self, lang: str) -> str:
        return self.words[0] if lang == "fa" else self.words[1]


def check_code(code: str) -> str:
    """The upper-case ISO 4217 code, or :class:`SettingsError`."""
    c = str(code or "").strip().upper()
    if c not in ISO_4217:
        raise SettingsError(key="settings.currency", params={"currency": code}, details={"currency": code})
    return c


def money(code: str = "IRR", unit: str = "currency") -> Money:
    """How a workspace counting in ``code`` shows amounts (``unit="toman"`` only for IRR)."""
    c = check_code(code)
    if unit not in MONEY_UNITS:
        raise SettingsError(key="settings.money_unit", params={"unit": unit, "units": list(MONEY_UNITS)})
    if unit == "toman":
        if c != "IRR":
            raise SettingsError(key="settings.toman", params={"currency": c})
        return Money(c, 0, 10.0, ("تومان", "toman"))
    return Money(c, DECIMALS.get(c, 2), 1.0, (NAMES_FA.get(c, c), c))


def as_money(value: str | Money | None) -> Money:
    """A :class:`Money` from a currency code (the currency's own unit), or as it is."""
    if isinstance(value, Money):
        return value
    return money(value or "IRR")
