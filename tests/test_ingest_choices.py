"""A draft mapping made final by choices (sanjeh/ingest/choices.py): what the upload wizard posts,
as a mapping the importer reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.errors import MappingError
from sanjeh.ingest import run_import
from sanjeh.ingest.choices import Choice, final_mapping, mapping_yaml, preselected, preview
from sanjeh.ingest.suggest import suggest
from sanjeh.workspace import Workspace

DEALS = (
    "شناسه,نام مشتری,کد مشتری,وضعیت,تاریخ ایجاد,تاریخ بسته شدن,مبلغ (ریال)\n"
    "D1,آرمان,C1,موفق,1403/01/05,1403/02/01,1000\n"
    "D2,نوین,,در انتظار تایید,1403/01/06,,2000\n"
    "D3,آرمان,C1,ناموفق,1403/01/07,1403/02/03,3000\n"
)


def test_choices_make_a_mapping_the_importer_reads(tmp_path: Path, workspace: Workspace) -> None:
    src = tmp_path / "in" / "deals.csv"
    src.parent.mkdir()
    src.write_text(DEALS, encoding="utf-8")
    sample = preview(src)
    assert (sample.columns[0], sample.rows[1][3], sample.total) == ("شناسه", "در انتظار تایید", 3)
    assert sample.values["وضعیت"][:1] and set(sample.values["وضعیت"]) == {"موفق", "در انتظار تایید", "ناموفق"}
    draft = suggest([src], lang="en")
    choices = {(t.table, ln.column): preselected(ln) for t in draft.tables for ln in t.lines}
    assert choices[("opportunities", "status")] == Choice(column="وضعیت", values={"موفق": "won", "ناموفق": "lost"})
    # the person keys customers by their name (one has no code), and places the unplaced status
    assert choices[("customers", "customer_id")] == Choice(column="کد مشتری")
    choices[("customers", "customer_id")] = Choice(column="نام مشتری")
    choices[("opportunities", "customer_id")] = Choice(column="نام مشتری")
    status = choices[("opportunities", "status")]
    choices[("opportunities", "status")] = Choice(column="وضعیت", values={**status.values, "در انتظار تایید": "open"})
    data = final_mapping(draft, choices, sample.columns, name="deals")
    customers = next(t for t in data["tables"] if t["table"] == "customers")
    assert customers["where"] == "not empty(`نام مشتری`)" and customers["from"] == "*"
    path = tmp_path / "deals.yaml"
    path.write_text(mapping_yaml(data, "a test"), encoding="utf-8")
    s = run_import(workspace.warehouse, workspace.import_options(), [src], mapping=path)
    assert s.tables["opportunities"].to_dict() == {"read": 3, "accepted": 3, "rejected": 0}
    got = workspace.warehouse.fetch("SELECT opportunity_id, customer_id, status FROM opportunities ORDER BY 1")
    assert got == [("D1", "آرمان", "won"), ("D2", "نوین", "open"), ("D3", "آرمان", "lost")]
    assert workspace.warehouse.fetch("SELECT count(*) FROM customers") == [(2,)]
    # what the form cannot say: a column the file lacks, a value no status has, a required column left out
    for table_column, choice, message in (
        (
            ("opportunities", "amount"),
            Choice(column="مبلغ"),
            "the file has no column «.مبلغ.»",
        ),  # Persian isolated in English
        (("opportunities", "status"), Choice(column="وضعیت", values={"موفق": "yes"}), "«yes» is not a value"),
        (("opportunities", "opportunity_id"), Choice(), "opportunities needs a column of the file for"),
        (("opportunities", "lost_reason"), Choice(suggested=True), "there is no suggestion for"),
    ):
        with pytest.raises(MappingError, match=message):
            final_mapping(draft, {**choices, table_column: choice}, sample.columns, name="deals")
