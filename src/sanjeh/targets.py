"""Read and change the workspace's targets (the canonical ``targets`` table), with an audit.

:func:`validate_targets` checks rows against the KPI catalogue (KPI name, measure,
dimension), the period labels (one calendar unit, not a range), the values and the text
(no control characters), and collects every problem with its row number, a stable ``code``
and its ``params`` (so a page can say it in the user's language). Nothing is written while
any problem remains: all or nothing.

Writes change only the rows that changed, in one transaction: :func:`apply_changes` takes
a list of changes (add a row, change one, delete one: what the editor and ``PATCH
/api/v1/targets`` send); :func:`replace_targets` (``PUT``) makes the table equal to the rows
it is given by working out those changes. Every change is written to the audit table
``_target_changes`` in the same transaction: who, when, what, old → new value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sanjeh.calendar import parse_period
from sanjeh.errors import Forbidden, InvalidPeriod, UserError
from sanjeh.formatting import NumberError, ascii_number, check_separators, exact_float
from sanjeh.text import member_key
from sanjeh.workspace import Workspace

TARGETS_TABLE = "targets"
CHANGES_TABLE = "_target_changes"
COLUMNS = ("kpi", "measure", "period", "dimension", "member", "target")
KEY = ("kpi", "measure", "period", "dimension", "member")
_SCHEMA = pa.schema(
    [
        ("kpi", pa.string()),
        ("measure", pa.string()),
        ("period", pa.string()),
        ("dimension", pa.string()),
        ("member", pa.string()),
        ("target", pa.float64()),
    ]
)
_CHANGES_SCHEMA = pa.schema(
    [
        ("changed_at", pa.timestamp("us")),
        ("username", pa.string()),
        ("action", pa.string()),
        ("kpi", pa.string()),
        ("measure", pa.string()),
        ("period", pa.string()),
        ("dimension", pa.string()),
        ("member", pa.string()),
        ("old_target", pa.float64()),
        ("new_target", pa.float64()),
        ("via", pa.string()),
    ]
)
#: How a change reached the targets (the audit's ``via``).
VIAS = ("editor", "api", "copy", "spread")
MAX_TEXT = 200  # characters of a text field


class InvalidTargets(UserError):
    status = 422
    code = "invalid_targets"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {c: r.get(c) for c in COLUMNS}


def read_targets(
    ws: Workspace, *, rep_id: str | None = None, reps: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Every target, ordered by KPI, period, measure, dimension, member.

    With ``rep_id``, only the targets set for that rep (dimension ``rep``, member ``rep_id``);
    with ``reps``, those set for any of these reps (a team's).
    """
    rows = [_row(r) for r in ws.warehouse.table(TARGETS_TABLE).to_pyarrow().to_pylist()]
    if rep_id is not None:
        reps = [rep_id]
    if reps is not None:
        rows = [r for r in rows if for_reps(r, reps)]
    rows.sort(key=lambda r: tuple(_text(r[c]) for c in ("kpi", "period", "measure", "dimension", "member")))
    return rows


def for_reps(row: Mapping[str, Any], reps: Iterable[str]) -> bool:
    """Whether ``row`` is a target set for one of ``reps`` (by rep id, compared as members are)."""
    if _text(row.get("dimension")).lower() != "rep":
        return False
    keys = {member_key("rep", r) for r in reps}
    return member_key("rep", _text(row.get("member"))) in keys


# -- checking ----------------------------------------------------------------------------------
@dataclass
class _Issues:
    items: list[dict[str, Any]]

    def add(self, n: int, column: str, value: Any, code: str, reason: str, **params: Any) -> None:
        shown = None if value is None else str(value)[:MAX_TEXT]
        self.items.append(
            {"row": n, "column": column, "value": shown, "code": code, "params": params, "reason": reason}
        )


def _raise(issues: list[dict[str, Any]]) -> None:
    first = issues[0]
    more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
    raise InvalidTargets(
        f"target row {first['row']}, {first['column'] or 'row'}: {first['reason']}{more}",
        details={"issues": issues},
    )


def normal_key(row: Mapping[str, Any], kpis: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    """What two targets are the same target by: KPI, measure (empty: the headline), the canonical
    period label, dimension and member (normalised, case-insensitive)."""
    name = _text(row.get("kpi")).lower()
    kpi = kpis.get(name)
    measure = _text(row.get("measure")) or (kpi.headline if kpi is not None else "")
    period = _text(row.get("period"))
    with contextlib.suppress(InvalidPeriod):
        period = parse_period(period).label
    dim = _text(row.get("dimension")).lower()
    member = member_key(dim, _text(row.get("member"))) if dim else _text(row.get("member")).lower()
    return (name, measure, period, dim, member)


def _check_row(kpis: Mapping[str, Any], raw: Any, n: int, issue: _Issues) -> dict[str, Any] | None:
    """One row checked and normalised; its problems go to ``issue``."""
    if not isinstance(raw, Mapping):
        issue.add(
            n, "", raw, "not_a_row", "a target must be an object with kpi, measure, period, dimension, member, target"
        )
        return None
    unknown = sorted(set(raw) - set(COLUMNS) - {"target_error"})  # the editor's note of a value refused
    if unknown:
        issue.add(
            n, unknown[0], None, "unknown_field",
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}", fields=", ".join(unknown),
        )  # fmt: skip
    for column in ("kpi", "measure", "period", "dimension", "member"):
        text = _text(raw.get(column))
        if _has_control(text):
            issue.add(n, column, text.encode("unicode_escape").decode(), "control_character",
                      f"{column} holds a control character (NUL, CR, LF, …)")  # fmt: skip
            return None
        if len(text) > MAX_TEXT:
            issue.add(n, column, text, "too_long", f"{column} is longer than {MAX_TEXT} characters", limit=MAX_TEXT)
            return None
    name = _text(raw.get("kpi"))
    kpi = kpis.get(name)
    if kpi is None:
        if name:
            issue.add(n, "kpi", name, "unknown_kpi", f"unknown KPI {name!r}", kpi=name)
        else:
            issue.add(n, "kpi", name, "kpi_required", "the KPI is required")
        return None
    measures = [m.name for m in kpi.measures]
    measure = _text(raw.get("measure")) or kpi.headline
    if measure not in measures:
        issue.add(n, "measure", measure, "unknown_measure",
                  f"{name} has no measure {measure!r}; its measures are: {', '.join(measures)}", measure=measure)  # fmt: skip
    period_text = _text(raw.get("period"))
    period = ""
    try:
        p = parse_period(period_text)
        if p.is_range:
            issue.add(
                n, "period", period_text, "period_range", "a target is set for one period (e.g. 1403-Q1), not a range"
            )
        period = p.label
    except InvalidPeriod as exc:
        issue.add(n, "period", period_text, "bad_period" if period_text else "period_required", exc.message,
                  period=period_text)  # fmt: skip
    dimension = _text(raw.get("dimension"))
    member = _text(raw.get("member"))
    if dimension and dimension not in kpi.dimensions:
        allowed = ", ".join(kpi.dimensions) or "none"
        issue.add(n, "dimension", dimension, "unknown_dimension",
                  f"{name} cannot be split by {dimension!r}; its dimensions are: {allowed}", dimension=dimension)  # fmt: skip
    if dimension and not member:
        issue.add(
            n, "member", member, "member_required", f"a target by {dimension} needs a member (e.g. a {dimension} id)"
        )
    if member and not dimension:
        issue.add(n, "dimension", dimension, "dimension_required", "a target for a member needs its dimension")
    value = raw.get("target")
    number: float | None = None
    refused = raw.get("target_error")  # a form's typed value it could not read as typed (its code)
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = float(value)
    elif _text(value) and not refused:
        try:
            number = _typed_number(_text(value))
        except NumberError as exc:
            refused = exc.code
        except ValueError:
            number = None
    if refused in ("decimal_comma", "too_precise"):
        reasons = {
            "decimal_comma": "a comma that is not a thousands separator: write the decimal mark as '.' (or ٫)",
            "too_precise": "more significant digits than a stored number keeps (about 16): round it",
        }
        issue.add(n, "target", value, str(refused), reasons[str(refused)])
    elif number is None or math.isnan(number) or math.isinf(number):
        issue.add(
            n, "target", value, "not_a_number" if _text(value) else "target_required", "the target must be a number"
        )
    elif number < 0:
        issue.add(n, "target", value, "negative", "a target cannot be negative")
    elif number > 1 and measure in measures and kpi.measure(measure).part_of_whole:
        issue.add(n, "target", value, "rate_over_whole",
                  f"{measure} is a part of a whole, at most 100 %: a rate is written as a fraction "
                  f"(0.425 for 42.5 %)", measure=measure)  # fmt: skip
    return {
        "kpi": name,
        "measure": measure,
        "period": period,
        "dimension": dimension or None,
        "member": member or None,
        "target": number,
    }


def _typed_number(text: str) -> float:
    """A target written as text (a file's, the API's): thousands separators only in groups of three
    and no more digits than are kept (:class:`~sanjeh.formatting.NumberError`), else a plain number."""
    from decimal import Decimal, InvalidOperation

    s = ascii_number(text)
    check_separators(s)
    plain = s.replace(",", "").replace("٬", "")
    try:
        d = Decimal(plain)
    except InvalidOperation:
        raise ValueError(text) from None
    if not d.is_finite():
        raise ValueError(text)
    return exact_float(d, text)


def validate_targets(
    catalogue: Iterable[Any], rows: Iterable[Mapping[str, Any]], *, numbers: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Check and normalise target rows against a KPI catalogue; raise one error listing every problem.

    Each issue in ``details["issues"]`` has ``row`` (1-based, or ``numbers[i]``), ``column``,
    ``value``, ``code`` and ``params`` (to say it in any language) and ``reason`` (in English).
    """
    checked, issues = _checked({k.name: k for k in catalogue}, list(rows), numbers)
    if issues:
        _raise(issues)
    return [clean for _, clean in checked if clean is not None]


def _checked(
    kpis: Mapping[str, Any], rows: Sequence[Any], numbers: Sequence[int] | None
) -> tuple[list[tuple[int, dict[str, Any] | None]], list[dict[str, Any]]]:
    """Each row's number and its normalised form (None when it cannot be read), and every issue."""
    issues = _Issues([])
    out: list[tuple[int, dict[str, Any] | None]] = []
    seen: dict[tuple[str, ...], int] = {}
    for i, raw in enumerate(rows):
        n = numbers[i] if numbers is not None else i + 1
        clean = _check_row(kpis, raw, n, issues)
        if clean is not None:
            key = normal_key(clean, kpis)
            if key in seen:
                issues.add(n, "period", clean["period"], "duplicate",
                           f"the same target is already set on row {seen[key]}", other=seen[key])  # fmt: skip
            else:
                seen[key] = n
        out.append((n, clean))
    return out, issues.items


# -- changing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change: ``old`` (a stored target's key columns, None to add) -> ``new`` (a row, None to delete)."""

    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@dataclass
class Applied:
    """What a write did: the rows added, changed and deleted (no-ops are not counted)."""

    added: int = 0
    changed: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.added + self.changed + self.deleted

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "deleted": self.deleted}


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(_text(a.get(c)) == _text(b.get(c)) for c in KEY) and a.get("target") == b.get("target")


def apply_changes(
    ws: Workspace,
    changes: Sequence[Change],
    *,
    username: str,
    via: str = "api",
    reps: Iterable[str] | None = None,
) -> Applied:
    """Apply ``changes`` to the stored targets, all or nothing, and audit each one.

    ``old`` names a stored target by its key columns (compared as :func:`normal_key` does);
    ``new`` is a whole row, checked like :func:`validate_targets`. Issues are numbered by the
    change (1-based). With ``reps`` (a team manager), every old and new row must be a target
    set for one of these reps. A change whose new row equals its old one does nothing.
    """
    catalogue = ws.engine().catalogue()
    kpis = {k.name: k for k in catalogue}
    stored = read_targets(ws)
    by_key: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in stored:
        by_key.setdefault(normal_key(r, kpis), []).append(r)
    issues = _Issues([])
    olds: dict[int, dict[str, Any]] = {}
    taken: set[int] = set()
    allowed = list(reps) if reps is not None else None
    for n, ch in enumerate(changes, start=1):
        if ch.old is None:
            continue
        hits = by_key.get(normal_key(ch.old, kpis), [])
        exact = [r for r in hits if all(_text(r[c]) == _text(ch.old.get(c)) for c in KEY)]
        found = (exact or hits)[:1]
        if not found:
            issues.add(n, "", _text(ch.old.get("kpi")), "not_found",
                       "no such target (it was changed or deleted meanwhile; reload and try again)")  # fmt: skip
        elif id(found[0]) in taken:
            issues.add(n, "", _text(ch.old.get("kpi")), "changed_twice", "the same target is changed twice")
        else:
            taken.add(id(found[0]))
            olds[n] = found[0]
            if allowed is not None and not for_reps(found[0], allowed):
                issues.add(n, "member", _text(found[0].get("member")), "not_your_team",
                           "a team's manager changes only the targets of the team's reps")  # fmt: skip
    numbers = [n for n, ch in enumerate(changes, start=1) if ch.new is not None]
    checked, problems = _checked(kpis, [ch.new for ch in changes if ch.new is not None], numbers)
    issues.items.extend(problems)
    news = {n: clean for n, clean in checked if clean is not None}
    if allowed is not None:
        for n, row in news.items():
            if not for_reps(row, allowed):
                issues.add(n, "member", _text(row.get("member")), "not_your_team",
                           "a team's manager sets only the targets of the team's reps")  # fmt: skip
    # a new row must not repeat a target that stays
    staying = {normal_key(r, kpis) for r in stored if id(r) not in taken}
    for n, row in news.items():
        if normal_key(row, kpis) in staying:
            issues.add(n, "period", row["period"], "already_set", "this target is already set; change that row instead")
    if issues.items:
        issues.items.sort(key=lambda i: (i["row"], i["column"]))
        _raise(issues.items)
    return _write(ws, [(olds.get(n), news.get(n)) for n in range(1, len(changes) + 1)], username, via)


def _write(
    ws: Workspace, pairs: Sequence[tuple[dict[str, Any] | None, dict[str, Any] | None]], username: str, via: str
) -> Applied:
    """Delete the old rows and insert the new ones of the real changes, with their audit, in one transaction."""
    done = Applied()
    now = dt.datetime.now()  # to the microsecond: the audit is read newest first
    delete: list[dict[str, Any]] = []
    insert: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []

    def log(action: str, row: Mapping[str, Any], old: Any, new: Any) -> None:
        audit.append(
            {"changed_at": now, "username": username, "action": action, **{c: row.get(c) for c in KEY},
             "old_target": old, "new_target": new, "via": via}
        )  # fmt: skip

    for old, new in pairs:
        if old is None and new is None:
            continue
        if old is not None and new is not None and _same(old, new):
            continue
        if old is not None:
            delete.append(old)
        if new is not None:
            insert.append(new)
        if old is not None and new is not None and all(_text(old[c]) == _text(new[c]) for c in KEY):
            done.changed += 1
            log("change", new, old["target"], new["target"])
            continue
        if old is not None:
            done.deleted += 1
            log("delete", old, old["target"], None)
        if new is not None:
            done.added += 1
            log("add", new, None, new["target"])
    if not audit:
        return done
    wh = ws.warehouse
    with wh.transaction():
        if delete:
            wh.delete_matching(TARGETS_TABLE, pa.table({c: [r[c] for r in delete] for c in KEY}, schema=_key_schema()))
        if insert:
            wh.insert_arrow(TARGETS_TABLE, pa.table({c: [r[c] for r in insert] for c in COLUMNS}, schema=_SCHEMA))
        wh.insert_arrow(CHANGES_TABLE, pa.table({c: [a[c] for a in audit] for c in _CHANGES_SCHEMA.names},
                                                schema=_CHANGES_SCHEMA))  # fmt: skip
    return done


def _key_schema() -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in KEY])


def replace_targets(
    ws: Workspace, rows: Iterable[Mapping[str, Any]], *, username: str = "", via: str = "api"
) -> list[dict[str, Any]]:
    """Make the targets exactly ``rows`` (validated first; all or nothing). Only the rows that differ
    are written (and audited): an unchanged row is left as it is. Returns the stored rows."""
    catalogue = ws.engine().catalogue()
    kpis = {k.name: k for k in catalogue}
    clean = validate_targets(catalogue, list(rows))
    stored = read_targets(ws)
    by_key: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in stored:
        by_key.setdefault(normal_key(r, kpis), []).append(r)
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for row in clean:
        hits = by_key.get(normal_key(row, kpis))
        pairs.append((hits.pop(0) if hits else None, row))
    pairs += [(r, None) for rest in by_key.values() for r in rest]
    _write(ws, pairs, username, via)
    return read_targets(ws)


def check_team(rows: Iterable[Mapping[str, Any]], reps: Iterable[str]) -> None:
    """Refuse (403) rows that are not targets of ``reps`` (a team manager's)."""
    allowed = list(reps)
    if any(not for_reps(r, allowed) for r in rows):
        raise Forbidden(key="auth.team_targets", details={"reason": "team"})


# -- the audit ------------------------------------------------------------------------------------
def read_changes(
    ws: Workspace, *, limit: int = 50, offset: int = 0, reps: Iterable[str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The audited changes, newest first (``limit`` from ``offset``), and how many there are.
    With ``reps``, only the changes of targets set for these reps."""
    if not ws.warehouse.has_table(CHANGES_TABLE):  # a read-only workspace made before the audit
        return [], 0
    t = ws.warehouse.table(CHANGES_TABLE)
    if reps is not None:
        keys = sorted({member_key("rep", r) for r in reps})
        t = t.filter((t.dimension.lower() == "rep") & t.member.lower().isin(keys))
    total = int(t.count().execute())
    page = t.order_by([t.changed_at.desc(), t.kpi, t.period]).limit(limit, offset=offset)
    return [dict(r) for r in page.to_pyarrow().to_pylist()], total
