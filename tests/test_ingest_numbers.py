"""Numbers: thousands separators, the decimal mark of each file's column, overflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.ingest import list_rejects, run_import
from sanjeh.workspace import Workspace


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def prices(ws: Workspace) -> dict[str, float]:
    return {str(k): float(v) for k, v in ws.warehouse.fetch("SELECT product_id, list_price FROM products")}


def reasons(ws: Workspace) -> dict[tuple[str, int], tuple[str | None, str]]:
    return {(r["file"], r["line"]): (r["value"], r["reason"]) for r in list_rejects(ws.warehouse)}


def test_a_decimal_comma_is_never_multiplied(any_workspace: Workspace, tmp_path: Path) -> None:
    """Issue 10 item 7: in a ;-delimited file 12,50 was stored as 1250 and 1,5 as 15."""
    ws = any_workspace
    write(tmp_path, "orders.csv", "order_id;ordered_at;status\no1;2024-01-01;placed\n")
    write(
        tmp_path,
        "order_lines.csv",
        "order_id;product_id;quantity;unit_price;discount\n"
        "o1;p1;1,5;12,50;0\n"
        "o1;p2;2;1.234,5;\n"  # a point groups thousands where the comma is the decimal mark
        "o1;p3;1;1,234;\n",  # in a ;-delimited file the comma is a decimal comma
    )
    s = run_import(ws.warehouse, ws.import_options(), [tmp_path])
    assert s.tables["order_lines"].to_dict() == {"read": 3, "accepted": 3, "rejected": 0}
    got = ws.warehouse.fetch("SELECT product_id, quantity, unit_price FROM order_lines ORDER BY product_id")
    assert got == [("p1", 1.5, 12.5), ("p2", 2.0, 1234.5), ("p3", 1.0, 1.234)]


def test_each_file_and_column_decides_its_decimal_mark(any_workspace: Workspace, tmp_path: Path) -> None:
    """Comma-delimited files (the values are quoted): a value that reads one way only shows the
    column's decimal mark; 1,234 then takes it, and is rejected where nothing shows it."""
    ws = any_workspace
    head = "product_id,name,list_price\n"
    files = [
        write(tmp_path, "a.csv", head + 'a1,A,"1,234"\na2,A,10\n'),  # nothing shows the mark
        write(tmp_path, "b.csv", head + 'b1,B,"1,234"\nb2,B,"2,50"\n'),  # 2,50: a decimal comma
        write(tmp_path, "c.csv", head + 'c1,C,"1,234"\nc2,C,"1,234,567"\nc3,C,1.5\n'),  # a decimal point
        write(tmp_path, "d.csv", head + 'd1,D,"1,234"\nd2,D,"2,50"\nd3,D,3.5\n'),  # both: mixed
        write(tmp_path, "e.csv", head + 'e1,E,"1,234,567.5"\ne2,E,"12,345.25"\ne3,E,"0,5"\n'),
    ]
    s = run_import(ws.warehouse, ws.import_options(), files, table="products")
    assert s.tables["products"].to_dict() == {"read": 13, "accepted": 11, "rejected": 2}
    assert prices(ws) == {
        "a2": 10.0,
        "b1": 1.234,
        "b2": 2.5,
        "c1": 1234.0,
        "c2": 1234567.0,
        "c3": 1.5,
        "d2": 2.5,
        "d3": 3.5,
        "e1": 1234567.5,
        "e2": 12345.25,
        "e3": 0.5,  # 0,5 cannot be a thousands separator: a decimal comma, in a file that also has points
    }
    got = reasons(ws)
    assert got == {
        ("a.csv", 2): (
            "1,234",
            "list_price is ambiguous (1234 or 1.234?): no other value of this column in the file shows "
            "whether its decimal mark is a point or a comma",
        ),
        ("d.csv", 2): (
            "1,234",
            "list_price is ambiguous (1234 or 1.234?): this column of the file writes some decimals with a "
            "point and some with a comma",
        ),
    }


def test_a_point_in_a_semicolon_file(workspace: Workspace, tmp_path: Path) -> None:
    """In a ;-delimited file 1.234 is 1234 when the column shows a decimal comma, 1.234 when it shows
    a point, and ambiguous when nothing shows which."""
    head = "product_id;name;list_price\n"
    files = [
        write(tmp_path, "a.csv", head + "a1;A;1.234\na2;A;7\n"),
        write(tmp_path, "b.csv", head + "b1;B;1.234\nb2;B;2,5\nb3;B;1.234.567\n"),
        write(tmp_path, "c.csv", head + "c1;C;1.234\nc2;C;2.5\n"),
    ]
    s = run_import(workspace.warehouse, workspace.import_options(), files, table="products")
    assert s.tables["products"].to_dict() == {"read": 7, "accepted": 6, "rejected": 1}
    assert prices(workspace) == {"a2": 7.0, "b1": 1234.0, "b2": 2.5, "b3": 1234567.0, "c1": 1.234, "c2": 2.5}
    [(key, (value, reason))] = reasons(workspace).items()
    assert key == ("a.csv", 2) and value == "1.234"
    assert reason.startswith("list_price is ambiguous (1.234 or 1234?): this file is ;-separated")


ACCEPTED = [
    ("1,234,567.5", 1234567.5),
    ("1,250,000", 1250000.0),
    ("۱۲٬۵۰۰٫۵", 12500.5),
    ("12٫5 ریال", 12.5),
    ("۱٬۲۳۴", 1234.0),
    ("1٬234.5", 1234.5),  # Persian thousands, a decimal point
    ("1 234,5", 1234.5),  # space thousands, a decimal comma
    ("1 234 567", 1234567.0),
    ("-1,234.5", -1234.5),
    ("12,500,000 تومان", 125_000_000.0),  # ×10 in an IRR workspace
    ("1e3", 1000.0),
    (".5", 0.5),
]
REJECTED = [
    ("1,23,456", "list_price is not a number"),  # thousands come in groups of three
    ("12 50", "list_price is not a number"),
    ("1,2,3", "list_price is not a number"),
    ("1.234,5.6", "list_price is not a number"),
    ("1٬234,5", "list_price is not a number"),
    ("0,123,456", "list_price is not a number"),
    ("inf", "list_price is not a number"),
    ("nan", "list_price is not a number"),
    ("1e400", "list_price is too large to store (beyond ±1.8e308)"),
    ("-1e309", "list_price is too large to store (beyond ±1.8e308)"),
    ("1e308 تومان", "list_price is too large to store (beyond ±1.8e308)"),  # ×10 in an IRR workspace
]


def test_accepted_and_rejected_numbers(workspace: Workspace, tmp_path: Path) -> None:
    """Each value on its own row of one file (a comma-delimited file where nothing decides a decimal
    mark): the accepted ones are stored as expected, each rejected one with its reason."""
    rows = [f'a{i},A,"{v}"' for i, (v, _) in enumerate(ACCEPTED)] + [
        f'r{i},R,"{v}"' for i, (v, _) in enumerate(REJECTED)
    ]
    write(tmp_path, "products.csv", "product_id,name,list_price\n" + "\n".join(rows) + "\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "products.csv"])
    assert s.tables["products"].to_dict() == {
        "read": len(ACCEPTED) + len(REJECTED),
        "accepted": len(ACCEPTED),
        "rejected": len(REJECTED),
    }
    assert prices(workspace) == {f"a{i}": expected for i, (_, expected) in enumerate(ACCEPTED)}
    first = len(ACCEPTED) + 2
    assert reasons(workspace) == {("products.csv", first + i): (v, r) for i, (v, r) in enumerate(REJECTED)}


def test_overflowing_net_amount_is_rejected(any_workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,placed\n")
    write(
        tmp_path,
        "order_lines.csv",
        "order_id,product_id,quantity,unit_price\no1,p,2,1.5\no1,p,1e308,1e308\no1,p,1e400,1\no1,p,1,-1e308\n",
    )
    s = run_import(any_workspace.warehouse, any_workspace.import_options(), [tmp_path])
    assert s.tables["order_lines"].to_dict() == {"read": 4, "accepted": 1, "rejected": 3}
    got = {r["line"]: r["reason"] for r in list_rejects(any_workspace.warehouse)}
    assert got == {
        3: "net amount (quantity × unit_price − discount) is too large to store (beyond ±1.8e308)",
        4: "quantity is too large to store (beyond ±1.8e308)",
        5: "unit_price must be 0 or more",
    }
    assert any_workspace.warehouse.fetch("SELECT quantity * unit_price FROM order_lines") == [(3.0,)]


def test_a_column_waiting_for_its_mark_keeps_lines_and_other_reasons(workspace: Workspace, tmp_path: Path) -> None:
    """A file checked again once its decimal mark is decided (here from a row rejected for another
    reason) keeps every row's line and first reason; the rows of other files are untouched."""
    head = "product_id,name,list_price,launched_on\n"
    a = write(tmp_path, "a.csv", head + 'a1,A,"1,234",2024-01-01\na2,,"2,50",2024-01-01\n\na3,A,"3,5",1403/13/01\n')
    b = write(tmp_path, "b.csv", head + "b1,B,1.234,2024-01-01\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [a, b], table="products")
    assert s.tables["products"].to_dict() == {"read": 4, "accepted": 2, "rejected": 2}
    assert prices(workspace) == {"a1": 1.234, "b1": 1.234}
    assert {k: v[1] for k, v in reasons(workspace).items()} == {
        ("a.csv", 3): "name is required",
        ("a.csv", 5): "month 13 does not exist",
    }


@pytest.mark.parametrize("mark", ["point", "comma", "mixed", "unknown", "unknown;", "guess", "guess;"])
def test_the_fast_path_reads_plain_numbers_as_every_mark_does(mark: str) -> None:
    """A plain number skips the kinds and readings (the import's fast path) only where its reading
    under the column's mark is DuckDB's cast of it."""
    import random

    import duckdb

    from sanjeh.ingest import normalize

    rng = random.Random(3)
    values = ["".join(rng.choice("0123456789.,- e") for _ in range(rng.randint(1, 9))) for _ in range(5_000)]
    values += ["1.234", "-1.234", "12.345", "1234.5", "0.125", "1.5e3", ".5", "5."]
    con = duckdb.connect()
    con.execute("CREATE TABLE v (x VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[x] for x in values])
    kind = normalize.number_kind("x")
    rows = con.execute(
        f"SELECT x, TRY_CAST(x AS DOUBLE), TRY_CAST({normalize.number_reading('x', kind, mark)} AS DOUBLE), "
        f"{normalize.number_plain('x', mark)} FROM v"
    ).fetchall()
    plain = [r for r in rows if r[3]]
    assert len(plain) > 300
    for x, cast, reading, _ in plain:
        assert cast == reading, (x, mark)
