"""Views of results (web/views.py): which members a split's table shows first."""

from __future__ import annotations

from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.web.views import OTHERS, top_members

KPIS = {k.name: k for k in CATALOGUE}


def test_a_rates_top_members_are_those_it_rests_on_most() -> None:
    """Win rate by rep with 14 reps: the ten shown are those with most closed deals, not the ones at
    100 % of one deal; the four with least go into "others"."""
    rows = [{"period": "1403-Q4", "rep": f"R{i:02d}", "win_rate": 1.0, "won": 1, "lost": 0} for i in range(4)] + [
        {"period": "1403-Q4", "rep": f"R{i:02d}", "win_rate": 0.3, "won": 3 * i, "lost": 7 * i} for i in range(4, 14)
    ]
    result = {"rows": rows, "by": ["rep"], "columns": list(rows[0])}
    shown, folded = top_members(result, KPIS["win_rate"], "en", top=10)
    members = [r["rep"] for r in shown if r["rep"] != OTHERS]
    assert folded == 4 and members == [f"R{i:02d}" for i in range(4, 14)]


def test_an_amounts_top_members_are_the_largest() -> None:
    rows = [{"period": "1403-Q4", "region": f"r{i}", "revenue": float(i)} for i in range(14)]
    shown, folded = top_members(
        {"rows": rows, "by": ["region"], "columns": list(rows[0])}, KPIS["sales_by_region"], "en"
    )
    assert folded == 4 and {r["region"] for r in shown if r["region"] != OTHERS} == {f"r{i}" for i in range(4, 14)}
