"""Text normalisation of SCHEMA.md for single values (import does the same over whole columns in SQL)."""

from __future__ import annotations

import re

from sanjeh.schema import CODE_COLUMNS

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u00a0": " "})
_CODE_RUN = re.compile(r"[\s\-_]+")


def normalize_text(value: str) -> str:
    """Trim, unify Arabic letter variants to Persian, no-break space to space (ZWNJ kept)."""
    return value.translate(LETTERS).strip()


def to_code(value: str) -> str:
    """``Cold - Call`` -> ``cold_call``."""
    return _CODE_RUN.sub("_", normalize_text(value).lower()).strip("_")


#: Dimensions whose members are ids (stored with ASCII digits) and codes (SCHEMA.md "Codes").
ID_DIMENSIONS = frozenset({"rep", "product", "initiative", "customer"})
CODE_DIMENSIONS = frozenset(CODE_COLUMNS)


def normalize_member(dimension: str, value: str) -> str:
    """A member of ``dimension`` as the import stores it (SCHEMA.md, "Conventions"): text trimmed
    with Persian letters; ids with ASCII digits; codes in code form (``Cold Call`` -> ``cold_call``).

    The one normalisation of members outside the import: filters, targets and a rep's own id.
    Members are then compared case-insensitively (:func:`member_key`).
    """
    v = normalize_text(str(value))
    if dimension in CODE_DIMENSIONS:
        return to_code(v.translate(DIGITS))
    if dimension in ID_DIMENSIONS:
        return v.translate(DIGITS)
    return v


def member_key(dimension: str, value: str) -> str:
    """What two members of ``dimension`` are compared by: normalised, then lower case."""
    return normalize_member(dimension, value).lower()
