"""The canonical tables of ``shared/spec/SCHEMA.md``, declared once.

Import (types, required columns, rules), the warehouse (table creation), the KPI
engine and the docs all read these declarations. ``tests/test_schema.py`` checks
them against SCHEMA.md itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "code", "enum", "timestamp", "date", "money", "decimal", "integer"]

#: Storage type of each column type (Ibis type strings, portable across backends).
STORAGE_TYPES: dict[str, str] = {
    "text": "string",
    "code": "string",
    "enum": "string",
    "timestamp": "timestamp",
    "date": "date",
    "money": "float64",
    "decimal": "float64",
    "integer": "int64",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    unique: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum
    min: float | None = None  # inclusive lower bound
    max: float | None = None  # inclusive upper bound
    min_exclusive: bool = False  # the lower bound itself is not allowed (> instead of >=)
    references: str | None = None  # "table.column": unknown values are warnings, not rejects
    note: str = ""

    @property
    def storage_type(self) -> str:
        return STORAGE_TYPES[self.type]


@dataclass(frozen=True)
class Rule:
    """A rule across columns. Kinds:

    - ``gte``: ``column >= other`` when both are set.
    - ``required_when``: ``column`` must be set when ``when_column`` is one of ``when_values``.
    - ``gte_when``: ``column >= other`` when ``when_column`` is one of ``when_values`` and both are set.
    - ``net_amount_nonneg``: ``quantity * unit_price - discount >= 0`` (order lines).
    - ``parent_exists``: ``column`` must exist in ``other`` (``table.column``), in this import or the warehouse.
    """

    kind: Literal["gte", "required_when", "gte_when", "net_amount_nonneg", "parent_exists"]
    column: str
    other: str = ""
    when_column: str = ""
    when_values: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # upsert key; unique within one import unless ``key_unique`` is False
    key_unique: bool = True
    rules: tuple[Rule, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def ibis_schema(self) -> dict[str, str]:
        return {c.name: c.storage_type for c in self.columns}

    @property
    def parents(self) -> tuple[tuple[str, str, str], ...]:
        """(column, parent table, parent column) of each parent this table's rows must have."""
        out = []
        for r in self.rules:
            if r.kind == "parent_exists":
                ptable, pcol = r.other.split(".", 1)
                out.append((r.column, ptable, pcol))
        return tuple(out)

    @property
    def replace_key(self) -> tuple[str, ...]:
        """The columns by which an import's rows replace stored ones: a child's rows are replaced per
        parent (all the lines of an order at once), other rows by their key."""
        return tuple(col for col, _, _ in self.parents) or self.key


def _c(name: str, type: ColumnType = "text", **kw: object) -> Column:  # noqa: A002
    return Column(name, type, **kw)  # type: ignore[arg-type]


TABLES: tuple[Table, ...] = (
    Table(
        "reps",
        "sales representatives",
        (
            _c("rep_id", required=True, unique=True),
            _c("name", required=True),
            _c("team"),
            _c("region", note="home region"),
            _c("manager_id", note="a rep_id"),
        ),
        key=("rep_id",),
    ),
    Table(
        "products",
        "products",
        (
            _c("product_id", required=True, unique=True),
            _c("name", required=True),
            _c("category", "code"),
            _c("list_price", "money"),
            _c("launched_on", "date"),
            _c("initiative_id", note="the new initiative this product belongs to"),
        ),
        key=("product_id",),
    ),
    Table(
        "initiatives",
        "new investments (new product lines, new markets, campaigns)",
        (
            _c("initiative_id", required=True, unique=True),
            _c("name", required=True),
            _c("started_on", "date", required=True),
            _c("investment", "money", required=True, min=0),
        ),
        key=("initiative_id",),
    ),
    Table(
        "customers",
        "accounts",
        (
            _c("customer_id", required=True, unique=True),
            _c("name", required=True),
            _c("region", note="province / country / sales region"),
            _c("segment", note="e.g. enterprise, smb"),
            _c("industry"),
            _c("created_on", "date"),
        ),
        key=("customer_id",),
    ),
    Table(
        "leads",
        "leads",
        (
            _c("lead_id", required=True, unique=True),
            _c("created_at", "timestamp", required=True, note="first contact"),
            _c("source", "code"),
            _c("rep_id", references="reps.rep_id", note="owner"),
            _c("customer_id", references="customers.customer_id"),
            _c("region", note="empty = the customer's region, else unknown"),
            _c("mql_at", "timestamp", note="became marketing-qualified; empty = never"),
            _c("sql_at", "timestamp", note="became sales-qualified; empty = never"),
            _c("disqualified_at", "timestamp"),
            _c("disqualify_reason"),
        ),
        key=("lead_id",),
        rules=(Rule("gte", "sql_at", other="mql_at", reason="sql_at is before mql_at"),),
    ),
    Table(
        "opportunities",
        "deals",
        (
            _c("opportunity_id", required=True, unique=True),
            _c("created_at", "timestamp", required=True),
            _c("lead_id", references="leads.lead_id"),
            _c("customer_id", references="customers.customer_id"),
            _c("rep_id", references="reps.rep_id", note="owner"),
            _c("source", "code", note="empty = the lead's source"),
            _c("contact_method", "code"),
            _c("product_id", references="products.product_id", note="main product"),
            _c("status", "enum", required=True, values=("open", "won", "lost")),
            _c("stage", note="free pipeline stage name"),
            _c("amount", "money", note="expected value; the closed value once won"),
            _c("closed_at", "timestamp"),
            _c("lost_reason"),
        ),
        key=("opportunity_id",),
        rules=(
            Rule(
                "required_when",
                "closed_at",
                when_column="status",
                when_values=("won", "lost"),
                reason="closed_at is required when status is won or lost",
            ),
            Rule(
                "gte_when",
                "closed_at",
                other="created_at",
                when_column="status",
                when_values=("won", "lost"),
                reason="closed_at is before created_at",
            ),
        ),
    ),
    Table(
        "orders",
        "orders",
        (
            _c("order_id", required=True, unique=True),
            _c("ordered_at", "timestamp", required=True),
            _c("customer_id", references="customers.customer_id"),
            _c("opportunity_id", references="opportunities.opportunity_id"),
            _c("rep_id", references="reps.rep_id"),
            _c("region", note="empty = the customer's region"),
            _c("contact_method", "code", note="empty = the opportunity's"),
            _c("status", "enum", required=True, values=("placed", "fulfilled", "cancelled")),
            _c("cancelled_at", "timestamp"),
            _c("cancel_reason", note="empty on a cancelled order = unspecified"),
        ),
        key=("order_id",),
    ),
    Table(
        "order_lines",
        "order lines",
        (
            _c("order_id", required=True),
            _c("line_no", "integer"),
            _c("product_id", required=True, references="products.product_id"),
            _c("quantity", "decimal", required=True, min=0, min_exclusive=True),
            _c("unit_price", "money", required=True, min=0),
            _c("discount", "money", min=0),
        ),
        key=("order_id", "line_no"),
        rules=(
            Rule("parent_exists", "order_id", other="orders.order_id", reason="its order is missing or was rejected"),
            Rule("net_amount_nonneg", "discount", reason="net amount (quantity × unit_price − discount) is negative"),
        ),
        defaults={"discount": "0"},
    ),
    Table(
        "activities",
        "calls, emails, meetings",
        (
            _c("activity_id", required=True, unique=True),
            _c("rep_id", required=True, references="reps.rep_id"),
            _c(
                "type",
                "enum",
                required=True,
                values=("call", "email", "meeting", "demo", "visit", "message", "other"),
            ),
            _c("occurred_at", "timestamp", required=True),
            _c("duration_min", "decimal"),
            _c("lead_id", references="leads.lead_id"),
            _c("opportunity_id", references="opportunities.opportunity_id"),
            _c("customer_id", references="customers.customer_id"),
            _c("outcome", "code"),
        ),
        key=("activity_id",),
    ),
    Table(
        "time_entries",
        "how reps spend their hours",
        (
            _c("rep_id", required=True, references="reps.rep_id"),
            _c("day", "date", required=True),
            _c("category", "code", required=True),
            _c("hours", "decimal", required=True, min=0, max=24),
        ),
        key=("rep_id", "day", "category"),
        key_unique=False,
    ),
    Table(
        "targets",
        "targets",
        (
            _c("kpi", required=True),
            _c("measure"),
            _c("period", required=True),
            _c("dimension"),
            _c("member"),
            _c("target", "decimal", required=True),
        ),
        key=("kpi", "measure", "period", "dimension", "member"),
    ),
    Table(
        "cpi",
        "price index for inflation-adjusted growth",
        (
            _c("month", required=True, unique=True),
            _c("index", "decimal", required=True, min=0, min_exclusive=True),
        ),
        key=("month",),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: Import order: parents before children, so references can be checked within one import.
IMPORT_ORDER: tuple[str, ...] = (
    "reps",
    "initiatives",
    "products",
    "customers",
    "leads",
    "opportunities",
    "orders",
    "order_lines",
    "activities",
    "time_entries",
    "targets",
    "cpi",
)

#: Columns holding codes (SCHEMA.md "Codes"): lower case, runs of spaces/-/_ -> one "_".
CODE_COLUMNS = ("status", "type", "source", "contact_method", "outcome", "category")


def children(parent: str) -> list[tuple[Table, str, str]]:
    """(child table, its column, the parent's column) of the tables whose rows must have a row of ``parent``."""
    return [(t, col, pcol) for t in TABLES for col, ptable, pcol in t.parents if ptable == parent]


def table(name: str) -> Table:
    from sanjeh.errors import UserError

    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise UserError(
            f"unknown table {name!r}; the tables are: {', '.join(IMPORT_ORDER)}",
            details={"table": name, "allowed": list(IMPORT_ORDER)},
        ) from None


#: Sanjeh's own tables in the warehouse (names start with ``_``; never imported into). A column added
#: here is added to the table of an existing workspace when it is next opened for writing.
SYSTEM_TABLES: dict[str, dict[str, str]] = {
    "_imports": {
        "import_id": "string",
        "started_at": "timestamp",
        "finished_at": "timestamp",
        "files": "string",  # JSON list
        "summary": "string",  # JSON {"tables": {...}}
    },
    "_rejects": {
        "import_id": "string",
        "table_name": "string",
        "file": "string",
        "line": "int64",
        "column_name": "string",
        "value": "string",  # as it stood in the file
        "mapped_value": "string",  # what a mapping made of it, where that differs
        "reason": "string",
        "row_json": "string",  # the whole raw row, so nothing read is lost
    },
    "_warnings": {
        "import_id": "string",
        "table_name": "string",
        "file": "string",
        "line": "int64",
        "column_name": "string",
        "value": "string",
        "reason": "string",
    },
    "_source_marks": {  # a database source's incremental mark (ingest/sources.py), one row per import
        "source": "string",
        "mark": "string",
        "import_id": "string",
    },
    "_users": {
        "username": "string",
        "role": "string",
        "rep_id": "string",
        "password_hash": "string",
        "language": "string",
        "created_at": "timestamp",
        "team": "string",  # a manager's team (reps.team, or its manager's rep id): they see its reps only
    },
    "_sessions": {  # browser logins and API tokens (sanjeh.users): logging out deletes the row
        "sid": "string",
        "username": "string",
        "kind": "string",
        "created_at": "timestamp",
        "expires_at": "timestamp",
    },
    "_runs": {  # the scheduler's run log (sanjeh/reports/runner.py); (job, planned) is unique: the lock
        "job": "string",
        "planned": "timestamp",  # UTC
        "period": "string",
        "started": "timestamp",
        "ended": "timestamp",
        "status": "string",  # running | ok | partial | failed
        "error": "string",
        "recipients": "string",
    },
    "_alerts": {  # alerts that fired (sanjeh/reports/alerts.py); (rule, period, seq) is unique: the lock
        "rule": "string",
        "kind": "string",
        "period": "string",  # a period label; an import's id (rejects); the last import's id (no_import)
        "seq": "int64",  # 1 for the first firing of the rule in the period, 2 after it cleared and fired again…
        "fired_at": "timestamp",  # UTC
        "cleared_at": "timestamp",  # UTC; null while it holds
        "value": "float64",
        "threshold": "float64",
        "message": "string",  # as sent, in the rule's language
        "texts": "string",  # JSON {"fa", "en"}: the message in each language, for the page
        "delivered": "string",  # per destination: "sent" or why not
    },
    "_schedules": {  # schedules saved on the page (sanjeh/reports/schedule.py): over sanjeh.toml's, by name
        "name": "string",
        "definition": "string",  # JSON; none: the toml's schedule of this name is deleted
        "changed_by": "string",
        "changed_at": "timestamp",  # UTC
    },
    "_target_changes": {  # the audit of the targets (sanjeh.targets): who changed what, when, old -> new
        "changed_at": "timestamp",
        "username": "string",
        "action": "string",  # add | change | delete
        "kpi": "string",
        "measure": "string",
        "period": "string",
        "dimension": "string",
        "member": "string",
        "old_target": "float64",
        "new_target": "float64",
        "via": "string",  # editor | api | copy | spread
    },
    "_forecasts": {  # the forecasts the dashboard showed (kpis/track.py): its track record
        "kpi": "string",
        "measure": "string",
        "period": "string",
        "scope": "string",  # whose rows: "*" everyone's, else the rep ids, comma-separated
        "made_on": "date",
        "value": "float64",  # where the period was forecast to land (the mean)
        "lo80": "float64",
        "hi80": "float64",
        "target": "float64",
        "chance": "float64",  # of reaching the target
        "model": "string",
        "mase": "float64",  # the model's backtest error
        "pace": "float64",  # where the pace said the period would land, the same day
    },
}
#: System tables' unique keys (a unique index each): two writers cannot both insert one key.
SYSTEM_UNIQUE: dict[str, tuple[str, ...]] = {
    "_runs": ("job", "planned"),
    "_alerts": ("rule", "period", "seq"),
    "_schedules": ("name",),
}
