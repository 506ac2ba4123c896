"""Normalisation and validation rules of SCHEMA.md, through real imports into a DuckDB workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from sanjeh.calendar import date_dimension
from sanjeh.errors import ImportRefused, UserError
from sanjeh.ingest import list_rejects, list_warnings, normalize, run_import
from sanjeh.workspace import Workspace


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    return ws.warehouse.fetch(sql)


def reject_reasons(ws: Workspace, table: str | None = None) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in list_rejects(ws.warehouse, table)}


def test_missing_required_column_refuses_everything(workspace: Workspace, tmp_path: Path) -> None:
    good = write(tmp_path, "customers.csv", "customer_id,name\nc1,Ali\n")
    bad = write(tmp_path, "orders.csv", "order_id,status\no1,placed\n")
    with pytest.raises(ImportRefused, match=r"orders\.csv lacks the required column ordered_at of table orders"):
        run_import(workspace.warehouse, workspace.import_options(), [good, bad])
    assert rows(workspace, "SELECT count(*) FROM customers") == [(0,)]
    assert rows(workspace, "SELECT count(*) FROM _imports") == [(0,)]


def test_unknown_table_name_lists_the_tables(workspace: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path, "sales.csv", "a,b\n1,2\n")
    with pytest.raises(UserError, match=r"there is no table 'sales'.*orders, order_lines"):
        run_import(workspace.warehouse, workspace.import_options(), [f])
    with pytest.raises(UserError, match=r"unknown table 'nope'"):
        run_import(workspace.warehouse, workspace.import_options(), [f], table="nope")


def test_table_option_overrides_the_file_name(workspace: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path, "export-2024.csv", "customer_id,name\nc1,Ali\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [f], table="customers")
    assert s.to_dict()["tables"] == {"customers": {"read": 1, "accepted": 1, "rejected": 0}}


def test_text_codes_and_digits_are_normalised(workspace: Workspace, tmp_path: Path) -> None:
    write(
        tmp_path,
        "leads.csv",
        "lead_id,created_at,source,region,disqualify_reason\n"
        "  L۱۲ ,۱۴۰۳/۰۱/۰۱,Cold - Call,\u00a0علي كرمانی\u00a0,دلیل ۲ نیم\u200cفاصله\n"
        "L13,2024-5-7,  Data_Entry  ,يزد,\n",
    )
    run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "leads.csv"])
    got = rows(workspace, "SELECT lead_id, created_at, source, region, disqualify_reason FROM leads ORDER BY lead_id")
    assert got == [
        ("L12", dt.datetime(2024, 3, 20), "cold_call", "علی کرمانی", "دلیل ۲ نیم\u200cفاصله"),
        ("L13", dt.datetime(2024, 5, 7), "data_entry", "یزد", None),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01", dt.datetime(2024, 3, 1)),
        ("2024/3/1 9:05", dt.datetime(2024, 3, 1, 9, 5)),
        ("2024-03-01T09:05:07.250", dt.datetime(2024, 3, 1, 9, 5, 7, 250000)),
        ("2024-03-01T06:00:00Z", dt.datetime(2024, 3, 1, 9, 30)),  # Tehran is UTC+03:30
        ("2024-03-01 10:00+01:00", dt.datetime(2024, 3, 1, 12, 30)),
        ("1403-01-01 14:05", dt.datetime(2024, 3, 20, 14, 5)),
        ("۱۴۰۲/۱۲/۲۹", dt.datetime(2024, 3, 19)),
        ("1402/12/29T23:59:59", dt.datetime(2024, 3, 19, 23, 59, 59)),
    ],
)
def test_accepted_dates(workspace: Workspace, tmp_path: Path, value: str, expected: dt.datetime) -> None:
    write(tmp_path, "orders.csv", f"order_id,ordered_at,status\no1,{value},placed\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.csv"])
    assert s.tables["orders"].accepted == 1, list_rejects(workspace.warehouse)
    assert rows(workspace, "SELECT ordered_at FROM orders") == [(expected,)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1403/13/01", "month 13 does not exist"),
        ("2024-02-30", "day 30 does not exist in 2024-02"),
        ("2023-02-29", "day 29 does not exist in 2023-02"),
        ("1403/07/31", "day 31 does not exist in 1403-07"),
        ("1402/12/30", "day 30 does not exist in 1402-12"),  # 1402 is not a leap year
        ("2024-01-01 25:00", "hour 25 does not exist"),
        ("2024-01-01 10:61", "minute 61 does not exist"),
        ("01/02/2024", "ordered_at is not a date (use YYYY-MM-DD or YYYY/MM/DD, optionally with a time HH:MM[:SS])"),
        ("1200-01-01", "Jalali year 1200 is outside the supported years 1300-1500"),
        ("", "ordered_at is required"),
    ],
)
def test_rejected_dates(workspace: Workspace, tmp_path: Path, value: str, reason: str) -> None:
    write(tmp_path, "orders.csv", f"order_id,ordered_at,status\no1,{value},placed\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.csv"])
    assert s.tables["orders"].rejected == 1
    [r] = list_rejects(workspace.warehouse)
    assert r["reason"] == reason
    assert r["line"] == 2
    assert r["column"] == "ordered_at"
    assert r["value"] == (value or None)


def test_dates_on_date_columns(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "customers.csv", "customer_id,name,created_on\nc1,A,1403/01/01\nc2,B,2024-02-03 10:00\n")
    run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    got = rows(workspace, "SELECT customer_id, created_on FROM customers ORDER BY 1")
    assert got == [("c1", dt.date(2024, 3, 20)), ("c2", dt.date(2024, 2, 3))]


def test_every_jalali_day_reads_as_the_calendars_date() -> None:
    """The import's Jalali arithmetic (no calendar join) agrees with the calendar module on every
    supported day, and a day that does not exist is NULL (Esfand 30 of a common year, Mehr 31, ...)."""
    con = duckdb.connect()
    con.register("cal", date_dimension().select(["day", "j_y", "j_m", "j_d"]))
    wrong = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {normalize.jalali_day('j_y', 'j_m', 'j_d')} "
        "IS DISTINCT FROM day) FROM cal"
    ).fetchone()
    assert wrong is not None and wrong[0] == 73_414 and wrong[1] == 0
    missing = [(1403, 12, 31), (1402, 12, 30), (1403, 7, 31), (1403, 1, 32), (1403, 0, 1), (1403, 13, 1)]
    missing += [(1403, 1, 0), (1299, 12, 29), (1501, 1, 1)]
    for y, m, d in missing:
        assert con.execute(f"SELECT {normalize.jalali_day(str(y), str(m), str(d))}").fetchone() == (None,), (y, m, d)
    assert con.execute(f"SELECT {normalize.jalali_day('1403', '12', '30')}").fetchone() == (dt.date(2025, 3, 20),)


def test_money_values(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,placed\n")
    write(
        tmp_path,
        "order_lines.csv",
        "order_id,line_no,product_id,quantity,unit_price,discount\n"
        'o1,1,p,1,"1,250,000",\n'
        "o1,2,p,۲,۱۲٬۵۰۰ تومان,\n"
        "o1,3,p,1,12٫5 ریال,0\n"
        "o1,4,p,1,7 Toman,\n"
        "o1,5,p,1,300 IRR,100\n"
        "o1,6,p,1,abc,\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path])
    assert s.tables["order_lines"].to_dict() == {"read": 6, "accepted": 5, "rejected": 1}
    got = rows(workspace, "SELECT line_no, quantity, unit_price, discount FROM order_lines ORDER BY line_no")
    assert got == [
        (1, 1.0, 1250000.0, 0.0),
        (2, 2.0, 125000.0, 0.0),
        (3, 1.0, 12.5, 0.0),
        (4, 1.0, 70.0, 0.0),
        (5, 1.0, 300.0, 100.0),
    ]
    assert reject_reasons(workspace) == {7: "unit_price is not a number"}


def test_toman_is_not_multiplied_outside_an_irr_workspace(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", currency="EUR")
    try:
        write(tmp_path / "in", "initiatives.csv", "initiative_id,name,started_on,investment\ni,N,2024-01-01,5 تومان\n")
        run_import(ws.warehouse, ws.import_options(), [tmp_path / "in"])
        assert rows(ws, "SELECT investment FROM initiatives") == [(5.0,)]
    finally:
        ws.close()


def test_duplicate_ids_first_wins(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "customers.csv", "customer_id,name\nc1,First\nc2,Other\n c1 ,Second\nc3,\nc3,Third\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 5, "accepted": 3, "rejected": 2}
    assert rows(workspace, "SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("c1", "First"),
        ("c2", "Other"),
        ("c3", "Third"),
    ]
    assert reject_reasons(workspace) == {4: "duplicate customer_id (first seen on line 2)", 5: "name is required"}
    # the value is the file's text, not the trimmed key it was found equal to
    assert [(r["line"], r["column"], r["value"]) for r in list_rejects(workspace.warehouse)] == [
        (4, "customer_id", " c1 "),
        (5, "name", None),
    ]


def test_duplicate_ids_across_files(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "customer_id,name\nc1,First\nc2,Other\n")
    write(tmp_path, "b.csv", "customer_id,name\nc3,Third\nc۲,Again\n")
    s = run_import(
        workspace.warehouse, workspace.import_options(), [tmp_path / "a.csv", tmp_path / "b.csv"], table="customers"
    )
    assert s.tables["customers"].to_dict() == {"read": 4, "accepted": 3, "rejected": 1}
    assert [(r["file"], r["line"], r["value"], r["reason"]) for r in list_rejects(workspace.warehouse)] == [
        ("b.csv", 3, "c۲", "duplicate customer_id (first seen on line 3 of a.csv)"),
    ]


def test_duplicate_targets_key(workspace: Workspace, tmp_path: Path) -> None:
    write(
        tmp_path,
        "targets.csv",
        "kpi,measure,period,dimension,member,target\n"
        "revenue,,1403,region,Markazi,10\nrevenue,,۱۴۰۳,region,Markazi,11\nrevenue,,1403,,,12\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "targets.csv"])
    assert s.tables["targets"].rejected == 1
    assert reject_reasons(workspace) == {
        3: "duplicate (kpi, measure, period, dimension, member) (first seen on line 2)"
    }


def test_order_lines_rules(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,placed\no2,bad,placed\n")
    write(
        tmp_path,
        "order_lines.csv",
        "order_id,product_id,quantity,unit_price,line_no\n"
        "o1,p,2,10,\n"  # line_no 1 (position)
        "o1,p,-1,10,\n"  # negative quantity
        "o2,p,1,10,\n"  # its order was rejected
        "o9,p,1,10,\n"  # its order does not exist
        "o1,p,1,10,\n"  # line_no 3 (its position among o1 lines)
        "o1,p,1,10,1\n"  # duplicate line_no 1
        "o1,p,0,10,\n"  # zero quantity
        "o1,p,1,-3,\n",  # negative price
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path])
    assert s.tables["order_lines"].to_dict() == {"read": 8, "accepted": 2, "rejected": 6}
    assert rows(workspace, "SELECT order_id, line_no FROM order_lines ORDER BY line_no") == [("o1", 1), ("o1", 3)]
    assert reject_reasons(workspace, "order_lines") == {
        3: "quantity must be greater than 0",
        4: "its order is missing or was rejected",
        5: "its order is missing or was rejected",
        7: "duplicate line_no within its order (first seen on line 2)",
        8: "quantity must be greater than 0",
        9: "unit_price must be 0 or more",
    }
    values = {r["line"]: (r["column"], r["value"]) for r in list_rejects(workspace.warehouse, "order_lines")}
    assert values[4] == ("order_id", "o2") and values[5] == ("order_id", "o9") and values[7] == ("line_no", "1")


def test_order_line_whose_order_is_in_the_warehouse(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "a", "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,placed\n")
    run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "a"])
    write(tmp_path / "b", "order_lines.csv", "order_id,product_id,quantity,unit_price\no1,p,1,1\no2,p,1,1\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "b"])
    assert s.tables["order_lines"].to_dict() == {"read": 2, "accepted": 1, "rejected": 1}


def test_hours_enum_and_cross_column_rules(workspace: Workspace, tmp_path: Path) -> None:
    write(
        tmp_path,
        "time_entries.csv",
        "rep_id,day,category,hours\nr1,2024-01-01,Selling,8\nr1,2024-01-01,Admin,24.5\nr1,2024-01-02,Admin,-1\n",
    )
    write(
        tmp_path,
        "opportunities.csv",
        "opportunity_id,created_at,status,closed_at\n"
        "d1,2024-01-10,won,2024-01-05\n"
        "d2,2024-01-10,lost,\n"
        "d3,2024-01-10,Open,2024-01-01\n"
        "d4,2024-01-10,pending,\n",
    )
    write(
        tmp_path,
        "leads.csv",
        "lead_id,created_at,mql_at,sql_at\nl1,2024-01-01,2024-01-05,2024-01-03\nl2,2024-01-01,,2024-01-03\n",
    )
    run_import(workspace.warehouse, workspace.import_options(), [tmp_path])
    assert reject_reasons(workspace, "time_entries") == {
        3: "hours must be between 0 and 24",
        4: "hours must be between 0 and 24",
    }
    assert reject_reasons(workspace, "opportunities") == {
        2: "closed_at is before created_at",
        3: "closed_at is required when status is won or lost",
        5: "status must be one of: open, won, lost",
    }
    assert reject_reasons(workspace, "leads") == {2: "sql_at is before mql_at"}
    assert rows(workspace, "SELECT opportunity_id, status FROM opportunities") == [("d3", "open")]


def test_bad_optional_value_rejects_the_row(workspace: Workspace, tmp_path: Path) -> None:
    write(
        tmp_path,
        "products.csv",
        "product_id,name,list_price,launched_on\np1,A,12,2024-01-01\np2,B,twelve,\np3,C,,1403/01/32\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "products.csv"])
    assert s.tables["products"].to_dict() == {"read": 3, "accepted": 1, "rejected": 2}
    assert reject_reasons(workspace) == {3: "list_price is not a number", 4: "day 32 does not exist in 1403-01"}


def test_unknown_references_and_extra_columns_are_warnings(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "customers.csv", "customer_id,name\nc1,A\n")
    write(
        tmp_path,
        "orders.csv",
        "order_id,ordered_at,status,customer_id,notes\no1,2024-01-01,placed,c1,x\no2,2024-01-01,placed,c9,\no3,2024-01-02,placed,c9,\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path])
    assert s.tables["orders"].accepted == 3
    warnings = list_warnings(workspace.warehouse, "orders")
    assert {(w["column"], w["value"], w["line"]) for w in warnings} == {("notes", None, 1), ("customer_id", "c9", 3)}
    [ref] = [w for w in warnings if w["column"] == "customer_id"]
    assert ref["reason"] == "unknown customer_id (not in customers); accepted anyway, on 2 rows"
