"""What feeds a canonical table: parts of staged files with a SQL expression per column."""

from __future__ import annotations

from dataclasses import dataclass, field

from sanjeh.ingest.read import StagedFile
from sanjeh.warehouse import quote_literal


@dataclass
class JoinCheck:
    """A file a mapping joins, and its key columns (name, staging column): a key that several of its
    rows share is warned of (the first row is taken)."""

    staged: StagedFile
    alias: str
    keys: list[tuple[str, str]]


@dataclass
class SourcePart:
    """Rows of one staged file (alias ``s``) that feed one table.

    ``columns`` maps a canonical column to SQL over ``s`` (and the ``joins``' aliases)
    giving raw text. ``where`` keeps only some rows for this table; ``rejects`` are
    (SQL condition, reason) pairs that reject a row with a mapping's own reason;
    ``distinct`` collapses rows with the same key into the first one (by line);
    ``uses`` lists the other staged files the ``joins`` read (so their staging can be
    freed once the last table reading them is checked). ``sources`` names, for a mapping's
    columns, the file columns each expression reads (name, SQL over ``s`` and the joins), so a
    reject shows the value as it stood in the file beside the value the mapping made of it;
    without it a column's SQL is its file column. ``may_fail`` lists the columns whose value may
    be a failure of the mapping (a date not in its format), and ``joined`` the joined files'
    keys, checked for keys several rows share.
    """

    staged: StagedFile
    columns: dict[str, str]
    joins: list[str] = field(default_factory=list)
    where: str | None = None
    rejects: list[tuple[str, str]] = field(default_factory=list)
    distinct: bool = False
    uses: list[StagedFile] = field(default_factory=list)
    sources: dict[str, list[tuple[str, str]]] | None = None
    #: columns whose SQL may give a failure (``date()``, :mod:`sanjeh.ingest.formats`): such a row is rejected
    may_fail: list[str] = field(default_factory=list)
    joined: list[JoinCheck] = field(default_factory=list)

    def source_text_sql(self, column: str) -> str | None:
        """SQL of the text the file holds for ``column``: its one file column, or a JSON object of the
        several it reads; None when the column is not read from the file (absent, or a constant)."""
        if self.sources is None:
            return self.columns.get(column)
        read = self.sources.get(column) or []
        if len(read) == 1:
            return read[0][1]
        if not read:
            return None
        args = ", ".join(f"{quote_literal(name)}, {sql}" for name, sql in read)
        return f"CAST(json_object({args}) AS VARCHAR)"
