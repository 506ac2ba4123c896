"""The import's fast paths give the same results as the full rules; the chunked line scan
gives the same lines whatever the chunk size; the import leaves DuckDB's settings as they were."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pytest

from sanjeh.ingest import list_rejects, normalize, read, run_import
from sanjeh.ingest.validate import CheckOptions, check_sql
from sanjeh.schema import TABLES_BY_NAME
from sanjeh.warehouse import quote_literal
from sanjeh.workspace import Workspace

TRICKY = [
    None,
    "",
    " ",
    "abc",
    " abc",
    "abc\t",
    "a b",
    "A-B  c__d",
    "on_hold",
    "_x",
    "x_",
    "۱۲۳",
    "٤٥",
    "علي",
    "كتاب",
    "\u00a0نام\u00a0",
    "نام",
    "ZWNJ\u200cکار",
    "1,234,567",
    "12٫5",
    "1٬000 تومان",
    "250 IRR",
    "12.5",
    "-3",
    ".5",
    "1e3",
    "inf",
    "2024-01-31",
    "2024-01-31 23:59:59",
    "2024-1-3",
    "۱۴۰۲/۰۱/۰۱",
    "2024-01-31T10:00:00Z",
    "2024-01-31 10:00:00+03:30",
    "2024-01-31 10:00:00.123",
    "2024-13-01 10:00:00",
    "\x01x",
    "x\x7f",
    "x\x01",
    "x\x0b",
    "x\x0c",
    "x\r",
    "x\n",
    "x \t",
    "\tx",
]


def _full_text(sql: str, *, digits: bool) -> str:
    inner = normalize.letters(sql)
    if digits:
        inner = normalize.ascii_digits(inner)
    return normalize.strip_ws(inner)


@pytest.mark.parametrize("digits", [False, True])
def test_text_and_code_fast_paths_agree_with_the_full_rules(digits: bool) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE v (x VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[x] for x in TRICKY])
    full_code = f"lower(regexp_replace({_full_text('x', digits=True)}, '[\\s_-]+', '_', 'g'))"
    rows = con.execute(
        f"SELECT x, {normalize.text('x', digits=digits)}, {_full_text('x', digits=digits)}, "
        f"{normalize.code('x')}, {full_code} FROM v"
    ).fetchall()
    for x, fast, full, fast_code, slow_code in rows:
        assert fast == full, x
        assert fast_code == slow_code, x


def test_number_and_date_fast_paths_agree_with_the_full_rules() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE v (x VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[x] for x in TRICKY])
    t = normalize.text("x", digits=True)
    parts = ", ".join(quote_literal(p) for p in normalize.DATE_PARTS)
    rows = con.execute(
        f"SELECT x, {normalize.date_struct(t)}, regexp_extract(coalesce({t}, ''), {quote_literal(normalize.DATE_RE)}, "
        f"[{parts}]), {normalize.number_plain(t)}, {normalize.number_valid(normalize.number_parts(t, money=True)[0])}, "
        f"{normalize.number_parts(t, money=True)[1]} FROM v"
    ).fetchall()
    for x, fast, full, plain, valid, mult in rows:
        assert fast == full, x
        if plain:  # a plain number is valid as it stands, with no currency word
            assert valid and mult == 1, x


def test_the_cast_fast_path_for_dates_agrees_with_the_full_rules(workspace: Workspace, tmp_path: Path) -> None:
    """Dates in the usual ``YYYY-MM-DD HH:MM:SS`` form are read by DuckDB's cast; the same moments
    written with slashes take the full rules. Both must give the same value, and what the cast
    would read differently (hour 24, years before 1700, 29 February of a common year) must not
    take the fast path."""
    rng = random.Random(7)
    rows = ["order_id,ordered_at,status"]
    for i in range(400):
        day = dt.date(1700, 1, 1) + dt.timedelta(days=rng.randrange(0, 146_000))
        at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60)))
        text = at.strftime("%Y-%m-%d") if i % 4 == 0 else at.strftime("%Y-%m-%d %H:%M:%S")
        rows += [f"f{i},{text},placed", f"s{i},{text.replace('-', '/')},placed"]
    rows += ["f400,2024-02-29 23:59:59,placed", "s400,2024/02/29 23:59:59,placed"]
    (tmp_path / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "orders.csv"])
    assert s.tables["orders"].to_dict() == {"read": 802, "accepted": 802, "rejected": 0}
    got = dict(workspace.warehouse.fetch("SELECT order_id, ordered_at FROM orders"))
    for i in range(401):
        assert got[f"f{i}"] == got[f"s{i}"], i
    con = duckdb.connect()
    cast_reads_these = ("2024-01-3T 10:20:30", "2024-01-3  10:20:30", "2024-01-05 10:20:5Z", "2024-01-05 10:20:0 ")
    for value in cast_reads_these:
        assert con.execute(f"SELECT TRY_CAST({quote_literal(value)} AS TIMESTAMP)").fetchone() != (None,), value
    for value in (
        *cast_reads_these,
        "2024-01-01 24:00:00",
        "1699-12-31",
        "2023-02-29",
        "2024-13-01",
        "2024-01-01 10:00:60",
        "1403-01-01",
    ):
        assert con.execute(f"SELECT {normalize.plain_timestamp(quote_literal(value))}").fetchone() == (None,), value


def test_the_cast_fast_path_reads_every_value_as_the_rules_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts of the fast path's shape, with digits, signs, spaces and letters in its places: the
    check with the fast path gives every value and every reason exactly as the check without it."""
    rng = random.Random(11)
    alphabet = "0123456789" * 6 + " +-:.Te\u06f1"
    values = []
    for _ in range(20_000):
        chars = list(rng.choice(["2024-01-31 10:20:30", "2024-01-31", "1999-12-31 23:59:59", "1403-12-30"]))
        for i in rng.sample(range(len(chars)), rng.randint(0, 3)):
            chars[i] = rng.choice(alphabet)
        values.append("".join(chars))
    con = duckdb.connect()
    con.execute("CREATE TABLE v (x VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[x] for x in values])
    source = (
        "(SELECT CAST(row_number() OVER () AS BIGINT) AS __line, 0 AS __fidx, CAST(NULL AS VARCHAR) AS __pre_reason, "
        "CAST(NULL AS VARCHAR) AS __pre_col, 'o1' AS r_order_id, x AS r_ordered_at, 'placed' AS r_status FROM v)"
    )
    orders = TABLES_BY_NAME["orders"]
    present = {"order_id", "ordered_at", "status"}
    sql = check_sql(orders, source, present, CheckOptions())
    fast = con.execute(
        f"SELECT __line, v_ordered_at, __reason, {normalize.plain_timestamp('r')} FROM ({sql}) "
        "JOIN (SELECT row_number() OVER () AS l, x AS r FROM v) ON l = __line ORDER BY __line"
    ).fetchall()
    monkeypatch.setattr(normalize, "plain_timestamp", lambda sql: "CAST(NULL AS TIMESTAMP)")
    rules = con.execute(
        f"SELECT __line, v_ordered_at, __reason FROM ({check_sql(orders, source, present, CheckOptions())}) "
        "ORDER BY __line"
    ).fetchall()
    assert [r[:3] for r in fast] == rules
    assert sum(r[3] is not None for r in fast) > 5_000  # many values took the fast path
    assert sum(r[2] is not None for r in rules) > 5_000  # and many were rejected by the rules


CSV = 'customer_id,name,region\nc1,"Two\nlines",x\n\n\nc2,short\nc3,a,b,c\nc4,"with ""quotes""",y\nc5,,z\nc6,"a,b",w'


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_chunked_line_scan_gives_the_same_lines(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    (tmp_path / "customers.csv").write_text(CSV, encoding="utf-8")
    monkeypatch.setattr(read, "_CHUNK", chunk)
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 6, "accepted": 3, "rejected": 3}
    rejects = {r["line"]: (r["reason"], r["row"]) for r in list_rejects(workspace.warehouse)}
    assert rejects == {
        6: ("row has 2 fields, the header has 3", ["c2", "short"]),
        7: ("row has 4 fields, the header has 3", ["c3", "a", "b", "c"]),
        9: ("name is required", {"customer_id": "c5", "name": None, "region": "z"}),
    }
    assert workspace.warehouse.fetch("SELECT name FROM customers ORDER BY 1") == [
        ("Two\nlines",),
        ("a,b",),
        ('with "quotes"',),
    ]


def test_import_restores_the_memory_limit(workspace: Workspace, tmp_path: Path) -> None:
    con = workspace.warehouse.duckdb
    con.execute("SET memory_limit = '3GiB'")
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()
    (tmp_path / "customers.csv").write_text("customer_id,name\nc1,a\nc1,b\n", encoding="utf-8")
    s = run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert s.tables["customers"].to_dict() == {"read": 2, "accepted": 1, "rejected": 1}
    assert con.execute("SELECT current_setting('memory_limit')").fetchone() == before
    (tmp_path / "customers.csv").write_text("customer_id\nc1\n", encoding="utf-8")
    with pytest.raises(Exception, match="name"):
        run_import(workspace.warehouse, workspace.import_options(), [tmp_path / "customers.csv"])
    assert con.execute("SELECT current_setting('memory_limit')").fetchone() == before
    temps = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    temps += con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
    assert [t for t in temps if str(t[0]).startswith("__sanjeh")] == []


def test_the_memory_cap_grows_with_the_input_within_bounds() -> None:
    from sanjeh.ingest.staging import MEMORY_LIMIT_BYTES, MEMORY_LIMIT_MAX_BYTES, memory_limit

    assert memory_limit(0) == MEMORY_LIMIT_BYTES == 1024**3
    assert memory_limit(715_000_000) == MEMORY_LIMIT_BYTES  # 1 M orders
    assert memory_limit(4_500_000_000) == 1_500_000_000
    assert memory_limit(7_100_000_000) == MEMORY_LIMIT_MAX_BYTES == 2 * 1024**3  # 10 M orders
