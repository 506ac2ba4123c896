"""A report as PDF: the report's HTML (``html.py``) printed by headless chromium (Debian's).

Chromium shapes Persian exactly as the dashboard's browser does, with Vazirmatn (inlined in the
document, so the PDF embeds it); Plotly draws the charts as SVG, so they stay vectors. Pages are
A4; no card, chart or table row is split across two (``break-inside: avoid``); each KPI starts a
page; the footer (CSS ``@page`` margin boxes) has the company, the period and "page N of M" in
the report's language and digits. The browser loads nothing from the network: the document is
given as a string and every request it might make is refused.
"""

from __future__ import annotations

import shutil
from typing import Any

from sanjeh.errors import SanjehError
from sanjeh.reports.build import Report
from sanjeh.reports.html import render
from sanjeh.web.screenshots import CHROMIUM_ARGS  # the launch flags chromium needs here, in one place

#: A4's width less the side margins (10 mm each) at 96 px per inch: the charts are drawn at this width.
PRINT_WIDTH = 718
TIMEOUT_MS = 120_000


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SanjehError(key="cli.report_browser", params={"why": "chromium is not on PATH"})
    return path


def pdf(report: Report) -> bytes:
    return print_html(render(report))


def print_html(html: str) -> bytes:
    """``html`` printed to PDF (A4, backgrounds, the document's own ``@page`` size and footer)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the dev extra is not installed
        raise SanjehError(key="cli.report_browser", params={"why": f"playwright: {exc}"}) from exc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": PRINT_WIDTH, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.route("**/*", _refuse)
            page.emulate_media(media="print")
            page.set_content(html, wait_until="load")
            page.wait_for_function(
                "document.fonts.status === 'loaded' && "
                "document.querySelectorAll('[data-figure]').length === document.querySelectorAll('[data-ready]').length"
            )
            data: bytes = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
    return data


def _refuse(route: Any) -> None:
    route.abort()
