from __future__ import annotations

from sanjeh.workspace import Workspace


def test_workspace_has_every_table(any_workspace: Workspace) -> None:
    tables = set(any_workspace.warehouse.con.list_tables())
    assert {"orders", "order_lines", "targets", "_calendar", "_rejects"} <= tables
    n = any_workspace.warehouse.table("_calendar").count().execute()
    assert n == 73414
