from __future__ import annotations

from sanjeh.workspace import Workspace


def test_workspace_has_every_table(any_workspace: Workspace) -> None:
    tables = set(any_workspace.warehouse.con.list_tables())
    assert {"orders", "order_lines", "targets", "_rejects", "_imports", "_users"} <= tables
    assert "_calendar" not in tables  # a query's days are its parameters (kpis/compile.py)
