"""``sanjeh.schema`` against ``shared/spec/SCHEMA.md`` itself.

The markdown tables of SCHEMA.md are parsed (every ``### name`` section under
``## Tables``) and compared with :data:`sanjeh.schema.TABLES`: the same tables, the
same columns in the same order, types, required and unique columns, enum values,
bounds, defaults, references and cross-column rules. A column added to one side only
fails these tests; the last tests prove that on edited copies of the spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from sanjeh.errors import UserError
from sanjeh.schema import (
    CODE_COLUMNS,
    IMPORT_ORDER,
    STORAGE_TYPES,
    SYSTEM_TABLES,
    TABLES,
    TABLES_BY_NAME,
    Column,
    Rule,
    Table,
    table,
)
from tests.conftest import SHARED

SCHEMA_MD = SHARED / "spec" / "SCHEMA.md"
PLAIN_TYPES = {"text", "timestamp", "date", "money", "decimal", "integer"}

#: Where schema.py says more than SCHEMA.md, on purpose. Each entry is checked to still
#: be a difference, so it cannot outlive the reason it was added for.
KNOWN_EXTRA_UNIQUE = {
    ("cpi", "month"): "the month is cpi's one-column key; SCHEMA.md does not mark it `unique`",
}


# ---------------------------------------------------------------------------------------
# parsing SCHEMA.md
# ---------------------------------------------------------------------------------------
@dataclass
class SpecColumn:
    name: str
    type: str  # text, enum, timestamp, date, money, decimal, integer
    required: bool = False
    unique: bool = False
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    note: str = ""


@dataclass
class SpecTable:
    name: str
    title: str
    columns: list[SpecColumn] = field(default_factory=list)


def parse_type_cell(name: str, cell: str, note: str) -> SpecColumn:
    """``text, req, unique`` / ``enum req: open, won, lost`` / ``decimal, req, > 0`` ..."""
    enum = re.fullmatch(r"enum( req)?:\s*(.+)", cell)
    if enum:
        values = tuple(v.strip() for v in enum[2].split(","))
        return SpecColumn(name, "enum", required=bool(enum[1]), values=values, note=note)
    first, *flags = (t.strip() for t in cell.split(","))
    assert first in PLAIN_TYPES, f"SCHEMA.md: unknown type {first!r} of column {name}"
    col = SpecColumn(name, first, note=note)
    for flag in flags:
        if flag == "req":
            col.required = True
        elif flag == "unique":
            col.unique = True
        elif m := re.fullmatch(r"([>≥])\s*(\d+(?:\.\d+)?)", flag):
            col.min, col.min_exclusive = float(m[2]), m[1] == ">"
        elif m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*[–-]\s*(\d+(?:\.\d+)?)", flag):
            col.min, col.max = float(m[1]), float(m[2])
        else:  # a new kind of annotation must be taught to this test, not ignored
            raise AssertionError(f"SCHEMA.md: unknown annotation {flag!r} of column {name}")
    return col


def section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section (up to the next ``## ``)."""
    m = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"SCHEMA.md has no section '## {heading}'"
    return m[1]


def parse_tables(text: str) -> list[SpecTable]:
    tables: list[SpecTable] = []
    for block in re.split(r"^### ", section(text, "Tables"), flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        name, _, title = (p.strip() for p in heading.partition("—"))
        t = SpecTable(name, title)
        rows = [line.strip() for line in body.splitlines() if line.strip().startswith("|")]
        assert rows, f"SCHEMA.md: section {name} has no table"
        header = [c.strip() for c in rows[0].strip("|").split("|")]
        assert header == ["column", "type", "notes"], f"SCHEMA.md: table {name} has header {header}"
        assert set(rows[1].replace("|", "").strip()) <= set("-: "), f"SCHEMA.md: table {name}"
        for row in rows[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) == 3, f"SCHEMA.md: row {row!r}"
            names, cell, note = cells
            for col_name in (n.strip() for n in names.split(",")):  # `lead_id, opportunity_id, customer_id`
                t.columns.append(parse_type_cell(col_name, cell, note))
        tables.append(t)
    return tables


def code_columns_of(text: str) -> tuple[str, ...]:
    m = re.search(r"\*\*Codes\.\*\*(.*?)are stored as codes", text, re.S)
    assert m, "SCHEMA.md: no **Codes.** paragraph"
    return tuple(re.findall(r"`(\w+)`", m[1]))


def reference_columns_of(text: str) -> tuple[str, ...]:
    m = re.search(r"Unknown (.*?) references are accepted", text, re.S)
    assert m, "SCHEMA.md: no sentence on unknown references"
    return tuple(re.findall(r"`(\w+)`", m[1]))


def other_rule_bounds(text: str) -> dict[str, tuple[float, float | None, bool]]:
    """``quantity > 0``, ``hours`` in 0–24 ... of "## Other rules": column -> (min, max, exclusive)."""
    body = section(text, "Other rules")
    out: dict[str, tuple[float, float | None, bool]] = {}
    for name, op, value in re.findall(r"`(\w+) ([>≥]) (\d+)`", body):
        out[name] = (float(value), None, op == ">")
    for name, lo, hi in re.findall(r"`(\w+)` in (\d+)–(\d+)", body):
        out[name] = (float(lo), float(hi), False)
    return out


def differences(spec: list[SpecTable], tables: tuple[Table, ...], codes: tuple[str, ...]) -> list[str]:
    """Every way the parsed spec and the declared tables disagree (empty when they agree)."""
    out: list[str] = []
    spec_names = [t.name for t in spec]
    declared = [t.name for t in tables]
    if spec_names != declared:
        out.append(f"tables: SCHEMA.md {spec_names} != schema.py {declared}")
    by_name = {t.name: t for t in tables}
    for st in spec:
        t = by_name.get(st.name)
        if t is None:
            continue
        spec_cols = [c.name for c in st.columns]
        if spec_cols != list(t.column_names):
            out.append(f"{st.name} columns: SCHEMA.md {spec_cols} != schema.py {list(t.column_names)}")
            continue
        for sc, c in zip(st.columns, t.columns, strict=True):
            out.extend(f"{st.name}.{sc.name}: {d}" for d in column_differences(st.name, sc, c, codes))
    return out


def column_differences(table_name: str, sc: SpecColumn, c: Column, codes: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    if sc.type == "enum":
        expected_type = "enum"
    elif sc.type == "text" and sc.name in codes:
        expected_type = "code"
    else:
        expected_type = sc.type
    if c.type != expected_type:
        out.append(f"type {c.type!r}, SCHEMA.md says {expected_type!r}")
    if c.required != sc.required:
        out.append(f"required={c.required}, SCHEMA.md says {sc.required}")
    if c.unique != sc.unique and not (c.unique and (table_name, sc.name) in KNOWN_EXTRA_UNIQUE):
        out.append(f"unique={c.unique}, SCHEMA.md says {sc.unique}")
    if c.values != sc.values:
        out.append(f"values {c.values}, SCHEMA.md says {sc.values}")
    if sc.min is not None and (c.min, c.max, c.min_exclusive) != (sc.min, sc.max, sc.min_exclusive):
        out.append(f"bounds {(c.min, c.max, c.min_exclusive)}, SCHEMA.md says {(sc.min, sc.max, sc.min_exclusive)}")
    return out


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def md() -> str:
    assert SCHEMA_MD.is_file(), f"{SCHEMA_MD} is missing"
    return SCHEMA_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spec(md: str) -> list[SpecTable]:
    return parse_tables(md)


@pytest.fixture(scope="module")
def spec_by_name(spec: list[SpecTable]) -> dict[str, SpecTable]:
    return {t.name: t for t in spec}


# ---------------------------------------------------------------------------------------
# tables and columns
# ---------------------------------------------------------------------------------------
def test_the_spec_parses_to_all_its_tables(spec: list[SpecTable]) -> None:
    assert len(spec) == 12
    assert all(t.columns for t in spec)
    assert sum(len(t.columns) for t in spec) == sum(len(t.columns) for t in TABLES)


def test_schema_py_agrees_with_schema_md(spec: list[SpecTable]) -> None:
    assert differences(spec, TABLES, CODE_COLUMNS) == []


def test_same_tables_in_the_same_order(spec: list[SpecTable]) -> None:
    assert [t.name for t in spec] == [t.name for t in TABLES]
    assert list(TABLES_BY_NAME) == [t.name for t in TABLES]


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_columns_in_the_same_order(spec_by_name: dict[str, SpecTable], name: str) -> None:
    assert [c.name for c in spec_by_name[name].columns] == list(TABLES_BY_NAME[name].column_names)


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_required_columns(spec_by_name: dict[str, SpecTable], name: str) -> None:
    assert tuple(c.name for c in spec_by_name[name].columns if c.required) == TABLES_BY_NAME[name].required


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_unique_columns_and_keys(spec_by_name: dict[str, SpecTable], name: str) -> None:
    t = TABLES_BY_NAME[name]
    spec_unique = [c.name for c in spec_by_name[name].columns if c.unique]
    declared = [c.name for c in t.columns if c.unique and (name, c.name) not in KNOWN_EXTRA_UNIQUE]
    assert declared == spec_unique
    if spec_unique:  # a table with an id: the id is the upsert key, unique within an import
        assert t.key == tuple(spec_unique)
        assert t.key_unique
    assert set(t.key) <= set(t.column_names)


def test_known_extra_unique_columns_are_still_extra(spec_by_name: dict[str, SpecTable]) -> None:
    for (name, column), _reason in KNOWN_EXTRA_UNIQUE.items():
        assert TABLES_BY_NAME[name].column(column).unique
        assert not next(c for c in spec_by_name[name].columns if c.name == column).unique


def test_keys_that_spec_notes_name(spec_by_name: dict[str, SpecTable]) -> None:
    # targets: "a duplicate (kpi, measure, period, dimension, member) is rejected"
    note = spec_by_name["targets"].columns[0].note
    m = re.search(r"a duplicate \(([^)]*)\) is rejected", note)
    assert m
    assert TABLES_BY_NAME["targets"].key == tuple(x.strip() for x in m[1].split(","))
    assert TABLES_BY_NAME["targets"].key_unique
    # order_lines: line_no "unique within an order (a later duplicate is rejected)"
    line_no = next(c for c in spec_by_name["order_lines"].columns if c.name == "line_no")
    assert "unique within an order" in line_no.note
    assert TABLES_BY_NAME["order_lines"].key == ("order_id", "line_no")
    assert TABLES_BY_NAME["order_lines"].key_unique


@pytest.mark.parametrize(
    ("name", "column", "values"),
    [
        ("opportunities", "status", ("open", "won", "lost")),
        ("orders", "status", ("placed", "fulfilled", "cancelled")),
        ("activities", "type", ("call", "email", "meeting", "demo", "visit", "message", "other")),
    ],
)
def test_enum_values(spec_by_name: dict[str, SpecTable], name: str, column: str, values: tuple[str, ...]) -> None:
    sc = next(c for c in spec_by_name[name].columns if c.name == column)
    assert sc.type == "enum"
    assert sc.values == values
    c = TABLES_BY_NAME[name].column(column)
    assert c.type == "enum"
    assert c.values == values
    assert c.required


def test_enums_are_exactly_the_spec_enums(spec: list[SpecTable]) -> None:
    spec_enums = {(t.name, c.name): c.values for t in spec for c in t.columns if c.type == "enum"}
    declared = {(t.name, c.name): c.values for t in TABLES for c in t.columns if c.type == "enum"}
    assert declared == spec_enums
    for t in TABLES:
        for c in t.columns:
            assert bool(c.values) == (c.type == "enum"), f"{t.name}.{c.name}"


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_column_types(spec_by_name: dict[str, SpecTable], name: str) -> None:
    for sc in spec_by_name[name].columns:
        c = TABLES_BY_NAME[name].column(sc.name)
        if sc.type == "enum":
            assert c.type == "enum", sc.name
        elif sc.type == "text":
            assert c.type == ("code" if sc.name in CODE_COLUMNS else "text"), sc.name
        else:
            assert c.type == sc.type, sc.name
        assert c.storage_type == STORAGE_TYPES[c.type]


def test_code_columns_are_the_codes_paragraph(md: str) -> None:
    assert code_columns_of(md) == CODE_COLUMNS
    assert len(set(CODE_COLUMNS)) == len(CODE_COLUMNS)


def test_every_column_named_as_a_code_is_a_code_or_an_enum() -> None:
    for t in TABLES:
        for c in t.columns:
            if c.name in CODE_COLUMNS:
                assert c.type in ("code", "enum"), f"{t.name}.{c.name}"
            else:
                assert c.type != "code", f"{t.name}.{c.name} is a code but not in SCHEMA.md's Codes"
    used = {c.name for t in TABLES for c in t.columns if c.type in ("code", "enum")}
    assert set(CODE_COLUMNS) <= used  # no stale name in CODE_COLUMNS


def test_date_and_timestamp_naming_convention(spec: list[SpecTable]) -> None:
    """SCHEMA.md: ``*_at`` columns are timestamps, ``*_on`` and ``day`` are dates."""
    for st in spec:
        for sc in st.columns:
            c = TABLES_BY_NAME[st.name].column(sc.name)
            if sc.name.endswith("_at"):
                assert sc.type == c.type == "timestamp", f"{st.name}.{sc.name}"
            elif sc.name.endswith("_on") or sc.name == "day":
                assert sc.type == c.type == "date", f"{st.name}.{sc.name}"
            else:
                assert c.type not in ("timestamp", "date"), f"{st.name}.{sc.name}"


# ---------------------------------------------------------------------------------------
# bounds, defaults, references, rules
# ---------------------------------------------------------------------------------------
def test_bounds(md: str, spec: list[SpecTable]) -> None:
    """Bounds in the tables (``> 0``, ``≥ 0``, ``0–24``) and in "Other rules" (``investment ≥ 0``)."""
    in_tables = {
        (t.name, c.name): (c.min, c.max, c.min_exclusive) for t in spec for c in t.columns if c.min is not None
    }
    in_rules = other_rule_bounds(md)
    # the two places agree where both speak
    for (_t, name), bound in in_tables.items():
        if name in in_rules:
            assert in_rules[name] == bound, name
    expected = dict(in_tables)
    columns_by_name: dict[str, list[str]] = {}
    for t in TABLES:
        for c in t.columns:
            columns_by_name.setdefault(c.name, []).append(t.name)
    for name, bound in in_rules.items():
        if name == "net_amount":  # not a column: the net_amount_nonneg rule, tested below
            continue
        owners = columns_by_name.get(name, [])
        assert len(owners) == 1, f"Other rules bound on {name!r}: columns {owners}"
        expected.setdefault((owners[0], name), bound)
    declared = {
        (t.name, c.name): (c.min, c.max, c.min_exclusive)
        for t in TABLES
        for c in t.columns
        if c.min is not None or c.max is not None
    }
    assert declared == expected
    assert expected == {
        ("initiatives", "investment"): (0.0, None, False),
        ("order_lines", "quantity"): (0.0, None, True),
        ("order_lines", "unit_price"): (0.0, None, False),
        ("order_lines", "discount"): (0.0, None, False),
        ("time_entries", "hours"): (0.0, 24.0, False),
        ("cpi", "index"): (0.0, None, True),
    }


def test_defaults(spec: list[SpecTable]) -> None:
    """A note ``default 0`` is a default value; ``default = position ...`` is computed by import."""
    for st in spec:
        expected = {c.name: m[1] for c in st.columns if (m := re.search(r"\bdefault (\d+)\b", c.note))}
        assert TABLES_BY_NAME[st.name].defaults == expected, st.name
        assert set(TABLES_BY_NAME[st.name].defaults) <= set(TABLES_BY_NAME[st.name].column_names)


def test_references(md: str, spec_by_name: dict[str, SpecTable]) -> None:
    """Unknown customer_id, rep_id, ... references are warnings: each such column names its parent."""
    ref_names = reference_columns_of(md)
    assert set(ref_names) == {"customer_id", "rep_id", "product_id", "lead_id", "opportunity_id"}
    owner = {c.name: t.name for t in spec_by_name.values() for c in t.columns if c.unique}
    for t in TABLES:
        for c in t.columns:
            if c.name in ref_names and owner[c.name] != t.name:
                assert c.references == f"{owner[c.name]}.{c.name}", f"{t.name}.{c.name}"
            else:
                assert c.references is None, f"{t.name}.{c.name}"


EXPECTED_RULES: dict[str, tuple[tuple[Rule, str], ...]] = {
    # table -> (rule, the SCHEMA.md text that asks for it)
    "leads": ((Rule("gte", "sql_at", other="mql_at"), "`sql_at ≥ mql_at`"),),
    "opportunities": (
        (
            Rule("required_when", "closed_at", when_column="status", when_values=("won", "lost")),
            "`closed_at` present and `≥ created_at` for won/lost deals",
        ),
        (
            Rule("gte_when", "closed_at", other="created_at", when_column="status", when_values=("won", "lost")),
            "`closed_at` present and `≥ created_at` for won/lost deals",
        ),
    ),
    "order_lines": (
        (Rule("parent_exists", "order_id", other="orders.order_id"), "An order line whose order was rejected"),
        (Rule("net_amount_nonneg", "discount"), "`net_amount ≥ 0`"),
    ),
}


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_cross_column_rules(md: str, name: str) -> None:
    expected = EXPECTED_RULES.get(name, ())
    flat = " ".join(md.split())  # the spec wraps its lines
    for _rule, text in expected:
        assert text in flat, f"SCHEMA.md no longer says {text!r}"
    strip = [(r.kind, r.column, r.other, r.when_column, r.when_values) for r in TABLES_BY_NAME[name].rules]
    want = [(r.kind, r.column, r.other, r.when_column, r.when_values) for r, _ in expected]
    assert strip == want
    assert all(r.reason for r in TABLES_BY_NAME[name].rules)
    for r in TABLES_BY_NAME[name].rules:
        columns = TABLES_BY_NAME[name].column_names
        assert r.column in columns
        assert r.when_column in ("", *columns)
        if r.kind in ("gte", "gte_when"):
            assert r.other in columns


# ---------------------------------------------------------------------------------------
# the rest of schema.py
# ---------------------------------------------------------------------------------------
def test_titles_follow_the_headings(spec: list[SpecTable]) -> None:
    for st in spec:
        t = TABLES_BY_NAME[st.name]
        if st.title:
            assert t.title in st.title, st.name
        else:
            assert t.title.replace(" ", "_") == st.name, st.name


def test_import_order_puts_parents_first() -> None:
    assert sorted(IMPORT_ORDER) == sorted(TABLES_BY_NAME)
    pos = {name: i for i, name in enumerate(IMPORT_ORDER)}
    for t in TABLES:
        parents = [c.references for c in t.columns if c.references]
        parents += [r.other for r in t.rules if r.kind == "parent_exists"]
        for ref in parents:
            parent, _, column = ref.partition(".")
            assert parent in TABLES_BY_NAME, ref
            assert column in TABLES_BY_NAME[parent].column_names, ref
            if parent != t.name:
                assert pos[parent] < pos[t.name], f"{t.name} is imported before its parent {parent}"


def test_table_lookup() -> None:
    assert table("orders") is TABLES_BY_NAME["orders"]
    with pytest.raises(UserError, match="unknown table 'order'") as e:
        table("order")
    assert e.value.details["allowed"] == list(IMPORT_ORDER)


def test_column_lookup_and_ibis_schema() -> None:
    t = TABLES_BY_NAME["order_lines"]
    assert t.column("quantity").type == "decimal"
    with pytest.raises(KeyError):
        t.column("net_amount")
    assert t.ibis_schema() == {
        "order_id": "string",
        "line_no": "int64",
        "product_id": "string",
        "quantity": "float64",
        "unit_price": "float64",
        "discount": "float64",
    }


def test_system_tables_do_not_clash() -> None:
    for name, columns in SYSTEM_TABLES.items():
        assert name.startswith("_")
        assert name not in TABLES_BY_NAME
        assert columns
        assert set(columns.values()) <= set(STORAGE_TYPES.values())


# ---------------------------------------------------------------------------------------
# the comparison itself catches drift (edited copies of the spec)
# ---------------------------------------------------------------------------------------
def _edit(md: str, old: str, new: str) -> list[SpecTable]:
    assert md.count(old) == 1, old
    return parse_tables(md.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        # a column added to SCHEMA.md only
        ("| lost_reason | text | |", "| lost_reason | text | |\n| probability | decimal | |", "opportunities columns"),
        # a column dropped from SCHEMA.md only (= added to schema.py only)
        ("| industry | text | |\n", "", "customers columns"),
        # columns swapped
        (
            "| team | text | |\n| region | text | home region |",
            "| region | text | home region |\n| team | text | |",
            "reps columns",
        ),
        # a table renamed
        ("### cpi —", "### price_index —", "tables:"),
        ("| name | text, req | |\n| team", "| name | text | |\n| team", "reps.name: required"),
        (
            "| initiative_id | text, req, unique | |",
            "| initiative_id | text, req | |",
            "initiatives.initiative_id: unique",
        ),
        ("enum req: open, won, lost", "enum req: open, won, lost, stalled", "opportunities.status: values"),
        ("| hours | decimal, req, 0–24 |", "| hours | decimal, req, 0–12 |", "time_entries.hours: bounds"),
        ("| quantity | decimal, req, > 0 |", "| quantity | decimal, req, ≥ 0 |", "order_lines.quantity: bounds"),
        ("| launched_on | date |", "| launched_on | timestamp |", "products.launched_on: type"),
        ("| stage | text |", "| stage | enum: early, late |", "opportunities.stage: type"),
    ],
)
def test_drift_is_detected(md: str, old: str, new: str, complaint: str) -> None:
    found = differences(_edit(md, old, new), TABLES, CODE_COLUMNS)
    assert any(complaint in x for x in found), found


def test_a_new_code_column_is_detected(spec: list[SpecTable]) -> None:
    found = differences(spec, TABLES, (*CODE_COLUMNS, "stage"))
    assert found == ["opportunities.stage: type 'text', SCHEMA.md says 'code'"]


def test_an_unknown_annotation_is_not_ignored(md: str) -> None:
    with pytest.raises(AssertionError, match="unknown annotation 'indexed'"):
        _edit(md, "| rep_id | text, req, unique |", "| rep_id | text, req, unique, indexed |")
    with pytest.raises(AssertionError, match="unknown type 'string'"):
        _edit(md, "| team | text | |", "| team | string | |")
