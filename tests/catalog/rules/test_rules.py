"""Every example datalab in tests/datalabs/ fires exactly the rules its expected.yaml lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.schema import REFINEMENTS
from tests.conftest import CASES, findings_for, rule_ids

VALID = sorted(p for p in (CASES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())
# Cases built at test time: symlinks and huge files in tests/catalog/test_validate.py, hostile input in
# test_hostile.py, pictures named as pages in tests/site/test_build.py:
RUNTIME_CASES = {
    "DL-006",
    "DL-008",
    "DL-009",
    "DL-021",
    "DL-032",
    "DL-024",
    "DL-033",
    "DL-034",
    "DL-042",
    "DL-057",
    "DL-058",
    "DL-071",
}


def _expected(folder):
    return yaml.safe_load((folder / "expected.yaml").read_text())


@pytest.mark.parametrize("folder", VALID, ids=lambda p: p.name)
def test_valid_datalab_has_no_findings(folder, config):
    findings = findings_for(folder, config)
    assert [f.format() for f in findings] == []


@pytest.mark.parametrize("folder", INVALID, ids=lambda p: p.name)
def test_invalid_datalab_fires_exactly_expected_rules(folder, config):
    expected = _expected(folder)
    findings = findings_for(folder, config)
    assert rule_ids(findings) == sorted(expected["rules"]), [f.format() for f in findings]
    for want in expected.get("findings", []):
        matching = [f for f in findings if f.rule_id == want["rule"]]
        assert any(f.line == want.get("line", f.line) and f.path == want.get("path", f.path) for f in matching), (
            want,
            [f.format() for f in matching],
        )
    for finding in findings:
        where = Path(finding.file).absolute()
        assert where == folder or folder in where.parents, finding.file  # names a file of this datalab
        assert finding.message and finding.hint


def test_every_rule_has_a_case_that_fires_it():
    covered = set(RUNTIME_CASES)
    for folder in INVALID:
        covered.update(_expected(folder)["rules"])
    missing = {rule.id for rule in ALL_RULES} - covered - {"DL-010"}
    # DL-010 is the generic schema rule; it has its own cases too:
    assert any("DL-010" in _expected(f)["rules"] for f in INVALID)
    assert missing == set()


def test_rules_are_documented_and_ids_stable():
    for rule in ALL_RULES:
        assert re.fullmatch(r"DL-\d{3}", rule.id)
        assert rule.title() and not rule.title().endswith(".")
        assert len(rule.explanation()) > 40, f"{rule.id} needs an explanation"
        assert rule.hint or rule in REFINEMENTS or rule.__doc__, rule.id
    assert len({rule.name() for rule in ALL_RULES}) == len(ALL_RULES)


@pytest.mark.parametrize(
    "old,new,hint",
    [
        (
            "resources: {cpu: 1, memory_gb: 2, gpu: 0, storage_gb: 5}",
            "resources: {cpu: 1, memory_gb: lots}",
            "write a number without quotes, for example `memory_gb: 4`",
        ),
        ("name: Test datalab unknown-collection", "name: 1.5", "put the text in quotes"),
        ("keywords: [test]", "keywords: test", "write a list as `[a, b]`"),
    ],
)
def test_a_wrong_type_hint_says_how_to_write_the_kind_wanted(tmp_path, config, old, new, hint):
    import shutil

    folder = tmp_path / "unknown-collection"
    shutil.copytree(CASES / "invalid" / "unknown-collection", folder)
    text = (folder / "datalab.yaml").read_text()
    assert old in text
    (folder / "datalab.yaml").write_text(text.replace(old, new))
    wrong = [f for f in findings_for(folder, config) if f.rule_id == "DL-016"]
    assert wrong and hint in wrong[0].hint, [f.format() for f in findings_for(folder, config)]


@pytest.mark.parametrize(
    "name, cited",
    [
        ("Marta Lindqvist", ("Marta", "Lindqvist")),
        ("Lindqvist, Marta", ("Marta", "Lindqvist")),
        ("  Jorge   Ruiz  Alonso ", ("Jorge Ruiz", "Alonso")),
        ("van der Berg, Anna Maria", ("Anna Maria", "van der Berg")),
        ("Zoë Ødegård", ("Zoë", "Ødegård")),
        ("Madonna", None),
        ("Example, ", None),
        ("12345 67890", None),
        ("Ada\u202eLovelace Byron", None),
        ("A, B, C", None),
    ],
)
def test_a_cited_name_is_given_names_and_family_name(name, cited):
    from sciapps.catalog.rules.identity import cited_name

    assert cited_name(name) == cited
