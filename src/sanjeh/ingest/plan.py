"""What feeds a canonical table: parts of staged files with a SQL expression per column."""

from __future__ import annotations

from dataclasses import dataclass, field

from sanjeh.ingest.read import StagedFile


@dataclass
class SourcePart:
    """Rows of one staged file (alias ``s``) that feed one table.

    ``columns`` maps a canonical column to SQL over ``s`` (and the ``joins``' aliases)
    giving raw text. ``where`` keeps only some rows for this table; ``rejects`` are
    (SQL condition, reason) pairs that reject a row with a mapping's own reason;
    ``distinct`` collapses rows with the same key into the first one (by line);
    ``uses`` lists the other staged files the ``joins`` read (so their staging can be
    freed once the last table reading them is checked).
    """

    staged: StagedFile
    columns: dict[str, str]
    joins: list[str] = field(default_factory=list)
    where: str | None = None
    rejects: list[tuple[str, str]] = field(default_factory=list)
    distinct: bool = False
    uses: list[StagedFile] = field(default_factory=list)
