"""Shipped mappings on the real datasets, and the mapping language itself."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sanjeh.errors import MappingError
from sanjeh.ingest import list_rejects, list_warnings, run_import
from sanjeh.workspace import Workspace
from tests.conftest import DATASET_CURRENCIES, DATASETS


def fetch(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    return ws.warehouse.fetch(sql)


@pytest.fixture
def workspace_in(tmp_path: Path) -> Iterator[Callable[[str], Workspace]]:
    """A new DuckDB workspace in a currency (a shipped mapping imports only into its own)."""
    opened: list[Workspace] = []

    def make(currency: str) -> Workspace:
        opened.append(Workspace.init(tmp_path / currency, currency=currency))
        return opened[-1]

    yield make
    for ws in opened:
        ws.close()


def test_maven_crm(workspace_in: Callable[[str], Workspace]) -> None:
    workspace = workspace_in(DATASET_CURRENCIES["maven-crm"])
    s = run_import(
        workspace.warehouse,
        workspace.import_options(),
        [DATASETS / "maven-crm-sales-opportunities"],
        mapping="maven-crm",
    )
    t = s.to_dict()["tables"]
    assert t["opportunities"] == {"read": 8800, "accepted": 8300, "rejected": 500}
    assert t["reps"]["accepted"] == 35
    assert t["products"]["accepted"] == 7
    assert t["customers"]["accepted"] == 85
    assert s.ignored_files == ["data_dictionary.csv"]
    reasons = Counter(r["reason"] for r in list_rejects(workspace.warehouse))
    assert list(reasons) == [
        "a Prospecting deal has no date in this export (engage_date is empty), so it has no created_at"
    ]
    # GTXPro is unified with products.csv's "GTX Pro": every deal's product exists
    assert fetch(
        workspace, "SELECT count(*) FROM opportunities WHERE product_id NOT IN (SELECT product_id FROM products)"
    ) == [(0,)]
    assert s.warnings == 0
    won = fetch(
        workspace,
        "SELECT count(*), sum(amount), min(closed_at), count(*) FILTER (WHERE closed_at IS NULL) "
        "FROM opportunities WHERE status = 'won'",
    )
    assert won == [(4238, 10005534.0, dt.datetime(2017, 3, 1), 0)]
    assert fetch(workspace, "SELECT status, count(*) FROM opportunities GROUP BY 1 ORDER BY 1") == [
        ("lost", 2473),
        ("open", 1589),
        ("won", 4238),
    ]
    assert fetch(workspace, "SELECT region, team FROM reps WHERE rep_id = 'Anna Snelling'") == [
        ("Central", "Dustin Brinkmann")
    ]
    assert fetch(workspace, "SELECT count(*) FROM customers WHERE industry = 'technolgy'") == [(0,)]


def test_olist_funnel(workspace_in: Callable[[str], Workspace]) -> None:
    workspace = workspace_in(DATASET_CURRENCIES["olist-funnel"])
    s = run_import(
        workspace.warehouse, workspace.import_options(), [DATASETS / "olist-marketing-funnel"], mapping="olist-funnel"
    )
    t = s.to_dict()["tables"]
    assert t["leads"] == {"read": 8000, "accepted": 8000, "rejected": 0}
    assert t["opportunities"] == {"read": 842, "accepted": 842, "rejected": 0}
    assert fetch(workspace, "SELECT count(*) FROM leads WHERE mql_at = created_at") == [(8000,)]
    assert fetch(workspace, "SELECT count(*) FROM opportunities WHERE status = 'won' AND lead_id IS NOT NULL") == [
        (842,)
    ]
    # the one deal won before its lead's first contact starts when it was won
    assert fetch(workspace, "SELECT count(*) FROM opportunities WHERE created_at > closed_at") == [(0,)]
    assert fetch(workspace, "SELECT count(*) FROM leads WHERE source IS NULL")[0][0] > 0  # blank origins stay empty
    assert s.warnings == 0


def test_classicmodels(workspace_in: Callable[[str], Workspace]) -> None:
    workspace = workspace_in(DATASET_CURRENCIES["classicmodels"])
    s = run_import(
        workspace.warehouse, workspace.import_options(), [DATASETS / "classicmodels"], mapping="classicmodels"
    )
    for name, n in {"orders": 326, "order_lines": 2996, "customers": 122, "products": 110, "reps": 23}.items():
        assert s.tables[name].to_dict() == {"read": n, "accepted": n, "rejected": 0}, name
    assert fetch(workspace, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1") == [
        ("cancelled", 6),
        ("fulfilled", 303 + 4),
        ("placed", 13),
    ]
    assert fetch(workspace, "SELECT count(*) FROM orders WHERE status = 'cancelled' AND cancel_reason IS NULL") == [
        (0,)
    ]
    assert fetch(
        workspace, "SELECT count(*) FROM orders WHERE status <> 'cancelled' AND cancel_reason IS NOT NULL"
    ) == [(0,)]
    # NA (North America) stays the string NA
    assert fetch(workspace, "SELECT region, count(*) FROM reps WHERE team = 'Boston' GROUP BY 1") == [("NA", 2)]
    assert fetch(workspace, "SELECT count(*) FROM orders WHERE rep_id IS NULL") == [(0,)]
    revenue = fetch(workspace, "SELECT round(sum(quantity * unit_price), 2) FROM order_lines")
    assert revenue == [(9604190.61,)]


@pytest.mark.slow
def test_uci_online_retail(workspace_in: Callable[[str], Workspace]) -> None:
    workspace = workspace_in(DATASET_CURRENCIES["uci-online-retail"])
    s = run_import(
        workspace.warehouse, workspace.import_options(), [DATASETS / "uci-online-retail"], mapping="uci-online-retail"
    )
    t = s.to_dict()["tables"]
    assert t["order_lines"] == {"read": 541909, "accepted": 541909 - 1339, "rejected": 1339}
    assert t["orders"]["read"] == 25900
    reasons = Counter((r["table"], r["reason"]) for r in list_rejects(workspace.warehouse))
    assert reasons == {
        ("orders", "a stock write-off (negative quantity on an invoice that is not a cancellation), not a sale"): 1336,
        (
            "order_lines",
            "a stock write-off (negative quantity on an invoice that is not a cancellation), not a sale",
        ): 1336,
        ("orders", "an 'Adjust bad debt' entry (invoice A...), not a sale"): 3,
        ("order_lines", "an 'Adjust bad debt' entry (invoice A...), not a sale"): 3,
    }
    assert fetch(workspace, "SELECT count(*) FROM orders WHERE status = 'cancelled' AND order_id NOT LIKE 'C%'") == [
        (0,)
    ]
    assert fetch(workspace, "SELECT min(quantity) > 0 FROM order_lines") == [(True,)]
    assert fetch(workspace, "SELECT count(*) FROM products WHERE product_id = '85123A'") == [(1,)]
    # `distinct` keeps the first row of a key and reports the rows that say otherwise (no unknown references):
    # stock codes with several descriptions, invoices whose lines straddle a minute, customers in two countries
    warned = Counter((w["table"], w["column"]) for w in list_warnings(workspace.warehouse))
    assert warned == {
        ("products", "name"): 1321,
        ("orders", "ordered_at"): 43,
        ("orders", "cancelled_at"): 1,
        ("customers", "region"): 8,
    }
    assert s.warnings == 1373


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_custom_mapping_expressions(workspace: Workspace, tmp_path: Path) -> None:
    src = write(
        tmp_path / "in",
        "crm export.csv",
        "Deal ID,Owner,Stage,Opened,Value,Currency,Region\n"
        "D-1,Ali,Closed Won,2024-01-02,100,toman,north\n"
        "D-2,Sara,Negotiation,2024-01-03,,rial,\n"
        "D-3,Ali,Closed Lost,2024-01-05,7,rial,south'); DROP TABLE orders; --\n",
    )
    mapping = write(
        tmp_path,
        "m.yaml",
        """
tables:
  - table: opportunities
    from: "crm*.csv"
    columns:
      opportunity_id: lower(replace(`Deal ID`, '-', '_'))
      rep_id: upper(Owner)
      status: {column: Stage, map: {Closed Won: won, Closed Lost: lost}, default: open}
      stage: Stage
      created_at: Opened
      closed_at: "if(starts_with(Stage, 'Closed'), Opened, null)"
      amount: "if(Currency = 'toman', Value * 10, Value)"
      lost_reason: concat('region ', coalesce(Region, 'none'))
""",
    )
    s = run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping)
    assert s.tables["opportunities"].accepted == 3
    got = fetch(
        workspace, "SELECT opportunity_id, rep_id, status, amount, closed_at, lost_reason FROM opportunities ORDER BY 1"
    )
    assert got == [
        ("d_1", "ALI", "won", 1000.0, dt.datetime(2024, 1, 2), "region north"),
        ("d_2", "SARA", "open", None, None, "region none"),
        ("d_3", "ALI", "lost", 7.0, dt.datetime(2024, 1, 5), "region south'); DROP TABLE orders; --"),
    ]
    assert fetch(workspace, "SELECT count(*) FROM orders") == [(0,)]


def test_mapping_missing_column_names_column_and_file(workspace: Workspace, tmp_path: Path) -> None:
    src = write(tmp_path / "in", "deals.csv", "id,when\n1,2024-01-01\n")
    mapping = write(
        tmp_path,
        "m.yaml",
        "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n"
        "      opportunity_id: id\n      created_at: opened_on\n      status: {value: open}\n",
    )
    with pytest.raises(MappingError, match=r"deals\.csv has no column 'opened_on'"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("drop(id)", "unknown function 'drop'"),
        ("id; DROP TABLE orders", "cannot read expression"),
        ("concat(id", r"expected '\)'"),
    ],
)
def test_mapping_rejects_unsafe_or_bad_expressions(
    workspace: Workspace, tmp_path: Path, expr: str, message: str
) -> None:
    src = write(tmp_path / "in", "deals.csv", "id,when\n1,2024-01-01\n")
    mapping = write(
        tmp_path,
        "m.yaml",
        "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n"
        f"      opportunity_id: {expr!r}\n      created_at: when\n      status: {{value: open}}\n",
    )
    with pytest.raises(MappingError, match=message):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping)


def test_unknown_mapping_and_missing_required_column(workspace: Workspace, tmp_path: Path) -> None:
    src = write(tmp_path / "in", "deals.csv", "id\n1\n")
    with pytest.raises(MappingError, match="not a shipped mapping"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping="salesforce")
    mapping = write(
        tmp_path, "m.yaml", "tables:\n  - table: orders\n    from: deals.csv\n    columns: {order_id: id}\n"
    )
    with pytest.raises(MappingError, match="needs the column"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping)


MAPPED = """
tables:
  - table: opportunities
    from: "deals.csv"
    join:
      - file: owners.csv
        as: owner
        on: {Owner: id}
    columns:
      opportunity_id: "`Deal ID`"
      created_at: "concat(substr(Opened, 7, 4), '-', substr(Opened, 4, 2), '-', substr(Opened, 1, 2))"
      status: {column: Stage, map: {Won: won, Zombie: undead}}
      amount: "Value * 10"
      rep_id: owner.name
      closed_at: "if(Stage = 'Won', owner.since, null)"
      contact_method: {value: "!!"}
      stage: Stage
  - table: customers
    from: "deals.csv"
    columns:
      customer_id: "`Deal ID`"
      name: concat(First, Last)
"""


def test_rejects_show_the_files_value_and_the_mapped_value(any_workspace: Workspace, tmp_path: Path) -> None:
    """Issue 10 item 10: a reject shows the value as it stood in the file (`value`) and, where a mapping
    changed it, what the mapping made of it and the rule saw (`mapped_value`)."""
    ws = any_workspace
    src = write(
        tmp_path / "in",
        "deals.csv",
        "Deal ID,Opened,Stage,Value,Owner,First,Last\n"
        'D1,01.02.2021,Won,"12,50",o1,Ali,Rezaei\n'  # accepted: 12,50 is a decimal comma, x 10
        "D2,29.02.2021,Won,5,o1,Sara,\n"  # 2021-02-29 does not exist
        "D3,01.03.2021,Zombie,5,o1,,\n"  # status undead; customer without a name
        'D4,01.03.2021,Open,"1,234",o1,Reza,\n'  # 1,234 is ambiguous: the arithmetic gives no number
        "D5,01.03.2021,Won,5,o2,Nima,\n",  # the owner's since is not a date
    )
    write(tmp_path / "in", "owners.csv", "id,name,since\no1,Owner One,2021-06-01\no2,Owner Two,June 2021\n")
    mapping = write(tmp_path, "m.yaml", MAPPED)
    s = run_import(ws.warehouse, ws.import_options(), [src, tmp_path / "in" / "owners.csv"], mapping=mapping)
    assert s.tables["opportunities"].to_dict() == {"read": 5, "accepted": 1, "rejected": 4}
    assert s.tables["customers"].to_dict() == {"read": 5, "accepted": 4, "rejected": 1}
    assert fetch(ws, "SELECT opportunity_id, amount FROM opportunities") == [("D1", 125.0)]
    got = {(r["table"], r["line"]): (r["column"], r["value"], r["mapped_value"]) for r in list_rejects(ws.warehouse)}
    assert got == {
        ("opportunities", 3): ("created_at", "29.02.2021", "2021-02-29"),
        ("opportunities", 4): ("status", "Zombie", "undead"),
        ("opportunities", 5): ("amount", "1,234", "nan"),
        # an expression that reads several columns shows them all
        ("opportunities", 6): ("closed_at", '{"Stage":"Won","owner.since":"June 2021"}', "June 2021"),
        ("customers", 4): ("name", '{"First":null,"Last":null}', ""),
    }
    reasons = {(r["table"], r["line"]): r["reason"] for r in list_rejects(ws.warehouse)}
    assert reasons[("opportunities", 5)] == "amount is not a number"
    assert reasons[("opportunities", 3)] == "day 29 does not exist in 2021-02"


def test_rejects_of_a_constant_show_what_the_mapping_gave(workspace: Workspace, tmp_path: Path) -> None:
    src = write(tmp_path / "in", "deals.csv", "id,when\n1,2024-01-01\n")
    mapping = write(
        tmp_path,
        "m.yaml",
        "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n"
        "      opportunity_id: id\n      created_at: when\n      status: {value: pending}\n",
    )
    run_import(workspace.warehouse, workspace.import_options(), [src], mapping=mapping)
    [r] = list_rejects(workspace.warehouse)
    assert (r["column"], r["value"], r["mapped_value"]) == ("status", None, "pending")


def test_an_old_workspace_gets_the_mapped_value_column(any_workspace: Workspace, tmp_path: Path) -> None:
    """`_rejects` is a system table: a workspace made before `mapped_value` existed gets the column
    when it is next opened for writing, and its old rejects stay."""
    ws = any_workspace
    src = write(tmp_path / "in", "orders.csv", "order_id,ordered_at,status\no1,2024-01-01,lost\n")
    run_import(ws.warehouse, ws.import_options(), [src])
    ws.warehouse.execute('ALTER TABLE "_rejects" DROP COLUMN "mapped_value"')
    root = ws.root
    ws.close()
    again = Workspace.open(root)
    try:
        assert "mapped_value" in again.warehouse.table("_rejects").columns
        [r] = list_rejects(again.warehouse)
        assert (r["value"], r["mapped_value"], r["reason"]) == (
            "lost",
            None,
            "status must be one of: placed, fulfilled, cancelled",
        )
        run_import(again.warehouse, again.import_options(), [src])
        assert len(list_rejects(again.warehouse)) == 1
    finally:
        again.close()


def test_a_mapping_in_another_currency_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    """A mapping declares the currency of the money it reads; a workspace in another currency
    (this one is in IRR) refuses it, saying how to make one in that currency."""
    from sanjeh.ingest.mapping import load_mapping

    assert {name: load_mapping(name).currency for name in DATASET_CURRENCIES} == DATASET_CURRENCIES
    with pytest.raises(MappingError) as err:
        run_import(
            workspace.warehouse,
            workspace.import_options(),
            [DATASETS / "maven-crm-sales-opportunities"],
            mapping="maven-crm",
        )
    assert err.value.message == (
        "the mapping maven-crm reads amounts in USD, but this workspace is in IRR; import into a workspace in USD "
        "(create one with `sanjeh init PATH --currency USD`); nothing was imported"
    )
    assert fetch(workspace, "SELECT count(*) FROM _imports") == [(0,)]
    src = write(tmp_path / "in", "deals.csv", "id,when\n1,2024-01-01\n")
    body = "tables:\n  - table: opportunities\n    from: deals.csv\n    columns:\n"
    body += "      opportunity_id: id\n      created_at: when\n      status: {value: open}\n"
    write(tmp_path, "irr.yaml", "currency: irr\n" + body)
    assert (
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=tmp_path / "irr.yaml")
        .tables["opportunities"]
        .accepted
        == 1
    )
    write(tmp_path, "none.yaml", body)  # no currency declared: any workspace
    assert (
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=tmp_path / "none.yaml")
        .tables["opportunities"]
        .accepted
        == 1
    )
    write(tmp_path, "bad.yaml", "currency: dollars\n" + body)
    with pytest.raises(MappingError, match="'currency' must be an ISO 4217 code such as USD or IRR, not 'dollars'"):
        run_import(workspace.warehouse, workspace.import_options(), [src], mapping=tmp_path / "bad.yaml")
