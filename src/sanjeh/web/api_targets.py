"""The targets editor's API (beside ``GET``/``PUT /api/v1/targets`` of API.md, in api.py): change
only some targets (``PATCH``), read the audit, copy a year, spread a year over its months."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sanjeh.targets import Change, apply_changes, read_changes
from sanjeh.web.api import ERRORS, Text
from sanjeh.web.deps import Caller, caller, manager, state_of
from sanjeh.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["api"])
CallerDep = Annotated[Caller, Depends(caller)]
ManagerDep = Annotated[Caller, Depends(manager)]


def team_of(st: AppState, c: Caller) -> frozenset[str] | None:
    """The reps whose targets a caller may change: a team's manager, their team's; others: all (None)."""
    scope = st.scope(c.user)
    return scope if isinstance(scope, frozenset) else None


class TargetKey(BaseModel):
    """Which stored target: its KPI, measure (empty: the headline), period, dimension and member."""

    model_config = ConfigDict(extra="forbid")
    kpi: Text
    measure: Text | None = None
    period: Text
    dimension: Text | None = None
    member: Text | None = None


class TargetValue(TargetKey):
    target: float


class TargetChangeIn(BaseModel):
    """``old`` only: delete it; ``new`` only: add it; both: change ``old`` into ``new``."""

    model_config = ConfigDict(extra="forbid")
    old: TargetKey | None = None
    new: TargetValue | None = None

    @model_validator(mode="after")
    def _one_side(self) -> TargetChangeIn:
        if self.old is None and self.new is None:
            raise ValueError("a change needs old (to delete or change) or new (to add), or both")
        return self


class TargetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: list[TargetChangeIn] = Field(max_length=10_000)


class AppliedOut(BaseModel):
    added: int
    changed: int
    deleted: int


class TargetChangeOut(BaseModel):
    changed_at: dt.datetime
    username: str | None = None
    action: str
    kpi: str | None = None
    measure: str | None = None
    period: str | None = None
    dimension: str | None = None
    member: str | None = None
    old_target: float | None = None
    new_target: float | None = None
    via: str | None = None


class ChangesOut(BaseModel):
    total: int
    offset: int
    limit: int
    changes: list[TargetChangeOut]


class CopyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_year: Text
    to_year: Text
    factor: float = Field(default=1.0, ge=0, le=1000, description="amounts and counts are multiplied by it")
    kpi: Text | None = None


class PlannedOut(BaseModel):
    added: int
    kept: int
    skipped: int


@router.patch("/targets", response_model=AppliedOut, responses=ERRORS)
def patch_targets(request: Request, body: TargetPatch, c: ManagerDep) -> dict[str, int]:
    """Add, change or delete some targets (admin, manager; a team's manager: their reps' targets).
    Every change is checked first, nothing is written on an error; each one is audited."""
    st = state_of(request)
    changes = [
        Change(ch.old.model_dump() if ch.old else None, ch.new.model_dump() if ch.new else None) for ch in body.changes
    ]
    team = team_of(st, c)
    done = st.call(lambda ws: apply_changes(ws, changes, username=c.user.username, via="api", reps=team))
    st.targets_changed()
    return done.to_dict()


@router.get("/targets/changes", response_model=ChangesOut, responses=ERRORS)
def target_changes(
    request: Request,
    c: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The audit of the targets, newest first: who changed what, when, old -> new (a rep: their own)."""
    st = state_of(request)
    scope = st.scope(c.user)
    reps = [scope] if isinstance(scope, str) else (sorted(scope) if scope is not None else None)
    rows, total = st.call(lambda ws: read_changes(ws, limit=limit, offset=offset, reps=reps))
    return {"total": total, "offset": offset, "limit": limit, "changes": rows}


@router.post("/targets/copy", response_model=PlannedOut, responses=ERRORS)
def copy_targets(request: Request, body: CopyIn, c: ManagerDep) -> dict[str, int]:
    """Set a year's targets from another year's (× ``factor`` for amounts and counts); targets
    already set are kept."""
    from decimal import Decimal

    from sanjeh.target_plans import copy_year

    st = state_of(request)
    team = team_of(st, c)
    done = st.call(
        lambda ws: copy_year(
            ws,
            body.from_year,
            body.to_year,
            Decimal(repr(body.factor)),
            username=c.user.username,
            kpi=body.kpi or None,
            reps=team,
        )
    )
    st.targets_changed()
    return done.to_dict()


@router.post("/targets/spread", response_model=PlannedOut, responses=ERRORS)
def spread_targets(request: Request, body: TargetKey, c: ManagerDep) -> dict[str, int]:
    """Give a year's target one target per month (its share by days; a rate: the same rate);
    months already set are kept."""
    from sanjeh.target_plans import spread_year

    st = state_of(request)
    team = team_of(st, c)
    done = st.call(lambda ws: spread_year(ws, body.model_dump(), username=c.user.username, reps=team))
    st.targets_changed()
    return done.to_dict()
