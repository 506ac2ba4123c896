"""The docs are part of the product: every command, option, setting and KPI is documented."""

from __future__ import annotations

import dataclasses
import re

import pytest
import typer.main

from sanjeh.cli import app
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.settings import Settings
from tests.conftest import REPO

DOCS = REPO / "docs"


def _commands() -> list[tuple[str, typer.core.TyperCommand]]:
    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(cmd, "commands"):
            out += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


@pytest.mark.parametrize(("name", "cmd"), _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_and_option_is_in_the_cli_doc(name: str, cmd: typer.core.TyperCommand) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"sanjeh {name}" in text
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--workspace", "--help"):
                assert opt in text, f"{opt} of `sanjeh {name}` is not documented in docs/cli.md"


def test_every_kpi_and_measure_is_in_the_kpi_doc() -> None:
    text = (DOCS / "kpis.md").read_text(encoding="utf-8")
    for kpi in CATALOGUE:
        row = next((line for line in text.splitlines() if f"`{kpi.name}`" in line and line.startswith("|")), None)
        assert row, f"{kpi.name} is missing from docs/kpis.md"
        for m in kpi.visible_measures:
            assert re.search(rf"\b{m.name}\b", row), f"{kpi.name}.{m.name} is missing from docs/kpis.md"


def test_every_setting_is_in_the_settings_doc() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for f in dataclasses.fields(Settings):
        if f.name in ("root", "kpis"):
            continue
        assert f"`{f.name}`" in text, f"setting {f.name} is missing from docs/settings.md"


def test_readme_names_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_every_mapping_function_has_an_example_in_the_mapping_doc() -> None:
    from sanjeh.ingest.mapping import _FUNCS

    text = (DOCS / "mappings.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for name in _FUNCS:
        row = next((r for r in rows if f"`{name}(" in r.split("|")[1]), None)
        assert row, f"the mapping function {name}() has no row in docs/mappings.md"
        assert row.count("|") >= 4 and row.rstrip(" |").split("|")[-1].strip(), f"{name}() has no example"
