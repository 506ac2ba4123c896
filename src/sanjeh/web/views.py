"""What the pages show, built from engine results: cards, tables, notes (no queries here).

A page handler asks :class:`~sanjeh.web.state.AppState` for results and hands them to these
builders, which turn numbers into text in the user's language (through
:mod:`sanjeh.formatting`), members into names (:func:`sanjeh.i18n.member_label`) and rows
into tables people work with: one column per member (its name, its id behind it), numbers
kept for sorting and downloads, and a long split cut to its top members and an "others" line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sanjeh.calendar import unit_of
from sanjeh.currency import Money
from sanjeh.formatting import (
    fmt_attainment,
    fmt_in,
    fmt_number,
    fmt_points,
    fmt_rate,
    fmt_signed_rate,
    fmt_value,
    money_column,
)
from sanjeh.i18n import isolate, member_label, period_label, t, t_or
from sanjeh.kpis.columns import STEP, Columns, attainment_column, name_column, target_column
from sanjeh.render import column_title
from sanjeh.web import charts

#: A split with more members than this shows its top ones and an "others" line (``?all=1``: all).
TOP = 10
#: The id of the "others" line's member (never a real member: it holds a NUL).
OTHERS = "\0others"


def _arrow(x: Any) -> str:
    return "▲" if x and x > 0 else ("▼" if x and x < 0 else "●")


# -- scorecard cards ---------------------------------------------------------------------------
def spot_view(spot: dict[str, Any], lang: str, currency: Money) -> dict[str, Any]:
    """A card's spotlight laid out: its label, the member (a name), the value, what goes with it."""
    unit = str(spot.get("unit") or "number")

    def val(v: Any, u: str = unit) -> str:
        return fmt_value(v, u, lang, currency, compact=True)

    show = [
        {"title": s["title"].get(lang) or s["measure"], "value": val(s["value"], s["unit"])}
        for s in spot.get("show") or []
        if s["measure"] != spot.get("measure")
    ]
    member = member_label(str(spot.get("by") or ""), spot.get("member"), spot.get("member_name"), lang)
    view: dict[str, Any] = {
        "pick": spot.get("pick"),
        "label": (spot.get("label") or {}).get(lang) or "",
        "member": member,
        "member_iso": isolate(member, lang),  # inside a sentence
        "member_id": spot.get("member"),
        "by": spot.get("by"),
        # the KPI page of that member alone (a member the KPI's table folds into "others" too)
        "filter": f"{spot['by']}:{spot['member']}"
        if spot.get("by") and spot.get("member") is not None and not spot.get("no_rows")
        else "",
        "value": val(spot.get("value")),
        "show": show,
        "share": fmt_rate(spot["share"], lang, 0) if spot.get("share") is not None else None,
        "share_pct": max(0.0, min(100.0, float(spot["share"]) * 100)) if spot.get("share") is not None else None,
    }
    att = spot.get("attainment")
    if att is not None:
        view.update(
            attainment=fmt_attainment(att, lang),
            attainment_pct=max(0.0, min(100.0, float(att) * 100)),
            target=val(spot.get("target")),
        )
    if spot.get("pick") == "median":
        view["median"] = val(spot.get("median"))
    return view


def card_view(card: dict[str, Any], lang: str, currency: Money, period: str = "") -> dict[str, Any]:
    """A scorecard card of ``period``: its headline (or, for a card that shows a spotlight, that
    spotlight), its target, its changes (green when they go the KPI's good way), its sparkline and
    lines."""
    unit = str(card.get("unit") or "number")
    up = card.get("direction", "up") == "up"
    points = card.get("change_in") == "points"  # a rate changes in percentage points

    def trend(x: Any) -> str:
        if x is None or x == 0:
            return "flat"
        return "good" if (float(x) > 0) == up else "bad"

    def change(prefix: str) -> tuple[Any, str | None]:
        if points:
            x = card.get(f"{prefix}change")
            return x, fmt_points(x, lang) if x is not None else None
        x = card.get(f"{prefix}change_rate")
        return x, fmt_signed_rate(x, lang) if x is not None else None

    change_x, change_text = change("")
    yoy_x, yoy_text = change("year_ago_")
    # a change shown as 0 (under a tenth of a point or percent) has no direction: no ▼ before "0 pp"
    change_x = 0.0 if change_x is not None and abs(change_x) < 0.0005 else change_x
    yoy_x = 0.0 if yoy_x is not None and abs(yoy_x) < 0.0005 else yoy_x
    att = card.get("attainment")
    data = card.get("data") or {}
    spots = [spot_view(s, lang, currency) for s in card.get("spotlights") or []]
    shows = card.get("shows", "headline")
    return {
        "kpi": card.get("kpi"),
        "title": (card.get("title") or {}).get(lang) or card.get("kpi"),
        "status": data.get("status", "ok"),
        "missing": [t_or(f"table.{x}", lang, x) for x in data.get("missing") or []],
        "shows": shows,
        "spot": spots[0] if shows == "spotlight" and spots else None,
        "lines": spots[1:] if shows == "spotlight" else spots,
        "value": fmt_value(card.get("value"), unit, lang, currency, compact=True),
        "value_full": fmt_value(card.get("value"), unit, lang, currency),
        "all_of": t("card.all_of", lang, dim=t_or(f"dim_plural.{card['all_of']}", lang, card["all_of"]))
        if card.get("all_of")
        else None,
        "target": fmt_value(card.get("target"), unit, lang, currency, compact=True) if card.get("target") else None,
        "attainment": fmt_attainment(att, lang) if att is not None else None,
        "attainment_pct": max(0.0, min(100.0, float(att) * 100)) if att is not None else None,
        "attainment_ok": att is not None and float(att) >= 1.0,
        "change": change_text,
        "change_arrow": _arrow(change_x),
        "change_trend": trend(change_x),
        "yoy": yoy_text,
        "yoy_arrow": _arrow(yoy_x),
        "yoy_trend": trend(yoy_x),
        # a year's previous period is the year before: one line, said as «نسبت به پارسال», not twice
        "one_change": period.isdigit(),
        "previous": fmt_value(card.get("previous"), unit, lang, currency, compact=True),
        "spark": charts.sparkline_svg(card.get("spark") or [], rtl=lang == "fa"),
        "direction": card.get("direction", "up"),
    }


# -- notes instead of zeros -----------------------------------------------------------------------
def day_text(day: str | None, calendar: str, lang: str) -> str:
    """An ISO day in the workspace's calendar, for people (``۱۵ دی ۱۴۰۳``)."""
    if not day:
        return "—"
    return period_label(unit_of(dt.date.fromisoformat(day), calendar, "day").label, lang)  # type: ignore[arg-type]


def data_note(data: dict[str, Any], lang: str, calendar: str) -> dict[str, Any] | None:
    """What a page says instead of zeros: which data is missing, or where the data lies."""
    status = data.get("status", "ok")
    if status == "ok":
        return None
    first, last = day_text(data.get("first_day"), calendar, lang), day_text(data.get("last_day"), calendar, lang)
    if status == "no_data":
        tables = [t_or(f"table.{x}", lang, x) for x in data.get("missing") or []]
        sep = "، " if lang == "fa" else ", "
        return {"status": status, "text": t("data_note.no_data", lang, tables=sep.join(tables)), "import": True}
    return {"status": status, "text": t(f"data_note.{status}", lang, first=first, last=last), "import": False}


# -- tables ---------------------------------------------------------------------------------------
@dataclass
class Cell:
    text: str
    sort: Any = None  # what the column sorts by (a number, or the text)
    title: str = ""  # shown on hover: the full number behind a short one, a member's id
    link: str = ""


@dataclass
class Column:
    name: str
    title: str
    numeric: bool = False


@dataclass
class TableView:
    """A table as the page draws it (``_table.html``) and the downloads write it."""

    id: str
    columns: list[Column]
    rows: list[list[Cell]]
    others: list[list[Cell]] = field(default_factory=list)  # the "others" lines (a footer)
    hidden: int = 0  # members folded into "others"
    all_url: str = ""  # the same view with every member
    csv_url: str = ""
    xlsx_url: str = ""
    row_attrs: list[dict[str, str]] = field(default_factory=list)


def _role(info: Columns, name: str) -> str | None:
    c = info.get(name)
    return c.role if c is not None else None


def title_of(info: Columns, name: str, kpi: Any, lang: str) -> str:
    """The title of result column ``name`` (:func:`sanjeh.render.column_title`)."""
    c = info.get(name)
    return column_title(c, kpi, lang) if c is not None else name


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def top_members(result: dict[str, Any], kpi: Any, lang: str, *, top: int = TOP) -> tuple[list[dict[str, Any]], int]:
    """The result's rows with only its ``top`` members (by their headline over the whole period)
    and, per step, one "others" row for the rest: sums and counts added up, rates worked out again
    from them where they can be (attainment, change %), the others left empty. Returns the rows and
    how many members were folded."""
    rows: list[dict[str, Any]] = list(result.get("rows") or [])
    dims: list[str] = list(result.get("by") or [])
    if not dims or not rows:
        return rows, 0
    # a rate's top members are those it rests on most (100 % of one deal is no news): ranked by its
    # denominator, else by its counts shown beside it (won + lost deals); other measures by the headline
    head = kpi.headline
    m = kpi.headline_measure
    counts = [x.name for x in kpi.visible_measures if x.kind == "count" and any(x.name in r for r in rows)]
    weigh = [kpi.headline]
    if m.kind == "ratio" and m.den and any(r.get(m.den) is not None for r in rows):
        weigh = [m.den]
    elif m.kind == "ratio" and counts:
        weigh = counts

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(r.get(d) for d in dims)

    totals: dict[tuple[Any, ...], float] = {}
    for r in rows:
        totals[key(r)] = totals.get(key(r), 0.0) + sum(abs(float(r.get(w) or 0)) for w in weigh)
    if len(totals) <= top + 1:
        return rows, 0
    keep = {k for k, _ in sorted(totals.items(), key=lambda kv: -kv[1])[:top]}
    folded = len(totals) - len(keep)
    cols = Columns.of(result, kpi)
    columns = cols.names or list(rows[0].keys())
    additive = {c.name for c in cols if c.additive}
    head_additive = head in additive
    out: list[dict[str, Any]] = []
    others: dict[Any, dict[str, Any]] = {}
    for r in rows:
        if key(r) in keep:
            out.append(r)
            continue
        o = others.setdefault(r.get("period"), {"period": r.get("period"), "_others": folded, "_sums": {}})
        for c in columns:
            if c in additive and r.get(c) is not None:
                o["_sums"][c] = o["_sums"].get(c, 0.0) + float(r[c])
    label = t("view.others", lang, n=fmt_number(folded, lang))
    for o in others.values():
        sums = o.pop("_sums")
        row: dict[str, Any] = dict.fromkeys(columns)
        row.update(sums, period=o["period"], _others=folded)
        for d in dims:
            row[d] = OTHERS
            row[name_column(d)] = label
        for rm in kpi.measures:  # a rate whose two counts are shown: worked out again from their sums
            if rm.kind == "ratio" and rm.name in columns and sums.get(rm.num) is not None and sums.get(rm.den):
                row[rm.name] = sums[rm.num] / sums[rm.den]
        value = sums.get(head)
        target = sums.get(target_column(kpi, head))
        if head_additive and value is not None and target:
            row[attainment_column(kpi, head)] = (
                _ratio(value, target) if kpi.direction == "up" else _ratio(target, value)
            )
        for rate in (c for c in cols if c.role == "change_rate" and c.measure == head):
            before = next(
                (sums.get(c.name) for c in cols if c.role in ("previous", "year_ago") and c.second == rate.second), None
            )
            if value is not None and before:
                row[rate.name] = (value - before) / before
        out.append(row)
    return out, folded


def result_table(
    result: dict[str, Any],
    kpi: Any,
    lang: str,
    currency: Money,
    *,
    table_id: str = "result-table",
    rows: list[dict[str, Any]] | None = None,
    drill: Any = None,
) -> TableView:
    """A KPI result as a table: a member and its name in one column (the name shown, the id on
    hover), the period only when the view is split by time, money shortened with the exact
    amount on hover, every cell keeping its number to sort by. ``rows``: the rows to show (e.g.
    :func:`top_members`'); "others" rows go to the footer."""
    rows = list(result.get("rows") or []) if rows is None else rows
    dims = list(result.get("by") or [])
    info = Columns.of(result, kpi)
    columns: list[str] = info.names or list(rows[0].keys() if rows else [])
    hidden = {m.name for m in kpi.measures if getattr(m, "hidden", False)}
    hidden |= {c.name for c in info if c.role == "dimension_name"}
    if not result.get("grain"):
        hidden.add(STEP)  # one period: the page's heading says which
    if kpi.headline_measure.unit == "rate":
        # a rate's change is shown in points (its change column); a percent of a percent is not
        hidden |= {c.name for c in info if c.role == "change_rate" and c.measure == kpi.headline}
    columns = [c for c in columns if c not in hidden and not c.startswith("_")]
    numeric = {c for c in columns if c != STEP and c not in dims and info.unit(c) != "text"}
    # amounts in one scale per column, its unit once in the header, so the digits line up
    scales = {
        c: money_column([r.get(c) for r in rows if not r.get("_others")], lang, currency)  # the members' scale
        for c in columns
        if c in numeric and info.unit(c) == "money"
    }
    # ... and one scale for the table's amounts, so that a revenue and its target (or a year ago)
    # are read side by side (910.8 against 1,074.1 billion, not 910.8 billion against 1.1 thousand
    # billion): the finest scale of the amounts themselves (changes follow it)
    own = [v for c, v in scales.items() if _role(info, c) != "change"] or list(scales.values())
    if own:
        finest = min(own, key=lambda sv: sv[0])
        scales = dict.fromkeys(scales, finest)
    view = TableView(
        table_id,
        [
            Column(c, title_of(info, c, kpi, lang) + (f" ({scales[c][1]})" if c in scales else ""), c in numeric)
            for c in columns
        ],
        [],
    )
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            if c == "period":
                cells.append(Cell(period_label(v, lang), str(v)))
            elif c in dims:
                if v == OTHERS:
                    cells.append(Cell(str(r.get(name_column(c))), ""))
                    continue
                label = member_label(c, v, r.get(name_column(c)), lang)
                link = drill(c, str(v)) if drill is not None and v is not None else ""
                cells.append(Cell(label, label, str(v) if label != str(v) else "", link))
            else:
                unit = info.unit(c)
                if unit == "text":
                    text = fmt_number(v, lang) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
                    cells.append(Cell("—" if v is None else text, v))
                    continue
                short = fmt_in(v, scales[c][0], lang) if c in scales else fmt_value(v, unit, lang, currency)
                full = fmt_value(v, unit, lang, currency)
                cells.append(Cell(short, v, full if full != short else ""))
        (view.others if r.get("_others") else view.rows).append(cells)
    return view
