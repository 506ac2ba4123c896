"""The Data page's upload wizard (sanjeh/web/wizard.py), over real HTTP: upload, the suggested
mapping, a dry run, saving the mapping, the import; every mistake a 4xx page that says what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from sanjeh.i18n import plain
from sanjeh.ingest import list_rejects
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.iran_exports import write_invoices_xlsx
from tests.test_iran_exports import check_invoice_kpis, invoices_frame
from tests.test_web_editor import form_of as fields_of
from tests.test_web_support import PASSWORD, Served, serve

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def empty(workspace: Workspace) -> Iterator[Served]:
    add_user(workspace, "admin", "admin", password=PASSWORD)
    add_user(workspace, "manager", "manager", password=PASSWORD)
    add_user(workspace, "rep2", "rep", "R02", password=PASSWORD)
    with serve(workspace, max_upload=256 * 1024) as s:
        yield s


def form_of(html: str, form_id: str = "wizard-form") -> dict[str, str]:
    """The fields a browser would post from the form as the page shows it."""
    return dict(fields_of(html, form_id))


def upload(
    c: httpx.Client, csrf: str, name: str, body: bytes, kind: str = "text/csv", lang: str = "en"
) -> httpx.Response:
    return c.post(f"/data/wizard?lang={lang}", files={"file": (name, body, kind)}, data={"csrf_token": csrf})


def staged(c: httpx.Client, csrf: str, name: str, body: bytes, kind: str = "text/csv") -> tuple[str, str]:
    """Upload a file; the wizard's URL and its page."""
    r = upload(c, csrf, name, body, kind)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert re.fullmatch(r"/data/wizard/[0-9a-f]{32}\?lang=en", url)
    page = c.get(url)
    assert page.status_code == 200
    return url.split("?")[0], page.text


def selected(html: str, field: str) -> str:
    return form_of(html)[field]


def error_of(html: str) -> str:
    m = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert m, "no error on the page"
    return plain(unescape(m.group(1))).strip()  # without the marks that isolate Persian in English


def test_the_wizard_takes_an_invoice_workbook_to_the_kpis(empty: Served, tmp_path: Path) -> None:
    """Issue 16: an Iranian invoice workbook through upload -> suggested mapping (untouched) -> dry run
    -> save -> import; the KPIs equal pandas on the same file, and the saved mapping serves the next
    export by name, as `sanjeh import --mapping NAME` does."""
    xlsx = write_invoices_xlsx(tmp_path / "فاکتورهای فروش ۱۴۰۳.xlsx")
    df = invoices_frame(xlsx)
    ws = empty.ws
    with empty.browser_session("manager") as (c, csrf):
        base, page = staged(c, csrf, xlsx.name, xlsx.read_bytes(), XLSX)
        # the first rows as the importer reads them, and the suggestion preselected with how sure it is
        assert 'id="wizard-preview"' in page and "<bdi>شماره فاکتور</bdi>" in page and "<bdi>14030001</bdi>" in page
        assert f"{len(df):,} rows in the file" in page
        assert selected(page, "col:orders.order_id") == "@شماره فاکتور"
        # returns are negative: made positive on the return rows only (a negative sale is rejected)
        assert selected(page, "col:order_lines.quantity") == "="
        exprs = re.findall(r'<code class="expr" dir="ltr">(.*?)</code>', unescape(page))
        assert "if(trim(`نوع فاکتور`) = 'برگشت از فروش', abs(`تعداد`), `تعداد`)" in exprs, exprs
        assert selected(page, "col:orders.status") == "@نوع فاکتور"
        assert selected(page, "val:orders.status:برگشت از فروش") == "cancelled"
        assert selected(page, "val:orders.status:فروش") == "fulfilled"
        assert selected(page, "col:orders.opportunity_id") == ""
        row = re.search(r'<tr data-column="orders.order_id">.*?</tr>', page, re.S)
        assert row and 'class="level level-sure">sure<' in row.group(0)
        # a dry run of the form as it stands: counts, nothing written
        fields = form_of(page)
        r = c.post(f"{base}/dry-run?lang=en", data=fields)
        assert r.status_code == 200, error_of(r.text)
        assert 'id="dry-run" data-status="ok"' in r.text and "Dry run: nothing was written." in r.text
        orders = re.search(r'<tr class="" data-table="orders"><td>Orders</td>(.*?)</tr>', r.text)
        invoices = df["شماره فاکتور"].nunique()
        assert orders and re.findall(r">(\d+)<", orders.group(1)) == [str(invoices)] * 2 + ["0"]
        assert ws.warehouse.table("orders").count().execute() == 0
        assert selected(r.text, "col:order_lines.quantity") == "="  # the form comes back as posted
        # save under a name, then import with it
        r = c.post(f"{base}/save?lang=en", data={**fields, "name": "invoices"})
        assert r.status_code == 200, error_of(r.text)
        assert "Mapping «invoices» saved in the workspace." in r.text
        saved = ws.root / "mappings" / "invoices.yaml"
        assert 'from: "*"' in saved.read_text(encoding="utf-8").replace("'*'", '"*"')
        r = c.post(f"{base}/import?lang=en", data=form_of(r.text, "wizard-import-form"), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/data?import=")
        page = c.get(r.headers["location"]).text
        assert 'id="import-summary" data-status="ok"' in page
        assert re.search(rf'<tr data-table="orders"><td>Orders .*?</td><td class="num">{invoices}</td>', page)
        assert "invoices" in re.findall(r'<option value="([^"]*)">', page)  # the import form offers it too
    assert list_rejects(ws.warehouse) == []
    check_invoice_kpis(ws, df)
    # the next month's export, by the saved mapping's name (the resolution the command line uses)
    nxt = write_invoices_xlsx(tmp_path / "next" / "esfand.xlsx", seed=3)
    s = ws.import_files([nxt], mapping="invoices", dry_run=True)
    assert s.tables["order_lines"].rejected == 0 and s.tables["order_lines"].accepted > 0


AMBIGUOUS = (
    "شماره فاکتور,تاریخ,کد کالا,شرح کالا,تعداد,فی,وضعیت\n"
    "1,03/04/2024,K1,کاغذ,2,1000,فروش\n"
    "2,05/06/2024,K2,خودکار,1,500,معلق\n"
    "3,07/08/2024,K1,کاغذ,4,abc,فروش\n"
    "4,09/08/2024,K1,کاغذ A4,1,1000,فروش\n"
)


def test_questions_values_and_the_rejects_with_their_mapped_value(empty: Served) -> None:
    """The draft's questions (rials or tomans; day-month or month-day) are radio choices that must be
    answered; an unplaced status value gets a picker; the dry run groups the rejects by reason and shows
    the value the mapping made beside the file's, as the Data page does after the import."""
    with empty.browser_session("admin") as (c, csrf):
        base, page = staged(c, csrf, "sales.csv", AMBIGUOUS.encode())
        text = unescape(page)
        assert "Are the amounts of «فی» in rials or tomans?" in text
        assert "Is «تاریخ» day-month-year or month-day-year?" in text
        assert re.search(r'<input type="radio" name="ans:order_lines.unit_price" value="1"> tomans', page)
        fields = form_of(page)
        assert "ans:order_lines.unit_price" not in fields and fields["col:order_lines.unit_price"] == "="
        assert fields["val:orders.status:معلق"] == ""  # not placed: as written
        r = c.post(f"{base}/dry-run?lang=en", data=fields)
        assert r.status_code == 422
        assert error_of(r.text).startswith("answer the question first: Is «تاریخ» day-month-year")
        fields.update({"ans:orders.ordered_at": "0", "ans:order_lines.unit_price": "1"})
        r = c.post(f"{base}/dry-run?lang=en", data=fields)
        assert r.status_code == 200, error_of(r.text)
        groups = re.search(r'<table class="data" id="dry-groups">.*?</table>', r.text, re.S)
        assert groups and "status must be one of: placed, fulfilled, cancelled" in groups.group(0)
        assert "unit_price is not a number" in groups.group(0)
        rejects = re.search(r'<table class="data" id="dry-rejects">.*?</table>', r.text, re.S)
        assert rejects and '<td><bdi>abc</bdi></td><td class="mapped"><bdi>nan</bdi></td>' in rejects.group(0)
        # the warnings are listed too, not only counted (K1 named twice: the first name is kept)
        warned = re.search(r'<table class="data" id="dry-warnings">.*?</table>', r.text, re.S)
        assert warned and "K1 has another name on this line (کاغذ A4) than on line 2" in unescape(warned.group(0))
        assert form_of(r.text)["ans:order_lines.unit_price"] == "1"  # the answers come back checked
        # the status value placed by its picker: no reject left for it
        fields["val:orders.status:معلق"] = "placed"
        r = c.post(f"{base}/dry-run?lang=en", data=fields)
        assert r.status_code == 200 and "status must be one of" not in r.text
        r = c.post(f"{base}/save?lang=en", data={**fields, "name": "sales"})
        assert r.status_code == 200, error_of(r.text)
        r = c.post(f"{base}/import?lang=en", data={"csrf_token": csrf, "mapping": "sales"})
        assert r.status_code == 303
        page = c.get("/data?lang=en").text
        assert "<th>Mapped value</th>" in page
        assert '<td><bdi>abc</bdi></td><td class="mapped"><bdi>nan</bdi></td>' in page
    got = empty.ws.warehouse.fetch("SELECT order_id, ordered_at, status FROM orders ORDER BY order_id")
    assert [(o, str(d)[:10], s) for o, d, s in got] == [
        ("1", "2024-04-03", "fulfilled"),
        ("2", "2024-06-05", "placed"),
        ("3", "2024-08-07", "fulfilled"),  # its line was rejected, not the order
        ("4", "2024-08-09", "fulfilled"),
    ]
    assert empty.ws.warehouse.fetch("SELECT unit_price FROM order_lines WHERE order_id = '1'") == [(10000.0,)]


def test_the_wizards_mistakes_are_4xx_pages_that_say_what(empty: Served) -> None:
    with empty.browser_session("manager") as (c, csrf):
        base, page = staged(c, csrf, "sales.csv", AMBIGUOUS.encode())
        fields = {**form_of(page), "ans:orders.ordered_at": "0", "ans:order_lines.unit_price": "0"}
        # a column the file does not have, a value no status has, a required column left out
        for field, value, status, message in (
            ("col:orders.order_id", "@nope", 422, "the file has no column «nope»; its columns: شماره فاکتور"),
            ("col:orders.order_id", "شماره فاکتور", 422, "the file has no column «شماره فاکتور»"),
            ("val:orders.status:معلق", "pending", 422, "«pending» is not a value of orders.status"),
            ("col:orders.order_id", "", 422, "orders needs a column of the file for: order_id"),
        ):
            r = c.post(f"{base}/dry-run?lang=en", data={**fields, field: value})
            assert (r.status_code, error_of(r.text)[: len(message)]) == (status, message)
            assert 'id="wizard-form"' in r.text  # the form stays, to be put right
        # names: not a name, a shipped mapping's, taken
        for name, status, message in (
            ("Bad Name", 422, "'Bad Name' is not a mapping name"),
            ("maven-crm", 422, "maven-crm is a mapping shipped with Sanjeh"),
            ("../../sanjeh", 422, "'../../sanjeh' is not a mapping name"),
        ):
            r = c.post(f"{base}/save?lang=en", data={**fields, "name": name})
            assert (r.status_code, error_of(r.text)[: len(message)]) == (status, message)
        assert c.post(f"{base}/save?lang=en", data={**fields, "name": "sales"}).status_code == 200
        r = c.post(f"{base}/save?lang=en", data={**fields, "name": "sales"})  # pressed twice
        assert r.status_code == 409 and "a mapping named sales is saved already" in error_of(r.text)
        assert c.post(f"{base}/save?lang=en", data={**fields, "name": "sales", "replace": "1"}).status_code == 200
        # import: without a name, with an unknown one (the step may be tried again), then twice
        r = c.post(f"{base}/import?lang=en", data={"csrf_token": csrf, "mapping": ""})
        assert r.status_code == 422 and "save the mapping under a name first" in error_of(r.text)
        r = c.post(f"{base}/import?lang=en", data={"csrf_token": csrf, "mapping": "nosuch"})
        assert r.status_code == 422 and "no mapping named 'nosuch'" in error_of(r.text)
        assert c.post(f"{base}/import", data={"csrf_token": csrf, "mapping": "sales"}).status_code == 303
        for step in ("import", "dry-run", "save"):
            r = c.post(f"{base}/{step}?lang=en", data={**fields, "mapping": "sales"})
            assert r.status_code == 409 and "this upload was imported already" in error_of(r.text)
        assert c.get(f"{base}?lang=en").status_code == 409
        # unknown, malformed and path-like ids
        for sid in ("0" * 32, "ABC", "....", "0" * 31 + "g", "0" * 33):
            r = c.get(f"/data/wizard/{sid}?lang=en")
            assert r.status_code == 404 and "no such upload" in error_of(r.text), sid
            r = c.post(f"/data/wizard/{sid}/dry-run?lang=en", data=fields)
            assert r.status_code == 404 and "no such upload" in error_of(r.text), sid
        assert c.get("/data/wizard/..%2F..%2Fsanjeh.toml").status_code == 404  # an id never spans a folder
        r = c.post("/data/wizard/%2E%2E/dry-run?lang=en", data=fields)  # the id ".." reaches the route
        assert r.status_code == 404 and "no such upload" in error_of(r.text)
        # files the wizard refuses, said on the Data page
        for name, body, message in (
            ("empty.csv", "شماره فاکتور,تاریخ\n".encode(), "empty.csv has no rows to import"),
            ("notes.pdf", b"%PDF-1.4", "notes.pdf is not a CSV, XLSX or Parquet file"),
            ("blank.csv", b"a,b\n1,2\n", "cannot tell what blank.csv hold"),
        ):
            r = upload(c, csrf, name, body)
            assert r.status_code in (400, 422), name
            m = re.search(r'<p class="error" role="alert" id="wizard-error" >(.*?)</p>', r.text, re.S)
            assert m and message in unescape(m.group(1)), name
        two = [("file", ("a.csv", AMBIGUOUS.encode(), "text/csv")), ("file", ("b.csv", AMBIGUOUS.encode(), "text/csv"))]
        r = c.post("/data/wizard?lang=en", files=two, data={"csrf_token": csrf})
        assert r.status_code == 400 and "one file at a time" in r.text
        big = b"a,b\n" + b"1,2\n" * 70_000  # 280 KB > this app's 256 KB upload limit
        assert upload(c, csrf, "big.csv", big).status_code == 413
        assert c.post("/data/wizard", files={"file": ("a.csv", b"a\n1\n", "text/csv")}).status_code == 403  # no CSRF
        assert sorted(p.name for p in (empty.ws.root / "staging").iterdir()) == [base.rsplit("/", 1)[1]]
    # another user cannot reach this upload; a rep cannot use the wizard
    with empty.browser_session("admin") as (c, csrf):
        assert c.get(base + "?lang=en").status_code == 404
    with empty.browser_session("rep2") as (c, csrf):
        assert upload(c, csrf, "a.csv", AMBIGUOUS.encode()).status_code == 403
        assert c.get(base).status_code == 403


def test_the_data_page_can_force_a_replace(empty: Served) -> None:
    """The import form's plain-words `force`: a replace that would leave a table empty goes through."""
    with empty.browser_session("manager") as (c, csrf):
        assert "go ahead even when a table would be left empty" in c.get("/data?lang=en").text
        files = [("files", ("reps.csv", b"rep_id,name\nR1,Sara\n", "text/csv"))]
        assert c.post("/data/import", files=files, data={"csrf_token": csrf}).status_code == 200
        bad = [("files", ("reps.csv", b"rep_id,name\n,Nameless\n", "text/csv"))]
        r = c.post("/data/import?lang=en", files=bad, data={"csrf_token": csrf, "replace": "1"})
        assert r.status_code == 422
        assert empty.ws.warehouse.table("reps").count().execute() == 1
        r = c.post("/data/import?lang=en", files=bad, data={"csrf_token": csrf, "replace": "1", "force": "1"})
        assert r.status_code == 200
        assert empty.ws.warehouse.table("reps").count().execute() == 0


def test_old_uploads_are_swept_when_another_is_staged(tmp_path: Path) -> None:
    """Uploads older than a day go, and all but the newest KEEP_UPLOADS; each user reaches only theirs."""
    import os

    from sanjeh.errors import NotFound
    from sanjeh.web import staging

    now = 2_000_000_000.0
    kept = []
    for i in range(staging.KEEP_UPLOADS + 3):
        s = staging.new(tmp_path, "ali", now=now)
        s.write("meta", {**s.meta, "file": "x.csv"})
        age = staging.KEEP_SECONDS + 60 if i < 2 else 100 * (staging.KEEP_UPLOADS + 3 - i)  # the last is newest
        os.utime(s.folder, (now - age, now - age))
        kept.append(s.id)
    newest = staging.new(tmp_path, "ali", now=now)
    left = {p.name for p in (tmp_path / "staging").iterdir()}
    assert left == {*kept[-(staging.KEEP_UPLOADS - 1) :], newest.id}
    assert staging.find(tmp_path, kept[-1], "ali").id == kept[-1]
    for sid, user in ((kept[0], "ali"), (kept[-1], "sara"), ("../" + kept[-1], "ali")):
        with pytest.raises(NotFound):
            staging.find(tmp_path, sid, user)
