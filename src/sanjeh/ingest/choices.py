"""A draft mapping made final by a person's choices: what the Data page's upload wizard needs.

The wizard (:mod:`sanjeh.web.wizard`) shows a file's first rows (:func:`preview`, read as an
import reads it) and the draft of :func:`sanjeh.ingest.suggest.suggest`: per canonical column of
each table the draft fills, a picker of the file's columns with the draft's line preselected
(:func:`preselected`); per value of an enum column a picker of the canonical values; the draft's
questions as choices. :func:`final_mapping` turns the choices back into a mapping (the YAML data
of docs/mappings.md); it reads any file given (``from: "*"``), so that, saved in the workspace, it
serves the next export of the same kind from the command line too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sanjeh.errors import MappingError
from sanjeh.ingest import staging
from sanjeh.ingest import synonyms as syn
from sanjeh.ingest.mapping import parse_mapping
from sanjeh.ingest.read import Reader
from sanjeh.ingest.suggest import Draft, Line
from sanjeh.schema import TABLES_BY_NAME, Column

#: Rows of the file shown; distinct values kept per column (the most frequent first).
PREVIEW_ROWS = 10
VALUES = 50
_PLAIN = re.compile(r"`([^`]+)`")


@dataclass
class Preview:
    """A file as the importer reads it: its columns, first rows, row count, and per column its most
    frequent non-empty values (trimmed; at most :data:`VALUES`, ``more`` when there are others)."""

    columns: list[str]
    rows: list[list[str | None]]
    total: int
    values: dict[str, list[str]] = field(default_factory=dict)
    more: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Preview:
        return Preview(**data)


def preview(path: Path, *, rows: int = PREVIEW_ROWS, sheet: str | None = None) -> Preview:
    """The first ``rows`` rows of a file, read as :func:`~sanjeh.ingest.run_import` reads it."""
    con = staging.connect()
    reader = Reader(con, sheet=sheet)
    try:
        sf = reader.stage(path)
        reader.load(sf)
        names = sf.sql_names
        if not names:
            return Preview([], [], 0)
        rel = sf.relation
        total = int(con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0])  # type: ignore[index]
        first = con.execute(f"SELECT {', '.join(names)} FROM {rel} ORDER BY __line LIMIT {int(rows)}").fetchall()
        out = Preview(list(sf.columns), [[None if v is None else str(v) for v in r] for r in first], total)
        for header, sql in zip(sf.columns, names, strict=True):
            found = con.execute(
                f"SELECT trim({sql}) AS v FROM {rel} WHERE nullif(trim({sql}), '') IS NOT NULL "
                f"GROUP BY v ORDER BY count(*) DESC, v LIMIT {VALUES + 1}"
            ).fetchall()
            out.values[header] = [str(r[0]) for r in found[:VALUES]]
            if len(found) > VALUES:
                out.more.append(header)
        return out
    finally:
        reader.close()
        con.close()


@dataclass(frozen=True)
class Choice:
    """What fills one canonical column: a file ``column`` read as it is (an enum column's values
    placed by ``values``: file value -> canonical value), or the draft's own line (``suggested``:
    an expression, a fixed value, or a question and its ``answer``, the index of a choice)."""

    column: str | None = None
    suggested: bool = False
    answer: int | None = None
    values: Mapping[str, str] = field(default_factory=dict)


def plain_column(line: Line | None) -> str | None:
    """The file column a draft's line reads as it is (```h``` or ``{column: h, map: ...}``), else None."""
    if line is None:
        return None
    spec = line.spec
    if isinstance(spec, str):
        m = _PLAIN.fullmatch(spec)
        return m.group(1) if m else None
    if isinstance(spec, dict) and "column" in spec:
        return str(spec["column"])
    return None


def preselected(line: Line | None) -> Choice:
    """What a canonical column's picker shows first: the draft's line (none: not imported)."""
    if line is None:
        return Choice()
    header = plain_column(line)
    if header is not None:
        vmap = line.spec.get("map") if isinstance(line.spec, dict) else None
        return Choice(column=header, values={str(k): str(v) for k, v in (vmap or {}).items()})
    return Choice(suggested=True)


def enum_values(table: str, column: str) -> tuple[str, ...]:
    """The canonical values of an enum column (empty for any other column)."""
    col = TABLES_BY_NAME[table].column(column)
    return col.values if col.type == "enum" else ()


def placed(table: str, column: str, value: str) -> str | None:
    """The canonical value a file value of an enum column means: itself when it is one, else the
    word lists' (:data:`~sanjeh.ingest.synonyms.STATUS_WORDS`), else None (kept as written)."""
    allowed = enum_values(table, column)
    if value.strip().lower() in allowed:
        return value.strip().lower()
    words = syn.STATUS_WORDS.get(table) if column == "status" else None
    hit = syn.place(value, words) if words else None
    return hit if hit in allowed else None


def final_mapping(
    draft: Draft,
    choices: Mapping[tuple[str, str], Choice],
    headers: list[str],
    *,
    name: str,
    description: str = "",
) -> dict[str, Any]:
    """The mapping (YAML data) that the ``choices`` make of the draft: per table of the draft, each
    canonical column from its choice (``(table, column)`` -> :class:`Choice`; a column without one
    is not imported). ``headers`` are the file's columns. Checked as a mapping file is; a choice
    that names no column of the file, a value no enum has, a question left unanswered or a required
    column left out is a :class:`~sanjeh.errors.MappingError` with its own message."""
    tables = []
    unanswered: list[str] = []
    for td in draft.tables:
        table = TABLES_BY_NAME[td.table]
        lines = {ln.column: ln for ln in td.lines}
        columns: dict[str, Any] = {}
        for col in table.columns:
            choice = choices.get((td.table, col.name))
            if choice is None:
                continue
            if choice.column is not None:
                columns[col.name] = _read_as_is(td.table, col, choice, headers)
            elif choice.suggested:
                line = lines.get(col.name)
                if line is None:
                    raise MappingError(
                        key="wizard.no_suggestion",
                        params={"column": f"{td.table}.{col.name}"},
                        details={"table": td.table, "column": col.name},
                    )
                spec = line.spec
                if isinstance(spec, dict) and "ask" in spec:
                    options = list((spec.get("choices") or {}).values())
                    if choice.answer is None or not 0 <= choice.answer < len(options):
                        unanswered.append(str(spec["ask"]))
                        continue
                    spec = options[choice.answer]
                columns[col.name] = spec
        if unanswered:
            continue
        missing = [c for c in table.required if c not in columns and c not in table.defaults]
        if missing:
            raise MappingError(
                key="wizard.required",
                params={"table": td.table, "columns": missing},
                details={"table": td.table, "columns": missing},
            )
        out: dict[str, Any] = {"table": td.table, "from": "*"}
        where = td.where
        key = choices.get((td.table, table.key[0]))
        if where is not None and key is not None and key.column is not None:
            where = f"not empty(`{key.column}`)"  # rows without the key the person chose are no rows
        if where is not None:
            out["where"] = where
        if td.distinct:
            out["distinct"] = True
        out["columns"] = columns
        tables.append(out)
    if unanswered:
        raise MappingError(key="wizard.unanswered", params={"questions": unanswered}, details={"questions": unanswered})
    data: dict[str, Any] = {"name": name}
    if description:
        data["description"] = description
    if draft.currency:
        data["currency"] = draft.currency
    data["tables"] = tables
    parse_mapping(data, origin=name)
    return data


def _read_as_is(table: str, col: Column, choice: Choice, headers: list[str]) -> Any:
    header = choice.column
    if header not in headers:
        shown = str(header)[:80]
        raise MappingError(
            key="wizard.unknown_column",
            params={"column": shown, "headers": headers},
            details={"column": shown, "headers": headers},
        )
    allowed = enum_values(table, col.name)
    vmap: dict[str, str] = {}
    for value, canonical in choice.values.items():
        if not canonical:
            continue  # kept as written
        if canonical not in allowed:
            raise MappingError(
                key="wizard.not_a_value",
                params={"value": canonical[:80], "column": f"{table}.{col.name}", "allowed": list(allowed)},
                details={"value": canonical[:80], "allowed": list(allowed)},
            )
        if canonical != value.strip().lower():
            vmap[value] = canonical
    return {"column": header, "map": vmap} if vmap else f"`{header}`"


def mapping_yaml(data: dict[str, Any], note: str) -> str:
    """A mapping's YAML text, under a comment line ``note``."""
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    return f"# {note}\n{body}"
