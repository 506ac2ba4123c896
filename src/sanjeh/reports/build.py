"""What a report holds: the scorecard of a period and the pages of its KPIs, asked of the engine once.

Each KPI page is the KPI's own view (``KPI.view``: its grain, dimensions and comparison, as the
dashboard opens it) over the report's period. A query asked twice is run once: most KPI pages are
the very query of one of their card's spotlights (as on the dashboard, where they share a cache
entry). A report only for the workbook computes no sparklines (a workbook draws none). The
renderers (``xlsx``, ``html``, ``pdf``) only lay out what is gathered here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sanjeh.calendar import parse_period
from sanjeh.currency import Money, as_money
from sanjeh.errors import InternalError, UserError
from sanjeh.i18n import normalize_lang
from sanjeh.kpis.query import Query

#: The formats ``sanjeh report`` writes.
FORMATS = ("xlsx", "pdf", "html")
#: The formats that draw the cards' sparklines.
SPARKLINES = ("pdf", "html")
#: The steps of a card's sparkline (as on the dashboard).
SPARK_STEPS = 12


@dataclass
class Page:
    """One KPI's page: the KPI (its definition), the query run and the result (``Result.to_dict()``)."""

    kpi: Any
    query: Query
    result: dict[str, Any]


@dataclass
class Report:
    period: str
    calendar: str
    lang: str
    company: str
    money: Money
    scorecard: dict[str, Any]
    pages: list[Page] = field(default_factory=list)
    made: dt.date | None = None  # the workspace's "today" when it was made
    catalogue: dict[str, Any] = field(default_factory=dict)  # every KPI by name (titles of measures)
    formats: tuple[str, ...] = FORMATS  # what it was gathered for (an xlsx-only report has no sparklines)

    def card(self, kpi: str) -> dict[str, Any] | None:
        for c in [*self.scorecard.get("primary", []), *self.scorecard.get("secondary", [])]:
            if c.get("kpi") == kpi:
                return dict(c)
        return None


def gather(
    ws: Any, period: str, kpis: Sequence[str] = (), lang: str | None = None, *, formats: Sequence[str] = FORMATS
) -> Report:
    """The report of ``period`` in ``lang`` (default: the workspace's): the scorecard, then the page of
    each KPI of ``kpis`` in the order given (default: every KPI, in the scorecard's order), for writing
    as ``formats`` (default: any). An unknown KPI or a period that cannot be read is a user error,
    before any query runs."""
    from sanjeh.kpis.scorecard import build_scorecard

    if lang and lang not in ("fa", "en"):
        raise UserError(key="cli.report_lang", params={"given": lang})
    for fmt in formats:
        if fmt not in FORMATS:
            raise UserError(key="cli.report_format", params={"format": fmt})
    label = parse_period(period).label
    language = normalize_lang(lang or ws.settings.language)
    engine = ws.engine()
    chosen = [engine.kpi(name) for name in dict.fromkeys(kpis)] if kpis else engine.catalogue()
    results: dict[Query, dict[str, Any]] = {}
    page_queries = {page_query(k, label) for k in chosen}

    def run(q: Query) -> dict[str, Any]:  # the spotlights' queries and the pages', each run once
        # a spotlight reads a few measures of a split a page shows whole: the page's rows answer it
        # (a query for fewer measures lists the same members: kpis/compile.py ``needs``)
        whole = replace(q, measures=())
        if q.measures and whole in page_queries:
            q = whole
        if q not in results:
            results[q] = dict(engine.run(q).to_dict())
        return results[q]

    spark = SPARK_STEPS if any(f in SPARKLINES for f in formats) else 0
    sc = build_scorecard(engine, label, spark_steps=spark, run=run).to_dict()
    if not kpis:  # every KPI, in the scorecard's order (the goals' primary KPIs first)
        order = [c["kpi"] for c in [*sc.get("primary", []), *sc.get("secondary", [])]]
        chosen.sort(key=lambda k: order.index(k.name) if k.name in order else len(order))
    pages = [Page(k, q, dict(run(q))) for k in chosen for q in [page_query(k, label)]]
    return Report(
        period=label,
        calendar=parse_period(label).calendar,
        lang=language,
        company=ws.settings.company_name(language),
        money=as_money(ws.settings.money_format),
        scorecard=sc,
        pages=pages,
        made=ws.today(),
        catalogue={k.name: k for k in engine.catalogue()},
        formats=tuple(formats),
    )


def page_query(kpi: Any, period: str) -> Query:
    """A KPI's page in a report: its own view (grain, dimensions, comparison) over ``period``."""
    return Query(kpi.name, period, kpi.view.grain, tuple(kpi.view.by), (), kpi.view.compare)


def write(report: Report, fmt: str, path: Path) -> Path:
    """Write ``report`` as ``fmt`` (xlsx, pdf or html) to ``path``; returns the path."""
    if fmt not in FORMATS:
        raise UserError(key="cli.report_format", params={"format": fmt})
    if fmt not in report.formats:  # a report gathered for the workbook has no sparklines to draw
        raise InternalError(f"a report gathered for {', '.join(report.formats)} is written as {fmt}")
    if fmt == "xlsx":
        from sanjeh.reports.xlsx import workbook

        data = workbook(report)
    elif fmt == "html":
        from sanjeh.reports.html import render

        data = render(report).encode("utf-8")
    else:
        from sanjeh.reports.pdf import pdf

        data = pdf(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
