"""What a report holds: the scorecard of a period and the pages of its KPIs, asked of the engine once.

Each KPI page is the KPI's own view (``KPI.view``: its grain, dimensions and comparison, as the
dashboard opens it) over the report's period. The renderers (``xlsx``, ``html``, ``pdf``) only
lay out what is gathered here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanjeh.calendar import parse_period
from sanjeh.currency import Money, as_money
from sanjeh.errors import UserError
from sanjeh.i18n import normalize_lang
from sanjeh.kpis.query import Query

#: The formats ``sanjeh report`` writes.
FORMATS = ("xlsx", "pdf", "html")


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

    def card(self, kpi: str) -> dict[str, Any] | None:
        for c in [*self.scorecard.get("primary", []), *self.scorecard.get("secondary", [])]:
            if c.get("kpi") == kpi:
                return dict(c)
        return None


def gather(ws: Any, period: str, kpis: Sequence[str] = (), lang: str | None = None) -> Report:
    """The report of ``period`` in ``lang`` (default: the workspace's): the scorecard, then the page of
    each KPI of ``kpis`` in the order given (default: every KPI, in the scorecard's order). An unknown KPI or a
    period that cannot be read is a user error, before any query runs."""
    if lang and lang not in ("fa", "en"):
        raise UserError(key="cli.report_lang", params={"given": lang})
    label = parse_period(period).label
    language = normalize_lang(lang or ws.settings.language)
    engine = ws.engine()
    chosen = [engine.kpi(name) for name in dict.fromkeys(kpis)] if kpis else engine.catalogue()
    sc = engine.scorecard(label).to_dict()
    if not kpis:  # every KPI, in the scorecard's order (the goals' primary KPIs first)
        order = [c["kpi"] for c in [*sc.get("primary", []), *sc.get("secondary", [])]]
        chosen.sort(key=lambda k: order.index(k.name) if k.name in order else len(order))
    pages = [
        Page(k, q, dict(engine.run(q).to_dict()))
        for k in chosen
        for q in [Query(k.name, label, k.view.grain, tuple(k.view.by), (), k.view.compare)]
    ]
    return Report(
        period=label,
        calendar=parse_period(label).calendar,
        lang=language,
        company=ws.settings.company,
        money=as_money(ws.settings.money_format),
        scorecard=sc,
        pages=pages,
        made=ws.today(),
        catalogue={k.name: k for k in engine.catalogue()},
    )


def write(report: Report, fmt: str, path: Path) -> Path:
    """Write ``report`` as ``fmt`` (xlsx, pdf or html) to ``path``; returns the path."""
    if fmt not in FORMATS:
        raise UserError(key="cli.report_format", params={"format": fmt})
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
