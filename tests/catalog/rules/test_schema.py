"""The compiled fast path (jsonschema-rs) and the explaining validator (jsonschema) agree."""

from __future__ import annotations

import pytest

from sciapps import yamlio
from sciapps.catalog.rules.schema import _validators
from tests.conftest import CASES, REPO


def _load(path):
    try:
        data = yamlio.load(path.read_text(encoding="utf-8"))
    except (yamlio.YamlProblem, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


# Documents that reach the schema (the others stop at a loading rule).
DOCUMENTS = sorted(p for p in [*CASES.glob("*/*/datalab.yaml"), *(REPO / "datalabs").glob("*/datalab.yaml")] if _load(p))


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.parent.name)
def test_fast_and_full_validators_agree(path):
    document = _load(path)
    fast, full = _validators()
    assert fast.is_valid(document) == full.is_valid(document)


def test_corner_cases_agree():
    fast, full = _validators()
    base = _load(CASES / "valid" / "full" / "datalab.yaml")
    for patch in (
        {"version": "1.0.0-rc.1+build.5"},
        {"version": "01.0.0"},
        {"summary": "line one\rline two"},
        {"id": "a" * 64},
        {"id": "-leading"},
        {"entry": "notebooks/x.IPYNB"},
        {"resources": {"cpu": 16.0, "gpu": 1.0}},
        {"maintainers": [{"name": "Ab", "email": "a@b.c", "username": "x", "orcid": "0000-0002-1825-009X"}]},
        {"links": {"doi": "10.1000/xyz 1"}},
    ):
        document = {**base, **patch}
        assert fast.is_valid(document) == full.is_valid(document), patch


@pytest.mark.parametrize(
    "written, hint",
    [
        ("xmm", "did you mean `xmm-newton`?"),  # a part of one mission's id
        ("XMM Newton", "did you mean `xmm-newton`?"),  # its name
        ("newton", "did you mean `xmm-newton`?"),
        ("gaai", "did you mean `gaia`?"),  # a typo
        ("express", "did you mean one of `mars-express`, `venus-express`?"),  # a part of two: both
        ("pluto", "use one of: bepicolombo, "),
    ],
)
def test_an_unknown_mission_gets_the_mission_it_likely_means(tmp_path, config, written, hint):
    import shutil

    from tests.conftest import findings_for

    folder = tmp_path / "unknown-mission"
    shutil.copytree(CASES / "invalid" / "unknown-mission", folder)
    (folder / "expected.yaml").unlink()
    meta = folder / "datalab.yaml"
    meta.write_text(meta.read_text().replace("missions: [gaia, XMM Newton]", f"missions: [gaia, {written}]"))
    (finding,) = [f for f in findings_for(folder, config) if f.rule_id == "DL-014"]
    assert finding.message == f"unknown mission {written!r}" and finding.hint.startswith(hint)
