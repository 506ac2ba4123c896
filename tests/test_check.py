"""Every declaration checked up front, every issue at once (sanjeh/check.py, ``sanjeh check``)."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path

import ibis
import pytest

from sanjeh.check import catalogue_problems, check, check_mapping, declarations, kpi_problems
from sanjeh.cli import main
from sanjeh.errors import InvalidDeclarations, SettingsError
from sanjeh.i18n import catalogue
from sanjeh.ingest.mapping import SHIPPED, shipped_path
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.kpis.model import Spotlight, View
from sanjeh.kpis.sources import COHORTS, Sources
from sanjeh.settings import Settings
from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests.test_web_support import PASSWORD, serve

SRC = Path(__file__).resolve().parent.parent / "src" / "sanjeh"

#: One workspace KPI file with five different mistakes, each marked with what it is.
FIVE_MISTAKES = """[workspace]
language = "en"

[[kpis]]
name = "deal_value"
cohort = "opportunities_closed"
dimensions = ["rep", "city"]          # 1: a dimension the cohort does not have
direction = "sideways"                # 2: neither up nor down
headline = "value"
[[kpis.measures]]
name = "value"
kind = "sum"
column = "amout"                      # 3: a column the cohort does not have
[[kpis.measures]]
name = "rate"
kind = "ratio"                        # 4: a ratio without its numerator
den = "value"
[[kpis.measures]]
name = "typical"
kind = "median"                       # 5: not a kind
column = "amount"
"""


def _line(text: str, marker: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


def _folder(tmp_path: Path, settings: str, mappings: dict[str, str] | None = None) -> Path:
    """A workspace's declarations (``sanjeh check`` reads files only: no warehouse is needed)."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "sanjeh.toml").write_text(settings, encoding="utf-8")
    for name, text in (mappings or {}).items():
        (root / "mappings").mkdir(exist_ok=True)
        (root / "mappings" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def test_sanjeh_check_lists_the_five_mistakes_of_one_file_with_their_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _folder(tmp_path, FIVE_MISTAKES)
    code = main(["check", "-w", str(root), "--format", "json"])
    issues = json.loads(capsys.readouterr().out)
    assert code == 2
    found = {(i["line"], i["key"]) for i in issues}
    assert found == {
        (_line(FIVE_MISTAKES, "# 1:"), "check.dimension"),
        (_line(FIVE_MISTAKES, "# 2:"), "check.direction"),
        (_line(FIVE_MISTAKES, "# 3:"), "check.column"),
        (_line(FIVE_MISTAKES, "# 4:"), "check.parts"),
        (_line(FIVE_MISTAKES, "# 5:"), "check.kind"),
    }
    assert all(i["level"] == "error" and i["file"] == "sanjeh.toml" for i in issues)
    said = " | ".join(i["text"]["en"] for i in issues)
    for words in ("no dimension 'city'", "up or down, not 'sideways'", "no column 'amout'", "needs 'num'", "'median'"):
        assert words in said

    # the table: every issue at its file:line, and exit 2 with one sentence
    code = main(["check", "-w", str(root)])
    out, err = capsys.readouterr()
    assert code == 2 and "5 error(s)" in err
    for marker in ("# 1:", "# 2:", "# 3:", "# 4:", "# 5:"):
        assert f"sanjeh.toml:{_line(FIVE_MISTAKES, marker)} " in out

    # in Persian: the words and the line numbers in the user's language
    (root / "sanjeh.toml").write_text(FIVE_MISTAKES.replace('language = "en"', 'language = "fa"'), encoding="utf-8")
    code = main(["check", "-w", str(root)])
    out, err = capsys.readouterr()
    assert code == 2 and "۵ خطا" in err
    assert "sanjeh.toml:۱۳" in out and "«amout»" in out and "شاخص" in out


def test_the_workspace_refuses_to_open_with_every_error_listed(workspace: Workspace) -> None:
    root = workspace.root
    workspace.close()
    settings = (root / "sanjeh.toml").read_text(encoding="utf-8")
    (root / "sanjeh.toml").write_text(settings + FIVE_MISTAKES.split("\n\n", 1)[1], encoding="utf-8")
    with pytest.raises(InvalidDeclarations) as caught:
        Workspace.open(root)
    exc = caught.value
    assert exc.status == 422 and exc.exit_code == 2 and len(exc.issues) == 5
    assert "5 error(s)" in exc.message and "no column 'amout'" in exc.message
    assert [i["line"] for i in exc.details["issues"]] == sorted(i["line"] for i in exc.details["issues"])
    assert "۵ خطا" in exc.text("fa")


BROKEN_QUERIES = """
[[kpis]]
name = "bad_sum"
cohort = "revenue_lines"
[[kpis.measures]]
name = "total"
kind = "sum"
column = "net_amout"
[[kpis]]
name = "bad_ratio"
cohort = "revenue_lines"
[[kpis.measures]]
name = "rate"
kind = "ratio"
den = "lines"
[[kpis.measures]]
name = "lines"
kind = "count"
"""


def test_a_sum_of_a_missing_column_or_a_ratio_without_numerator_is_a_4xx_never_a_500(workspace: Workspace) -> None:
    """Both passed the catalogue and failed at query time as a raw IbisTypeError (a 500 in the API)."""
    file = workspace.root / "sanjeh.toml"
    data = Settings.load(workspace.root)
    file.write_text(file.read_text(encoding="utf-8") + BROKEN_QUERIES, encoding="utf-8")
    with pytest.raises(InvalidDeclarations, match=r"(?s)no column 'net_amout'.*ratio needs 'num'"):
        Workspace.open(workspace.root)
    # a workspace built without Workspace.open (settings given in code) still never reaches a query
    add_user(workspace, "admin", "admin", None, password=PASSWORD)
    raw = {"workspace": {"secret": data.secret}, "kpis": tomllib.loads(BROKEN_QUERIES)["kpis"]}
    ws = Workspace(Settings.from_dict(workspace.root, raw), workspace.warehouse, workspace.clock)
    with serve(ws) as served, served.api("admin") as api:
        for name in ("bad_sum", "bad_ratio"):
            r = api.get(f"/api/v1/kpis/{name}", params={"period": "1403-Q1"})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] == "invalid_settings"
        assert "net_amout" in api.get("/api/v1/kpis/bad_sum", params={"period": "1403-Q1"}).text


def test_settings_mistakes_are_all_listed_and_an_unknown_table_is_only_a_warning(tmp_path: Path) -> None:
    text = """[workspace]
language = "en"
calendar = "persian"
timezone = "Tehran/Azadi"
colour = "blue"
company = 42
goals = ["more_customers", "world_peace"]

[reminders]
when = "always"
"""
    issues = check(declarations(_folder(tmp_path, text)))
    got = {(i.line, i.key, i.level) for i in issues}
    assert got == {
        (3, "settings.calendar", "error"),
        (4, "settings.timezone", "error"),
        (5, "settings.unknown", "error"),
        (6, "settings.type", "error"),
        (7, "settings.goals", "error"),
        (9, "settings.section", "warning"),
    }
    assert next(i for i in issues if i.key == "settings.type").text("en") == "'company' in [workspace] must be text"


def test_warnings_do_not_stop_the_open(workspace: Workspace) -> None:
    root = workspace.root
    workspace.close()
    file = root / "sanjeh.toml"
    file.write_text(
        file.read_text(encoding="utf-8")
        + '\n[[kpis]]\nname = "revenue"\ncohort = "activities"\n[[kpis.measures]]\nname = "n"\nkind = "count"\n'
        + 'column = "rep"\n',
        encoding="utf-8",
    )
    issues = check(declarations(root))
    assert {(i.key, i.level) for i in issues} == {("check.replaces", "warning"), ("check.count_column", "warning")}
    ws = Workspace.open(root)  # opens: warnings never block
    ws.close()


def test_schedules_are_checked_by_the_schedulers_own_parser_and_name_known_kpis(tmp_path: Path) -> None:
    text = """[workspace]
language = "en"

[[schedules]]
name = "weekly"
cron = "0 25 * * 6"
to = [{kind = "webhook", url = "https://example.com/hook"}]

[[schedules]]
name = "weekly"
cron = "0 8 * * 6"
kpis = ["revenue", "profit"]
to = [{kind = "webhook", url = "https://example.com/hook"}]
"""
    issues = check(declarations(_folder(tmp_path, text)))
    assert {(i.line, i.key) for i in issues} == {
        (6, "schedule.cron"),
        (12, "query.unknown_kpi"),
        (10, "check.duplicate_schedule"),
    }
    unknown = next(i for i in issues if i.key == "query.unknown_kpi")
    assert "unknown KPI 'profit'" in unknown.text("en")


def test_the_built_in_catalogue_has_no_problems_and_the_rules_see_what_it_declares() -> None:
    assert catalogue_problems() == []
    # the same rules catch a card, a view, a column or a goal that names what is not there
    revenue = next(k for k in CATALOGUE if k.name == "revenue")
    broken = dataclasses.replace(
        revenue,
        card=dataclasses.replace(revenue.card, spotlights=(Spotlight("top", "city", measure="profit"),)),
        view=View(grain="fortnight", by=("colour",)),
        measures=(*revenue.measures[:-1], dataclasses.replace(revenue.measures[-1], column="customer")),
    )
    keys = {p.key for p in kpi_problems(broken)}
    assert keys == {"check.card_dim", "check.unknown_measure", "check.grain", "check.view_dim", "check.column"}
    assert [p.key for p in catalogue_problems(CATALOGUE, {"more_customers": ("new_customer",)})] == ["check.goal_kpi"]
    # a chart that draws measures the KPI does not have (web/charts.py would draw nothing)
    funnel = kpi_problems(dataclasses.replace(revenue, view=View(chart="funnel")))
    assert {(p.key, p.params["given"]) for p in funnel} == {("check.unknown_measure", m) for m in ("mqls", "sqls")}


def test_every_cohorts_declared_columns_are_the_columns_it_is_built_with(workspace: Workspace) -> None:
    src = Sources(workspace.warehouse)  # live, from the canonical tables
    for name, cohort in COHORTS.items():
        schema = src.cohort(name).schema()
        built = set(schema.names) | ({"real_amount"} if name == "revenue_lines" else set())
        assert set(cohort.columns) == built, name
        assert set(cohort.dims) <= built, name
        for column in cohort.numbers:
            if column != "real_amount":
                assert schema[column].is_numeric(), (name, column)
        assert {c for c in schema.names if schema[c].is_numeric()} <= set(cohort.numbers), name
    lines = src.cohort("revenue_lines").mutate(jm=ibis.literal("1403-01"), gm=ibis.literal("2024-03"))
    assert src.with_real_amount(lines).schema()["real_amount"].is_numeric()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_mapping_has_no_issues(name: str) -> None:
    path = shipped_path(name)
    assert path is not None
    assert check_mapping(path, name) == []


def test_a_mapping_the_upload_wizard_saves_has_no_issues(tmp_path: Path) -> None:
    from sanjeh.ingest.choices import final_mapping, mapping_yaml, preselected, preview
    from sanjeh.ingest.mapping import save_mapping
    from sanjeh.ingest.suggest import suggest
    from tests.test_ingest_choices import DEALS

    src = tmp_path / "deals.csv"
    src.write_text(DEALS, encoding="utf-8")
    draft = suggest([src], lang="en")
    choices = {(t.table, ln.column): preselected(ln) for t in draft.tables for ln in t.lines}
    data = final_mapping(draft, choices, preview(src).columns, name="deals")
    root = _folder(tmp_path, '[workspace]\nlanguage = "en"\n')
    save_mapping(root, "deals", mapping_yaml(data, "a test"))
    found = declarations(root)
    assert [p.name for p in found.mappings] == ["deals.yaml"] and check(found) == []


def test_a_mappings_mistakes_are_all_listed_with_their_lines(tmp_path: Path) -> None:
    mapping = """name: crm
tables:
  - table: orders
    from: orders.csv
    colour: red
    columns:
      order_id: id
      ordered_at: date(created, '%d.%m.%Y')
      status: {expr: upcase(state), map: {done: fulfilled}}
      shipped_to: city
      customer_id: concat(a, b
  - table: invoices
    from: invoices.csv
"""
    root = _folder(tmp_path, '[workspace]\nlanguage = "en"\n', {"crm": mapping})
    issues = check(declarations(root))
    got = {(i.file, i.line, i.key) for i in issues}
    assert got == {
        ("mappings/crm.yaml", 5, "check.mapping_key"),
        ("mappings/crm.yaml", 9, "check.mapping_function"),
        ("mappings/crm.yaml", 10, "check.mapping_column"),
        ("mappings/crm.yaml", 11, "check.mapping_expression"),
        ("mappings/crm.yaml", 12, "check.mapping_table"),
    }
    assert "unknown function 'upcase'" in next(i for i in issues if i.line == 9).text("en")
    # mappings are read by an import, not at every open: a broken one does not lock the workspace
    assert check(declarations(root, mappings=False)) == []
    # once its own rules pass, whatever else the importer refuses is said too
    draft = "tables:\n  - table: reps\n    from: [1, 2]\n    columns: {rep_id: id, name: who}\n"
    (root / "mappings" / "crm.yaml").write_text(draft, encoding="utf-8")
    assert [i.key for i in check(declarations(root))] == ["check.mapping"]


def test_a_kpi_declared_inline_is_placed_at_the_line_of_its_measures(tmp_path: Path) -> None:
    text = """[workspace]
language = "en"

[[kpis]]
name = "calls"
cohort = "activities"
measures = [{name = "n", kind = "count"}, {name = "r", kind = "ratio", num = "n", den = "x"}]
"""
    (issue,) = check(declarations(_folder(tmp_path, text)))
    assert (issue.line, issue.key) == (7, "check.reference")


def test_every_message_the_validator_names_is_in_both_languages() -> None:
    fa, en = catalogue("fa"), catalogue("en")
    names: set[str] = set()
    for module in ("check.py", "settings.py", "kpis/model.py"):
        text = (SRC / module).read_text(encoding="utf-8")
        names |= set(re.findall(r'"((?:check|settings|schedule)\.[a-z_]+)"', text))
    assert len(names) > 50
    for key in names:
        assert f"error.{key}" in en and f"error.{key}" in fa, key
        assert re.search("[\u0600-\u06ff]", fa[f"error.{key}"]), key


def test_declarations_find_lines_only_when_an_issue_needs_one(tmp_path: Path) -> None:
    root = _folder(tmp_path, '[workspace]\nlanguage = "en"\n')
    d = declarations(root)
    assert check(d) == [] and "lines" not in vars(d)  # nothing to place: the file was not scanned


def test_a_settings_error_raised_alone_keeps_its_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict(tmp_path, {"workspace": {"calendar": "persian"}})
    assert caught.value.key == "settings.calendar"


def test_every_alert_mistake_is_listed_with_its_line(tmp_path: Path) -> None:
    text = """[workspace]
language = "en"

[[alerts]]
name = "slow"
kind = "below"
kpi = "revenu"
threshold = 5
to = ["boss@example.com"]

[[alerts]]
name = "slow"
kind = "below"
kpi = "revenue"
threshold = 5
to = ["boss@example.com"]

[[alerts]]
name = "empty"
kind = "above"
kpi = "revenue"
threshold = 5
"""
    issues = check(declarations(_folder(tmp_path, text)))
    assert [(i.line, i.key) for i in issues] == [(4, "alert.invalid"), (12, "alert.invalid"), (18, "alert.invalid")]
    assert all(i.level == "error" for i in issues)
