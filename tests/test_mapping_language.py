"""The mapping language's gaps (issue 16 B): date formats, null values, chained joins, joins that
match several rows, conflicting distinct rows, names with spaces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sanjeh.errors import MappingError
from sanjeh.ingest import list_rejects, list_warnings, run_import
from sanjeh.workspace import Workspace


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def mapping(tmp_path: Path, body: str) -> Path:
    return write(tmp_path / "m.yaml", body)


DEALS = """
tables:
  - table: opportunities
    from: deals.csv
    columns:
      opportunity_id: id
      created_at: "date(opened, '{fmt}')"
      status: {{value: open}}
"""


@pytest.mark.parametrize(
    ("fmt", "values", "expected"),
    [
        ("%d.%m.%Y", ["15.01.2024", "1.2.2024 10:30", "۲۹.۰۲.۲۰۲۴"], ["2024-01-15", "2024-02-01 10:30", "2024-02-29"]),
        ("%m/%d/%Y", ["01/15/2024", "2/1/2024"], ["2024-01-15", "2024-02-01"]),
        ("%Y/%m/%d", ["2024/01/15", "1403/01/15", "۱۴۰۳/۱۲/۳۰"], ["2024-01-15", "2024-04-03", "2025-03-20"]),
        ("%d-%m-%Y %H:%M", ["15-01-2024 09:05"], ["2024-01-15 09:05"]),
        ("excel", ["45306", "45306.5"], ["2024-01-15", "2024-01-15 12:00"]),
    ],
)
def test_date_formats(workspace: Workspace, tmp_path: Path, fmt: str, values: list[str], expected: list[str]) -> None:
    rows = "".join(f"d{i},{v}\n" for i, v in enumerate(values))
    src = write(tmp_path / "in" / "deals.csv", "id,opened\n" + rows)
    s = run_import(
        workspace.warehouse, workspace.import_options(), [src], mapping=mapping(tmp_path, DEALS.format(fmt=fmt))
    )
    assert s.tables["opportunities"].rejected == 0, list_rejects(workspace.warehouse)
    got = [r[0] for r in workspace.warehouse.fetch("SELECT created_at FROM opportunities ORDER BY opportunity_id")]
    assert [g.strftime("%Y-%m-%d %H:%M") if g.hour or g.minute else g.strftime("%Y-%m-%d") for g in got] == expected


def test_a_date_not_in_its_format_is_rejected_naming_the_date_and_the_format(
    workspace: Workspace, tmp_path: Path
) -> None:
    src = write(tmp_path / "in" / "deals.csv", "id,opened\nd1,2024-01-15\nd2,31.02.2024\nd3,15.01.2024\nd4,\n")
    run_import(
        workspace.warehouse, workspace.import_options(), [src], mapping=mapping(tmp_path, DEALS.format(fmt="%d.%m.%Y"))
    )
    got = {
        (r["line"], r["column"], r["value"], r["mapped_value"], r["reason"]) for r in list_rejects(workspace.warehouse)
    }
    assert got == {
        (2, "created_at", "2024-01-15", None, "2024-01-15 is not a date in the form %d.%m.%Y"),
        (3, "created_at", "31.02.2024", "2024-02-31", "day 31 does not exist in 2024-02"),
        (5, "created_at", None, None, "created_at is required"),
    }


def test_date_without_a_format_names_the_value_instead_of_blanking_it(workspace: Workspace, tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "deals.csv", "id,opened\nd1,1403/01/15 10:00\nd2,15.01.2024\n")
    body = DEALS.replace("date(opened, '{fmt}')", "date(opened)").replace("{{", "{").replace("}}", "}")
    run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping(tmp_path, body))
    [r] = list_rejects(workspace.warehouse)
    assert r["line"] == 3 and r["column"] == "created_at" and r["value"] == "15.01.2024"
    assert r["reason"].startswith("15.01.2024 is not a date in the form YYYY-MM-DD or YYYY/MM/DD")
    assert workspace.warehouse.fetch("SELECT created_at FROM opportunities") == [(dt.datetime(2024, 4, 3),)]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [("%d.%m", "needs %Y"), ("%d.%m.%Y %p", "%p, which is not supported"), ("%d.%d.%Y", "has %d twice")],
)
def test_bad_date_formats(workspace: Workspace, tmp_path: Path, fmt: str, message: str) -> None:
    src = write(tmp_path / "in" / "deals.csv", "id,opened\nd1,1.1.2024\n")
    with pytest.raises(MappingError, match=message):
        run_import(
            workspace.warehouse, workspace.import_options(), [src], mapping=mapping(tmp_path, DEALS.format(fmt=fmt))
        )


def test_null_values(workspace: Workspace, tmp_path: Path) -> None:
    src = write(
        tmp_path / "in" / "customers.csv",
        "code,name,region,segment\nc1,Ali,NULL,-\nc2,Sara,—,smb\nc3,Reza, null ,x\n",
    )
    m = mapping(
        tmp_path,
        "null_values: [NULL, '-']  # YAML reads NULL as no value: the text NULL is meant\ntables:\n  - table: customers\n    from: customers.csv\n"
        "    null_values: ['—']\n    columns:\n      customer_id: code\n      name: name\n"
        "      region: coalesce(region, 'none')\n      segment: segment\n",
    )
    run_import(workspace.warehouse, workspace.import_options(), [src], mapping=m)
    got = workspace.warehouse.fetch("SELECT customer_id, region, segment FROM customers ORDER BY 1")
    assert got == [("c1", "none", None), ("c2", "none", "smb"), ("c3", "none", "x")]


CHAIN = """
tables:
  - table: reps
    from: employees.csv
    join:
      - file: territories.csv
        as: territory
        on: {territory_id: id}
      - file: regions.csv
        as: region
        on: {territory.region_id: id}
    columns:
      rep_id: emp
      name: emp
      team: territory.name
      region: region.name
"""


def test_chained_joins_and_a_join_that_matches_several_rows(workspace: Workspace, tmp_path: Path) -> None:
    d = tmp_path / "in"
    write(d / "employees.csv", "emp,territory_id\nali,t1\nsara,t2\nreza,t9\n")
    write(d / "territories.csv", "id,name,region_id\nt1,Tehran North,r1\nt2,Isfahan,r2\nt2,Isfahan old,r1\n")
    write(d / "regions.csv", "id,name\nr1,Markazi\nr2,Esfahan\n")
    s = run_import(workspace.warehouse, workspace.import_options(), [d], mapping=mapping(tmp_path, CHAIN))
    assert s.tables["reps"].accepted == 3
    got = workspace.warehouse.fetch("SELECT rep_id, team, region FROM reps ORDER BY 1")
    assert got == [("ali", "Tehran North", "Markazi"), ("reza", None, None), ("sara", "Isfahan", "Esfahan")]
    [w] = [w for w in list_warnings(workspace.warehouse) if w["file"] == "territories.csv"]
    assert (w["line"], w["column"], w["value"]) == (3, "id", "t2")
    assert (
        w["reason"]
        == "territories.csv has 2 rows with id = t2 (joined as territory for reps); the first, on line 3, was taken"
    )


def test_a_chained_join_must_name_an_earlier_join(workspace: Workspace, tmp_path: Path) -> None:
    d = tmp_path / "in"
    write(d / "employees.csv", "emp,territory_id\nali,t1\n")
    write(d / "territories.csv", "id,name,region_id\nt1,Tehran,r1\n")
    write(d / "regions.csv", "id,name\nr1,Markazi\n")
    body = CHAIN.replace("territory.region_id", "area.region_id")
    with pytest.raises(MappingError, match=r"uses 'area\.region_id', but no earlier join is called 'area'"):
        run_import(workspace.warehouse, workspace.import_options(), [d], mapping=mapping(tmp_path, body))


def test_distinct_reports_conflicting_rows(workspace: Workspace, tmp_path: Path) -> None:
    src = write(
        tmp_path / "in" / "lines.csv",
        "sku,title,price\np1,Pen,10\np2,Ink,5\np1,Pen,10\np1,Pencil,10\np2,Ink,6\np1,Quill,12\n",
    )
    m = mapping(
        tmp_path,
        "tables:\n  - table: products\n    from: lines.csv\n    distinct: true\n    columns:\n"
        "      product_id: sku\n      name: title\n      list_price: price\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [src], mapping=m)
    assert s.tables["products"].to_dict() == {"read": 2, "accepted": 2, "rejected": 0}
    got = [(w["line"], w["column"], w["value"], w["reason"]) for w in list_warnings(workspace.warehouse)]
    assert got == [
        (
            5,
            "name",
            "Pencil",
            "product_id p1 has another name on this line (Pencil) than on line 2 (Pen); distinct keeps the first",
        ),
        (
            6,
            "list_price",
            "6",
            "product_id p2 has another list_price on this line (6) than on line 3 (5); distinct keeps the first",
        ),
        (
            7,
            "list_price",
            "12",
            "product_id p1 has another list_price on this line (12) than on line 2 (10); distinct keeps the first",
        ),
    ]
    assert s.warnings == 3


def test_distinct_keys_are_read_as_the_import_stores_them(workspace: Workspace, tmp_path: Path) -> None:
    """An invoice numbered «۹۰۰۲» on one line and ``9002`` on another is one order: ``distinct`` keeps
    its first line and warns of the other's different date, and both lines are the order's lines.
    (On the raw text they were two orders: the second rejected as a duplicate order_id while its
    line was imported onto the first, so the summary said "rejected" of money that counted.)"""
    src = write(
        tmp_path / "in" / "invoices.csv",
        "inv,day,sku,qty,price\n9002,2025-03-05,p1,3,10\n۹۰۰۲,2025-03-08,p2,4,10\n9003,2025-03-06,p1,1,10\n"
        "۹۰۰۳,۲۰۲۵-۰۳-۰۶,p2,1,10\n",  # the same day in Persian digits: no other value, no warning
    )
    m = mapping(
        tmp_path,
        "tables:\n  - table: orders\n    from: invoices.csv\n    distinct: true\n    columns:\n"
        "      order_id: inv\n      ordered_at: day\n      status: {value: fulfilled}\n"
        "  - table: order_lines\n    from: invoices.csv\n    columns:\n"
        "      order_id: inv\n      product_id: sku\n      quantity: qty\n      unit_price: price\n",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [src], mapping=m)
    assert s.tables["orders"].to_dict() == {"read": 2, "accepted": 2, "rejected": 0}
    assert s.tables["order_lines"].to_dict() == {"read": 4, "accepted": 4, "rejected": 0}
    [w] = [w for w in list_warnings(workspace.warehouse) if w["table"] == "orders"]  # (and unknown products)
    assert (w["line"], w["column"]) == (3, "ordered_at")
    assert w["reason"].startswith("order_id 9002 has another ordered_at on this line (2025-03-08) than on line 2")
    got = workspace.warehouse.fetch("SELECT order_id, count(*) FROM order_lines GROUP BY 1 ORDER BY 1")
    assert got == [("9002", 2), ("9003", 2)]


def test_a_name_with_spaces_without_backticks_gets_a_hint(workspace: Workspace, tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "deals.csv", "Deal ID,تاریخ ایجاد\nd1,2024-01-01\n")
    m = mapping(
        tmp_path,
        "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n"
        "      opportunity_id: lower(Deal ID)\n      created_at: '`تاریخ ایجاد`'\n      status: {value: open}\n",
    )
    with pytest.raises(MappingError, match=r"the column 'Deal ID' has spaces .* write it in backticks, `Deal ID`"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=m)
    m.write_text(m.read_text().replace("lower(Deal ID)", "lower(`Deal ID`)").replace("'`تاریخ ایجاد`'", "تاریخ ایجاد"))
    with pytest.raises(MappingError, match="write it in backticks, `تاریخ ایجاد`"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=m)
