"""`sanjeh map suggest`: a draft mapping that says how sure it is and asks where it cannot tell."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.errors import MappingError, UserError
from sanjeh.ingest import run_import
from sanjeh.ingest.suggest import suggest
from sanjeh.workspace import Workspace
from tests.iran_exports import deal_rows


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_suggest_asks_instead_of_guessing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Amounts without a unit (rials or tomans?) and dates that read both ways (day-month or
    month-day?) become questions: written in the draft, printed, and an import refuses the draft
    until they are answered."""
    src = tmp_path / "in" / "sales.csv"
    src.parent.mkdir()
    src.write_text(
        "شماره فاکتور,تاریخ,کد کالا,شرح کالا,تعداد,فی,وضعیت\n"
        "1,03/04/2024,K1,کاغذ,2,1000,فروش\n"
        "2,05/06/2024,K2,خودکار,1,500,معلق\n",
        encoding="utf-8",
    )
    draft = suggest([src], currency="IRR", lang="en")
    asked = "\n".join(draft.questions)
    assert "Are the amounts of «فی» in rials or tomans?" in asked
    assert "Is «تاریخ» day-month-year or month-day-year?" in asked
    assert any("معلق" in u for u in draft.unplaced)
    text = draft.yaml("en")
    assert text.count("ask:") == 2 and "date(`تاریخ`, '%d/%m/%Y')" in text and "`فی` * 10" in text
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    try:
        with pytest.raises(MappingError, match=r"still asks 2 questions .* rials or tomans"):
            run_import(ws.warehouse, ws.import_options(), [src], mapping=path)
    finally:
        ws.close()
    code, out, _ = cli(capsys, "map", "suggest", str(src), "-o", "-", "--lang", "fa", "-w", str(tmp_path / "ws"))
    assert code == 0 and "ask:" in out and "ریال است یا تومان" in out
    # a day above 12 decides the order; a workspace in another currency asks nothing about tomans
    src.write_text(src.read_text(encoding="utf-8").replace("05/06/2024", "25/06/2024"), encoding="utf-8")
    draft = suggest([src], currency="USD", lang="en")
    assert draft.questions == [] and "date(`تاریخ`, '%d/%m/%Y')" in draft.yaml()


def test_suggest_reads_excel_serial_dates_and_canonical_files(tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    rows = deal_rows(deals=5)
    lines = ["شناسه,تاریخ ایجاد,وضعیت,مبلغ (ریال)"] + [f"{r[0]},{45300 + i},{r[5]},{r[10]}" for i, r in enumerate(rows)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = suggest([src]).yaml()
    assert "date(`تاریخ ایجاد`, 'excel')" in text
    other = tmp_path / "export.csv"
    other.write_text("Order ID,Ordered At,Status,Region\no1,2024-01-01,placed,north\n", encoding="utf-8")
    text = suggest([other]).yaml()
    assert 'order_id: "`Order ID`"' in text and 'region: "`Region`"' in text
    blank = tmp_path / "notes.csv"
    blank.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"cannot tell what notes\.csv hold"):
        suggest([blank])
