"""Plotly figure specs (plain JSON) and small SVG sparklines from engine results.

Nothing here queries: a chart is built from a ``Result.to_dict()`` and the KPI's
definition. The browser draws the spec with the Plotly bundle the app serves
itself. Persian charts are mirrored (time runs right to left, the value axis on
the right) and every label, tick and hover text is rendered here in the user's
language, digits included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from sanjeh.currency import Money
from sanjeh.formatting import fmt_compact, fmt_rate, fmt_value
from sanjeh.i18n import period_label, t

MAX_SERIES = 8
PALETTE = ("#1f6f8b", "#e07a1f", "#3b9a57", "#c0392b", "#7d5ba6", "#8c6d31", "#d35d9a", "#5f6b73")
FONT = "Vazirmatn, Tahoma, sans-serif"


def measure_unit(kpi: Any, name: str) -> str:
    """The unit of a result column (:meth:`~sanjeh.kpis.model.KPI.column_unit`)."""
    return str(kpi.column_unit(name))


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


def _tick_text(unit: str, lang: str) -> Callable[[float], str]:
    if unit == "rate":
        return lambda v: fmt_rate(v, lang, 0)
    if unit in ("days", "hours"):
        return lambda v: fmt_value(v, unit, lang)
    return lambda v: fmt_compact(v, lang)


def _base_layout(lang: str, unit: str, values: Sequence[float | None], *, horizontal: bool = False) -> dict[str, Any]:
    rtl = lang == "fa"
    nums = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    ticks = nice_ticks(min(nums, default=0.0), max(nums, default=1.0))
    fmt = _tick_text(unit, lang)
    value_axis = {
        "tickvals": ticks,
        "ticktext": [fmt(v) for v in ticks],
        "gridcolor": "#e5e8eb",
        "zerolinecolor": "#b0b7be",
        "fixedrange": True,
    }
    cat_axis: dict[str, Any] = {"type": "category", "automargin": True, "fixedrange": True}
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 13},
        "margin": {"l": 60, "r": 60, "t": 20, "b": 60},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "y": -0.2, "x": 1 if rtl else 0, "xanchor": "right" if rtl else "left"},
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


def member_text(row: dict[str, Any], dim: str) -> str:
    """A member as people read it (escaped for Plotly): its name when the row carries one, else its id."""
    value = row.get(dim)
    name = row.get(f"{dim}_name")
    if name and str(name) != str(value):
        return label(name)
    return "—" if value is None else label(value)


def build_chart(
    result: dict[str, Any],
    kpi: Any,
    lang: str,
    *,
    currency: str | Money = "IRR",
    drill: Callable[[str, str], str] | None = None,
) -> dict[str, Any] | None:
    """A Plotly figure (``{"data": [...], "layout": {...}}``) for a result; None when it has no rows.

    ``drill(dimension, member)`` gives the URL a click on a bar leads to (put in ``customdata``).
    """
    rows: list[dict[str, Any]] = list(result.get("rows") or [])
    if not rows:
        return None
    head = kpi.headline
    unit = measure_unit(kpi, head)
    by: list[str] = list(result.get("by") or [])
    has_grain = bool(result.get("grain"))
    if kpi.name == "mql_to_sql" and not has_grain:
        return _funnel(rows, by, lang, kpi)
    if kpi.name == "sales_cycle":
        return _cycle(rows, by, has_grain, lang, kpi, drill)

    def fmt(v: Any) -> str:
        return fmt_value(v, unit, lang, currency)

    if has_grain:
        series: dict[str, list[dict[str, Any]]] = {}
        first = by[0] if by else None
        for r in rows:
            series.setdefault(member_text(r, first) if first else label(kpi.title.get(lang, kpi.name)), []).append(r)
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
            for column, key, dash in ((f"previous_{head}", "col.compared", "dash"), ("target", "col.target", "dot")):
                ys = [r.get(column) for r in rs]
                if any(v is not None for v in ys):
                    values += ys
                    name = t(key, lang)
                    traces.append(
                        {
                            "type": "scatter",
                            "mode": "lines",
                            "name": name,
                            "x": xs,
                            "y": ys,
                            "text": [fmt(v) for v in ys],
                            "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
                            "line": {"dash": dash, "width": 2},
                        }
                    )
        layout = _base_layout(lang, unit, values)
        layout["showlegend"] = len(traces) > 1
        return {"data": traces, "layout": layout}

    # breakdown: bars per member of the first dimension (colour by the second, if any)
    dim = by[0] if by else None
    xs = [member_text(r, dim) if dim else period_label(r.get("period"), lang) for r in rows]
    ys = [r.get(head) for r in rows]
    trace: dict[str, Any] = {
        "type": "bar",
        "name": label(kpi.title.get(lang, kpi.name)),
        "x": xs,
        "y": ys,
        "text": [fmt(v) for v in ys],
        "textposition": "none",
        "hovertemplate": "%{x}: %{text}<extra></extra>",
        "marker": {"color": PALETTE[0]},
    }
    if dim and drill is not None:
        trace["customdata"] = [drill(dim, str(r.get(dim))) for r in rows]
    data: list[dict[str, Any]] = [trace]
    previous = [r.get(f"previous_{head}") for r in rows]
    if any(v is not None for v in previous):
        data.append(
            {
                "type": "bar",
                "name": t("col.compared", lang),
                "x": xs,
                "y": previous,
                "text": [fmt(v) for v in previous],
                "textposition": "none",
                "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
                "marker": {"color": "#b8c4cc"},
            }
        )
    targets = [r.get("target") for r in rows]
    if any(v is not None for v in targets):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": t("col.target", lang),
                "x": xs,
                "y": targets,
                "text": [fmt(v) for v in targets],
                "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
                "marker": {"symbol": "line-ew-open", "size": 26, "line": {"width": 3, "color": "#c0392b"}},
            }
        )
    layout = _base_layout(lang, unit, [*ys, *targets, *previous])
    layout["showlegend"] = len(data) > 1
    return {"data": data, "layout": layout}


def _funnel(rows: list[dict[str, Any]], by: list[str], lang: str, kpi: Any) -> dict[str, Any]:
    titles = {m.name: m.title.get(lang, m.name) for m in kpi.measures}
    stages = [titles.get("mqls", "MQL"), titles.get("sqls", "SQL")]
    groups: dict[str, tuple[float, float]] = {}
    dim = by[0] if by else None
    for r in rows:
        key = member_text(r, dim) if dim else label(kpi.title.get(lang, kpi.name))
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
    layout["yaxis"] = {"side": "right" if lang == "fa" else "left", "fixedrange": True}
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
    xs = [member_text(r, dim) if dim else period_label(r.get("period"), lang) for r in rows]
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
