"""The GitLab child pipeline, written from the one stage list (sciapps.pipeline.gitlab)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from sciapps.pipeline.gitlab import MAX_CHAINS, child_pipeline
from sciapps.plan import Plan, Planned
from sciapps.trust import JOB_DEFAULT, JOB_VARIABLES, PREPARE_JOB
from tests.conftest import REPO


def test_the_child_pipeline_ends_with_the_review_or_the_publication():
    p = Plan("0" * 40, [Planned("gaia-dr3-hrd", "build", ("x",)), Planned("ds9-fits-viewer", "chart", ("y",))])
    review = child_pipeline(p, "review")
    assert review["stages"][-1] == "review" and "needs" not in review["review"]  # after every chain, with all their results
    assert review["variables"]["SCIAPPS_MERGE_REQUEST"] == "true" and review["variables"]["BASE_REV"] == "0" * 40
    assert not any(name.startswith("publish") for name in review) and "allow_failure" not in review["build 1"]
    published = child_pipeline(p, "publish")
    assert (
        published["push 1"]["needs"] == ["sciapps", "build 1", "scan 1", "test 1", "chart 1"]
        and "resource_group" not in published["push 1"]
    )
    assert published["push 1"]["script"] == ["sciapps push gaia-dr3-hrd"]
    assert (
        published["publish 1"]["needs"] == ["sciapps", "push 1"] and published["publish 1"]["resource_group"] == "sciapps-publish"
    )
    assert published["publish 1"]["script"] == ["sciapps publish gaia-dr3-hrd ${SCIAPPS_ISSUES_TOKEN:+--notify}"]
    assert published["stages"] == ["sciapps", "build", "scan", "test", "chart", "push", "publish"]
    assert published["publish charts 1"]["script"] == ["sciapps push ds9-fits-viewer --chart-only"]
    # one datalab's findings do not stop the others of its batch: its publication names it
    assert all(
        published[f"{job} 1"]["allow_failure"] == {"exit_codes": [1]}
        for job in ("build", "scan", "test", "chart", "push", "publish")
    )
    assert "SCIAPPS_MERGE_REQUEST" not in published["variables"] and "review" not in published
    checked = child_pipeline(p)
    assert checked["stages"] == ["sciapps", "build", "scan", "test", "chart"] and "review" not in checked


def test_the_child_pipeline_is_valid_gitlab_ci_and_batched(tmp_path):
    ids = [f"lab-{i:04d}" for i in range(2000)]
    p = Plan("HEAD", [Planned(i, "build", ("x",)) for i in ids] + [Planned("other", "chart", ("y",))])
    parent = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
    child = child_pipeline(p)
    builds = [name for name in child if name.startswith("build ")]
    assert len(builds) == MAX_CHAINS and child["scan 1"]["needs"] == ["sciapps", "build 1"] and "chart only 1" in child
    assert (
        "needs" not in child["build 1"] and child["stages"][0] == "sciapps"
    )  # after the job that makes SciApps, with its artifact
    assert child["sciapps"] == parent["sciapps"] == PREPARE_JOB  # the same job makes it in the parent and the child
    planned = [i for name in builds for i in child[name]["script"][-1].split()[2:]]
    assert planned == ids  # every datalab once, in order
    # the parent's job setup, from SciApps itself, never from a pipeline file in the checkout
    assert child["default"] == parent["default"] == JOB_DEFAULT and parent["variables"].items() >= JOB_VARIABLES.items()
    (tmp_path / "child.yml").write_text(yaml.safe_dump(child))
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.gitlab-ci", str(tmp_path / "child.yml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    empty = child_pipeline(Plan("HEAD"))
    assert [k for k in empty if k != "stages"] == ["nothing to do"]
