"""The REST API of API.md, under ``/api/v1``: thin, it parses input, calls the engine, returns JSON."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sanjeh.errors import Forbidden, MappingError, TooLarge, UserError
from sanjeh.ingest.mapping import named_mapping
from sanjeh.targets import read_targets, replace_targets
from sanjeh.users import ROLES, add_user, list_users, set_language
from sanjeh.web.api_models import ExplainOut, KpiResultOut, LeaderboardOut, ScorecardOut
from sanjeh.web.auth import API_TOKEN_SECONDS, token_response
from sanjeh.web.deps import Caller, admin, caller, log_in, log_out, manager, state_of

router = APIRouter(prefix="/api/v1", tags=["api"])


# -- typed input/output -------------------------------------------------------------------------
#: Text of an input field: no control characters (NUL, CR, LF, …); a value with one is 422.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$", max_length=1000)]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    username: str
    role: str
    rep_id: str | None = None
    team: str | None = None
    language: str | None = None
    disabled: bool = False


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Text
    role: Text = Field(description="admin, manager or rep")
    rep_id: Text | None = None
    team: Text | None = Field(default=None, description="a manager's team: they see its reps' rows only")
    password: str = Field(min_length=8, max_length=1000)
    language: Text | None = None


class LanguageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Text = Field(description="fa or en")


class TargetRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kpi: Text
    measure: Text | None = None
    period: Text
    dimension: Text | None = None
    member: Text | None = None
    target: float


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not logged in"},
    403: {"model": ErrorOut, "description": "not allowed for this role"},
    404: {"model": ErrorOut, "description": "not found"},
    422: {"model": ErrorOut, "description": "bad parameters"},
}

CallerDep = Annotated[Caller, Depends(caller)]
ManagerDep = Annotated[Caller, Depends(manager)]
AdminDep = Annotated[Caller, Depends(admin)]


# -- auth -----------------------------------------------------------------------------------------
@router.post("/auth/token", response_model=TokenOut, responses={401: ERRORS[401], 429: {"model": ErrorOut}})
async def token(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, Any]:
    """Log in with a user name and password; returns a bearer token (8 hours, until revoked)."""
    signed = await log_in(request, username, password, "api", API_TOKEN_SECONDS)
    return token_response(signed, API_TOKEN_SECONDS)


@router.delete("/auth/token", status_code=204, responses=ERRORS)
async def revoke_token(request: Request, c: CallerDep) -> Response:
    """Log out: the token (or the session cookie) sent with this request no longer works."""
    await log_out(request, c)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, responses=ERRORS)
def me(c: CallerDep) -> dict[str, Any]:
    """The logged-in user."""
    return c.user.to_dict()


@router.put("/me/language", response_model=UserOut, responses=ERRORS)
def put_language(request: Request, body: LanguageIn, c: CallerDep) -> dict[str, Any]:
    """Store the user's language (fa or en)."""
    st = state_of(request)
    user = st.call(lambda ws: set_language(ws, c.user.username, body.language))
    st.forget_user(user.username)
    return user.to_dict()


# -- KPIs -----------------------------------------------------------------------------------------
@router.get("/kpis", responses=ERRORS)
def kpis(request: Request, c: CallerDep) -> list[dict[str, Any]]:
    """The KPI catalogue."""
    return [k.to_dict() for k in state_of(request).catalogue()]


@router.get("/kpis/{name}", response_model=KpiResultOut | ExplainOut, responses=ERRORS)
def kpi(
    request: Request,
    name: str,
    c: CallerDep,
    period: Annotated[str | None, Query(description="e.g. 1403-Q4, 2024-03, 1402-07..1403-Q2")] = None,
    grain: Annotated[str | None, Query(description="day, week, month, quarter or year")] = None,
    by: Annotated[list[str] | None, Query(description="a dimension; may repeat")] = None,
    filter: Annotated[  # noqa: A002 - the parameter's public name (API.md)
        list[str] | None, Query(description="DIMENSION:MEMBER, e.g. region:Markazi; may repeat")
    ] = None,
    compare: Annotated[str | None, Query(description="previous or year_ago")] = None,
    explain: Annotated[bool, Query(description="return the SQL instead of the rows")] = False,
) -> dict[str, Any]:
    """One KPI over a period (a rep gets only their own rows)."""
    st = state_of(request)
    spec = st.spec(c.user, name, period, grain, by or [], filter or [], compare)
    if explain:
        return {"kpi": spec.kpi, "period": spec.period, "sql": st.explain(c.user, spec)}
    return st.run(c.user, spec)


@router.get("/kpis/{name}/why", responses=ERRORS)
def kpi_why(
    request: Request,
    name: str,
    c: CallerDep,
    period: Annotated[str | None, Query(description="e.g. 1403-Q4 (default: the latest complete month)")] = None,
    measure: Annotated[str | None, Query(description="the measure to explain (default: the headline)")] = None,
    against: Annotated[str, Query(description="previous, year_ago or target")] = "previous",
    by: Annotated[list[str] | None, Query(description="a dimension; once, or twice for pairs")] = None,
    auto: Annotated[bool, Query(description="split by the dimension or pair that explains most")] = False,
    top: Annotated[int, Query(ge=1, le=1000, description="members listed; the rest are 'other'")] = 10,
    filter: Annotated[  # noqa: A002 - the parameter's public name (API.md)
        list[str] | None, Query(description="DIMENSION:MEMBER; may repeat")
    ] = None,
) -> dict[str, Any]:
    """Why a KPI changed or missed its target: the change split exactly over members (WHY.md).
    A rep's answer covers their own rows only."""
    st = state_of(request)
    q = st.why_spec(
        c.user, name, period, measure=measure, against=against, by=by or [], auto=auto, top=top, filters=filter or []
    )
    return st.why(c.user, q)


@router.get("/kpis/{name}/forecast", responses=ERRORS)
def kpi_forecast(
    request: Request,
    name: str,
    c: CallerDep,
    period: Annotated[str | None, Query(description="e.g. 1403-Q1 (default: the current quarter)")] = None,
    measure: Annotated[str | None, Query(description="an additive measure (default: the headline)")] = None,
    by: Annotated[str | None, Query(description="split the weighted pipeline and time to win by rep or source")] = None,
) -> dict[str, Any]:
    """Where the period will land: pace by working days, a statistical forecast with its backtest
    error and the chance of the target, the weighted pipeline, the time to win with the stale
    deals, and the track record of the forecasts kept (docs/forecast.md). A rep's answer covers
    their own deals and rows only."""
    return state_of(request).forecast(c.user, name, period, measure, by.strip().lower() if by else None)


@router.get("/scorecard", response_model=ScorecardOut, responses=ERRORS)
def scorecard(
    request: Request,
    c: CallerDep,
    period: Annotated[str | None, Query(description="default: the latest complete month")] = None,
) -> dict[str, Any]:
    """The goals' primary KPIs, then the rest: value, target, attainment, changes, sparkline."""
    return state_of(request).scorecard(c.user, period)


@router.get("/reps", response_model=LeaderboardOut, responses=ERRORS)
def reps(
    request: Request,
    c: CallerDep,
    period: Annotated[str | None, Query(description="default: the latest complete month")] = None,
) -> dict[str, Any]:
    """The reps leaderboard: sales, attainment, orders, won deals, calls, prospect rate, time on data
    entry and the contact method that sold most, best revenue first (a rep gets their own row)."""
    from sanjeh.calendar import parse_period
    from sanjeh.kpis.leaderboard import leaderboard

    st = state_of(request)
    label = parse_period(period).label if period else st.default_period()
    return leaderboard(lambda q: st.run(c.user, q), label).to_dict()


# -- targets ---------------------------------------------------------------------------------------
@router.get("/targets", response_model=list[TargetRow], responses=ERRORS)
def get_targets(request: Request, c: CallerDep) -> list[dict[str, Any]]:
    """Every target (a rep: only the targets set for them; a team's manager: their reps')."""
    st = state_of(request)
    scope = st.scope(c.user)
    if isinstance(scope, str):
        return st.call(lambda ws: read_targets(ws, rep_id=scope))
    return st.call(lambda ws: read_targets(ws, reps=scope))


@router.put("/targets", response_model=list[TargetRow], responses=ERRORS)
def put_targets(request: Request, rows: list[TargetRow], c: ManagerDep) -> list[dict[str, Any]]:
    """Replace every target (admin, manager). All rows are checked first; nothing changes on an error.
    Only the rows that differ are written, and audited (``GET /api/v1/targets/changes``)."""
    st = state_of(request)
    if st.scope(c.user) is not None:
        raise Forbidden(key="auth.team_put_targets")
    name = c.user.username
    stored = st.call(lambda ws: replace_targets(ws, [r.model_dump() for r in rows], username=name, via="api"))
    st.targets_changed()
    return stored


# -- imports ---------------------------------------------------------------------------------------
MAX_FILE_NAME_BYTES = 255  # what a file system takes


def _safe_name(name: str) -> str:
    """The upload's base name, if it is one a file may have here (no folders, no control characters)."""
    base = Path(name.replace("\\", "/")).name.strip()
    shown = name[:80] + ("…" if len(name) > 80 else "")
    if not base or base.startswith(".") or any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        raise UserError(key="upload.bad_name", params={"file": shown}, details={"file": shown})
    if len(base.encode("utf-8", "replace")) > MAX_FILE_NAME_BYTES:
        raise UserError(
            key="upload.long_name",
            params={"file": shown, "limit": MAX_FILE_NAME_BYTES},
            details={"file": shown, "limit": MAX_FILE_NAME_BYTES},
        )
    return base


async def save_uploads(request: Request, files: list[UploadFile], folder: Path) -> list[Path]:
    """Write uploaded files into ``folder`` (their base names), refusing more than the size limit."""
    st = state_of(request)
    total = 0
    paths: list[Path] = []
    for f in files:
        path = folder / _safe_name(f.filename or "")
        if path in paths:
            raise UserError(key="upload.twice", params={"file": path.name}, details={"file": path.name})
        with path.open("wb") as out:
            while chunk := await f.read(1024 * 1024):
                total += len(chunk)
                if total > st.max_upload:
                    raise TooLarge(
                        key="request.upload_too_large",
                        params={"size": f"{st.max_upload // (1024 * 1024)} MB"},
                        details={"limit": st.max_upload},
                    )
                out.write(chunk)
        paths.append(path)
    if not paths:
        raise UserError(key="upload.no_file")
    return paths


def import_files(
    request: Request, paths: list[Path], mapping: str | None, table: str | None, replace: bool, force: bool = False
) -> Any:
    """Import saved uploads. ``mapping`` is a mapping's *name* (shipped or saved in the workspace's
    ``mappings/`` folder), never a path: the web reads no other file. ``force``: the importer's."""
    st = state_of(request)
    mapping_file = named_mapping(mapping, st.ws.root) if mapping else None
    try:
        summary = st.call(
            lambda ws: ws.import_files(
                [str(p) for p in paths], mapping=mapping_file, table=table or None, replace=replace, force=force
            )
        )
    finally:
        st.data_changed()
    return summary


@router.post("/imports", responses={**ERRORS, 413: {"model": ErrorOut}})
async def post_import(request: Request, c: ManagerDep) -> dict[str, Any]:
    """Upload one or more files (multipart field ``files``; optional ``mapping``, ``table``, ``replace``)."""
    form = await request.form(max_files=100)
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile)]
    files += [v for k, v in form.multi_items() if k != "files" and isinstance(v, UploadFile)]
    mapping = form.get("mapping")
    table = form.get("table")
    replace = str(form.get("replace") or "").lower() in ("1", "true", "yes", "on")
    with tempfile.TemporaryDirectory(prefix="sanjeh-upload-") as tmp:
        paths = await save_uploads(request, files, Path(tmp))
        summary = await run_in_threadpool(
            import_files,
            request,
            paths,
            mapping if isinstance(mapping, str) else None,
            table if isinstance(table, str) else None,
            replace,
        )
    return dict(summary.to_dict())


@router.get("/rejects", responses=ERRORS)
def rejects(request: Request, c: ManagerDep, table: str | None = None) -> list[dict[str, Any]]:
    """The rejected rows of the imports (admin, manager)."""
    return list(state_of(request).call(lambda ws: ws.rejects(table)))


# -- users -----------------------------------------------------------------------------------------
@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def users(request: Request, c: AdminDep) -> list[dict[str, Any]]:
    """Every user (admin)."""
    return [u.to_dict() for u in state_of(request).call(list_users)]


@router.post("/users", response_model=UserOut, status_code=201, responses=ERRORS)
def create_user(request: Request, body: UserIn, c: AdminDep) -> dict[str, Any]:
    """Create a user (admin)."""
    if body.role not in ROLES:
        raise UserError(key="users.unknown_role", params={"role": body.role, "roles": list(ROLES)})
    st = state_of(request)
    user = st.call(
        lambda ws: add_user(
            ws, body.username, body.role, body.rep_id, password=body.password, language=body.language, team=body.team
        )
    )
    st.forget_user(user.username)
    return user.to_dict()


__all__ = ["Forbidden", "MappingError", "router"]
