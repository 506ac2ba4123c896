"""File formats and unreadable inputs: encodings, delimiters, ragged rows, XLSX, Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sanjeh.errors import ImportRefused, UserError
from sanjeh.ingest import list_rejects, run_import
from sanjeh.ingest.read import Reader
from sanjeh.workspace import Workspace

CUSTOMERS = "customer_id,name,region\nc1,علی,تهران\nc2,Sara,یزد\n"


def names(ws: Workspace) -> list[tuple[object, ...]]:
    return ws.warehouse.fetch("SELECT customer_id, name, region FROM customers ORDER BY 1")


EXPECTED = [("c1", "علی", "تهران"), ("c2", "Sara", "یزد")]


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (CUSTOMERS.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CUSTOMERS.encode("utf-8"), "bom"),
        (CUSTOMERS.replace(",", ";").encode("utf-8"), "semicolon"),
        (CUSTOMERS.replace(",", "\t").encode("utf-8"), "tab"),
        # Windows-1256 has Arabic yeh (ي), which the import turns into Persian yeh (ی)
        (CUSTOMERS.replace("ی", "ي").replace("\n", "\r\n").encode("cp1256"), "cp1256 crlf"),
    ],
)
def test_csv_variants(workspace: Workspace, tmp_path: Path, data: bytes, label: str) -> None:
    (tmp_path / "customers.csv").write_bytes(data)
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].accepted == 2, label
    assert names(workspace) == EXPECTED


def test_empty_binary_and_unreadable_files_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes(b"")
    with pytest.raises(ImportRefused, match=r"customers\.csv is empty"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    (tmp_path / "customers.csv").write_bytes(b"customer_id,name\n\x00\x01\x02\xff")
    with pytest.raises(ImportRefused, match=r"customers\.csv has a NUL byte on line 2, .* not a CSV text file"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    with pytest.raises(UserError, match="does not exist"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "nope.csv"])
    (tmp_path / "orders.xlsx").write_bytes(b"this is not a workbook at all")
    with pytest.raises(ImportRefused, match=r"orders\.xlsx cannot be read as an Excel workbook"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.xlsx"])
    (tmp_path / "orders.parquet").write_bytes(b"PAR1 broken")
    with pytest.raises(ImportRefused, match=r"orders\.parquet cannot be read as a Parquet file"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.parquet"])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(UserError, match="not a file Sanjeh can import"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "notes.pdf"])
    assert workspace.warehouse.fetch("SELECT count(*) FROM _imports") == [(0,)]


def test_wrong_encoding_guess_names_the_line(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes(("customer_id,name\nc0,x\nc1,علي\n").encode("cp1256"))
    with pytest.raises(ImportRefused, match=r"customers\.csv is not valid utf-8: line 3 has the byte 0x"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"], encoding="utf-8")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"], encoding="cp1256")
    assert s.tables["customers"].accepted == 2
    with pytest.raises(UserError, match="unknown encoding"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"], encoding="klingon")


def test_windows_1256_found_after_a_long_ascii_start(workspace: Workspace, tmp_path: Path) -> None:
    """The first 64 KiB decide only tentatively: a Windows-1256 byte far into the file still
    makes the whole file Windows-1256 (DuckDB's reader reports it, then every byte is checked)."""
    ascii_rows = "".join(f"c{i:05d},name {i}\n" for i in range(8000))  # > 64 KiB
    data = ("customer_id,name\n" + ascii_rows + "c99999,علي\n").encode("cp1256")
    assert len(data) > 65536
    (tmp_path / "customers.csv").write_bytes(data)
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 8001, "accepted": 8001, "rejected": 0}
    assert workspace.warehouse.fetch("SELECT name FROM customers WHERE customer_id = 'c99999'") == [("علی",)]


def test_a_file_that_mixes_encodings_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    """A UTF-8 header with a Persian column name (and 64 KiB of UTF-8 after it), then Windows-1256
    bytes further down: neither reading is right, so nothing is imported and the message says why."""
    rows = "".join(f"c{i:05d},name {i},یادداشت\n" for i in range(5000))
    data = ("customer_id,name,یادداشت\n" + rows).encode("utf-8") + "c99999,علي,x\n".encode("cp1256")
    assert len(data) > 65536
    (tmp_path / "customers.csv").write_bytes(data)
    with pytest.raises(ImportRefused, match=r"customers\.csv mixes encodings"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert workspace.warehouse.fetch("SELECT count(*) FROM _imports") == [(0,)]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("customer_id,name\nc1,a\nc2,b\n", [2, 3]),  # one line per row: counted, not scanned
        ("customer_id,name\nc1,a\nc2,b", [2, 3]),  # no newline at the end
        ("customer_id,name\r\nc1,a\r\nc2,b\r\n", [2, 3]),
        ("\n\ncustomer_id,name\nc1,a\nc2,b\n", [4, 5]),  # blank lines before the header
        ("customer_id,name\nc1,a\n\nc2,b\n", [2, 4]),  # a blank line between rows
        ("customer_id,name\nc1,a\nc2,b\n\n\n", [2, 3]),  # blank lines at the end
        ('customer_id,name\nc1,"a\nb"\nc2,b\n', [2, 4]),  # a row over two lines
    ],
)
def test_line_numbers_of_rows(workspace: Workspace, tmp_path: Path, text: str, lines: list[int]) -> None:
    (tmp_path / "customers.csv").write_text(text.replace("c2,b", "c2,"), encoding="utf-8", newline="")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 2, "accepted": 1, "rejected": 1}
    assert [r["line"] for r in list_rejects(workspace.warehouse)] == [lines[1]]
    assert workspace.warehouse.fetch("SELECT customer_id FROM customers") == [("c1",)]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("x,y\n1,a\n2,b\n", 2),  # the usual file: read straight into its check, row i on line 2 + i
        ("\nx,y\n1,a\n2,b", 3),  # a blank line before the header, no newline at the end
        ('x,y\n1,"a\nb"\n2,b\n', None),  # a row over two lines: staged instead
        ("x,y\n1,a\n\n2,b\n", None),  # a blank line between rows
        ("x,y\n1,a\n2\n", None),  # a ragged row (the reader rejects it)
    ],
)
def test_reading_a_csv_straight_from_the_file(tmp_path: Path, text: str, first: int | None) -> None:
    (tmp_path / "f.csv").write_text(text, encoding="utf-8", newline="")
    con = duckdb.connect()
    reader = Reader(con)
    try:
        sf = reader.stage(tmp_path / "f.csv")
        stream = reader.stream_sql(sf)
        assert stream is not None
        rows = con.execute(f"SELECT c0, c1 FROM {stream}").fetchall()
        assert reader.streamed(sf, len(rows)) == first
        reader.load(sf)  # staging agrees with the positions the stream was numbered by
        staged = con.execute(f"SELECT __line, c0, c1 FROM {sf.relation} ORDER BY __line").fetchall()
        if first is not None:
            assert staged == [(first + i, *r) for i, r in enumerate(rows)]
        assert reader.stream_sql(sf) is None  # loaded: read from its staged rows from now on
    finally:
        reader.close()
        con.close()


def test_ragged_rows_and_line_numbers(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        'customer_id,name,region\nc1,"Two\nlines",x\n\nc2,short\nc3,a,b,c\nc4,"with ""quotes""",y\nc5,,z\n',
        encoding="utf-8",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 5, "accepted": 2, "rejected": 3}
    rejects = {r["line"]: (r["reason"], r["row"]) for r in list_rejects(workspace.warehouse)}
    assert rejects == {
        5: ("row has 2 fields, the header has 3", ["c2", "short"]),
        6: ("row has 4 fields, the header has 3", ["c3", "a", "b", "c"]),
        8: ("name is required", {"customer_id": "c5", "name": None, "region": "z"}),
    }
    assert workspace.warehouse.fetch("SELECT name FROM customers ORDER BY 1") == [("Two\nlines",), ('with "quotes"',)]


def test_xlsx_with_date_cells(workspace: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["order_id", "ordered_at", "status", "cancelled_at"])
    ws.append([1001, dt.datetime(2024, 3, 1, 9, 30), "Placed", None])
    ws.append(["o2", dt.date(2024, 3, 2), "cancelled", "1403/01/01"])
    ws.append(["o3", "1403/13/01", "placed", None])
    other = wb.create_sheet("other")
    other.append(["order_id", "ordered_at", "status"])
    other.append(["x1", dt.datetime(2024, 1, 1), "placed"])
    wb.save(tmp_path / "orders.xlsx")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.xlsx"])
    assert s.tables["orders"].to_dict() == {"read": 3, "accepted": 2, "rejected": 1}
    assert workspace.warehouse.fetch("SELECT order_id, ordered_at, status, cancelled_at FROM orders ORDER BY 1") == [
        ("1001", dt.datetime(2024, 3, 1, 9, 30), "placed", None),
        ("o2", dt.datetime(2024, 3, 2), "cancelled", dt.datetime(2024, 3, 20)),
    ]
    [r] = list_rejects(workspace.warehouse)
    assert (r["line"], r["reason"]) == (4, "month 13 does not exist")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.xlsx"], sheet="other")
    assert s.tables["orders"].accepted == 1
    with pytest.raises(UserError, match="has no sheet 'nope'"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.xlsx"], sheet="nope")


def test_parquet(workspace: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "order_id": ["o1", "o2", "o1"],
            "line_no": pa.array([1, 1, 2], pa.int64()),
            "product_id": ["p", "p", "p"],
            "quantity": pa.array([2.0, 1.0, -1.0]),
            "unit_price": pa.array([10.5, 3.0, 1.0]),
        }
    )
    pq.write_table(table, tmp_path / "order_lines.parquet")
    orders = pa.table(
        {
            "order_id": ["o1", "o2"],
            "ordered_at": pa.array([dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 2)], pa.timestamp("us")),
            "status": ["placed", "placed"],
        }
    )
    pq.write_table(orders, tmp_path / "orders.parquet")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path])
    assert s.tables["order_lines"].to_dict() == {"read": 3, "accepted": 2, "rejected": 1}
    assert s.tables["orders"].accepted == 2
    assert workspace.warehouse.fetch("SELECT ordered_at FROM orders ORDER BY 1") == [
        (dt.datetime(2024, 1, 1, 12),),
        (dt.datetime(2024, 1, 2),),
    ]
    [r] = list_rejects(workspace.warehouse, "order_lines")
    assert (r["line"], r["reason"]) == (3, "quantity must be greater than 0")
