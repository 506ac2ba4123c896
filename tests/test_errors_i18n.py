"""Every word in the user's language: errors, reject reasons and refusals have Persian text.

User errors are raised with a message key (errors.py); a test reads the source of every module
whose errors reach a user and fails on a user error raised without a key, or with a key that has
no Persian text. The importer's reasons are English sentences translated when shown
(sanjeh.reasons): a real import of broken files must give reasons that all have Persian text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sanjeh import errors
from sanjeh.calendar import parse_grain, parse_period
from sanjeh.errors import InvalidQuery, SanjehError, UserError
from sanjeh.i18n import catalogue
from sanjeh.reasons import PATTERNS, REFUSALS, column_title, match, reason_text, refusal_text
from sanjeh.workspace import Workspace

SRC = Path(__file__).resolve().parent.parent / "src" / "sanjeh"
PERSIAN = re.compile("[\u0600-\u06ff]")
#: Modules that raise user errors a user may meet, whose raises must name a message key.
KEYED = (
    "calendar.py",
    "check.py",
    "cli.py",
    "currency.py",
    "demo_workspace.py",
    "settings.py",
    "users.py",
    "warehouse.py",
    "workspace.py",
    "kpis/query.py",
    "kpis/pace.py",
    "kpis/forecast.py",
    "kpis/timetowin.py",
    "kpis/why.py",
    "web/api.py",
    "web/auth.py",
    "web/controls.py",
    "web/deps.py",
    "web/guard.py",
    "web/pages.py",
    "web/state.py",
    "web/staging.py",
    "web/wizard.py",
    "ingest/choices.py",
    "reports/build.py",
    "reports/deliver.py",
    "reports/schedule.py",
    "reports/alert_rules.py",
    "web/alerts_page.py",
    "reports/when.py",
    "web/schedules_page.py",
)
#: Known gaps, declared (never silently skipped), each with why: none today.
GAPS: dict[str, set[str]] = {}
#: The sections of the catalogue's ``[error.*]`` messages.
SECTIONS = (
    "period",
    "query",
    "auth",
    "request",
    "upload",
    "users",
    "workspace",
    "settings",
    "cli",
    "deliver",
    "schedule",
    "wizard",
    "mapping",
    "alert",
    "check",
)
USER_ERRORS = {
    name for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, errors.UserError)
}


def _raises(path: Path) -> list[tuple[str, int, ast.Call]]:
    """(enclosing function, line, call) of every ``raise UserErrorSubclass(...)`` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, ast.Call]] = []

    def walk(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                callee = child.exc.func
                if isinstance(callee, ast.Name) and callee.id in USER_ERRORS | {"InvalidTargets"}:
                    found.append((name, child.lineno, child.exc))
            walk(child, name)

    walk(tree, "")
    return found


@pytest.mark.parametrize("module", KEYED)
def test_every_user_error_has_a_message_key_with_persian_text(module: str) -> None:
    fa, en = catalogue("fa"), catalogue("en")
    raises = _raises(SRC / module)
    assert raises or module in ("web/controls.py",), f"no user errors found in {module}"
    for func, line, call in raises:
        if func in GAPS.get(module, set()):
            continue
        keys = [k for k in call.keywords if k.arg == "key"]
        assert keys, f"{module}:{line} ({func}) raises a user error without a message key"
    # every key the module names (raised directly, or chosen from a table of keys) has its messages
    text = (SRC / module).read_text(encoding="utf-8")
    for key in set(re.findall(rf'(?:key=|: )"((?:{"|".join(SECTIONS)})\.[a-z_]+)"', text)):
        assert f"error.{key}" in fa and f"error.{key}" in en, f"{module}: no message error.{key}"
        assert PERSIAN.search(fa[f"error.{key}"]), f"error.{key} has no Persian text"


def test_every_message_a_user_reads_has_persian_text() -> None:
    fa = catalogue("fa")
    for key, text in fa.items():
        if key.startswith(("error.", "reason.", "refusal.", "column.", "member.", "view.", "data.", "card.")):
            if key in ("view.csv",) or text in ("#",):
                continue
            assert PERSIAN.search(text), f"{key} = {text!r} has no Persian word"
    assert "پالایه" not in "".join(fa.values())  # the word is «فیلتر»
    assert fa["controls.add_filter"] == "فیلتر"


@pytest.mark.parametrize(
    ("raise_it", "fa", "en"),
    [
        (lambda: parse_period("1403-13"), "ماه ۱۳ وجود ندارد", "month 13 does not exist"),
        (lambda: parse_period("1403-Q5"), "فصل ۵ وجود ندارد", "quarter 5 does not exist"),
        (lambda: parse_period("1403-02..1403-01"), "پایان این بازه پیش از آغاز آن است", "ends before it starts"),
        (lambda: parse_period("yesterday"), "دوره نیست", "is not a period label"),
        (lambda: parse_grain("hour"), "ماه، فصل، سال", "day, week, month, quarter, year"),
    ],
)
def test_errors_speak_the_users_language(raise_it: object, fa: str, en: str) -> None:
    with pytest.raises(UserError) as info:
        raise_it()  # type: ignore[operator]
    assert fa in info.value.text("fa")
    assert en in info.value.text("en") and en in info.value.message  # the API keeps English


def test_an_id_inside_a_persian_sentence_is_isolated() -> None:
    """``1403-13`` inside Persian: isolated left to right, so its parts and the words stay in order."""
    with pytest.raises(UserError) as info:
        parse_period("1403-13")
    assert "\u20661403-13\u2069" in info.value.text("fa")
    unknown = InvalidQuery(
        key="query.unknown_member", params={"dim": "region", "member": "Atlantis", "known": ["تهران"]}
    )
    assert "\u2066Atlantis\u2069" in unknown.text("fa") and "منطقه" in unknown.text("fa")
    assert "\u2067تهران\u2069" in unknown.text("en")  # a Persian name inside English, isolated right to left


def test_an_error_without_a_key_stays_english() -> None:
    e = SanjehError("something odd")
    assert e.text("fa") == "something odd" and e.message == "something odd"


# -- reasons of the importer ------------------------------------------------------------------------
BAD_ORDERS = (
    "order_id,ordered_at,status,customer_id,opportunity_id\n"
    "O1,1403/01/05 10:00,placed,C1,\n"
    "O2,1403/13/01,placed,C1,\n"
    "O3,1403/01/32,placed,C1,\n"
    "O4,not a date,placed,C1,\n"
    "O5,1403/01/05 25:00,placed,C1,\n"
    "O6,1403/01/05,wrong,C1,\n"
    ",1403/01/05,placed,C1,\n"
    "O1,1403/01/06,placed,C1,\n"
    "O9,1403/01/05,placed\n"
    "O10,1403/01/05,placed,C1,,extra\n"
    "O11,1399/01/05 10:00 +99:00,placed,C1,\n"
)
BAD_LINES = (
    "order_id,line_no,product_id,quantity,unit_price,discount\n"
    "O1,1,P1,2,100,0\n"
    "O1,1,P1,2,100,0\n"
    "O404,1,P1,2,100,0\n"
    "O1,2,P1,abc,100,0\n"
    "O1,3,P1,2.5,100,0\n"
    "O1,4,P1,2,100,500\n"
    "O1,5,P1,-2,100,0\n"
)
BAD_OPPORTUNITIES = (
    "opportunity_id,created_at,status,closed_at\n"
    "OP1,1403/01/05,won,\n"
    "OP2,1403/01/05,lost,1402/01/01\n"
    "OP3,1403/01/05,maybe,\n"
)


def test_every_reason_of_a_real_import_has_persian_text(workspace: Workspace, tmp_path: Path) -> None:
    """Broken files through the real importer: each reject and warning it writes reads in Persian."""
    from sanjeh.ingest import list_rejects, list_warnings

    files = {"orders.csv": BAD_ORDERS, "order_lines.csv": BAD_LINES, "opportunities.csv": BAD_OPPORTUNITIES}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    workspace.import_files([tmp_path / n for n in files])
    rows = list_rejects(workspace.warehouse) + list_warnings(workspace.warehouse)
    assert len(rows) >= 12
    unknown = [r["reason"] for r in rows if match(r["reason"]) is None]
    assert unknown == [], "reasons no pattern knows (add them to sanjeh/reasons.py)"
    for r in rows:
        fa = reason_text(r["reason"], "fa")
        assert PERSIAN.search(fa) and fa != r["reason"], (r["reason"], fa)
        assert reason_text(r["reason"], "en") == r["reason"]  # English as the importer wrote it
        assert r["column"] is None or PERSIAN.search(column_title(r["column"], "fa")), r["column"]


@pytest.mark.parametrize(
    ("reason", "fa"),
    [
        ("ordered_at is required", "«زمان سفارش» خالی است"),
        ("month 13 does not exist", "ماه ۱۳ وجود ندارد"),
        ("day 31 does not exist in 1403-12", "روز ۳۱ در ماه اسفند ۱۴۰۳ وجود ندارد"),  # the month in words
        ("duplicate order_id (first seen on line 3 of a.csv)", "نخستین بار در سطر ۳ در پرونده‌ی \u2066a.csv\u2069"),
        ("row has 3 fields, the header has 4", "این سطر ۳ خانه دارد و سرآیند ۴ خانه"),
        (
            "amount is ambiguous (1.234 or 1234?): this column of the file writes some decimals with a point and "
            "some with a comma",
            "«مبلغ» دو جور خوانده می‌شود",
        ),
        ("the value of name holds a NUL character (U+0000), which no text may hold", "نویسه‌ی NUL"),
        ("unknown rep_id (not in reps); accepted anyway, on 3 rows", "در کارشناسان فروش نیست"),
    ],
)
def test_reasons_the_importer_writes(reason: str, fa: str) -> None:
    assert fa in reason_text(reason, "fa")


def test_every_reason_and_refusal_pattern_has_its_message() -> None:
    fa, en = catalogue("fa"), catalogue("en")
    for key, _ in PATTERNS:
        assert f"reason.{key}" in fa and f"reason.{key}" in en, key
    for key, _ in REFUSALS:
        assert f"refusal.{key}" in fa and f"refusal.{key}" in en, key
    assert "حاشیه" not in refusal_text("x.csv is empty (0 bytes); nothing was imported", "fa")
    assert "خالی است" in refusal_text("x.csv is empty (0 bytes); nothing was imported", "fa")


def test_a_valid_period_and_a_kpis_measure_read_in_persian_words() -> None:
    """A period the engine parsed (``PeriodText``) is said in words in Persian (an empty workspace's
    forecast page said «پیش از 1405-09»), a built-in KPI's measure by its title and its id (as a
    dimension is: the id is what a settings file names);
    English keeps the label a command takes. A period quoted back from bad input stays as typed."""
    from sanjeh.i18n import PeriodText

    short = InvalidQuery(
        key="query.forecast_history", params={"kpi": "revenue", "n": 0, "period": PeriodText("1405-09"), "need": 12}
    )
    fa = short.text("fa")
    assert "پیش از آذر ۱۴۰۵" in fa and not re.search(r"[0-9A-Za-z]", fa), fa
    assert "before 1405-09" in short.text("en")
    target = InvalidQuery(
        key="query.why_no_target",
        params={"kpi": "revenue", "measure": "revenue", "period": PeriodText("1402-05..1403-Q2")},
    )
    fa = target.text("fa")
    assert "«درآمد (\u2066revenue\u2069)» از «درآمد» در مرداد ۱۴۰۲ تا فصل ۲ سال ۱۴۰۳" in fa, fa  # the id a file names
    unknown = InvalidQuery(key="query.measure", params={"kpi": "revenue", "measure": "nope", "measures": ["orders"]})
    assert "nope" in unknown.text("fa")  # not a measure of the KPI: quoted as given
    bad = UserError(key="period.not_label", params={"period": "1403-13x"})
    assert "1403-13x" in bad.text("fa")
