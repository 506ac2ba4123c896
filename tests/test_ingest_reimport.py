"""Importing again: a replace never empties a table or orphans order lines by accident; an upsert
keeps the columns a file does not carry, and an order's lines are replaced together."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sanjeh.errors import ImportRefused
from sanjeh.ingest import list_rejects, run_import
from sanjeh.workspace import Workspace

ORDERS = "order_id,ordered_at,status,rep_id,contact_method\n" + "".join(
    f"o{i},2024-01-{i % 28 + 1:02d},placed,r{i % 3},phone\n" for i in range(1, 101)
)
LINES = "order_id,product_id,quantity,unit_price,discount\n" + "".join(
    f"o{i},p{j},{j},10,{j - 1}\n" for i in range(1, 101) for j in (1, 2, 3)
)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def snapshot(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an import could change."""
    return {
        t: sorted(ws.warehouse.fetch(f"SELECT * FROM {t}"), key=repr)
        for t in ("orders", "order_lines", "_imports", "_rejects", "_warnings")
    }


@pytest.fixture
def filled(any_workspace: Workspace, tmp_path: Path) -> Workspace:
    write(tmp_path / "first", "orders.csv", ORDERS)
    write(tmp_path / "first", "order_lines.csv", LINES)
    run_import(any_workspace.warehouse, any_workspace.import_options(), [tmp_path / "first"])
    return any_workspace


def test_a_replace_that_accepts_nothing_is_refused(filled: Workspace, tmp_path: Path) -> None:
    """Issue 11 item 4: a replace with a header-only file, or one whose every row is rejected,
    turned 100 orders into 0 with exit 0."""
    ws = filled
    before = snapshot(ws)
    header_only = write(tmp_path / "a", "orders.csv", "order_id,ordered_at,status\n")
    all_bad = write(tmp_path / "b", "orders.csv", "order_id,ordered_at,status\nx1,someday,placed\nx2,2024-01-01,lost\n")
    with pytest.raises(ImportRefused) as err:
        run_import(ws.warehouse, ws.import_options(), [header_only], replace=True)
    assert err.value.message == (
        "replacing orders would empty it (100 rows stored): its files have no rows; nothing was imported "
        "(--force replaces it anyway)"
    )
    with pytest.raises(
        ImportRefused, match=r"would empty it \(100 rows stored\): none of the 2 rows read was accepted"
    ):
        run_import(ws.warehouse, ws.import_options(), [all_bad], replace=True)
    assert snapshot(ws) == before
    s = run_import(ws.warehouse, ws.import_options(), [all_bad], replace=True, force=True)
    assert s.deleted == {"order_lines": 300}
    assert ws.warehouse.fetch("SELECT count(*) FROM orders") == [(0,)]
    assert ws.warehouse.fetch("SELECT count(*) FROM order_lines") == [(0,)]
    # a replace of an empty table with nothing is no loss: allowed
    run_import(ws.warehouse, ws.import_options(), [header_only], replace=True)


def test_replacing_orders_never_orphans_their_lines(filled: Workspace, tmp_path: Path) -> None:
    ws = filled
    before = snapshot(ws)
    fewer = write(tmp_path / "a", "orders.csv", ORDERS.split("o51,")[0])  # orders 1..50
    with pytest.raises(ImportRefused) as err:
        run_import(ws.warehouse, ws.import_options(), [fewer], replace=True)
    assert err.value.message == (
        "replacing orders would leave 150 order lines without their order (theirs are not in the new orders); "
        "import order_lines with orders (they are then replaced together), or pass --force to delete those "
        "order lines; nothing was imported"
    )
    assert snapshot(ws) == before
    # the same orders again (all of them): no line loses its order, the lines stay
    same = write(tmp_path / "b", "orders.csv", ORDERS.replace(",phone", ",email"))
    run_import(ws.warehouse, ws.import_options(), [same], replace=True)
    assert ws.warehouse.fetch("SELECT count(*), min(contact_method) FROM orders") == [(100, "email")]
    assert ws.warehouse.fetch("SELECT count(*) FROM order_lines") == [(300,)]
    # orders and their lines replaced together
    write(tmp_path / "c", "orders.csv", "order_id,ordered_at,status\nn1,2024-02-01,placed\n")
    write(tmp_path / "c", "order_lines.csv", "order_id,product_id,quantity,unit_price\nn1,p,1,5\n")
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path / "c"], replace=True)
    assert s.deleted == {}
    assert ws.warehouse.fetch("SELECT order_id, quantity * unit_price FROM order_lines") == [("n1", 5.0)]
    assert ws.warehouse.fetch("SELECT order_id FROM orders") == [("n1",)]


def test_an_upsert_keeps_the_columns_a_file_does_not_carry(filled: Workspace, tmp_path: Path) -> None:
    """Issue 11 item 5: re-importing orders with only order_id, ordered_at, status blanked rep_id and
    contact_method. Stored rows keep them; new rows have them empty."""
    ws = filled
    write(tmp_path / "a", "orders.csv", "order_id,ordered_at,status\no1,2024-03-01,cancelled\nnew,2024-03-02,placed\n")
    run_import(ws.warehouse, ws.import_options(), [tmp_path / "a"])
    got = ws.warehouse.fetch(
        "SELECT order_id, ordered_at, status, rep_id, contact_method FROM orders WHERE order_id IN ('o1', 'o2', 'new') "
        "ORDER BY 1"
    )
    assert got == [
        ("new", dt.datetime(2024, 3, 2), "placed", None, None),
        ("o1", dt.datetime(2024, 3, 1), "cancelled", "r1", "phone"),
        ("o2", dt.datetime(2024, 1, 3), "placed", "r2", "phone"),
    ]
    # a column the file carries empty is emptied: the file says so
    write(tmp_path / "b", "orders.csv", "order_id,ordered_at,status,rep_id\no1,2024-03-01,placed,\n")
    run_import(ws.warehouse, ws.import_options(), [tmp_path / "b"])
    assert ws.warehouse.fetch("SELECT rep_id, contact_method FROM orders WHERE order_id = 'o1'") == [(None, "phone")]


def test_an_orders_lines_are_replaced_together(filled: Workspace, tmp_path: Path) -> None:
    """Lines removed at the source used to stay (revenue overstated). The lines of each order in
    the file replace that order's stored lines; a line keeps its stored discount when the file
    has no discount column; orders not in the file keep theirs."""
    ws = filled
    write(tmp_path / "a", "order_lines.csv", "order_id,product_id,quantity,unit_price\no1,p1,1,10\no1,p2,5,10\n")
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path / "a"])
    assert s.tables["order_lines"].to_dict() == {"read": 2, "accepted": 2, "rejected": 0}
    got = ws.warehouse.fetch(
        "SELECT order_id, line_no, product_id, quantity, discount FROM order_lines WHERE order_id IN ('o1', 'o2') "
        "ORDER BY 1, 2"
    )
    assert got == [
        ("o1", 1, "p1", 1.0, 0.0),
        ("o1", 2, "p2", 5.0, 1.0),  # line 2 kept its discount of 1
        ("o2", 1, "p1", 1.0, 0.0),
        ("o2", 2, "p2", 2.0, 1.0),
        ("o2", 3, "p3", 3.0, 2.0),
    ]
    assert ws.warehouse.fetch("SELECT count(*) FROM order_lines") == [(299,)]


def test_cross_column_rules_see_the_row_as_it_will_be_stored(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    write(
        tmp_path / "a",
        "opportunities.csv",
        "opportunity_id,created_at,status,closed_at\nd1,2024-01-01,open,2024-02-01\nd2,2024-01-01,open,\n",
    )
    write(tmp_path / "a", "leads.csv", "lead_id,created_at,mql_at,sql_at\nl1,2024-01-01,2024-01-02,2024-01-03\n")
    run_import(ws.warehouse, ws.import_options(), [tmp_path / "a"])
    write(
        tmp_path / "b", "opportunities.csv", "opportunity_id,created_at,status\nd1,2024-01-01,won\nd2,2024-01-01,won\n"
    )
    write(tmp_path / "b", "leads.csv", "lead_id,created_at,mql_at\nl1,2024-01-01,2024-01-05\n")
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path / "b"])
    # d1 is won with its stored closed_at; d2 has none anywhere; l1's stored sql_at is before the new mql_at
    assert s.tables["opportunities"].to_dict() == {"read": 2, "accepted": 1, "rejected": 1}
    assert s.tables["leads"].to_dict() == {"read": 1, "accepted": 0, "rejected": 1}
    assert ws.warehouse.fetch("SELECT opportunity_id, status, closed_at FROM opportunities ORDER BY 1") == [
        ("d1", "won", dt.datetime(2024, 2, 1)),
        ("d2", "open", None),
    ]
    got = {(r["table"], r["line"]): (r["column"], r["value"], r["reason"]) for r in list_rejects(ws.warehouse)}
    assert got == {
        ("opportunities", 3): ("closed_at", None, "closed_at is required when status is won or lost"),
        ("leads", 2): ("sql_at", "2024-01-03 00:00:00", "sql_at is before mql_at"),
    }
