"""The forecast page: where a KPI's period will land (docs/forecast.md, "The forecast page").

``/kpi/NAME/forecast?period=1403-Q3[&by=rep|source][&measure=M]`` shows, for a measure that adds
up over time: the pace by working days; the statistical forecast of its months in 80 % and 95 %
bands, where the period lands and the chance of the target, with every model's backtest error;
for a money measure the weighted pipeline with the deals that carry it, and the time-to-win curve
with the stale deals; and the forecasts' own track record. Everything comes from
:meth:`AppState.forecast` (kpis/forecast.py ``outlook``) in the user's scope — a rep's page
covers the rep's deals and rows — and is written in the user's language and calendar. The default
period is the current quarter; a period that cannot be read is said beside the period box (422).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sanjeh.calendar import current_unit, parse_period
from sanjeh.currency import Money
from sanjeh.formatting import fmt_in, fmt_number, fmt_rate, fmt_signed_rate, fmt_value, money_column
from sanjeh.i18n import member_label, model_name, period_label, t
from sanjeh.kpis.timetowin import check_by
from sanjeh.web import charts, views
from sanjeh.web.deps import state_of
from sanjeh.web.pages import _context, _lang, _period_controls, _period_param, _render, _url, page_caller
from sanjeh.web.state import AppState
from sanjeh.web.views import Cell, Column, TableView

router = APIRouter(include_in_schema=False)
TOP_DEALS = 15  # the deals that carry the pipeline, largest expected value first
STALE_SHOWN = 15
TRACK_SHOWN = 24


def forecast_url(kpi: str, period: str, lang_param: str | None = None) -> str:
    """The forecast page of ``kpi``'s ``period`` (the links of the scorecard and the KPI page)."""
    return _url(f"/kpi/{kpi}/forecast", [("period", period), ("lang", lang_param or "")])


@dataclass
class ForecastPage:
    """What forecast.html shows: the engine's outlook of a KPI's period laid out
    (:func:`forecast_view`)."""

    kpi: dict[str, Any]
    measure: str
    period: str
    controls: dict[str, Any]
    extra_params: list[tuple[str, str]]
    by: str | None
    pace: str
    days_off: str
    #: the final value of a period that has ended (it has no forecast)
    closed: str | None
    forecast: dict[str, Any] | None
    forecast_error: str | None
    pipeline: dict[str, Any] | None
    ttw: dict[str, Any] | None
    track: dict[str, Any]
    kpi_url: str
    json_url: str


def forecast_view(
    st: AppState,
    k: Any,
    data: dict[str, Any],
    names: dict[str, str],
    period_controls: dict[str, Any],
    by: str | None,
    measure: str | None,
    lang: str,
    lang_param: str | None,
) -> ForecastPage:
    """The forecast page of the engine's outlook ``data`` (:meth:`AppState.forecast`) of
    ``period_controls``'s period; ``names`` the reps' names (for the pipeline's tables)."""
    period = str(period_controls["period"])
    cur = st.ws.settings.money_format
    unit = str(data["unit"])
    calendar = parse_period(period).calendar
    extra = [("by", by or ""), ("measure", measure or "")]
    m = k.measure(str(data["measure"]))

    def val(x: Any) -> str:
        return fmt_value(x, unit, lang, cur, compact=True)

    closed = parse_period(period).end < st.ws.today()
    fc = data.get("forecast")
    return ForecastPage(
        kpi={"name": k.name, "title": k.title.get(lang) or k.name},
        measure=m.title.get(lang) or m.name,
        period=period,
        controls=period_controls,
        extra_params=[(p, v) for p, v in extra if v],
        by=by,
        pace=_pace_text(data["pace"], k, lang, val),
        days_off=t(f"forecast.days_off.{data['pace']['days_off'].split('+')[0]}", lang),
        closed=t("forecast.closed", lang, period=period_label(period, lang), value=val(data["pace"]["so_far"]))
        if closed
        else None,
        forecast=None if closed or fc is None else _forecast_view(fc, data["pace"], unit, lang, cur, val),
        forecast_error=(data.get("forecast_error") or {}).get(lang) if not closed else None,
        # open deals close from now on: a period that is over has none to expect (it read «۰ ریال
        # انتظار می‌رود در فصل ۴ …» above a table of next year's quarters)
        pipeline=_pipeline_view(data["pipeline"], by, names, lang, cur, calendar)
        if "pipeline" in data and data["pipeline"]["deals"] and not closed  # no open deal: nothing to weigh
        else None,
        ttw=_ttw_view(data["time_to_win"], by, names, lang, cur, calendar) if "time_to_win" in data else None,
        track=_track_view(data["track_record"], unit, lang, cur, calendar),
        kpi_url=_url(f"/kpi/{k.name}", [("period", period), ("lang", lang_param or "")]),
        json_url=_url(f"/api/v1/kpis/{k.name}/forecast", [("period", period), *extra]),
    )


@router.get("/kpi/{name}/forecast")
def forecast_page(request: Request, name: str) -> Response:
    c = page_caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    k = st.kpi(name)
    q = request.query_params
    by = (q.get("by") or "").strip().lower() or None
    check_by(by)
    measure = (q.get("measure") or "").strip() or None
    errors: dict[str, str] = {}
    period = _period_param(request, st, lang, errors, lambda cal: current_unit(st.ws.today(), cal, "quarter").label)
    lang_param = q.get("lang") if q.get("lang") in ("fa", "en") else None
    data = st.forecast(c.user, k.name, period, measure, by)
    extra = [(p, v) for p, v in (("by", by or ""), ("measure", measure or "")) if v]
    controls = _period_controls(request, st, period, lang, extra)
    controls.update(error=errors.get("period"), typed=errors.get("period_typed"))
    names = {r: n or r for r, n in st.members(c.user, "rep")} if "pipeline" in data else {}
    view = forecast_view(st, k, data, names, controls, by, measure, lang, lang_param)
    return _render(request, "forecast.html", c, status=422 if errors else 200, lang=lang, **_context(view))


def _pace_text(pc: dict[str, Any], k: Any, lang: str, val: Callable[[Any], str]) -> str:
    if pc.get("data_end"):  # the data ends before the period began: no pace to tell
        calendar = parse_period(pc["period"]).calendar
        return t(
            "forecast.pace_data_ends",
            lang,
            kpi=k.title.get(lang) or k.name,
            period=period_label(pc["period"], lang),
            day=views.day_text(pc["data_end"], calendar, lang),
        )
    if pc.get("no_data"):  # nothing imported yet
        return t(
            "forecast.pace_no_data", lang, kpi=k.title.get(lang) or k.name, period=period_label(pc["period"], lang)
        )
    common = {
        "kpi": k.title.get(lang) or k.name,
        "period": period_label(pc["period"], lang),
        "so_far": val(pc["so_far"]),
        "left": fmt_number(pc["working_days_left"], lang),
        "total": fmt_number(pc["working_days_left"] + pc["working_days_elapsed"], lang),
        "projected": val(pc["projected"]),
    }
    has_target = pc["target"] is not None
    if pc["projected"] is None:  # not begun yet (no working day so far): nothing to take a pace from
        target = {"target": val(pc["target"])} if has_target else {}
        return t("forecast.pace_not_begun" + ("" if has_target else "_no_target"), lang, **common, **target)
    if pc["working_days_left"] == 0:  # over: what it came to, not where it "will" land
        key = "forecast.pace_over" + ("" if has_target else "_no_target")
        attainment = {"target": val(pc["target"]), "attainment": fmt_rate(pc["attainment_so_far"], lang)}
        return t(key, lang, **common, **(attainment if has_target else {}))
    if not has_target:
        return t("forecast.pace_no_target", lang, **common)
    return t(
        "forecast.pace",
        lang,
        target=val(pc["target"]),
        attainment=fmt_rate(pc["attainment_so_far"], lang),
        projected_attainment=fmt_rate(pc["projected_attainment"], lang),
        **common,
    )


def _forecast_view(
    fc: dict[str, Any], pc: dict[str, Any], unit: str, lang: str, cur: Money, val: Callable[[Any], str]
) -> dict[str, Any]:
    land = fc["landing"]
    models = TableView(
        "models-table",
        [Column("model", t("forecast.model", lang)), Column("mase", t("forecast.mase", lang), True)],
        [],
    )
    for name, err in sorted(fc["backtest_mase"].items(), key=lambda kv: kv[1]):
        chosen = f" ({t('forecast.chosen', lang)})" if name == fc["model"] else ""
        models.rows.append([Cell(model_name(name, lang) + chosen, name), Cell(fmt_number(err, lang, 2), err)])
        models.row_attrs.append({"data-model": name, **({"data-chosen": "1"} if chosen else {})})
    return {
        "figure": charts.forecast_chart(fc, unit, lang, currency=cur),
        "landing": t("forecast.landing", lang, **{x: val(land[x]) for x in ("mean", "booked", *BANDS)}),
        "chance": t("forecast.chance", lang, chance=fmt_rate(fc["chance_of_target"], lang, 0))
        if fc.get("chance_of_target") is not None
        else None,
        "chance_value": fc.get("chance_of_target"),
        "model": fc["model"],
        "models": models,
    }


BANDS = ("lo80", "hi80", "lo95", "hi95")


def _money(values: Sequence[Any], lang: str, cur: Money) -> tuple[Callable[[Any], Cell], str]:
    """Cells of one money column in one scale (its unit goes once, in the header)."""
    divisor, word = money_column(values, lang, cur)

    def cell(v: Any) -> Cell:
        full = fmt_value(v, "money", lang, cur)
        return Cell(fmt_in(v, divisor, lang), v, full)

    return cell, word


def _member(dim: str, v: Any, names: dict[str, str], lang: str) -> str:
    return (names.get(str(v)) if dim == "rep" else None) or member_label(dim, v, None, lang)


def _deals_table(
    table_id: str,
    deals: list[dict[str, Any]],
    more: list[tuple[Column, Callable[[dict[str, Any]], Cell]]],
    names: dict[str, str],
    lang: str,
    cur: Money,
) -> TableView:
    """Deals as a table: the deal, its rep (by name), source, stage and amount, then ``more``
    columns (each with the cell it makes of a deal); each row carries its deal and rep."""
    amount, word = _money([d["amount"] for d in deals], lang, cur)
    columns = [
        Column("deal", t("forecast.col.deal", lang)),
        Column("rep", t("dim.rep", lang)),
        Column("source", t("dim.source", lang)),
        Column("stage", t("forecast.stage", lang)),
        Column("amount", f"{t('forecast.col.amount', lang)} ({word})", True),
    ]
    table = TableView(table_id, columns + [c for c, _ in more], [])
    for d in deals:
        table.rows.append(
            [
                Cell(d["opportunity_id"], d["opportunity_id"]),
                Cell(_member("rep", d["rep"], names, lang), d["rep"], d["rep"]),
                Cell(member_label("source", d["source"], None, lang), d["source"]),
                Cell(member_label("stage", d["stage"], None, lang), d["stage"]),
                amount(d["amount"]),
                *(cell(d) for _, cell in more),
            ]
        )
        table.row_attrs.append({"data-deal": d["opportunity_id"], "data-rep": d["rep"]})
    return table


def _pipeline_view(
    pipe: dict[str, Any], by: str | None, names: dict[str, str], lang: str, cur: Money, calendar: str
) -> dict[str, Any]:
    split = by or "period"
    per = list(pipe[f"per_{split}"].items())
    cell, word = _money([v for _, v in per], lang, cur)
    per_table = TableView(
        "pipeline-split",
        [
            Column(split, t(f"forecast.per_{split}", lang)),
            Column("expected", f"{t('forecast.expected', lang)} ({word})", True),
        ],
        [],
    )
    for key, v in per:
        text = period_label(key, lang) if split == "period" else _member(split, key, names, lang)
        per_table.rows.append([Cell(text, key, key if text != key else ""), cell(v)])
    deals = pipe["deals"][:TOP_DEALS]
    expected, word = _money([d["expected"] for d in deals], lang, cur)
    top = _deals_table(
        "pipeline-deals",
        deals,
        [
            (
                Column("probability", t("forecast.probability", lang), True),
                lambda d: Cell(fmt_rate(d["probability"], lang, 0), d["probability"]),
            ),
            (Column("expected", f"{t('forecast.expected', lang)} ({word})", True), lambda d: expected(d["expected"])),
            (
                Column("close", t("forecast.col.close", lang)),
                lambda d: Cell(views.day_text(d["expected_close"], calendar, lang), d["expected_close"]),
            ),
        ],
        names,
        lang,
        cur,
    )
    text = t(
        "forecast.pipeline",
        lang,
        expected=fmt_value(pipe["expected_in_period"], "money", lang, cur, compact=True),
        period=period_label(pipe["period"], lang),
        deals=fmt_number(len(pipe["deals"]), lang),
        rate=fmt_rate(pipe["overall_win_rate"], lang),
        closed=fmt_number(pipe["closed_deals"], lang),
    )
    p = parse_period(pipe["period"])
    stale = [d for d in pipe["deals"] if d["stale"] and p.start.isoformat() <= d["expected_close"] <= p.end.isoformat()]
    if stale:  # open longer than any deal ever won, yet weighed as any other: said, with how much
        text += " " + t(
            "forecast.pipeline_stale",
            lang,
            n=fmt_number(len(stale), lang),
            expected=fmt_value(sum(d["expected"] for d in stale), "money", lang, cur, compact=True),
        )
    if pipe["deals"] and not any(s["deals"] for s in pipe["stages"]):
        # no open deal's stage has closed deals of its own (a CRM that moves a closed deal to a
        # closing stage): every deal has the overall rate, whatever its stage; said, not implied
        text += " " + t("forecast.pipeline_one_rate", lang, rate=fmt_rate(pipe["overall_win_rate"], lang))
    return {
        "text": text,
        "split": per_table,
        "deals": top,
        "more": max(0, len(pipe["deals"]) - TOP_DEALS),
    }


def _ttw_view(
    ttw: dict[str, Any], by: str | None, names: dict[str, str], lang: str, cur: Money, calendar: str
) -> dict[str, Any]:
    c = ttw["overall"]
    days = ttw["stale_after_days"]
    labels = {str(g["member"]): _member(by or "", g["member"], names, lang) for g in ttw["groups"]} if by else {}
    stale = ttw["stale"][:STALE_SHOWN]
    table = _deals_table(
        "stale-deals",
        stale,
        [
            (
                Column("created", t("forecast.col.created", lang)),
                lambda d: Cell(views.day_text(d["created"], calendar, lang), d["created"]),
            ),
            (
                Column("age", t("forecast.col.age", lang), True),
                lambda d: Cell(fmt_value(d["age_days"], "days", lang), d["age_days"]),
            ),
        ],
        names,
        lang,
        cur,
    )
    counts = {
        "deals": fmt_number(c["deals"], lang),
        "won": fmt_number(c["won_deals"], lang),
        "lost": fmt_number(c["lost_deals"], lang),
        "open": fmt_number(c["open_deals"], lang),
    }
    if days is None:
        text, stale_text = t("forecast.ttw_none", lang, **counts), None
    else:
        share = fmt_rate(ttw["share"], lang, 0)
        text = t("forecast.ttw", lang, share=share, days=fmt_number(days, lang), **counts)
        stale_text = t(
            "forecast.stale" if ttw["stale_count"] else "forecast.stale_none",
            lang,
            n=fmt_number(ttw["stale_count"], lang),
            amount=fmt_value(ttw["stale_amount"], "money", lang, cur, compact=True),
            days=fmt_number(days, lang),
        )
    return {
        "figure": charts.time_to_win_chart(ttw, lang, labels),
        "text": text,
        "stale_text": stale_text,
        "stale": table if stale else None,
        "more": max(0, int(ttw["stale_count"]) - len(stale)),
    }


def _track_view(track: dict[str, Any], unit: str, lang: str, cur: Money, calendar: str) -> dict[str, Any]:
    rows = track["rows"][:TRACK_SHOWN]
    s = track["summary"]
    values = [x for r in rows for x in (r["value"], r["actual"], r["lo80"], r["hi80"], r["pace"])]
    if unit == "money":
        cell, word = _money(values, lang, cur)
        head = f" ({word})"
    else:

        def cell(v: Any) -> Cell:
            return Cell(fmt_value(v, unit, lang, cur), v)

        head = ""
    table = TableView(
        "track-table",
        [
            Column("period", t("forecast.track.period", lang)),
            Column("made_on", t("forecast.track.made_on", lang)),
            Column("value", t("forecast.track.value", lang) + head, True),
            Column("range", t("forecast.track.range", lang) + head, True),
            Column("chance", t("forecast.track.chance", lang), True),
            Column("model", t("forecast.track.model", lang)),
            Column("pace", t("forecast.track.pace", lang) + head, True),
            Column("actual", t("forecast.track.actual", lang) + head, True),
            Column("error", t("forecast.track.error", lang), True),
            Column("pace_error", t("forecast.track.pace_error", lang), True),
            Column("inside", t("forecast.track.inside", lang)),
        ],
        [],
    )
    for r in rows:
        lo, hi = cell(r["lo80"]), cell(r["hi80"])
        running = r["actual"] is None
        table.rows.append(
            [
                Cell(period_label(r["period"], lang), r["period"]),
                Cell(views.day_text(r["made_on"], calendar, lang), r["made_on"]),
                cell(r["value"]),
                Cell(f"{lo.text} – {hi.text}", r["lo80"]),
                Cell(fmt_rate(r["chance"], lang, 0), r["chance"]),
                Cell(
                    f"{model_name(r['model'], lang) if r['model'] else '—'} ({fmt_number(r['mase'], lang, 2)})",
                    r["mase"],
                ),
                cell(r["pace"]),
                Cell(t("forecast.track.running", lang), None) if running else cell(r["actual"]),
                Cell(fmt_signed_rate(r["error"], lang), r["error"]),
                Cell(fmt_signed_rate(r["pace_error"], lang), r["pace_error"]),
                Cell("" if running else t("rows.yes" if r["inside80"] else "rows.no", lang), r["inside80"]),
            ]
        )
        table.row_attrs.append({"data-period": r["period"], "data-made-on": r["made_on"]})
    summary = None
    if s["closed"]:
        summary = t(
            "forecast.track.summary",
            lang,
            n=fmt_number(s["closed"], lang),
            inside=fmt_number(s["inside80"], lang),
            error=fmt_rate(s["mean_abs_error"], lang),
            pace_error=fmt_rate(s["pace_mean_abs_error"], lang),
        )
    return {"table": table if rows else None, "summary": summary, "more": max(0, len(track["rows"]) - len(rows))}
