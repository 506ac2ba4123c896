"""load_mapping reads a mapping file without ever quoting it (issue 11): the CLI takes a path from
the operator, the web only names (tests/test_web_hardening.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanjeh.errors import MappingError
from sanjeh.ingest.mapping import MAX_MAPPING_BYTES, load_mapping, mapping_names, named_mapping

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
