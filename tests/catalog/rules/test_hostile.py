"""Hostile datalabs made at test time: each class of attack is refused by its rule, with
the file and line, and never with a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CASES, findings_for, rule_ids

MINIMAL = CASES / "valid" / "minimal"


def make(tmp_path: Path, name: str = "hostile") -> Path:
    """A copy of the minimal valid datalab, renamed `name`, to be made hostile."""
    folder = tmp_path / "datalabs" / name
    shutil.copytree(MINIMAL, folder)
    (folder / "expected.yaml").unlink(missing_ok=True)
    metadata = folder / "datalab.yaml"
    metadata.write_text(metadata.read_text().replace("id: minimal", f"id: {name}"))
    return folder


@pytest.mark.parametrize("tagged", [
    "keywords: !!set {a, b}", "keywords: [!!binary aGVsbG8=]", "updated: !!timestamp 2026-01-01",
    "keywords: !!omap [{a: 1}]", "keywords: !!pairs [{a: 1}]", "keywords: [!local thing]",
    "keywords: [!!python/object/apply:os.system [true]]",
])
def test_explicit_yaml_tags_are_refused_with_their_line(tmp_path, config, tagged):
    folder = make(tmp_path)
    metadata = folder / "datalab.yaml"
    lines = metadata.read_text().splitlines()
    lines = [line for line in lines if not line.startswith(tagged.split(":")[0] + ":")]
    lines.insert(3, tagged)
    metadata.write_text("\n".join(lines) + "\n")
    findings = findings_for(folder, config)
    assert rule_ids(findings) == ["DL-008"], [f.format() for f in findings]
    assert findings[0].line == 4 and "remove the tag" in findings[0].message
