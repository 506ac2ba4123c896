"""Take screenshots of the dashboard's main pages (for the README and docs).

    python -m sanjeh.web.screenshots OUT_DIR [--workspace PATH] [--orders N] [--chromium PATH]
    python -m sanjeh.web.screenshots OUT_DIR --forecast [--today 2024-10-31]

Without ``--workspace`` a demo workspace is built in a temporary folder (demo
tables written straight into DuckDB; its clock on 2025-04-01, or ``--today``). The app is served
on a free 127.0.0.1 port and Debian's chromium (through Playwright) logs in and saves PNGs of the
scorecard, KPI pages, the reps leaderboard, the data page, the targets editor, the rows
behind a number and the users page, in Persian and English, and the scorecard and a KPI page
at phone width. With ``--forecast``, the revenue forecast page instead (docs/forecast.md): whole,
and each of its parts (pace, forecast, pipeline, time to win, track record), in Persian and
English; first, so that its track record has forecasts of closed periods, the page of each of
the :data:`TRACK_QUARTERS` quarters before the clock's is viewed on the quarter's 41st day (the
clock moved back: each forecast sees the months before that day). Needs the ``dev`` extra
(playwright).
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = (
    ("scorecard", "/"),
    ("kpi-sales-by-region", "/kpi/sales_by_region?period={quarter}"),
    ("kpi-revenue-trend", "/kpi/revenue?period={year}&grain=month&compare=year_ago"),
    ("kpi-sales-by-product", "/kpi/sales_by_product?period={quarter}"),
    ("kpi-win-rate", "/kpi/win_rate?period={quarter}"),
    ("kpi-mql-to-sql", "/kpi/mql_to_sql?period={quarter}"),
    ("reps", "/reps"),
    ("data", "/data"),
    ("targets", "/targets"),
    ("rows", "/kpi/revenue/rows?period={quarter}"),
    ("users", "/users"),
)
#: Pages taken at phone width (390 × 844, the first screen only), in Persian.
PHONE_PAGES = (("scorecard-phone-fa", "/"), ("kpi-revenue-phone-fa", "/kpi/revenue"))
#: The forecast page's parts (``--forecast``): each saved as ``forecast-PART-LANG.png``.
FORECAST_PARTS = ("pace", "forecast", "pipeline", "time-to-win", "track-record")
#: Quarters before the clock's whose forecast page ``--forecast`` views first (the track record).
TRACK_QUARTERS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _login(page: Any, base: str, user: str, password: str, lang: str) -> None:
    page.goto(f"{base}/login?lang={lang}&next=/kpis")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _forecast_shots(page: Any, base: str, ws: Any, out_dir: Path, lang: str) -> list[Path]:
    """The revenue forecast page of the clock's quarter, whole and part by part."""
    page.goto(f"{base}/kpi/revenue/forecast?lang={lang}")
    page.wait_for_selector("[data-ready]", timeout=60_000)
    saved = [out_dir / f"forecast-{lang}.png"]
    page.screenshot(path=str(saved[0]), full_page=True)
    for part in FORECAST_PARTS:
        if page.locator(f"#{part}").count():
            target = out_dir / f"forecast-{part}-{lang}.png"
            page.locator(f"#{part}").screenshot(path=str(target))
            saved.append(target)
    return saved


def _fill_track_record(page: Any, base: str, ws: Any) -> None:
    """View the forecast page of each of the :data:`TRACK_QUARTERS` quarters before the clock's,
    on its 41st day (the app keeps each forecast it shows: kpis/track.py)."""
    from sanjeh.calendar import current_unit

    today = ws.today()
    clock = ws.clock
    quarter = current_unit(today, ws.settings.calendar, "quarter")
    try:
        for back in range(TRACK_QUARTERS, 0, -1):
            q = quarter.shift(-back)
            day = q.start + dt.timedelta(days=40)
            ws.clock = lambda day=day: day
            page.goto(f"{base}/kpi/revenue/forecast?period={q.label}")
            page.wait_for_load_state("load")
    finally:
        ws.clock = clock


def take(
    out_dir: Path,
    workspace: Path | None,
    orders: int,
    chromium: str,
    *,
    today: dt.date | None = None,
    forecast: bool = False,
) -> list[Path]:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from sanjeh.calendar import latest_complete
    from sanjeh.users import add_user, get_user
    from sanjeh.web.app import create_app
    from sanjeh.workspace import Workspace

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="sanjeh-shots-")
    if workspace is None:
        from sanjeh.demo import iter_demo_tables

        ws = Workspace.init(Path(tmp.name) / "ws", company="Sanjeh demo")
        day = today or dt.date(2025, 4, 1)
        ws.clock = lambda: day
        with ws.warehouse.transaction():
            for name, chunk in iter_demo_tables(orders=orders):
                ws.warehouse.insert_arrow(name, chunk)
    else:
        ws = Workspace.open(workspace)
        if today is not None:
            fixed = today
            ws.clock = lambda: fixed
    user, password = "screenshots", secrets.token_urlsafe(12)
    if get_user(ws, user) is None:
        add_user(ws, user, "admin", password=password)
    else:
        from sanjeh.users import set_password

        set_password(ws, user, password)
    cal = ws.settings.calendar
    fill = {
        "quarter": latest_complete(ws.today(), cal, "quarter").label,
        "year": latest_complete(ws.today(), cal, "year").label,
    }
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    saved: list[Path] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            if forecast:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(300_000)
                _login(page, base, user, password, "fa")
                _fill_track_record(page, base, ws)
                for lang in ("fa", "en"):
                    saved += _forecast_shots(page, base, ws, out_dir, lang)
                browser.close()
                return saved
            for lang in ("fa", "en"):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(300_000)
                _login(page, base, user, password, lang)
                for name, path in PAGES:
                    sep = "&" if "?" in path else "?"
                    page.goto(base + path.format(**fill) + f"{sep}lang={lang}")
                    if page.locator("[data-figure]").count():
                        page.wait_for_selector("[data-ready]", timeout=60_000)
                    target = out_dir / f"{name}-{lang}.png"
                    page.screenshot(path=str(target), full_page=True)
                    saved.append(target)
                page.close()
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.set_default_timeout(300_000)
            phone.goto(f"{base}/login?lang=fa")
            phone.fill("input[name=username]", user)
            phone.fill("input[name=password]", password)
            phone.click("button[type=submit]")
            phone.wait_for_load_state("networkidle")
            for name, path in PHONE_PAGES:
                phone.goto(base + path + "?lang=fa")
                if phone.locator("[data-figure]").count():
                    phone.wait_for_selector("[data-ready]", timeout=60_000)
                target = out_dir / f"{name}.png"
                phone.screenshot(path=str(target), full_page=False)
                saved.append(target)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ws.close()
        tmp.cleanup()
    return saved


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m sanjeh.web.screenshots", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--orders", type=int, default=5000)
    ap.add_argument("--chromium", default=CHROMIUM)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the clock's day (YYYY-MM-DD)")
    ap.add_argument("--forecast", action="store_true", help="the forecast page and its parts (docs/forecast.md)")
    args = ap.parse_args(argv)
    for path in take(
        args.out_dir, args.workspace, args.orders, args.chromium, today=args.today, forecast=args.forecast
    ):
        print(path)


if __name__ == "__main__":
    main()
