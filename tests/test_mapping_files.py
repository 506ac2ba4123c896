"""load_mapping reads a mapping file without ever quoting it (issue 11): the CLI takes a path from
the operator, the web only names (tests/test_web_hardening.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanjeh.cli import main
from sanjeh.errors import Conflict, MappingError
from sanjeh.ingest.mapping import MAX_MAPPING_BYTES, load_mapping, mapping_names, named_mapping, save_mapping
from sanjeh.workspace import Workspace

SECRET = "SECRET-91c2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"root: {SECRET}\nother: 1\n".encode(), "is not a Sanjeh mapping"),
        (f"{SECRET}\n".encode(), "is not a Sanjeh mapping"),
        (f"tables:\n  - table: reps\n   {SECRET}: [\n".encode(), "is not valid YAML (line 3, column 4)"),
        (f"tables: [{SECRET}\n".encode(), "is not valid YAML (line 2, column 1)"),
        (b"\x7fELF\x00\x00" + SECRET.encode(), "is a binary file"),
        (SECRET.encode("utf-16"), "is a binary file"),
        (b"tables: \xff\xfe " + SECRET.encode(), "is not UTF-8 text"),
        (b"tables:\n" + b"#" * MAX_MAPPING_BYTES, "larger than 1 MB"),
        (b"[" * 5000 + b"]" * 5000, "not valid YAML"),
    ],
)
def test_no_error_quotes_the_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    with pytest.raises(MappingError) as err:
        load_mapping(str(path))
    assert expected in err.value.message
    assert SECRET not in err.value.message
    assert "\n" not in err.value.message


def test_a_folder_or_a_device_is_no_mapping(tmp_path: Path) -> None:
    for ref in (str(tmp_path), "/dev/zero", str(tmp_path / "missing.yaml")):
        with pytest.raises(MappingError, match="no mapping"):
            load_mapping(ref)


def test_names_are_names_never_paths(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "mine.yaml").write_text("tables: []\n", encoding="utf-8")
    (root / "mappings" / "Bad Name.yaml").write_text("tables: []\n", encoding="utf-8")
    assert "mine" in mapping_names(root)
    assert "maven-crm" in mapping_names(root)
    assert "Bad Name" not in mapping_names(root)
    assert named_mapping("mine", root) == root / "mappings" / "mine.yaml"
    assert named_mapping("maven-crm", root).name == "maven-crm.yaml"
    for ref in ("../mappings/mine", "/etc/passwd", "mine.yaml", "Bad Name", "", "x" * 65, "maven-crm/../x"):
        with pytest.raises(MappingError, match="no mapping named"):
            named_mapping(ref, root)


STAFF = (
    "name: staff\ntables:\n  - table: reps\n    from: '*'\n    columns:\n      rep_id: '`کد`'\n      name: '`نام`'\n"
)


def test_a_mapping_saved_in_the_workspace_serves_the_command_line_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The upload wizard saves mappings in the workspace's mappings/ folder; `sanjeh import --mapping
    NAME` finds them there (the workspace's own before a shipped one, a file of that name before both)."""
    root = tmp_path / "ws"
    Workspace.init(root, language="en").close()
    src = tmp_path / "in" / "staff export.csv"
    src.parent.mkdir()
    src.write_text("کد,نام\nR1,Sara\nR2,Ali\n", encoding="utf-8")
    assert save_mapping(root, "staff", STAFF) == root / "mappings" / "staff.yaml"
    assert "staff" in mapping_names(root)
    for name, message in (
        ("Staff", "'Staff' is not a mapping name"),
        ("../staff", "is not a mapping name"),
        ("staff.yaml", "is not a mapping name"),
        ("", "is not a mapping name"),
        ("maven-crm", "maven-crm is a mapping shipped with Sanjeh"),
    ):
        with pytest.raises(MappingError, match=message):
            save_mapping(root, name, STAFF)
    with pytest.raises(Conflict, match="a mapping named staff is saved already"):
        save_mapping(root, "staff", STAFF)
    save_mapping(root, "staff", STAFF.replace("'`نام`'", "\"concat(`نام`, '!')\""), replace=True)
    assert sorted(p.name for p in (root / "mappings").iterdir()) == ["staff.yaml"]  # no temp file left
    code = main(["import", str(src), "--mapping", "staff", "-w", str(root), "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["tables"] == {"reps": {"read": 2, "accepted": 2, "rejected": 0}}
    with Workspace.open(root) as ws:
        assert ws.warehouse.fetch("SELECT name FROM reps ORDER BY rep_id") == [("Sara!",), ("Ali!",)]
    code = main(["import", str(src), "--mapping", "stuff", "-w", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "not a shipped mapping" in err and "nor one saved in the workspace" in err
