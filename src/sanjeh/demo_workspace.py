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

from sanjeh.users import DemoLogin
from sanjeh.workspace import Workspace

DEMO_COMPANY = "صنایع نمونه‌ی سنجه"


#: The file that marks a folder as a demo workspace Sanjeh built (and may rebuild).
MARKER = ".sanjeh-demo"


def is_demo_workspace(root: Path) -> bool:
    """Whether ``root`` is a demo workspace: it carries the marker, or (made before the marker) it is
    a workspace of the demo company."""
    if (root / MARKER).is_file():
        return True
    settings = root / "sanjeh.toml"
    if not settings.is_file():
        return False
    try:
        from sanjeh.settings import Settings

        return Settings.load(root).company == DEMO_COMPANY
    except Exception:  # an unreadable settings file is not a demo's
        return False


def build_demo_workspace(
    path: Path | str,
    *,
    orders: int = 20_000,
    seed: int = 1403,
    console: Console | None = None,
    force: bool = False,
) -> tuple[Workspace, list[DemoLogin]]:
    """(Re)build the demo workspace at ``path``; returns it and the demo logins.

    An existing demo workspace is rebuilt; an empty folder is used; any other folder that exists
    is refused unless ``force`` (then it is deleted first)."""
    from sanjeh.demo import write_demo_csv
    from sanjeh.errors import UserError
    from sanjeh.users import create_demo_users

    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UserError(key="workspace.demo_is_file", params={"path": str(root)}, details={"path": str(root)})
    if root.exists() and any(root.iterdir()):
        if not (force or is_demo_workspace(root)):
            raise UserError(key="workspace.demo_not_demo", params={"path": str(root)}, details={"path": str(root)})
        shutil.rmtree(root)
    ws = Workspace.init(
        root,
        company=DEMO_COMPANY,
        goals=("more_annual_revenue", "more_customers", "better_conversion"),
    )
    (root / MARKER).write_text("A Sanjeh demo workspace: `sanjeh demo` rebuilds (deletes) it.\n", encoding="utf-8")
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
