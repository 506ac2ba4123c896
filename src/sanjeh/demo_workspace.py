"""`sanjeh demo`: a realistic demo workspace built with the same parts a customer uses.

The generator (``demo.py``) writes canonical CSV files, the real importer loads
them, and demo users are created for the dashboard.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from sanjeh.workspace import Workspace

DEMO_COMPANY = "صنایع نمونه‌ی سنجه"


def build_demo_workspace(
    path: Path | str, *, orders: int = 20_000, seed: int = 1403, console: Console | None = None
) -> tuple[Workspace, list[tuple[str, str, str, str | None]]]:
    """(Re)build the demo workspace at ``path``; returns it and the demo logins."""
    from sanjeh.demo import write_demo_csv
    from sanjeh.users import create_demo_users

    root = Path(path).expanduser().resolve()
    if root.exists():
        if not (root / "sanjeh.toml").exists():
            from sanjeh.errors import UserError

            raise UserError(f"{root} exists and is not a Sanjeh workspace; choose another folder")
        shutil.rmtree(root)
    ws = Workspace.init(
        root,
        company=DEMO_COMPANY,
        goals=("more_annual_revenue", "more_customers", "better_conversion"),
    )
    console = console or Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="sanjeh-demo-") as tmp, Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating demo data", total=1.0)

        def report(what: str, fraction: float) -> None:
            bar.update(task, description=what, completed=fraction)

        write_demo_csv(Path(tmp), orders=orders, seed=seed, progress=report)
        bar.update(task, description="importing", completed=0.0)
        ws.import_files([Path(tmp)], progress=report)
    logins = create_demo_users(ws)
    return ws, logins
