"""The Data page's upload wizard in a real browser (Debian's chromium), in Persian: an Iranian invoice
workbook from upload to the rows counted on the Data page. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sanjeh.formatting import fmt_number
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.iran_exports import write_invoices_xlsx
from tests.test_iran_exports import check_invoice_kpis, invoices_frame
from tests.test_web_browser import Visit, browser  # noqa: F401  (browser: the fixture)
from tests.test_web_support import PASSWORD, serve

pytestmark = pytest.mark.browser


def test_the_wizard_in_persian_from_a_workbook_to_the_data_page(
    browser: Any,  # noqa: F811
    workspace: Workspace,
    tmp_path: Path,
) -> None:
    """Issue 16's browser test: upload -> the suggestion left as it is -> dry run -> save -> import,
    in Persian (right to left, Persian digits); the new rows are counted on the Data page and the KPIs
    equal pandas on the same workbook."""
    add_user(workspace, "manager", "manager", password=PASSWORD)
    xlsx = write_invoices_xlsx(tmp_path / "فاکتورهای فروش ۱۴۰۳.xlsx")
    df = invoices_frame(xlsx)
    invoices = df["شماره فاکتور"].nunique()
    with serve(workspace) as s:
        v = Visit(browser, s)
        try:
            v.login("manager", next_url="/data")
            page = v.page
            assert page.get_attribute("html", "dir") == "rtl"
            page.set_input_files("#wizard-upload input[type=file]", str(xlsx))
            page.click("#wizard-upload-submit")
            page.wait_for_url(re.compile(r"/data/wizard/[0-9a-f]{32}$"))
            assert xlsx.name in page.locator("h1").inner_text()
            assert f"{fmt_number(len(df), 'fa')} سطر در پرونده" in page.locator("main").inner_text()
            assert page.locator('select[name="col:orders.status"]').input_value() == "@نوع فاکتور"
            assert page.locator('select[name="val:orders.status:برگشت از فروش"]').input_value() == "cancelled"
            page.click("#wizard-dry-run")
            page.wait_for_selector("#dry-run")
            assert page.get_attribute("#dry-run", "data-status") == "ok"
            assert "اجرای آزمایشی: چیزی نوشته نشد." in page.locator("#dry-run").inner_text()
            cells = page.locator('#dry-run tr[data-table="orders"] td.num').all_inner_texts()
            assert cells == [fmt_number(invoices, "fa")] * 2 + ["۰"]
            page.fill("#wizard-name", "invoices-1403")
            page.click("#wizard-save")
            page.wait_for_selector("#wizard-import")
            assert "invoices-1403" in page.locator("#saved").inner_text()
            v.shot("wizard-fa")
            page.click("#wizard-import")
            page.wait_for_url(re.compile(r"/data\?import=[0-9a-f]+"))
            assert page.get_attribute("#import-summary", "data-status") == "ok"
            counted = page.locator('#tables tr[data-table="orders"] td.num').inner_text()
            assert counted == fmt_number(invoices, "fa")
            assert page.locator('#upload-form select[name="mapping"] option[value="invoices-1403"]').count() == 1
            v.shot("wizard-imported-fa")
        finally:
            assert v.outside() == [], f"requests left the app: {v.outside()}"
            assert v.errors == [], f"errors in the browser console: {v.errors}"
            v.close()
    check_invoice_kpis(workspace, df)
