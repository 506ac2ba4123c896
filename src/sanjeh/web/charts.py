"""Plotly figure specs (plain JSON) and small SVG sparklines from engine results.

Nothing here queries: a chart is built from a ``Result.to_dict()`` and the KPI's
definition. The browser draws the spec with the Plotly bundle the app serves
itself. Persian charts are mirrored (time runs right to left, the value axis on
the right) and every label, tick and hover text is rendered here in the user's
language, digits included.

Text that reads right: a value axis speaks one scale (``۲۰۰ میلیارد``, ``۱٬۲۰۰ میلیارد``, never a
mix of ``۸۰۰ میلیارد`` and ``۱ هزار میلیارد``); members are their names, not ids; long names wrap
onto two lines; a split by members is drawn as horizontal bars, largest first, so a name has
the room a name needs. The chart's SVG runs left to right (Plotly places and measures its
labels so; see sanjeh.css) and every Persian label starts with a right-to-left mark, so the
bidi algorithm keeps its words in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from sanjeh.currency import Money
from sanjeh.formatting import SCALES, fmt_compact, fmt_number, fmt_rate, fmt_value
from sanjeh.i18n import member_label, period_label, t
from sanjeh.kpis.columns import Columns, name_column

#: Right-to-left mark: starts a Persian label drawn in the chart's left-to-right SVG, so a label
#: that begins with digits («۴ هزار میلیارد») keeps its words in order. (An isolate, U+2067, reads
#: the same but breaks Plotly's measuring of labels: the margins no longer make room for them.)
RLM = "\u200f"
#: A label longer than this many characters wraps onto a second line.
WRAP = 18
#: The colour of an "others" bar (the members a long split folds together).
OTHERS_COLOUR = "#9aa5ad"
MAX_SERIES = 8
PALETTE = ("#1f6f8b", "#e07a1f", "#3b9a57", "#c0392b", "#7d5ba6", "#8c6d31", "#d35d9a", "#5f6b73")
FONT = "Vazirmatn, Tahoma, sans-serif"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``lo..hi`` (0 included)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 0.5:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _rtl(text: str, lang: str) -> str:
    """A label that reads right to left in Persian (each of its lines), though the SVG runs left to right."""
    if lang != "fa":
        return text
    return "<br>".join(line if _starts_rtl(line) else RLM + line for line in text.split("<br>"))


def _starts_rtl(text: str) -> bool:
    """Does the text start with a Persian letter (then it reads right to left by itself)?"""
    return bool(text) and "\u0600" <= text[0] <= "\u06ff" and not "\u06f0" <= text[0] <= "\u06f9"


def _tick_text(unit: str, lang: str, ticks: Sequence[float]) -> Callable[[float], str]:
    """Tick labels of one scale, the scale of the smallest tick but 0 (``۲۵۰ میلیارد`` …
    ``۱٬۲۵۰ میلیارد``, never ``۰٫۲۵ هزار میلیارد``); rates with as many decimals as their step needs
    (``۰٫۵٪``, never two ticks that both read ``۰٪``)."""
    top = min((abs(x) for x in ticks if x), default=0.0)
    if unit == "rate":
        step = abs(ticks[1] - ticks[0]) * 100 if len(ticks) > 1 else 1.0
        decimals = 0 if step >= 1 or step == 0 else min(3, -math.floor(math.log10(step)))
        return lambda v: _rtl(fmt_rate(v, lang, decimals), lang)
    if unit in ("days", "hours"):
        return lambda v: _rtl(fmt_value(v, unit, lang), lang)
    scale, word = next(((sc, w) for sc, w in SCALES if abs(top) >= sc * 0.9995), (1.0, ""))

    def text(v: float) -> str:
        if v == 0:
            return fmt_number(0, lang)
        n = fmt_number(round(v / scale, 2), lang)
        return _rtl(t(f"number.{word}", lang, n=n) if word else n, lang)

    return text


def wrap(text: str, width: int = WRAP) -> str:
    """A long label on two lines (Plotly's ``<br>``), broken at the space nearest its middle."""
    if len(text) <= width or " " not in text:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return text[:cut] + "<br>" + text[cut + 1 :]


def _base_layout(lang: str, unit: str, values: Sequence[float | None], *, horizontal: bool = False) -> dict[str, Any]:
    rtl = lang == "fa"
    nums = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    ticks = nice_ticks(min(nums, default=0.0), max(nums, default=1.0))
    fmt = _tick_text(unit, lang, ticks)
    value_axis = {
        "tickvals": ticks,
        "ticktext": [fmt(v) for v in ticks],
        "gridcolor": "#e5e8eb",
        "zerolinecolor": "#b0b7be",
        "fixedrange": True,
        "automargin": True,
    }
    cat_axis: dict[str, Any] = {"type": "category", "automargin": True, "fixedrange": True}
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 13},
        "margin": {"l": 16, "r": 16, "t": 16, "b": 40, "pad": 4},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
        # the legend above the plot: below it, it would fight the (rotated, on a phone) time labels
        "legend": {
            "orientation": "h",
            "y": 1.0,
            "yanchor": "bottom",
            "x": 1 if rtl else 0,
            "xanchor": "right" if rtl else "left",
        },
        "colorway": list(PALETTE),
        "separators": "٫٬" if lang == "fa" else ".,",
    }
    if horizontal:
        value_axis["side"] = "bottom"
        if rtl:
            value_axis["autorange"] = "reversed"
        cat_axis["side"] = "right" if rtl else "left"
        cat_axis["autorange"] = "reversed"  # first item on top
        layout["xaxis"], layout["yaxis"] = value_axis, cat_axis
    else:
        value_axis["side"] = "right" if rtl else "left"
        if rtl:
            cat_axis["autorange"] = "reversed"
        layout["xaxis"], layout["yaxis"] = cat_axis, value_axis
    return layout


def label(text: Any) -> str:
    """Text for a chart label. Plotly reads a subset of HTML in labels (``<a href>``, ``<b>``,
    ``<br>``): imported names are escaped so they stay text; Plotly shows the entities as the
    characters they stand for."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def member_text(row: dict[str, Any], dim: str, lang: str = "fa") -> str:
    """A member as people read it (escaped for Plotly): its name when the row carries one, a code
    in the user's words (``cold_call`` → «تماس سرد»), else the member as written."""
    if row.get("_others"):
        return label(row.get(name_column(dim)) or "")
    return label(member_label(dim, row.get(dim), row.get(name_column(dim)), lang))


def build_chart(
    result: dict[str, Any],
    kpi: Any,
    lang: str,
    *,
    currency: str | Money = "IRR",
    drill: Callable[[str, str], str] | None = None,
    forecast: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """A Plotly figure (``{"data": [...], "layout": {...}}``) for a result; None when it has no rows.

    ``drill(dimension, member)`` gives the URL a click on a bar leads to (put in ``customdata``).
    ``forecast`` (``Forecast.to_dict()``, kpis/forecast.py) adds, to a trend of one series, its
    months as a dashed line inside the 80 % band, both named approximate.
    """
    # the "others" line of a long split is in the table; a bar of it would dwarf the members drawn
    rows: list[dict[str, Any]] = [r for r in result.get("rows") or [] if not r.get("_others")]
    if not rows:
        return None
    head = kpi.headline
    cols = Columns.of(result, kpi)
    unit = cols.unit(head)
    compared = cols.compared(head)
    target = cols.find("target", head)
    # the compared value and the target of the headline, drawn beside it (when the result has them)
    beside = [
        (c.name, key, dash) for c, key, dash in ((compared, "col.compared", "dash"), (target, "col.target", "dot")) if c
    ]
    by: list[str] = list(result.get("by") or [])
    has_grain = bool(result.get("grain"))
    if kpi.view.chart == "funnel" and not has_grain and not by:
        return _funnel(rows, by, lang, kpi)
    if kpi.view.chart == "cycle":
        return _cycle(rows, by, has_grain, lang, kpi, drill)

    def fmt(v: Any) -> str:
        return fmt_value(v, unit, lang, currency)

    if has_grain:
        series: dict[str, list[dict[str, Any]]] = {}
        first = by[0] if by else None
        for r in rows:
            series.setdefault(
                member_text(r, first, lang) if first else label(kpi.title.get(lang, kpi.name)), []
            ).append(r)
        ranked = sorted(series.items(), key=lambda kv: -sum(float(r.get(head) or 0) for r in kv[1]))[:MAX_SERIES]
        traces = []
        values: list[float | None] = []
        for name, rs in ranked:
            ys = [r.get(head) for r in rs]
            values += ys
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": name,
                    "x": [period_label(r.get("period"), lang) for r in rs],
                    "y": ys,
                    "text": [fmt(v) for v in ys],
                    "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
                    "connectgaps": False,
                }
            )
        if len(ranked) == 1:
            rs = ranked[0][1]
            xs = [period_label(r.get("period"), lang) for r in rs]
            for column, key, dash in beside:
                ys = [r.get(column) for r in rs]
                if any(v is not None for v in ys):
                    values += ys
                    name = t(key, lang)
                    line: dict[str, Any] = {
                        "type": "scatter",
                        "mode": "lines",
                        "name": name,
                        "x": xs,
                        "y": ys,
                        "text": [fmt(v) for v in ys],
                        "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
                        "line": {"dash": dash, "width": 2},
                    }
                    if len(xs) == 1:  # a line of one point draws nothing: a wide tick at its value
                        line["mode"] = "markers"
                        line["marker"] = {"symbol": "line-ew-open", "size": 28, "line": {"width": 3}}
                    traces.append(line)
        if forecast and len(ranked) == 1:
            extra = forecast_traces(forecast, lang, fmt, [period_label(r.get("period"), lang) for r in ranked[0][1]])
            values += [v for tr in extra for v in tr["y"]]
            traces += extra
        layout = _base_layout(lang, unit, values)
        layout["showlegend"] = len(traces) > 1
        # the axis spans its ticks and every value (a little more, so a point at an end is whole):
        # left to itself, Plotly fits one point's neighbourhood and squeezes the ticks into a band
        ticks = layout["yaxis"]["tickvals"]
        nums = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        lo, hi = min([ticks[0], *nums]), max([ticks[-1], *nums])
        pad = (hi - lo) * 0.04
        layout["yaxis"]["range"] = [lo - pad, hi + pad]
        return {"data": traces, "layout": layout}

    # a split by members: horizontal bars, largest on top, names beside them (room for a name)
    dim = by[0] if by else None
    names = [member_text(r, dim, lang) if dim else period_label(r.get("period"), lang) for r in rows]
    labels = _unique([_rtl(wrap(n), lang) for n in names], rows, dim)
    vals = [r.get(head) for r in rows]
    colours = [OTHERS_COLOUR if r.get("_others") else PALETTE[0] for r in rows]
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "name": label(kpi.title.get(lang, kpi.name)),
        "y": labels,
        "x": vals,
        "text": [fmt(v) for v in vals],
        "hovertext": names,
        "textposition": "none",
        "hovertemplate": "%{hovertext}: %{text}<extra></extra>",
        "marker": {"color": colours},
    }
    if dim and drill is not None:
        trace["customdata"] = [None if r.get("_others") else drill(dim, str(r.get(dim))) for r in rows]
    data: list[dict[str, Any]] = [trace]
    previous = [r.get(compared.name) for r in rows] if compared else []
    if any(v is not None for v in previous):
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": t("col.compared", lang),
                "y": labels,
                "x": previous,
                "text": [fmt(v) for v in previous],
                "hovertext": names,
                "textposition": "none",
                "hovertemplate": "%{hovertext}: %{text}<extra>%{fullData.name}</extra>",
                "marker": {"color": "#c9d3da"},
            }
        )
    targets = [r.get(target.name) for r in rows] if target else []
    if any(v is not None for v in targets):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": t("col.target", lang),
                "y": labels,
                "x": targets,
                "text": [fmt(v) for v in targets],
                "hovertext": names,
                "hovertemplate": "%{hovertext}: %{text}<extra>%{fullData.name}</extra>",
                "marker": {"symbol": "line-ns-open", "size": 22, "line": {"width": 3, "color": "#c0392b"}},
            }
        )
    layout = _base_layout(lang, unit, [*vals, *targets, *previous], horizontal=True)
    layout["showlegend"] = len(data) > 1
    layout["barmode"] = "group"
    layout["bargap"] = 0.25
    per_bar = 30 if len(data) == 1 or data[1]["type"] != "bar" else 44
    layout["height"] = max(260, per_bar * len(rows) + 110)
    return {"data": data, "layout": layout}


FORECAST_BAND = "rgba(31, 111, 139, 0.18)"  # PALETTE[0], light
FORECAST_BAND_95 = "rgba(31, 111, 139, 0.09)"  # lighter: the wider band


def forecast_traces(
    forecast: dict[str, Any],
    lang: str,
    fmt: Callable[[Any], str],
    drawn: Sequence[str] = (),
    levels: Sequence[int] = (80,),
) -> list[dict[str, Any]]:
    """The forecast's months: for each interval of ``levels`` (the widest first), its low edge
    (no line, no legend) and its high edge filled down to it (``fill="tonexty"``: the band); then
    the mean as a dashed line, which starts at the last complete month's value when that month is
    ``drawn`` (so it continues the line)."""
    months = forecast.get("months") or []
    if not months:
        return []
    xs = [period_label(m["month"], lang) for m in months]
    history = forecast.get("history") or []
    xm, ym = list(xs), [m["mean"] for m in months]
    if history and period_label(history[-1]["month"], lang) in drawn:
        xm.insert(0, period_label(history[-1]["month"], lang))
        ym.insert(0, history[-1]["value"])
    traces: list[dict[str, Any]] = []
    for level in sorted(levels, reverse=True):
        lo, hi = [m[f"lo{level}"] for m in months], [m[f"hi{level}"] for m in months]
        band = t("forecast.chart_band" if level == 80 else f"forecast.chart_band_{level}", lang)
        group = "forecast-band" if level == 80 else f"forecast-band-{level}"
        traces += [
            {
                "type": "scatter",
                "mode": "lines",
                "name": band,
                "legendgroup": group,
                "showlegend": False,
                "x": xs,
                "y": lo,
                "line": {"width": 0, "color": PALETTE[0]},
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": band,
                "legendgroup": group,
                "x": xs,
                "y": hi,
                "fill": "tonexty",
                "fillcolor": FORECAST_BAND if level == 80 else FORECAST_BAND_95,
                "line": {"width": 0, "color": PALETTE[0]},
                "text": [f"{fmt(a)} – {fmt(b)}" for a, b in zip(lo, hi, strict=True)],
                "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
            },
        ]
    traces.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t("forecast.chart_mean", lang),
            "x": xm,
            "y": ym,
            "text": [fmt(v) for v in ym],
            "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
            "line": {"dash": "dash", "width": 2, "color": PALETTE[0]},
            "marker": {"size": 5, "color": PALETTE[0]},
        }
    )
    return traces


#: Months of history the forecast page's chart draws before the forecast.
HISTORY_MONTHS = 24


def forecast_chart(
    forecast: dict[str, Any], unit: str, lang: str, *, currency: str | Money = "IRR"
) -> dict[str, Any] | None:
    """The forecast page's chart: the last :data:`HISTORY_MONTHS` complete months, then the
    forecast's months inside their 95 % and 80 % bands (kpis/forecast.py ``Forecast.to_dict()``)."""
    history = (forecast.get("history") or [])[-HISTORY_MONTHS:]
    if not history and not forecast.get("months"):
        return None

    def fmt(v: Any) -> str:
        return fmt_value(v, unit, lang, currency)

    xs = [period_label(h["month"], lang) for h in history]
    ys = [h["value"] for h in history]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t("forecast.chart_history", lang),
            "x": xs,
            "y": ys,
            "text": [fmt(v) for v in ys],
            "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
            "line": {"width": 2, "color": PALETTE[1]},
            "marker": {"size": 5, "color": PALETTE[1]},
        }
    ]
    traces += forecast_traces(forecast, lang, fmt, xs, levels=(80, 95))
    layout = _base_layout(lang, unit, [v for tr in traces for v in tr["y"]])
    layout["showlegend"] = True
    return {"data": traces, "layout": layout}


def time_to_win_chart(ttw: dict[str, Any], lang: str, names: dict[str, str]) -> dict[str, Any] | None:
    """The share of deals won within each number of days (kpis/timetowin.py, Aalen–Johansen: lost
    deals compete), one step line for every deal in the scope and one per member of the split
    (``names``: a member's name for people), and a dashed line on the stale threshold."""
    curves = [ttw["overall"], *(ttw.get("groups") or [])]
    if not ttw["overall"].get("days"):
        return None
    traces = []
    top = 1
    for i, c in enumerate(curves):
        days, won = list(c["days"]), list(c["won"])
        if not days:
            continue
        if days[0] > 0:  # every curve starts at nothing won on day 0
            days, won = [0, *days], [0.0, *won]
        top = max(top, days[-1])
        member = c.get("member")
        name = t("forecast.ttw_all", lang) if member is None else label(names.get(str(member), str(member)))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": days,
                "y": won,
                "text": [
                    t("forecast.ttw_hover", lang, days=fmt_number(d, lang), share=fmt_rate(w, lang))
                    for d, w in zip(days, won, strict=True)
                ],
                "hovertemplate": "%{text}<extra>%{fullData.name}</extra>",
                "line": {"shape": "hv", "width": 3 if i == 0 else 1.5, "color": PALETTE[i % len(PALETTE)]},
            }
        )
    layout = _base_layout(lang, "rate", [0.0, *(w for tr in traces for w in tr["y"])])
    # the days that matter: until 99 % of the wins (a long flat tail says nothing), past the threshold
    stale = ttw.get("stale_after_days")
    won = ttw["overall"]["won"]
    most = next((d for d, w in zip(ttw["overall"]["days"], won, strict=True) if w >= 0.99 * won[-1]), top)
    right = min(top, max(most, 1.5 * (stale or 0))) * 1.05
    ticks = [x for x in nice_ticks(0, right) if x <= right]
    layout["xaxis"] = {
        "type": "linear",
        "tickvals": ticks,
        "ticktext": [fmt_number(x, lang) for x in ticks],
        "title": {"text": t("forecast.ttw_axis", lang)},
        "range": [right, 0] if lang == "fa" else [0, right],
        "fixedrange": True,
        "automargin": True,
        "gridcolor": "#e5e8eb",
    }
    if stale is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": stale,
                "x1": stale,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dash", "width": 1.5, "color": PALETTE[3]},
            }
        ]
        layout["annotations"] = [
            {
                "x": stale,
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "showarrow": False,
                "text": _rtl(t("forecast.ttw_stale_line", lang, days=fmt_number(stale, lang)), lang),
                "font": {"color": PALETTE[3], "size": 12},
            }
        ]
    layout["showlegend"] = len(traces) > 1
    return {"data": traces, "layout": layout}


def _unique(labels: list[str], rows: list[dict[str, Any]], dim: str | None) -> list[str]:
    """Category labels Plotly will not merge: a name two members share gets each one's id."""
    seen: dict[str, int] = {}
    for x in labels:
        seen[x] = seen.get(x, 0) + 1
    if all(n == 1 for n in seen.values()) or dim is None:
        return labels
    return [f"{x} ({label(r.get(dim))})" if seen[x] > 1 else x for x, r in zip(labels, rows, strict=True)]


def _funnel(rows: list[dict[str, Any]], by: list[str], lang: str, kpi: Any) -> dict[str, Any]:
    titles = {m.name: m.title.get(lang, m.name) for m in kpi.measures}
    stages = [wrap(titles.get("mqls", "MQL"), 12), wrap(titles.get("sqls", "SQL"), 12)]
    groups: dict[str, tuple[float, float]] = {}
    dim = by[0] if by else None
    for r in rows:
        key = member_text(r, dim, lang) if dim else label(kpi.title.get(lang, kpi.name))
        a, b = groups.get(key, (0.0, 0.0))
        groups[key] = (a + float(r.get("mqls") or 0), b + float(r.get("sqls") or 0))
    ranked = sorted(groups.items(), key=lambda kv: -kv[1][0])[:MAX_SERIES]
    traces = []
    for name, (mqls, sqls) in ranked:
        vals = [mqls, sqls]
        rate = fmt_rate(sqls / mqls, lang) if mqls else "—"
        traces.append(
            {
                "type": "funnel",
                "name": name,
                "y": stages,
                "x": vals,
                "text": [fmt_value(v, "count", lang) for v in vals],
                "textinfo": "text",
                "customdata": [rate, rate],
                "hovertemplate": "%{y}: %{text}<extra>%{fullData.name} (%{customdata})</extra>",
            }
        )
    layout = _base_layout(lang, "count", [0.0], horizontal=True)
    layout.pop("xaxis", None)
    layout["yaxis"] = {"side": "right" if lang == "fa" else "left", "fixedrange": True, "automargin": True}
    layout["funnelmode"] = "group"
    layout["showlegend"] = len(traces) > 1
    return {"data": traces, "layout": layout}


def _cycle(
    rows: list[dict[str, Any]],
    by: list[str],
    has_grain: bool,
    lang: str,
    kpi: Any,
    drill: Callable[[str, str], str] | None,
) -> dict[str, Any]:
    """Median bars whose whisker reaches the 90th percentile, with the mean as a diamond."""
    dim = by[0] if by and not has_grain else None
    xs = [_rtl(wrap(member_text(r, dim, lang)), lang) if dim else period_label(r.get("period"), lang) for r in rows]
    med = [r.get("median_days") for r in rows]
    p90 = [r.get("p90_days") for r in rows]
    mean = [r.get("mean_days") for r in rows]
    titles = {m.name: m.title.get(lang, m.name) for m in kpi.measures}
    upper = [(b - a) if a is not None and b is not None else None for a, b in zip(med, p90, strict=True)]
    bars: dict[str, Any] = {
        "type": "bar",
        "name": titles.get("median_days", "median"),
        "x": xs,
        "y": med,
        "text": [fmt_value(v, "days", lang) for v in med],
        "textposition": "none",
        "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
        "error_y": {"type": "data", "symmetric": False, "array": upper, "arrayminus": [0] * len(xs), "width": 8},
        "marker": {"color": PALETTE[0]},
    }
    if dim and drill is not None:
        bars["customdata"] = [drill(dim, str(r.get(dim))) for r in rows]
    means = {
        "type": "scatter",
        "mode": "markers",
        "name": titles.get("mean_days", "mean"),
        "x": xs,
        "y": mean,
        "text": [fmt_value(v, "days", lang) for v in mean],
        "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
        "marker": {"symbol": "diamond", "size": 11, "color": PALETTE[1]},
    }
    layout = _base_layout(lang, "days", [*med, *p90, *mean])
    layout["showlegend"] = True
    return {"data": [bars, means], "layout": layout}


def sparkline_svg(points: Sequence[dict[str, Any]], *, rtl: bool, width: int = 120, height: int = 32) -> str:
    """A tiny SVG line of the last steps (mirrored in RTL). Empty string without two values."""
    vals = [p.get("value") for p in points]
    nums = [float(v) for v in vals if v is not None]
    if len(nums) < 2:
        return ""
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    n = len(vals)
    step = width / max(n - 1, 1)
    segs: list[str] = []
    pen_up = True
    for i, v in enumerate(vals):
        if v is None:
            pen_up = True
            continue
        x = (width - i * step) if rtl else i * step
        y = height - 2 - (float(v) - lo) / span * (height - 4)
        segs.append(f"{'M' if pen_up else 'L'}{x:.1f},{y:.1f}")
        pen_up = False
    path = " ".join(segs)
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true"><path d="{path}" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>'
    )


def _bar_label(value: Any, unit: str, lang: str, currency: str | Money) -> str:
    """A waterfall bar's value in a few characters: money without its currency (the axis says it)."""
    if unit == "money":
        return fmt_compact(value, lang)
    return fmt_value(value, unit, lang, currency, compact=True)


def waterfall_chart(
    why: dict[str, Any], kpi: Any, lang: str, *, baseline_label: str, currency: str | Money = "IRR"
) -> dict[str, Any] | None:
    """A waterfall of a "why" answer (kpis/why.py): the baseline, each member's contribution
    (largest first), the other/overlap/unallocated/target-mix lines, then the value. Mirrored in
    Persian (the baseline on the right)."""
    if why.get("value") is None or why.get("baseline_value") is None:
        return None
    unit = str(kpi.measure(str(why.get("measure") or kpi.headline)).unit)
    delta = "points" if unit == "rate" else unit
    by: list[str] = list(why.get("by") or [])
    names = [_rtl(baseline_label, lang)]
    measures, ys = ["absolute"], [why["baseline_value"]]
    texts = [fmt_value(why["baseline_value"], unit, lang, currency)]
    for r in why.get("rows") or []:
        text = " · ".join(member_text(r, d, lang) for d in by)
        names.append(_rtl(wrap(text), lang))
        measures.append("relative")
        ys.append(r["contribution"])
        texts.append(fmt_value(r["contribution"], delta, lang, currency))
    lines = [("other", (why.get("other") or {}).get("contribution"))]
    lines += [(line, why.get(line)) for line in ("overlap", "unallocated", "target_mix")]
    for line, x in lines:
        if x is None:
            continue
        n = (why.get("other") or {}).get("members", 0)
        names.append(_rtl(wrap(t(f"why.{line}", lang, n=fmt_number(n, lang))), lang))
        measures.append("relative")
        ys.append(x)
        texts.append(fmt_value(x, delta, lang, currency))
    value_label = period_label(why.get("period"), lang)
    names.append(_rtl(value_label, lang))
    measures.append("total")
    ys.append(why["value"])
    texts.append(fmt_value(why["value"], unit, lang, currency))
    seen: set[str] = set()
    for i, n in enumerate(names):  # Plotly merges equal categories: keep each bar its own
        while n in seen:
            n += "\u200b"
        seen.add(n)
        names[i] = n
    good, bad = "#3b9a57", "#c0392b"
    up, down = (good, bad) if kpi.direction == "up" else (bad, good)
    trace = {
        "type": "waterfall",
        "orientation": "v",
        "x": names,
        "y": ys,
        "measure": measures,
        # each bar says its value, short, above it (sanjeh.js drops the labels where the bars are
        # too narrow for them, as on a phone); the hover gives it whole
        "text": [
            _bar_label(y, unit if m != "relative" else delta, lang, currency) for m, y in zip(measures, ys, strict=True)
        ],
        "textposition": "outside",
        "textangle": 0,
        "cliponaxis": False,
        "customdata": texts,
        "hovertemplate": "%{x}: %{customdata}<extra></extra>",
        "increasing": {"marker": {"color": up}},
        "decreasing": {"marker": {"color": down}},
        "totals": {"marker": {"color": PALETTE[0]}},
        "connector": {"line": {"color": "#b0b7be", "width": 1}},
    }
    # the axis spans the running totals, not the steps
    running, level = [], 0.0
    for m, y in zip(measures, ys, strict=True):
        level = float(y) if m != "relative" else level + float(y)
        running.append(level)
    layout = _base_layout(lang, unit, [*running, 0.0 if unit != "rate" else min(running)])
    layout["showlegend"] = False
    layout["height"] = 340
    return {"data": [trace], "layout": layout}
