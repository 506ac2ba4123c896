"""The shapes the API answers with (``response_model``), so OpenAPI tells clients what they get.

They describe what the engine returns (``Result.to_dict()``, ``Scorecard.to_dict()``), nothing
more: the engine builds the answer, these models only name its fields and their types.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from sanjeh.kpis.columns import Against, Role
from sanjeh.kpis.coverage import Status

#: A figure as the engine gives it: a count stays an int (3, not 3.0).
Number = int | float


class ColumnOut(BaseModel):
    """What a result column is (kpis/columns.py)."""

    name: str
    role: Role = Field(
        description="step, dimension, dimension_name, measure, target, attainment, "
        "previous, year_ago, change or change_rate"
    )
    unit: str = Field(description="money, count, rate, days, hours, number, ratio, points or text")
    measure: str | None = Field(default=None, description="the measure it belongs to")
    kind: str | None = Field(default=None, description="the kind of its measure: sum, count, ratio…")
    dimension: str | None = Field(default=None, description="the dimension of a dimension or its names")
    against: Against | None = Field(default=None, description="what a compared value or change compares with")
    second: bool = Field(default=False, description="the year-ago comparison made beside the query's own")
    additive: bool = Field(default=False, description="its values add up across members")


class DataStatusOut(BaseModel):
    """Whether a KPI has data at all, and in the period asked."""

    status: Status
    missing: list[str] = Field(description="tables the KPI reads that have no rows")
    first_day: str | None
    last_day: str | None


class KpiResultOut(BaseModel):
    """A KPI over a period: one row per step (and member), its columns described."""

    kpi: str
    period: str
    calendar: str
    grain: str | None
    by: list[str]
    filters: dict[str, str]
    compare: str | None
    columns: list[str]
    column_info: list[ColumnOut]
    rows: list[dict[str, Any]]
    warnings: list[str]
    data: DataStatusOut


class ExplainOut(BaseModel):
    """``explain=true``: the SQL the query runs, with the parameters it is given."""

    kpi: str
    period: str
    sql: str


class SparkPoint(BaseModel):
    period: str
    value: Number | None


class SpotlightOut(BaseModel):
    """A line a card shows: a member picked by a rule (the best-selling product and its share…)."""

    pick: str
    by: str
    label: dict[str, str]
    measure: str
    title: dict[str, str]
    unit: str
    member: Any = None
    member_name: str | None = None
    value: Number | None = None
    share: Number | None = None
    median: Number | None = None
    members: int | None = None
    attainment: Number | None = None
    target: Number | None = None
    show: list[dict[str, Any]] = Field(default_factory=list)


class CardOut(BaseModel):
    """A KPI's scorecard card: its headline against its target, the previous period and a year ago."""

    kpi: str
    number: str
    measure: str
    title: dict[str, str]
    description: dict[str, str]
    unit: str
    direction: str
    change_in: Literal["points", "percent"]
    all_of: str | None
    data: DataStatusOut
    value: Number | None
    target: Number | None
    attainment: Number | None
    previous: Number | None
    change: Number | None
    change_rate: Number | None
    year_ago: Number | None
    year_ago_change: Number | None
    year_ago_change_rate: Number | None
    spark: list[SparkPoint]
    shows: Literal["headline", "spotlight"]
    spotlights: list[SpotlightOut]


class InsightOut(BaseModel):
    """What stands out, in words."""

    kind: str
    kpi: str
    text: dict[str, str]
    against: str | None = None
    member: Any = None


class ScorecardDataOut(BaseModel):
    empty: bool
    missing: list[str]
    no_data: list[str]
    outside: list[str]
    last_day: str | None


class ScorecardOut(BaseModel):
    """The goals' primary KPIs first, then the rest."""

    period: str
    calendar: str
    goals: list[str]
    primary: list[CardOut]
    secondary: list[CardOut]
    insights: list[InsightOut]
    data: ScorecardDataOut


class LeaderboardOut(BaseModel):
    """The reps of a period, best revenue first: one row per rep (kpis/leaderboard.py)."""

    period: str
    by: list[str]
    grain: str | None
    columns: list[str]
    column_info: list[ColumnOut]
    rows: list[dict[str, Any]]
