"""Reports (sanjeh report): the workbook read back, the PDF read back by poppler, all on real parts.

A demo workspace (real DuckDB) is built once; one product is renamed ``=cmd|' /C calc'!A0`` as a
hostile import would name it. The PDF is printed by Debian's chromium and read with ``pdftotext``,
``pdffonts`` and ``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sanjeh.cli import main
from sanjeh.formatting import fmt_value
from sanjeh.reports import gather, write
from sanjeh.workspace import Workspace
from tests.test_web_support import build_demo_workspace

PERIOD = "1403-Q4"
EVIL = "=cmd|' /C calc'!A0"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = build_demo_workspace(tmp_path_factory.mktemp("reports") / "ws")
    top = w.warehouse.fetch("SELECT l.product_id FROM order_lines l GROUP BY 1 ORDER BY sum(l.quantity) DESC LIMIT 1")[
        0
    ][0]
    w.warehouse.execute("UPDATE products SET name = ? WHERE product_id = ?", [EVIL, top])
    yield w
    w.close()


def test_the_workbook_has_a_summary_and_a_sheet_per_kpi(ws: Workspace, tmp_path: Path) -> None:
    report = gather(ws, PERIOD, ["revenue", "sales_by_product", "win_rate"])
    path = write(report, "xlsx", tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert [s.title for s in wb.worksheets] == ["خلاصه", "درآمد", "فروش بر اساس محصول", "نرخ موفقیت معامله‌ها"]
    for sheet in wb.worksheets:
        assert sheet.sheet_view.rightToLeft and sheet.freeze_panes == "A2"
    summary = wb.worksheets[0]
    rows = {r[0].value: r for r in summary.iter_rows(min_row=2) if r[0].value}
    revenue = rows["درآمد"]
    card = report.card("revenue")
    assert card is not None
    assert revenue[2].value == card["value"] and revenue[2].number_format == '#,##0 "ریال"'
    assert revenue[4].value == pytest.approx(card["attainment"]) and revenue[4].number_format == "0.0%"
    assert revenue[5].value == pytest.approx(card["change_rate"]) and "%" in revenue[5].number_format
    win = rows["نرخ موفقیت معامله‌ها"]  # a rate: its change in percentage points
    wcard = report.card("win_rate")
    assert wcard is not None and wcard["change_in"] == "points"
    assert win[5].value == pytest.approx(wcard["change"] * 100) and "واحد درصد" in win[5].number_format
    assert "نکته‌های مهم" in [r[0].value for r in summary.iter_rows()]  # what stands out, below the cards
    products = wb["فروش بر اساس محصول"]
    header = [c.value for c in products[1]]
    assert header[:3] == ["دوره", "تاریخ", "محصول"] and header[3] == "درآمد (ریال)"
    first = products[2]
    assert first[0].value == "فصل ۴ ۱۴۰۳" and first[0].data_type == "s"
    assert first[1].is_date and first[1].value.date().isoformat() == "2024-12-21"
    assert isinstance(first[3].value, int | float) and first[3].number_format == '#,##0 "ریال"'
    evil = [c for row in products.iter_rows() for c in row if c.value == EVIL]
    assert evil and all(c.data_type == "s" for c in evil)  # shown as text, never run
    raw = subprocess.run(["unzip", "-p", str(path), "xl/worksheets/*.xml"], capture_output=True).stdout
    assert b"<f>" not in raw  # no formula anywhere in the workbook


def test_the_workbook_in_english_reads_left_to_right(ws: Workspace, tmp_path: Path) -> None:
    path = write(gather(ws, PERIOD, ["revenue"], lang="en"), "xlsx", tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert [s.title for s in wb.worksheets] == ["Summary", "Revenue"]
    assert not wb.worksheets[0].sheet_view.rightToLeft
    assert wb["Revenue"]["A2"].value.startswith("Dey 1403") or wb["Revenue"]["A2"].value


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_pdf_embeds_its_fonts_and_says_the_figures(ws: Workspace, tmp_path: Path, lang: str) -> None:
    report = gather(ws, PERIOD, ["revenue", "sales_by_product"], lang=lang)
    path = write(report, "pdf", tmp_path / "r.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert any("Vazirmatn" in line for line in lines)
    assert all(line.split()[-5] == "yes" for line in lines), fonts  # every font embedded
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    plain = " ".join(BIDI.sub("", text).split())
    flat = "".join(plain.split())  # poppler moves spaces around numbers inside right-to-left lines
    card = report.card("revenue")
    assert card is not None
    value = fmt_value(card["value"], "money", lang, report.money, compact=True)
    number = value.split()[0]
    assert number in flat
    if lang == "fa":
        assert "گزارش شاخص‌های فروش" in plain  # in logical order, as typed
        assert "فروشبراساسمحصول" in flat
        assert re.search("۱از[۰-۹]+", flat)  # a page's footer: page 1 of N, in Persian digits
    else:
        assert "KPI report" in plain and "Sales by product" in plain and "page 1 of" in plain
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2, images  # no picture: the charts are vectors (Plotly's SVG)
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(path), str(png)], check=True)
    pictures = list(tmp_path.glob("page*.png"))
    assert pictures and pictures[0].stat().st_size > 10_000


def test_sanjeh_report_writes_the_file_and_says_so(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, root = tmp_path / "r.xlsx", str(ws.root)
    code = main(["report", "--period", PERIOD, "--kpi", "revenue", "--format", "xlsx", "-o", str(out), "-w", root])
    done = capsys.readouterr()
    assert code == 0, done.err
    assert out.exists() and "نوشته شد" in done.out and "فصل ۴ ۱۴۰۳" in done.out
    assert main(["report", "--format", "docx", "-o", str(out), "-w", root]) == 2
    assert "docx" in capsys.readouterr().err
    assert main(["report", "--kpi", "nope", "--format", "xlsx", "-o", str(out), "-w", root]) == 2
    assert "nope" in capsys.readouterr().err
