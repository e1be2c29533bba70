"""The typed ledger of a chain (`sciapps.ledger`): where the build staged its image, checked
field by field; the one rule of "checked" that the publication, `sciapps push` and the
moderation report share; one read per job, which names unreadable files."""

from __future__ import annotations

import json

import pytest

from sciapps import ledger
from sciapps.ledger import Check, Staged, staging_repository, why_unchecked
from sciapps.results import record

DIGEST = "sha256:" + "a" * 64
REGISTRY = "registry.example.org:5000/sciapps"


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "registry.example.org/sciapps/staging/x@" + DIGEST,
        {"repository": "registry.example.org/sciapps/staging/x"},  # no digest
        {"repository": "registry.example.org/sciapps/staging/x", "digest": "sha256:" + "A" * 64},
        {"repository": "registry.example.org/sciapps/staging/x", "digest": "sha256:abc"},
        {"repository": "registry.example.org/../../x", "digest": DIGEST},
        {"repository": "registry.example.org/Staging/X", "digest": DIGEST},  # not a repository name
        {"repository": "registry.example.org/sciapps/staging/x\n", "digest": DIGEST},
        {"repository": "registry.example.org/sciapps/staging/x", "digest": DIGEST, "image_id": 7},
        {"repository": "r" * 500 + ".org/x", "digest": DIGEST},
    ],
)
def test_a_staged_record_that_is_not_one_is_none(data):
    assert Staged.of(data) is None


def test_a_staged_record_is_read_back_and_kept_to_the_catalogs_registry():
    staged = Staged.of({"repository": f"{REGISTRY}/staging/gaia-dr3-hrd", "digest": DIGEST, "image_id": None})
    assert staged == Staged(f"{REGISTRY}/staging/gaia-dr3-hrd", DIGEST, None)
    assert staged.pinned == f"{REGISTRY}/staging/gaia-dr3-hrd@{DIGEST}" and Staged.of(staged.as_dict()) == staged
    assert staged.within(REGISTRY) and staged.within(REGISTRY + "/")
    assert not staged.within("registry.example.org:5000/sciapps-other") and not staged.within("elsewhere.org/sciapps")
    assert staging_repository(REGISTRY + "/", "review", "x") == f"{REGISTRY}/review/x"
    with pytest.raises(ValueError):
        staging_repository(REGISTRY, "releases", "x")


def _check(stage: str, status: str = "passed", version: str = "1.0.0") -> Check:
    return Check(stage, status, f"{stage} {status}", version, {})


def test_the_one_rule_of_checked():
    required = ("build", "scan", "test", "chart")
    passed = {s: _check(s) for s in required}
    assert why_unchecked(passed, required, "1.0.0") is None
    assert why_unchecked(passed, (), "1.0.0") == "no check is required: refusing to publish what nothing checked"
    assert why_unchecked({**passed, "test": _check("test", "failed")}, required, "1.0.0") == "its test did not pass: test failed"
    # skipped is not passed, for any stage (a chart skipped for want of an image is not a check)
    assert why_unchecked({**passed, "chart": _check("chart", "skipped")}, required, "1.0.0").startswith("its chart did not pass")
    assert why_unchecked({**passed, "scan": _check("scan", version="0.9.0")}, required, "1.0.0") == (
        "the scan result is of version 0.9.0, not 1.0.0"
    )
    missing = dict(passed)
    del missing["scan"]
    assert why_unchecked(missing, required, "1.0.0", "x") == "no scan result: run `sciapps scan x` in this pipeline first"
    # the same rule over result dicts as stages write them
    raw = {s: {"stage": s, "status": "passed", "summary": "", "datalab_version": "1.0.0"} for s in required}
    assert why_unchecked(raw, required, "1.0.0") is None and why_unchecked(raw, required, None) is None


def test_one_read_of_a_chain_types_it_and_names_what_it_cannot_read(tmp_path):
    results = tmp_path / "results"
    staged = {"repository": f"{REGISTRY}/staging/lab", "digest": DIGEST, "image_id": "sha256:" + "b" * 64}
    record(results, "lab", "build", "passed", "built", "1.0.0", {"ref": f"{REGISTRY}/lab:1.0.0-abc", "staged": staged})
    record(results, "lab", "chart", "passed", "charted", "1.0.0", {"package": "lab-1.0.0.tgz", "sha256": "c" * 64})
    chain = ledger.read(results, "lab")
    assert chain.built == ledger.Built(f"{REGISTRY}/lab:1.0.0-abc", None, Staged.of(staged))
    assert chain.chart_package == ledger.ChartPackage("lab-1.0.0.tgz", "c" * 64) and chain.problems == ()
    assert chain.why_unchecked(("build", "test"), "1.0.0") == "no test result: run `sciapps test lab` in this pipeline first"
    assert ledger.read(results, "../etc").checks == {} and ledger.read(None, "lab").built is None

    # a staged record out of the schema's shape: the build's result is a problem, named, and nothing is pulled
    path = results / "lab" / "build.json"
    data = json.loads(path.read_text())
    data["details"]["staged"]["repository"] = "registry.example.org/../../etc"
    path.write_text(json.dumps(data))
    chain = ledger.read(results, "lab")
    assert chain.built is None and "build" not in chain.checks
    assert chain.problems and chain.problems[0].startswith(f"{path}:")
    assert chain.why_unchecked(("build",), "1.0.0") == chain.problems[0]
    path.write_text("{not json")
    assert "not readable JSON" in ledger.read(results, "lab").problems[0]
