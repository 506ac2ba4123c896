"""Data in without a technician (issue 16): Iranian exports through `sanjeh map suggest`, a dry run
and the import with no hand edits, and through the shipped profiles; the KPIs equal pandas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jdatetime
import pandas as pd
import pytest

from sanjeh.cli import main
from sanjeh.ingest import list_rejects, run_import
from sanjeh.kpis import Query
from sanjeh.workspace import Workspace
from tests.iran_exports import (
    write_deals_csv,
    write_deals_xlsx,
    write_invoices_csv,
    write_invoices_xlsx,
)

_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def money(x: Any) -> Any:
    return pytest.approx(x, rel=1e-9)


def gregorian(text: str) -> pd.Timestamp:
    y, m, d = (int(p) for p in str(text).translate(_ASCII).split("/"))
    return pd.Timestamp(jdatetime.date(y, m, d).togregorian())


def kpi(ws: Workspace, name: str, period: str) -> dict[str, Any]:
    (row,) = ws.engine().run(Query(name, period)).rows
    return row


def invoices_frame(path: Path) -> pd.DataFrame:
    """The invoice export read by pandas alone: one row per line with its Gregorian day and net amount."""
    df = pd.read_excel(path, dtype=str) if path.suffix == ".xlsx" else pd.read_csv(path, dtype=str)
    qty = df["تعداد"].astype(float).abs()
    df["net"] = qty * df["فی (ریال)"].astype(float) - df["تخفیف (ریال)"].astype(float)
    df["day"] = df["تاریخ فاکتور"].map(gregorian)
    df["sale"] = df["نوع فاکتور"] == "فروش"
    return df


def check_invoice_kpis(ws: Workspace, df: pd.DataFrame) -> None:
    sales = df[df["sale"]]
    row = kpi(ws, "revenue", "1403")
    assert row["revenue"] == money(sales["net"].sum())
    assert row["orders"] == sales["شماره فاکتور"].nunique()
    q2 = sales[(sales["day"] >= gregorian("1403/04/01")) & (sales["day"] < gregorian("1403/07/01"))]
    assert kpi(ws, "revenue", "1403-Q2")["revenue"] == money(q2["net"].sum())
    cancelled = kpi(ws, "cancelled_orders", "1403")
    returns = df[~df["sale"]]
    assert cancelled["cancelled_orders"] == returns["شماره فاکتور"].nunique() > 0
    assert cancelled["cancelled_value"] == money(returns["net"].sum())


def deals_frame(path: Path) -> pd.DataFrame:
    df = pd.read_excel(path, dtype=str) if path.suffix == ".xlsx" else pd.read_csv(path, dtype=str)
    df["closed"] = df["تاریخ بسته شدن"].map(lambda t: gregorian(t) if isinstance(t, str) and t else pd.NaT)
    df["rials"] = df["مبلغ (تومان)"].astype(float) * 10
    return df


def check_deal_kpis(ws: Workspace, df: pd.DataFrame) -> None:
    closed = df[(df["closed"] >= gregorian("1403/01/01")) & (df["closed"] < gregorian("1404/01/01"))]
    won, lost = (closed["وضعیت"] == "موفق").sum(), (closed["وضعیت"] == "ناموفق").sum()
    row = kpi(ws, "win_rate", "1403")
    assert (row["won"], row["lost"]) == (won, lost)
    assert won and lost
    assert row["win_rate"] == money(won / (won + lost))
    assert row["won_value"] == money(closed.loc[closed["وضعیت"] == "موفق", "rials"].sum())


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_suggest_dry_run_import_with_no_hand_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The acceptance test: an invoice workbook (Persian headers, Jalali text dates, returns) and a
    CRM deals export go through map suggest -> import --dry-run -> import untouched; the KPIs equal
    pandas on the same files."""
    monkeypatch.setenv("COLUMNS", "250")
    root = tmp_path / "ws"
    Workspace.init(root, language="en").close()
    xlsx = write_invoices_xlsx(tmp_path / "in" / "فاکتورهای فروش ۱۴۰۳.xlsx")
    deals = write_deals_csv(tmp_path / "in" / "deals.csv")
    for src, draft in ((xlsx, tmp_path / "invoices.yaml"), (deals, tmp_path / "deals.yaml")):
        code, out, err = cli(capsys, "map", "suggest", str(src), "-o", str(draft), "-w", str(root))
        assert code == 0, err
        assert f"Draft mapping written to {draft}" in out and "Questions" not in out
        assert "ask:" not in draft.read_text(encoding="utf-8")
        code, out, err = cli(
            capsys, "import", str(src), "--mapping", str(draft), "--dry-run", "-w", str(root), "--format", "json"
        )
        assert code == 0, err
        dry = json.loads(out)
        assert dry["dry_run"] is True and dry["rejects"] == [], dry["rejects"][:3]
        code, out, err = cli(capsys, "import", str(src), "--mapping", str(draft), "-w", str(root), "--format", "json")
        assert code == 0, err
        assert json.loads(out)["tables"] == dry["tables"]
    with Workspace.open(root) as ws:
        assert list_rejects(ws.warehouse) == []
        check_invoice_kpis(ws, invoices_frame(xlsx))
        check_deal_kpis(ws, deals_frame(deals))
        assert ws.warehouse.fetch("SELECT count(*) FROM order_lines WHERE quantity <= 0") == [(0,)]
        stages = {r[0] for r in ws.warehouse.fetch("SELECT DISTINCT stage FROM opportunities")}
        assert "فروش سازمانی / مذاکره" in stages


def test_the_shipped_profiles(tmp_path: Path) -> None:
    """The same exports (invoices as CSV with positive return quantities, deals as a workbook) through
    the shipped profiles iran-sales-invoices and iran-crm-deals."""
    ws = Workspace.init(tmp_path / "ws")
    try:
        inv = write_invoices_csv(tmp_path / "a" / "invoices.csv", negative_returns=False, seed=7)
        deals = write_deals_xlsx(tmp_path / "b" / "deals.xlsx", seed=7)
        s = run_import(ws.warehouse, ws.import_options(), [inv], mapping="iran-sales-invoices")
        assert s.tables["order_lines"].rejected == 0 and s.tables["orders"].rejected == 0
        s = run_import(ws.warehouse, ws.import_options(), [deals], mapping="iran-crm-deals")
        assert s.tables["opportunities"].to_dict() == {"read": 90, "accepted": 90, "rejected": 0}
        check_invoice_kpis(ws, invoices_frame(inv))
        check_deal_kpis(ws, deals_frame(deals))
        got = ws.warehouse.fetch("SELECT DISTINCT cancel_reason FROM orders WHERE status = 'cancelled'")
        assert got == [("برگشت از فروش",)]
    finally:
        ws.close()
