"""The members of a dimension, with their names: what a picker offers (the targets editor).

Reps, products and initiatives come from their own tables (id and name); the other dimensions
(region, source, segment, …) from the data: the distinct members of the first cohort that has
the dimension. Read through the engine's sources, so a rep or a team sees its own members only
where the cohort is restricted to its rows (reps: the scope's reps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanjeh.kpis.sources import COHORTS, in_scope

if TYPE_CHECKING:
    from sanjeh.kpis.engine import Engine

#: Dimensions whose members are rows of a table with a name: dimension -> (table, id, name).
TABLES = {
    "rep": ("reps", "rep_id", "name"),
    "product": ("products", "product_id", "name"),
    "initiative": ("initiatives", "initiative_id", "name"),
}
MAX_MEMBERS = 2000


def members(engine: Engine, dimension: str) -> list[tuple[str, str | None]]:
    """``(member, name)`` of every member of ``dimension`` (name None when it has none), by name."""
    src = engine.sources()
    if dimension in TABLES:
        table, key, label = TABLES[dimension]
        t = src.wh.table(table)
        if dimension == "rep" and src.rep_scope is not None:
            t = t.filter(in_scope(t[key], src.rep_scope))
        t = t.filter(t[key].notnull()).select(m=t[key], n=t[label]).distinct().order_by(["n", "m"])
        rows = t.limit(MAX_MEMBERS).to_pyarrow().to_pylist()
        return [(str(r["m"]), str(r["n"]) if r["n"] else None) for r in rows]
    cohort = next((name for name, c in COHORTS.items() if dimension in c.dims), None)
    if cohort is None:
        return []
    f = src.cohort(cohort)
    m = f.filter(f[dimension].notnull()).select(m=f[dimension]).distinct().order_by("m")
    return [(str(v), None) for v in m.limit(MAX_MEMBERS).to_pyarrow()["m"].to_pylist()]
