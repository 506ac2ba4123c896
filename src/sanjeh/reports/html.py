"""A report as one self-contained HTML document, drawn with the dashboard's own templates.

The scorecard's cards (``_card.html``), "what stands out", and each KPI page's chart (the
Plotly figure of ``web/charts.py``) and table (``_table.html``, built by ``web/views.py``)
are the dashboard's, so the report says what the pages say. The stylesheet, the Vazirmatn
fonts (as data URIs) and the scripts are inlined: the file opens anywhere and loads nothing.
The PDF (``pdf.py``) is this document printed by chromium; ``@page`` rules put the company,
the period and the page number ("page 3 of 12", Persian digits in Persian) in the footer.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any

from sanjeh.i18n import DIRECTION, period_label, t, t_or
from sanjeh.reports.build import Page, Report

HERE = Path(__file__).resolve().parent
_FONT_URL = re.compile(r"url\(/static/fonts/([a-z0-9-]+\.woff2)\)")
_KPI_LINK = re.compile(r'href="/kpi/([a-z0-9_]+)[^"]*"')


def _static() -> Path:
    from sanjeh.web import pages

    return pages.HERE / "static"


@cache
def stylesheet() -> str:
    """The dashboard's stylesheet with its fonts inlined (``data:`` URIs)."""
    static = _static()
    css = (static / "css" / "sanjeh.css").read_text(encoding="utf-8")

    def font(m: re.Match[str]) -> str:
        data = base64.b64encode((static / "fonts" / m.group(1)).read_bytes()).decode("ascii")
        return f"url(data:font/woff2;base64,{data})"

    return _FONT_URL.sub(font, css)


@cache
def scripts() -> str:
    """Plotly and the dashboard's script (which draws the figures embedded as JSON)."""
    import plotly

    plotly_js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    own = (_static() / "js" / "sanjeh.js").read_text(encoding="utf-8")
    return (plotly_js + "\n;\n" + own).replace("</script", "<\\/script")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css(report: Report) -> str:
    """A4 pages with the footer: company · period · page N of M, in the report's language and digits."""
    lang = report.lang
    style = "persian" if lang == "fa" else "decimal"
    footer = t("report.footer", lang, company=report.company, period=period_label(report.period, lang))
    content = (
        f"{_css_string(footer + ' ')} counter(page, {style}) "
        f"{_css_string(' ' + t('report.footer_of', lang) + ' ')} counter(pages, {style})"
    )
    return (
        (HERE / "report.css").read_text(encoding="utf-8")
        + "\n@page { size: A4; margin: 12mm 10mm 14mm 10mm;\n"
        + f"  @bottom-center {{ content: {content}; font-family: Vazirmatn, sans-serif; font-size: 8pt;"
        + f" color: #5f6b73; direction: {DIRECTION[lang]}; }} }}\n"
    )


def _page_view(page: Page, report: Report) -> dict[str, Any]:
    from sanjeh.calendar import parse_period
    from sanjeh.web import charts, views

    lang, k, result = report.lang, page.kpi, page.result
    note = views.data_note(result.get("data") or {}, lang, parse_period(page.query.period).calendar)
    rows, folded = views.top_members(result, k, lang)
    shown = dict(result, rows=rows)
    figure = None
    if not (note and note["status"] in ("no_data", "outside")):
        figure = charts.build_chart(shown, k, lang, currency=report.money)
    table = views.result_table(shown, k, lang, report.money, table_id=f"table-{k.name}")
    table.hidden = folded
    q = page.query
    parts = [period_label(q.period, lang)]
    if q.grain:
        parts.append(t(f"grain.{q.grain}", lang))
    parts += [t_or(f"dim.{b}", lang, b) for b in q.by]
    if q.compare:
        parts.append(t(f"controls.{q.compare}", lang))
    return {
        "name": k.name,
        "title": k.title.get(lang) or k.name,
        "description": k.description.get(lang, ""),
        "formula": k.formula.get(lang, ""),
        "summary": " · ".join(parts),
        "note": note,
        "figure": figure,
        "table": table,
    }


def render(report: Report, *, with_scripts: bool = True) -> str:
    """The report as HTML. ``with_scripts``: inline Plotly to draw the charts (off: no charts drawn)."""
    from sanjeh.web import views
    from sanjeh.web.pages import templates

    lang = report.lang
    sc = report.scorecard
    data = sc.get("data") or {}
    made = None
    if report.made is not None:
        made = views.day_text(report.made.isoformat(), report.calendar, lang)
    ctx: dict[str, Any] = {
        "lang": lang,
        "dir": DIRECTION[lang],
        "_": lambda key, **kw: t(key, lang, **kw),
        "t_or": lambda key, fallback: t_or(key, lang, fallback),
        "user": None,
        "company": report.company,
        "currency": report.money,
        "period": report.period,
        "made": made,
        "goals": [t_or(f"goal.{g}", lang, g) for g in sc.get("goals", [])],
        "primary": [views.card_view(x, lang, report.money, report.period) for x in sc.get("primary", [])],
        "secondary": [views.card_view(x, lang, report.money, report.period) for x in sc.get("secondary", [])],
        "insights": [f["text"][lang] for f in sc.get("insights", [])],
        "missing": [t_or(f"table.{x}", lang, x) for x in data.get("missing") or []],
        "empty": bool(data.get("empty")),
        "pages": [_page_view(p, report) for p in report.pages],
        "css": stylesheet(),
        "print_css": page_css(report),
        "scripts": scripts() if with_scripts else "",
    }
    html = templates().env.get_template("report.html").render(ctx)
    inside = {p.kpi.name for p in report.pages}
    # a card's link goes to its KPI's page in this document (or nowhere: the dashboard is not here)
    return _KPI_LINK.sub(lambda m: f'href="#kpi-{m.group(1)}"' if m.group(1) in inside else "", html)
