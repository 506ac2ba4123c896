"""Take screenshots of the dashboard's main pages (for the README and docs).

    python -m sanjeh.web.screenshots OUT_DIR [--workspace PATH] [--orders N] [--chromium PATH]

Without ``--workspace`` a demo workspace is built in a temporary folder (demo
tables written straight into DuckDB). The app is served on a free 127.0.0.1 port
and Debian's chromium (through Playwright) logs in and saves PNGs of the
scorecard, KPI pages, the reps leaderboard and the data page, in Persian and
English, and the scorecard and a KPI page at phone width. Needs the ``dev`` extra (playwright).
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
)
#: Pages taken at phone width (390 × 844, the first screen only), in Persian.
PHONE_PAGES = (("scorecard-phone-fa", "/"), ("kpi-revenue-phone-fa", "/kpi/revenue"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def take(out_dir: Path, workspace: Path | None, orders: int, chromium: str) -> list[Path]:
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
        ws.clock = lambda: dt.date(2025, 4, 1)
        with ws.warehouse.transaction():
            for name, chunk in iter_demo_tables(orders=orders):
                ws.warehouse.insert_arrow(name, chunk)
    else:
        ws = Workspace.open(workspace)
    user, password = "screenshots", secrets.token_urlsafe(12)
    if get_user(ws, user) is None:
        add_user(ws, user, "admin", password=password)
    else:
        from sanjeh.users import set_password

        set_password(ws, user, password)
    cal = ws.settings.calendar
    today = ws.today()
    fill = {
        "quarter": latest_complete(today, cal, "quarter").label,
        "year": latest_complete(today, cal, "year").label,
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
            for lang in ("fa", "en"):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(300_000)
                page.goto(f"{base}/login?lang={lang}&next=/kpis")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
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
    args = ap.parse_args(argv)
    for path in take(args.out_dir, args.workspace, args.orders, args.chromium):
        print(path)


if __name__ == "__main__":
    main()
