"""The one CSV writer (sanjeh.export): formulas neutralised, numbers kept."""

from __future__ import annotations

import csv
import io

import pytest

from sanjeh.export import BOM, csv_text, safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1+1", "'+1+1"),
        ("-1+cmd", "'-1+cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12", "-12"),
        ("+3.5", "+3.5"),
        ("-1e-3", "-1e-3"),
        ("Tehran", "Tehran"),
        ("تهران", "تهران"),
        (-3.5, -3.5),
        (-7, -7),
        (True, True),
        (None, ""),
    ],
)
def test_safe_cell(value: object, cell: object) -> None:
    assert safe_cell(value) == cell


def test_csv_text_round_trips_through_a_csv_reader() -> None:
    rows = [{"name": "=1+2", "n": -2, "note": "a,\nb"}, {"name": None, "n": 3.25, "note": "@x"}]
    text = csv_text(rows, ["name", "n", "note"], bom=True)
    assert text.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert parsed == [["name", "n", "note"], ["'=1+2", "-2", "a,\nb"], ["", "3.25", "'@x"]]
    assert csv_text([], ["a"]) == "a\n"
