"""Reports (sanjeh report): the workbook read back, the PDF read back by poppler, all on real parts.

A demo workspace (real DuckDB) is built once; one product is renamed ``=cmd|' /C calc'!A0`` as a
hostile import would name it. The PDF is printed by Debian's chromium and read with ``pdftotext``,
``pdffonts`` and ``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import subprocess
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from sanjeh.cli import main
from sanjeh.errors import InternalError, UserError
from sanjeh.formatting import fmt_value
from sanjeh.reports import gather, write
from sanjeh.reports.deliver import (
    Attachment,
    Bot,
    DeliveryError,
    Email,
    Message,
    Retry,
    Webhook,
    destination,
    recipient_lines,
    recipients,
    secret,
    send,
)
from sanjeh.reports.runner import claim, run_due, runs
from sanjeh.reports.schedule import period_of, schedules
from sanjeh.reports.when import Cron
from sanjeh.workspace import Workspace
from tests.receivers import TOKEN, Endpoint, receiver
from tests.test_web_support import build_demo_workspace, free_port

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
    assert first[0].value == "فصل ۴ سال ۱۴۰۳" and first[0].data_type == "s"
    assert first[1].is_date and first[1].value.date().isoformat() == "2024-12-21"
    assert isinstance(first[3].value, int | float) and first[3].number_format == '#,##0 "ریال"'
    evil = [c for row in products.iter_rows() for c in row if c.value == EVIL]
    assert evil and all(c.data_type == "s" for c in evil)  # shown as text, never run
    raw = subprocess.run(["unzip", "-p", str(path), "xl/worksheets/*.xml"], capture_output=True).stdout
    assert b"<f>" not in raw  # no formula anywhere in the workbook


def test_a_report_runs_each_query_once_and_a_workbook_s_computes_no_sparklines(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sanjeh.kpis.engine import Engine

    asked: list[object] = []
    run = Engine.run

    def counted(self: Engine, query: object, **kw: object) -> object:
        asked.append(query)
        return run(self, query, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "run", counted)
    book = gather(ws, PERIOD, formats=("xlsx",))
    assert asked and len(asked) == len(set(asked))  # a spotlight's query and its KPI's page: run once
    assert len(book.pages) == len(book.catalogue)
    monkeypatch.setattr(Engine, "run", run)
    engine = ws.engine()
    for page in book.pages:  # the shared result is the page's own
        assert page.result["rows"] == engine.run(page.query).to_dict()["rows"]
    printed = gather(ws, PERIOD, ["revenue"], formats=("pdf",))
    assert all(c["spark"] == [] for c in book.scorecard["primary"] + book.scorecard["secondary"])
    card, full = book.card("revenue"), printed.card("revenue")
    assert card is not None and full is not None and len(full["spark"]) == 12
    assert {k: v for k, v in card.items() if k != "spark"} == {k: v for k, v in full.items() if k != "spark"}
    with pytest.raises(InternalError):  # a report gathered without sparklines is not printed without them
        write(book, "pdf", tmp_path / "r.pdf")


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
    assert out.exists() and "نوشته شد" in done.out and "فصل ۴ سال ۱۴۰۳" in done.out
    assert main(["report", "--format", "docx", "-o", str(out), "-w", root]) == 2
    assert "docx" in capsys.readouterr().err
    assert main(["report", "--kpi", "nope", "--format", "xlsx", "-o", str(out), "-w", root]) == 2
    assert "nope" in capsys.readouterr().err


# -- delivery -------------------------------------------------------------------------------------------
HOOK_KEY = "hook-signing-key"


def _report_files(tmp_path: Path) -> tuple[Attachment, ...]:
    pdf = tmp_path / "scorecard.pdf"
    pdf.write_bytes(b"%PDF-1.7 a small report\n%%EOF")
    xlsx = tmp_path / "scorecard.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 a workbook")
    return Attachment.of(pdf), Attachment.of(xlsx)


MESSAGE_TEXT = "کارنامهٔ فصل ۴ ۱۴۰۳: درآمد به ۹۳٪ هدف رسید."


def test_email_reaches_a_real_smtp_server_with_its_attachments(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    got: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            got.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    def auth(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"sanjeh" and data.password == b"mail-pass"
        return AuthResult(success=ok)

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    smtp.start()
    try:
        files = _report_files(tmp_path)
        msg = Message("کارنامهٔ فصل ۴ ۱۴۰۳", MESSAGE_TEXT, files)
        to = ("director@example.com", "sales@example.com")
        mail = Email("127.0.0.1", "sanjeh@example.com", to, port=port, starttls=False, user="sanjeh")
        mail.send(msg, Retry(timeout=10), env={"SANJEH_SMTP_PASSWORD": "mail-pass"})
    finally:
        smtp.stop()
    assert len(got) == 1
    parsed = BytesParser(policy=policy.default).parsebytes(got[0])
    assert str(parsed["Subject"]) == "کارنامهٔ فصل ۴ ۱۴۰۳" and "director@example.com" in str(parsed["To"])
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and MESSAGE_TEXT in body.get_content()
    parts = {p.get_filename(): p for p in parsed.iter_attachments()}
    assert set(parts) == {"scorecard.pdf", "scorecard.xlsx"}
    assert parts["scorecard.pdf"].get_content_type() == "application/pdf"
    assert parts["scorecard.pdf"].get_payload(decode=True) == files[0].data
    assert parts["scorecard.xlsx"].get_payload(decode=True) == files[1].data


@pytest.fixture
def endpoint() -> Iterator[str]:
    with receiver() as url:
        yield url


def _multipart(headers: dict[str, str], body: bytes) -> dict[str, tuple[str | None, bytes]]:
    head = f"Content-Type: {headers['Content-Type']}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = BytesParser(policy=policy.default).parsebytes(head + body)
    assert msg.is_multipart()
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return out


def test_a_wrong_smtp_password_fails_at_once_with_a_clear_sentence_and_a_busy_login_is_tried_again() -> None:
    """A login the server refuses (535) is not tried four times: another try gets the same answer.
    A login it cannot check now (454, "temporary authentication failure") is tried again."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    got: list[bytes] = []
    logins: list[bytes] = []
    answers: list[str] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            got.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    def auth(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append(data.password)
        if answers:
            return AuthResult(success=False, handled=False, message=answers.pop(0))
        return AuthResult(success=data.password == b"mail-pass", handled=False)  # else: 535

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    smtp.start()
    try:
        waits: list[float] = []
        mail = Email(
            "127.0.0.1", "sanjeh@example.com", ("director@example.com",), port=port, starttls=False, user="sanjeh"
        )
        with pytest.raises(DeliveryError) as refused:
            mail.send(
                Message("x", "y"), Retry(timeout=10, sleep=waits.append), env={"SANJEH_SMTP_PASSWORD": "wrong-pass"}
            )
        assert waits == [] and got == [] and set(logins) == {b"wrong-pass"}  # one connection (PLAIN, then LOGIN)
        said = refused.value.message
        assert "535" in said and "'sanjeh'" in said and "SANJEH_SMTP_PASSWORD" in said and "not tried again" in said
        assert "wrong-pass" not in said and "دوباره تلاش نشد" in refused.value.text("fa")
        good = {"SANJEH_SMTP_PASSWORD": "mail-pass"}
        # a server without STARTTLS (this one has no certificate): as permanent, not tried 4 times
        with pytest.raises(DeliveryError) as no_tls:
            dataclasses.replace(mail, starttls=None).send(Message("x", "y"), Retry(sleep=waits.append), env=good)
        assert waits == [] and "SMTPNotSupportedError" in no_tls.value.message
        answers.extend(["454 4.7.0 Temporary authentication failure"] * 2)  # to PLAIN, then to LOGIN
        mail.send(Message("x", "y"), Retry(timeout=10, sleep=waits.append), env=good)
        assert waits == [1.0] and len(got) == 1
    finally:
        smtp.stop()


def test_a_bot_refusal_fails_at_once_with_the_api_s_words_and_429_is_tried_again(endpoint: str) -> None:
    waits: list[float] = []
    bot = Bot("bale", "-100", token_env="BOT_TOKEN", base_url=endpoint)
    Endpoint.plan = ["chat"]
    with pytest.raises(DeliveryError) as refused:
        bot.send(Message("x", "y"), Retry(timeout=5, sleep=waits.append), env={"BOT_TOKEN": TOKEN})
    assert waits == [] and "HTTP 400: Bad Request: chat not found" in refused.value.message
    assert TOKEN not in refused.value.message
    Endpoint.plan = ["busy", "busy"]
    bot.send(Message("x", "y"), Retry(timeout=5, sleep=waits.append), env={"BOT_TOKEN": TOKEN})
    assert waits == [1.0, 2.0] and [p for p, _, _ in Endpoint.seen] == [f"/bot{TOKEN}/sendMessage"]


def test_recipients_in_one_line_each_become_destinations() -> None:
    lines = recipient_lines(
        "ceo@example.com\nBale:-100200, telegram:@sales_team\nhttps://hooks.example.com/s\nceo@example.com"
    )
    assert lines == ("ceo@example.com", "bale:-100200", "telegram:@sales_team", "https://hooks.example.com/s")
    env = {
        "SANJEH_SMTP_HOST": "mail.example.com",
        "SANJEH_SMTP_USER": "sanjeh",
        "SANJEH_BALE_URL": "http://127.0.0.1:9",
    }
    mail, bale, telegram, hook = recipients(lines, env)
    assert mail == Email("mail.example.com", "sanjeh@mail.example.com", ("ceo@example.com",), user="sanjeh")
    assert bale == Bot("bale", "-100200", "SANJEH_BALE_TOKEN", "http://127.0.0.1:9")
    assert telegram == Bot("telegram", "@sales_team", "SANJEH_TELEGRAM_TOKEN", None)
    assert hook == Webhook("https://hooks.example.com/s")
    for bad in ("ceo at example.com", "bale:abc", "ftp://x", "whatsapp:123"):
        with pytest.raises(UserError) as refused:
            recipient_lines([bad])
        assert refused.value.key == "deliver.recipient" and bad in refused.value.message
    result = send(recipients(("ceo@example.com",), {}), Message("x", "y"))  # no mail server named
    assert "SANJEH_SMTP_HOST" in result["ceo@example.com"]


@pytest.mark.parametrize("kind", ["telegram", "bale"])
def test_a_bot_gets_the_text_then_each_file_as_a_multipart_upload(
    endpoint: str, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    files = _report_files(tmp_path)
    bot = Bot(kind, "-100200300", token_env="BOT_TOKEN", base_url=endpoint)
    caplog.set_level(logging.DEBUG)
    bot.send(Message("کارنامه", MESSAGE_TEXT, files), Retry(timeout=5), env={"BOT_TOKEN": TOKEN})
    paths = [p for p, _, _ in Endpoint.seen]
    assert paths == [f"/bot{TOKEN}/sendMessage", f"/bot{TOKEN}/sendDocument", f"/bot{TOKEN}/sendDocument"]
    text = json.loads(Endpoint.seen[0][2])
    assert text == {"chat_id": "-100200300", "text": "کارنامه\n\n" + MESSAGE_TEXT}
    for (_, headers, body), sent in zip(Endpoint.seen[1:], files, strict=True):
        assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
        fields = _multipart(headers, body)
        assert fields["chat_id"] == (None, b"-100200300")
        assert fields["document"] == (sent.filename, sent.data)
    wrong = Bot(kind, "1", token_env="BOT_TOKEN", base_url=endpoint)
    with pytest.raises(DeliveryError) as refused:
        wrong.send(Message("x", "y"), Retry(timeout=5), env={"BOT_TOKEN": "999:wrong-token"})
    assert "401" in refused.value.message and "wrong-token" not in refused.value.message
    assert TOKEN not in caplog.text and "wrong-token" not in caplog.text


def test_the_webhook_is_signed_and_retried_after_a_failure_and_a_timeout(endpoint: str, tmp_path: Path) -> None:
    files = _report_files(tmp_path)
    waits: list[float] = []
    Endpoint.plan = ["fail", "slow", "ok"]
    hook = Webhook(endpoint + "/hook", secret_env="HOOK_KEY")
    hook.send(
        Message("کارنامه", MESSAGE_TEXT, files), Retry(timeout=0.5, sleep=waits.append), env={"HOOK_KEY": HOOK_KEY}
    )
    assert waits == [1.0, 2.0]  # backoff: 1 s after the 503, 2 s after the timeout
    path, headers, body = Endpoint.seen[-1]
    assert path == "/hook"
    stamp = headers["X-Sanjeh-Timestamp"]
    expected = hmac.new(HOOK_KEY.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Sanjeh-Signature"] == f"sha256={expected}"
    data = json.loads(body)
    assert data["event"] == "report" and data["text"] == MESSAGE_TEXT
    sent = {a["filename"]: a for a in data["attachments"]}
    assert base64.b64decode(sent["scorecard.pdf"]["content_base64"]) == files[0].data
    assert sent["scorecard.xlsx"]["sha256"] == hashlib.sha256(files[1].data).hexdigest()
    Endpoint.plan = ["fail"] * 3
    with pytest.raises(DeliveryError) as gave_up:
        hook.send(Message("x", "y"), Retry(attempts=3, timeout=2, sleep=waits.append), env={"HOOK_KEY": HOOK_KEY})
    assert "503" in gave_up.value.message and waits[2:] == [1.0, 2.0]


def test_secrets_come_from_the_environment_or_a_private_file_never_from_settings(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(TOKEN + "\n")
    file.chmod(0o644)
    with pytest.raises(UserError) as exposed:
        secret("BOT_TOKEN", {"BOT_TOKEN_FILE": str(file)})
    assert "chmod 600" in exposed.value.message and TOKEN not in exposed.value.message
    file.chmod(0o600)
    assert secret("BOT_TOKEN", {"BOT_TOKEN_FILE": str(file)}) == TOKEN
    assert secret("BOT_TOKEN", {"BOT_TOKEN": "from-env"}) == "from-env"
    with pytest.raises(UserError, match="BOT_TOKEN"):
        secret("BOT_TOKEN", {})
    with pytest.raises(UserError) as clear:
        destination({"kind": "telegram", "chat_id": 1, "token": TOKEN})
    assert "token" in clear.value.text("fa") and "رمز است" in clear.value.text("fa") and TOKEN not in str(clear.value)
    bot = destination({"kind": "bale", "chat_id": 42, "token_env": "BALE_TOKEN"})
    assert isinstance(bot, Bot) and bot.chat_id == "42"
    closed = Bot("telegram", "1", token_env="T", base_url=f"http://127.0.0.1:{free_port()}")
    result = send([closed], Message("x", "y"), Retry(attempts=2, timeout=1, sleep=lambda s: None), env={"T": TOKEN})
    assert list(result) == ["telegram:1"] and "ConnectError" in result["telegram:1"]
    assert TOKEN not in result["telegram:1"]


# -- schedules ------------------------------------------------------------------------------------------
TEHRAN = ZoneInfo("Asia/Tehran")


def _tehran(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TEHRAN)  # type: ignore[misc]


def test_cron_is_read_in_tehran_time_and_periods_follow_the_jalali_calendar() -> None:
    saturdays = Cron.parse("0 8 * * 6")
    now = dt.datetime(2025, 3, 22, 5, 0, tzinfo=dt.UTC)  # 08:30 in Tehran (UTC+3:30, no DST since 2022)
    long_ago = now - dt.timedelta(days=30)
    assert saturdays.latest(now, TEHRAN, long_ago) == _tehran(2025, 3, 22, 8, 0)
    assert saturdays.latest(now - dt.timedelta(minutes=31), TEHRAN, long_ago) == _tehran(2025, 3, 15, 8, 0)
    # 2 Farvardin 1404 (the day after Nowruz): last week is week 1 of 1404 (Saturday 24 Esfand to
    # Nowruz: week 1 holds 1 Farvardin), last month Esfand (30 days in 1403, a leap year), month to
    # date the first day only
    assert period_of("last_month", dt.date(2025, 3, 22), "jalali") == "1403-12"
    assert period_of("last_week", dt.date(2025, 3, 22), "jalali") == "1404-W01"
    assert period_of("month_to_date", dt.date(2025, 3, 22), "jalali") == "1404-01-01"
    assert period_of("month_to_date", dt.date(2025, 3, 21), "jalali") == "1403-12"  # Nowruz itself
    assert period_of("month_to_date", dt.date(2025, 3, 20), "jalali") == "1403-12-01..1403-12-29"
    assert period_of("quarter_to_date", dt.date(2025, 2, 1), "jalali") == "1403-10-01..1403-11-12"
    first_of_month = Cron.parse("30 7 1 * *")
    assert first_of_month.latest(now, TEHRAN, long_ago) == _tehran(2025, 3, 1, 7, 30)
    for bad in ("0 8 * *", "61 8 * * *", "0 8 * * mon", "*/0 * * * *"):
        with pytest.raises(UserError, match="cron"):
            Cron.parse(bad)


def test_a_schedule_runs_once_at_its_tehran_time_and_a_missed_run_once_on_start(ws: Workspace, endpoint: str) -> None:
    hook = {"kind": "webhook", "url": endpoint + "/hook", "secret_env": "HOOK_KEY"}
    job = {"name": "weekly", "cron": "0 8 * * 6", "period": "last_month", "formats": ["xlsx"], "kpis": ["revenue"]}
    before = ws.settings
    ws.settings = dataclasses.replace(before, schedules=({**job, "to": [hook]},))  # type: ignore[misc]
    env = {"HOOK_KEY": HOOK_KEY}
    try:
        saturday = _tehran(2025, 3, 22, 8, 0, 20).astimezone(dt.UTC)
        assert run_due(ws, saturday - dt.timedelta(minutes=1), env=env) == []  # 07:59: not yet
        ran = run_due(ws, saturday, env=env)
        assert [(r.job, r.planned, r.period, r.status) for r in ran] == [
            ("weekly", _tehran(2025, 3, 22, 8, 0), "1403-12", "ok")
        ]
        assert run_due(ws, saturday + dt.timedelta(minutes=5), env=env) == []  # once per planned time
        body = Endpoint.seen[-1][2]
        sent = json.loads(body)["attachments"]
        assert [a["filename"] for a in sent] == ["weekly-1403-12.xlsx"]
        assert "1403" in json.loads(body)["subject"] or "۱۴۰۳" in json.loads(body)["subject"]
        # the runner was down for three Saturdays: on start the latest one runs, once
        later = _tehran(2025, 4, 28, 9, 0).astimezone(dt.UTC)
        again = run_due(ws, later, env=env)
        assert [(r.planned, r.period) for r in again] == [(_tehran(2025, 4, 26, 8, 0), "1404-01")]
        log = runs(ws)
        assert [(r["job"], r["status"], r["period"]) for r in log[:2]] == [
            ("weekly", "ok", "1404-01"),
            ("weekly", "ok", "1403-12"),
        ]
        assert log[0]["recipients"] == endpoint + "/hook" and log[0]["ended"] >= log[0]["started"]
        # two runners racing for one planned run: the warehouse's unique (job, planned) lets one win
        planned = _tehran(2025, 4, 19, 8, 0)
        assert claim(ws, "weekly", planned, "1404-01", later) is True
        assert claim(ws, "weekly", planned, "1404-01", later) is False
        # a destination that keeps failing: the run is logged as failed, with the reason
        Endpoint.plan = ["fail"] * 10
        failing = run_due(
            ws, _tehran(2025, 5, 3, 8, 1).astimezone(dt.UTC), env=env, retry=Retry(attempts=2, sleep=lambda s: None)
        )
        assert failing[0].status == "failed" and "503" in runs(ws)[0]["error"]
        assert "نرسید" in runs(ws)[0]["error"]  # in the workspace's language: its managers read the log
    finally:
        ws.settings = before  # type: ignore[misc]


def test_a_schedule_with_a_mistake_is_refused_with_its_name() -> None:
    ok = {"name": "w", "cron": "0 8 * * 6", "to": [{"kind": "bale", "chat_id": 1, "token_env": "B"}]}
    assert schedules([ok])[0].zone.key == "Asia/Tehran"
    for change, word in (
        ({"cron": "every saturday"}, "cron"),
        ({"zone": "Tehran/Asia"}, "Tehran/Asia"),
        ({"period": "last_decade"}, "last_decade"),
        ({"formats": ["docx"]}, "docx"),
        ({"to": []}, "at least one recipient"),
        ({"to": [{"kind": "bale", "chat_id": 1, "token": TOKEN}]}, "secret"),
    ):
        with pytest.raises(UserError) as refused:
            schedules([{**ok, **change}])
        assert "schedule 'w'" in refused.value.message and word in refused.value.message
        assert TOKEN not in refused.value.message


def test_the_run_log_names_a_webhook_without_its_query() -> None:
    """A token in a webhook's query or fragment never reaches the warehouse's run log."""
    from sanjeh.reports.deliver import Email, Webhook, who

    assert who(Webhook("https://hooks.example.com/sanjeh?token=s3cret#x")) == "https://hooks.example.com/sanjeh"
    assert (
        who(Email("smtp.example.com", "s@example.com", ("a@example.com", "b@example.com")))
        == "a@example.com, b@example.com"
    )
