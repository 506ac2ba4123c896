"""The reps leaderboard: one row per rep, from four ordinary KPI queries merged by rep.

Sales, attainment, orders and won deals (``sales_per_rep``), calls and the share that found a
prospect (``calls_per_rep``), the share of time on data entry (``data_entry_share`` by rep) and
the contact method that sold most (``sales_by_contact_method`` by method and rep). Each query goes
through a ``run`` function (the engine's by default; the web app passes its cached one, so the
leaderboard shares results with the KPI pages). The answer is shaped like a result: its columns
described (kpis/columns.py), so the dashboard's table, chart and downloads and the API read it
like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanjeh.kpis.columns import Column, name_column
from sanjeh.kpis.query import Query

#: ``run(query) -> Result.to_dict()``.
Runner = Callable[[Query], dict[str, Any]]
#: The figures of a rep's row beside the rep: (column, unit, KPI it comes from, measure there).
FIGURES: tuple[tuple[str, str, str, str], ...] = (
    ("revenue", "money", "sales_per_rep", "revenue"),
    ("attainment", "rate", "sales_per_rep", "attainment"),
    ("orders", "count", "sales_per_rep", "orders"),
    ("won_deals", "count", "sales_per_rep", "won_deals"),
    ("calls", "count", "calls_per_rep", "calls"),
    ("prospect_rate", "rate", "calls_per_rep", "prospect_rate"),
    ("data_entry_share", "rate", "data_entry_share", "share"),
)
REP, NAME = "rep", name_column("rep")


def columns() -> list[Column]:
    """The leaderboard's columns and what each is."""
    out = [Column(REP, "dimension", dimension=REP), Column(NAME, "dimension_name", dimension=REP)]
    for name, unit, _, _ in FIGURES:
        if name == "attainment":
            out.append(Column(name, "attainment", unit, "revenue"))
        else:
            out.append(Column(name, "measure", unit, name, additive=unit in ("money", "count")))
    out.append(Column("target", "target", "money", "revenue", additive=True))
    out.append(Column("best_method", "dimension", dimension="contact_method"))
    out.append(Column("best_method_win_rate", "measure", "rate", "win_rate"))
    return out


@dataclass
class Leaderboard:
    period: str
    #: Best revenue first: ``rep``, ``rep_name`` and the columns of :func:`columns`.
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        info = columns()
        return {
            "period": self.period,
            "by": [REP],
            "grain": None,
            "columns": [c.name for c in info],
            "column_info": [c.to_dict() for c in info],
            "rows": self.rows,
        }


def leaderboard(run: Runner, period: str) -> Leaderboard:
    """The reps of ``period``, best revenue first (a rep with no sales after those with some)."""

    def rows(kpi: str, by: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = run(Query(kpi, period, None, by)).get("rows") or []
        return got

    reps: dict[str, dict[str, Any]] = {}

    def rep(row: dict[str, Any]) -> dict[str, Any]:
        rid = str(row.get(REP) if row.get(REP) is not None else "unknown")
        entry = reps.setdefault(rid, {REP: rid, NAME: row.get(NAME) or None})
        if row.get(NAME) and not entry[NAME]:
            entry[NAME] = row[NAME]
        return entry

    sources: dict[str, list[dict[str, Any]]] = {
        "sales_per_rep": rows("sales_per_rep"),
        "calls_per_rep": rows("calls_per_rep"),
        "data_entry_share": rows("data_entry_share", (REP,)),
    }
    for kpi, found in sources.items():
        for r in found:
            entry = rep(r)
            entry.update({name: r.get(m) for name, _, k, m in FIGURES if k == kpi})
            if kpi == "sales_per_rep":
                entry["target"] = r.get("target")
    best: dict[str, tuple[float, str, Any]] = {}
    for r in rows("sales_by_contact_method", ("contact_method", REP)):
        rid = str(r.get(REP))
        value = float(r.get("revenue") or 0)
        if value > 0 and (rid not in best or value > best[rid][0]):
            best[rid] = (value, str(r.get("contact_method")), r.get("win_rate"))
    for rid, (_, method, win) in best.items():
        if rid in reps:
            reps[rid].update(best_method=method, best_method_win_rate=win)
    ordered = sorted(reps.values(), key=lambda e: -float(e.get("revenue") or 0))
    return Leaderboard(period, ordered)
