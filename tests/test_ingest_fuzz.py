"""Fuzz the importer (issue 11 "done when"): random files of random bytes, encodings, delimiters,
quotes, sizes and headers. Every import ends either in a summary where every row read is
accepted or rejected (and the rejects are stored, one per rejected row, and the table holds the
accepted rows), or in a user error (one sentence) that leaves the workspace as it was. Never a
traceback, never a row unaccounted for."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sanjeh.errors import UserError
from sanjeh.ingest import list_rejects, run_import
from sanjeh.ingest.pipeline import header_key
from sanjeh.schema import TABLES_BY_NAME
from sanjeh.workspace import Workspace
from tests.conftest import FIXED_TODAY

TABLES = {
    "orders": ["order_id", "ordered_at", "status", "rep_id", "cancelled_at", "contact_method"],
    "order_lines": ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount"],
    "products": ["product_id", "name", "list_price", "launched_on", "category"],
    "targets": ["kpi", "measure", "period", "dimension", "member", "target"],
    "time_entries": ["rep_id", "day", "category", "hours"],
}
VALUES = [
    "", " ", "o1", "O-1", "o1 ", "p", "12", "0", "-3", "12.5", "12,50", "1,234", "1.234", "1,234,567.5", "1.234,5",
    "۱۲٬۵۰۰٫۵", "12 تومان", "1e400", "1e308", "nan", "inf", "abc", "2024-01-01", "2024-1-3 9:05", "1403/01/01",
    "۱۴۰۳/۰۱/۰۱", "2024-13-01", "2024-02-30", "2024-01-01T10:00:00Z", "24:00", "placed", "Fulfilled", "cancelled",
    "lost", "revenue", "1403-Q1", "region", "علي", "كتاب", "a\"b", "x,y", "x;y", "line\nbreak", "tab\there",
    "\u200c", "🙂", "NULL", "\r", "'quoted'", "\u00a0pad\u00a0",
]  # fmt: skip
ENCODINGS = ["utf-8", "utf-8-sig", "cp1256", "utf-16", "utf-16-le"]
IDS = ["o1", "o2", "O3", " o1 ", "p1", "r1", "۱۲"]
NUMBERS = ["1", "12.5", "3", "0", "1,234,567.5", "12,50", "1,234", "1.234", "۱۲٬۵۰۰", "1e3"]
DATES = ["2024-01-01", "2024-01-01 10:00:00", "1403/01/01", "2024/2/29 9:05", "2024-01-01T06:00:00Z"]
#: values a column usually holds (most cells take one, so that many rows are accepted)
GOOD: dict[str, list[str]] = {
    **dict.fromkeys(["order_id", "product_id", "rep_id", "name", "member", "dimension", "measure"], IDS),
    **dict.fromkeys(["quantity", "unit_price", "discount", "list_price", "target", "hours", "line_no"], NUMBERS),
    **dict.fromkeys(["ordered_at", "cancelled_at", "launched_on", "day"], DATES),
    "status": ["placed", "Fulfilled", "cancelled"],
    "contact_method": ["phone", "Cold - Call"],
    "category": ["selling", "Data Entry"],
    "kpi": ["revenue", "win_rate"],
    "period": ["1403-Q1", "2024-03", "1403"],
}


@dataclass
class Case:
    table: str
    name: str
    data: bytes
    records: int | None  # data records written, when the file is well formed (None: unknown)
    parquet: bool = False


def _header_names(draw: st.DrawFn, table: str) -> list[str]:
    """Some of the table's columns (its required ones, most of the time), spelled variously, in any
    order, and maybe other names."""
    columns = TABLES[table]
    names = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=len(columns), unique=True))
    if draw(st.sampled_from([True, True, True, False])):
        names += [c for c in TABLES_BY_NAME[table].required if c not in names]
        names = draw(st.permutations(names))
    names = [draw(st.sampled_from([n, n.upper(), n.replace("_", " ").title()])) for n in names]
    extra = draw(st.lists(st.sampled_from(["notes", "x", "", "Order ID", "تاریخ"]), max_size=2, unique=True))
    return names + [e for e in extra if e.lower() not in {n.lower() for n in names}]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    table = draw(st.sampled_from(sorted(TABLES)))
    names = _header_names(draw, table)
    cell = st.one_of(
        st.sampled_from(VALUES),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6),
    )
    n_rows = draw(st.integers(0, 12))
    rows = []
    for _ in range(n_rows):
        ragged = draw(st.sampled_from([False] * 9 + [True]))
        width = draw(st.integers(1, len(names) + 2)) if ragged else len(names)
        row = []
        for i in range(width):
            good = GOOD.get(header_key(names[i])) if i < len(names) else None
            row.append(
                draw(st.sampled_from(good)) if good and draw(st.sampled_from([True] * 3 + [False])) else draw(cell)
            )
        rows.append(row)
    kind = draw(st.sampled_from(["csv"] * 6 + ["bytes", "parquet"]))
    if kind == "parquet":
        cols = {
            f"{n}#{i}" if names.count(n) > 1 else n: [r[i] if i < len(r) else None for r in rows]
            for i, n in enumerate(names)
        }
        buf = io.BytesIO()
        pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()}), buf)
        return Case(table, f"{table}.parquet", buf.getvalue(), None, parquet=True)
    delim = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    csv.writer(out, delimiter=delim, quoting=quoting, lineterminator=ending).writerows([names, *rows])
    text = out.getvalue()
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    records: int | None = len(rows)  # the writer quotes a lone empty field (""): no line is blank
    if ending == "\n" and quoting == csv.QUOTE_MINIMAL and any("\r" in str(c) for r in rows for c in r):
        # the writer leaves a lone CR unquoted when the lines end in LF alone: a reader may take it
        # for a line break (as RFC 4180 readers do), so the file's count of records is not known
        records = None
    if kind == "bytes":  # random damage: bytes replaced, inserted, or the file cut short
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):  # sometimes a NUL among them
            at = draw(st.integers(0, max(len(raw) - 1, 0)))
            raw[at:at] = draw(st.binary(min_size=1, max_size=4))
        if draw(st.booleans()):
            raw = raw[: draw(st.integers(0, len(raw)))]
        data, records = bytes(raw), None
    return Case(table, f"{table}.csv", data, records)


@pytest.fixture(scope="module")
def duckdb_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path_factory.mktemp("fuzz") / "ws")
    ws.clock = lambda: FIXED_TODAY
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(scope="module")
def postgres_workspace(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path_factory.mktemp("fuzz") / "ws", warehouse=pg_server.create_database())
    ws.clock = lambda: FIXED_TODAY
    try:
        yield ws
    finally:
        ws.close()


def counts(ws: Workspace) -> dict[str, int]:
    return {t: int(ws.warehouse.fetch(f"SELECT count(*) FROM {t}")[0][0]) for t in [*TABLES, "_imports", "_rejects"]}


def check_import(ws: Workspace, case: Case) -> None:
    """Import the case's file (replacing its table): a user error changes nothing; a summary
    accounts for every row, and the table and the rejects hold what it says."""
    before = counts(ws)
    refused: UserError | None = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / case.name
        path.write_bytes(case.data)
        try:
            summary = run_import(ws.warehouse, ws.import_options(), [path], table=case.table, replace=True, force=True)
        except UserError as exc:
            refused = exc
    if refused is not None:
        message = refused.message
        event("refused: " + re.sub(r"[0-9]+", "N", " ".join(message.split()[1:5])))
        assert message and "\n" not in message.strip(), message
        assert "Traceback" not in message and "strict_mode" not in message
        assert counts(ws) == before  # a refused import changes nothing
        return
    c = summary.tables[case.table]
    event("imported" + (" with rejects" if c.rejected else "") + (" and accepted rows" if c.accepted else ""))
    assert c.read == c.accepted + c.rejected
    if case.records is not None:
        assert c.read == case.records, (case, c)
    assert int(ws.warehouse.fetch(f"SELECT count(*) FROM {case.table}")[0][0]) == c.accepted
    stored = [r for r in list_rejects(ws.warehouse, import_id=summary.import_id) if r["table"] == case.table]
    assert len(stored) == c.rejected
    assert all(r["reason"] and not r["reason"].startswith("\u0001") for r in stored)
    if ws.warehouse.kind == "duckdb":
        left = ws.warehouse.fetch(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_\\_%' ESCAPE '\\' "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name LIKE '\\_\\_%' ESCAPE '\\'"
        )
        assert left == []


SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@pytest.mark.slow
@settings(max_examples=60, **SETTINGS)  # type: ignore[arg-type]
@given(case=cases())
def test_the_importer_loses_no_row_and_raises_no_traceback(duckdb_workspace: Workspace, case: Case) -> None:
    check_import(duckdb_workspace, case)


@pytest.mark.slow
@settings(max_examples=25, **SETTINGS)  # type: ignore[arg-type]
@given(case=cases())
def test_the_importer_into_postgresql_too(postgres_workspace: Workspace, case: Case) -> None:
    check_import(postgres_workspace, case)
