"""The columns of a result describe themselves (kpis/columns.py): role, measure, comparison, unit."""

from __future__ import annotations

import dataclasses

import pytest

from sanjeh.kpis import Query
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.kpis.columns import Column, Columns, describe
from sanjeh.workspace import Workspace
from tests import kpi_data


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    return kpi_data.fill(workspace)


def test_the_roles_of_a_compared_split_query(ws: Workspace) -> None:
    result = ws.engine().run(Query("revenue", "1403-Q1", by=("rep",), compare="year_ago"))
    info = {c.name: c for c in result.column_info}
    assert list(info) == result.columns
    assert info["period"] == Column("period", "step")
    assert info["rep"] == Column("rep", "dimension", dimension="rep")
    assert info["rep_name"] == Column("rep_name", "dimension_name", dimension="rep")
    assert info["revenue"] == Column("revenue", "measure", "money", "revenue", "sum", additive=True)
    assert info["target"].role == "target" and info["target"].measure == "revenue"
    assert info["attainment"] == Column("attainment", "attainment", "rate", "revenue", "sum")
    # the query's own comparison sits in the ``previous_`` column: it says it is a year ago
    prev = info["previous_revenue"]
    assert (prev.role, prev.against, prev.unit, prev.additive) == ("year_ago", "year_ago", "money", True)
    assert (info["revenue_change"].role, info["revenue_change"].against) == ("change", "year_ago")
    rate = info["revenue_change_rate"]
    assert (rate.role, rate.measure, rate.unit, rate.additive) == ("change_rate", "revenue", "rate", False)
    assert result.to_dict()["column_info"] == [c.to_dict() for c in result.column_info]


def test_both_comparisons_and_a_rates_change_in_points(ws: Workspace) -> None:
    engine = ws.engine()
    both = dataclasses.replace(engine.plan(Query("win_rate", "1403-Q1")), compare="both")  # as the scorecard asks
    result = engine.run_plan(both)
    cols = Columns(result.column_info)
    h = result.kpi.headline
    assert cols.name_of("previous", h) == f"previous_{h}"
    assert cols.name_of("year_ago", h) == f"year_ago_{h}"
    assert cols.name_of("change", h, against="year_ago") == f"{h}_year_ago_change"
    assert cols.name_of("change_rate", h, against="previous") == f"{h}_change_rate"
    assert cols.unit(f"{h}_change") == "points"  # the change of a rate is in percentage points
    assert Columns.of(result.to_dict(), result.kpi).list == cols.list


@pytest.mark.parametrize("kpi", [k.name for k in CATALOGUE])
def test_every_column_of_every_kpi_has_a_role(ws: Workspace, kpi: str) -> None:
    engine = ws.engine()
    k = engine.kpi(kpi)
    by = tuple(d for d in k.dimensions if d not in k.fixed)[:1]
    result = engine.run_plan(dataclasses.replace(engine.plan(Query(kpi, "1403-Q1", by=by)), compare="both"))
    info = result.column_info  # raises on a column no query makes
    assert [c.name for c in info] == result.columns
    assert info[0].role == "step"
    assert {c.measure for c in info if c.role == "measure"} <= {m.name for m in k.visible_measures}


def test_a_column_no_query_makes_is_an_internal_error() -> None:
    from sanjeh.errors import InternalError

    k = next(k for k in CATALOGUE if k.name == "revenue")
    with pytest.raises(InternalError):
        describe(k, ["period", "revenue_growth_factor"], (), None)
