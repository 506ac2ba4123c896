"""The tree keeps its layers: only ``warehouse.py`` names a backend (STYLE.md), and the import's
staging engine (DuckDB) lives behind one declared ingest module; no module reaches into the
engine's private parts."""

from __future__ import annotations

import ast
from pathlib import Path

from sanjeh.warehouse import quote_ident, quote_literal

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "sanjeh"
#: The modules allowed to import DuckDB: the warehouse, and the import's staging engine (its
#: docstring says so).
DUCKDB_MODULES = {"warehouse.py", "ingest/staging.py"}
#: The names of the warehouse's kinds; no module but warehouse.py compares anything with them.
KINDS = {"duckdb", "postgres", "pyspark"}
#: Compared with a source database's kind (``from: {database: postgresql://…}``), not the warehouse's.
SOURCE_KINDS = {"ingest/sources.py"}


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(SRC).as_posix(), ast.parse(p.read_text(), str(p))) for p in sorted(SRC.rglob("*.py"))]


def _all_modules() -> list[tuple[str, ast.Module]]:
    """The package's modules (relative to it), the tests' and the benchmarks' (relative to the root)."""
    others = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    return _modules() + [(p.relative_to(ROOT).as_posix(), ast.parse(p.read_text(), str(p))) for p in others]


def _names_kind(node: ast.expr) -> bool:
    """Is ``node`` a warehouse's ``kind``/``con.name`` (``wh.kind``, ``ws.warehouse.kind``, ``x.con.name``)?"""
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr == "name" and isinstance(node.value, ast.Attribute) and node.value.attr == "con":
        return True
    if node.attr != "kind":
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id in ("wh", "warehouse")) or (
        isinstance(owner, ast.Attribute) and owner.attr == "warehouse"
    )


def test_only_warehouse_and_the_staging_module_import_duckdb() -> None:
    found = []
    for rel, tree in _modules():
        if rel in DUCKDB_MODULES:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{rel}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == "duckdb"]
    assert not found, found
    staging = (SRC / "ingest" / "staging.py").read_text()
    assert "the one module outside ``warehouse.py`` that names DuckDB" in staging


def test_no_module_but_warehouse_branches_on_the_backend() -> None:
    found = []
    for rel, tree in _modules():
        if rel == "warehouse.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if any(_names_kind(s) for s in sides):
                found.append(f"{rel}:{node.lineno} compares the warehouse's kind")
            consts = {c.value for s in sides for c in ast.walk(s) if isinstance(c, ast.Constant)}
            if consts & KINDS and rel not in SOURCE_KINDS:
                found.append(f"{rel}:{node.lineno} compares with {sorted(consts & KINDS)}")
    assert not found, found


def test_the_quoting_helpers_quote_as_standard_sql() -> None:
    """One helper quotes every identifier and literal of SQL written as text; DuckDB and
    PostgreSQL read its quoting alike (docs/architecture.md "SQL as text")."""
    for text in ("plain", "it's", 'a"b', "a\\b", "line\nbreak", "تهران ۱۲", ""):
        assert quote_literal(text) == "'" + text.replace("'", "''") + "'"
        if text:
            assert quote_ident(text) == '"' + text.replace('"', '""') + '"'


def _engine_privates() -> set[str]:
    """The ``_…`` methods and attributes of ``Engine`` (kpis/engine.py)."""
    tree = ast.parse((SRC / "kpis" / "engine.py").read_text())
    engine = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine")
    names = {n.name for n in engine.body if isinstance(n, ast.FunctionDef)}
    names |= {
        n.attr
        for n in ast.walk(engine)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
    }
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_no_module_but_the_engine_uses_its_private_parts() -> None:
    """Modules outside kpis/engine.py use the engine's public API (``Engine.sources()`` for the
    tables its queries read, ``refresh_facts``, ``raw_targets``, …), never a ``_…`` method or
    attribute of it; an object's own ``self._…`` of the same name is its own."""
    private = _engine_privates()
    assert {"_kpis", "_ensure_facts", "_raw_targets"} <= private  # the rule sees the engine's parts
    found = []
    for rel, tree in _all_modules():
        if rel == "kpis/engine.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in private:
                continue
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{rel}:{node.lineno} uses the engine's {node.attr}")
    assert not found, found


#: What runs a query, or reaches the warehouse that would: no web module reads these attributes.
QUERY_ATTRS = {
    "warehouse", "con", "execute", "sql", "raw_sql", "query_arrow", "to_pyarrow", "to_pandas",
    "row_counts", "insert_arrow", "transaction", "sources",
}  # fmt: skip
#: ...nor imports these.
QUERY_MODULES = {"ibis", "duckdb", "sqlglot", "pyarrow", "pandas", "sanjeh.warehouse"}
#: The web modules that may, and why; every other one parses input, calls the engine (through
#: ``AppState`` or the workspace) and renders.
WEB_ALLOWED = {
    # create_app asks whether the warehouse serves one process (then a local token): no query
    "web/app.py": {"warehouse"},
    # fills the screenshots' demo workspace with its rows (a tool, not a page)
    "web/screenshots.py": {"warehouse", "insert_arrow", "transaction"},
}


def test_no_web_module_runs_a_query() -> None:
    """Pages and API routes build views from engine and workspace output (docs/architecture.md):
    none of them imports Ibis or reads the warehouse itself."""
    found = []
    for rel, tree in _modules():
        if not rel.startswith("web/"):
            continue
        allowed = WEB_ALLOWED.get(rel, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in QUERY_ATTRS - allowed:
                found.append(f"{rel}:{node.lineno} reads .{node.attr}")
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                f"{rel}:{node.lineno} imports {n}"
                for n in names
                if n in QUERY_MODULES or n.split(".")[0] in QUERY_MODULES
            ]
    assert not found, found
