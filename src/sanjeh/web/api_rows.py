"""Drill-through in the API: the rows behind a KPI's number (kpis/drill.py), paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from sanjeh.kpis.drill import MAX_LIMIT, RowsQuery
from sanjeh.kpis.query import parse_filter
from sanjeh.web.api import ERRORS
from sanjeh.web.deps import Caller, caller, state_of
from sanjeh.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["api"])
CallerDep = Annotated[Caller, Depends(caller)]


def rows_query(
    st: AppState,
    c: Caller,
    name: str,
    period: str | None,
    filters: list[str],
    measure: str | None,
    limit: int = 50,
    offset: int = 0,
) -> RowsQuery:
    """Parse a drill-through request (403 for another rep's or team's rows; 404/422 for bad names)."""
    from sanjeh.calendar import parse_period

    k = st.kpi(name)
    label = parse_period(period).label if period else st.default_period()
    pairs = tuple(parse_filter(f) for f in filters if f)
    for dim, member in pairs:
        st.check_rep_filter(c.user, dim, member)
    return RowsQuery(k.name, label, pairs, measure or None, limit, offset)


@router.get("/kpis/{name}/rows", responses=ERRORS)
def kpi_rows(
    request: Request,
    name: str,
    c: CallerDep,
    period: Annotated[str | None, Query(description="one step of a result, e.g. 1403-10")] = None,
    filter: Annotated[  # noqa: A002 - the same parameter as GET /kpis/{name}
        list[str] | None, Query(description="DIMENSION:MEMBER (a row's members); may repeat")
    ] = None,
    measure: Annotated[str | None, Query(description="default: the KPI's headline measure")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The rows a KPI's number counts in a period for its members (orders' lines, deals, leads,
    activities or time entries), newest first; ``total`` rows in all, and ``value_sum``, the sum
    of the value column over all of them (for a sum: the KPI's number). A rep gets their own rows."""
    st = state_of(request)
    q = rows_query(st, c, name, period, filter or [], measure, limit, offset)
    return st.rows(c.user, q)
