"""Text normalisation of SCHEMA.md for single values (import does the same over whole columns in SQL)."""

from __future__ import annotations

import re

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u00a0": " "})
_CODE_RUN = re.compile(r"[\s\-_]+")


def normalize_text(value: str) -> str:
    """Trim, unify Arabic letter variants to Persian, no-break space to space (ZWNJ kept)."""
    return value.translate(LETTERS).strip()


def to_code(value: str) -> str:
    """``Cold - Call`` -> ``cold_call``."""
    return _CODE_RUN.sub("_", normalize_text(value).lower()).strip("_")


def normalize_member(value: str, *, code: bool = False) -> str:
    """A dimension member as the warehouse stores it: ids get ASCII digits; codes get code form."""
    v = normalize_text(str(value)).translate(DIGITS)
    return to_code(v) if code else v
