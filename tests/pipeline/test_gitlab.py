"""The GitLab child pipeline, written from the one stage list (sciapps.pipeline.gitlab)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

import pytest

from sciapps.errors import SciAppsError
from sciapps.pipeline.gitlab import MAX_CHAINS, child_pipeline, shard
from sciapps.plan import Plan, Planned
from sciapps.trust import JOB_DEFAULT, JOB_VARIABLES, PREPARE_JOB
from tests.conftest import REPO


def test_the_child_pipeline_ends_with_the_review_or_the_publication():
    p = Plan("0" * 40, [Planned("gaia-dr3-hrd", "build", ("x",)), Planned("ds9-fits-viewer", "chart", ("y",))], trusted="1" * 40)
    n, c = shard("gaia-dr3-hrd"), shard("ds9-fits-viewer")
    review = child_pipeline(p, "review", target_branch="main")
    assert review["stages"][-1] == "review" and "needs" not in review["review"]  # after every chain, with all their results
    assert review["variables"]["SCIAPPS_MERGE_REQUEST"] == "true" and review["variables"]["BASE_REV"] == "0" * 40
    # every child job trusts what the parent's trusted: the target branch's head, and that branch
    assert review["variables"]["SCIAPPS_TRUSTED_REV"] == "1" * 40 and review["variables"]["SCIAPPS_TARGET_BRANCH"] == "main"
    assert '--trusted "$SCIAPPS_TRUSTED_REV"' in review["review"]["script"][0]
    for trusted, branch in (("HEAD", "main"), (None, "main"), ("1" * 40, "main; id"), ("1" * 40, "")):
        with pytest.raises(SciAppsError):
            child_pipeline(Plan("0" * 40, p.items, trusted=trusted), "review", target_branch=branch)
    assert not any(name.startswith("publish") for name in review) and "allow_failure" not in review[f"build {n}"]
    published = child_pipeline(p, "publish")
    push, publish = published[f"push {n}"], published[f"publish {n}"]
    assert push["needs"] == ["sciapps", *(f"{job} {n}" for job in ("build", "scan", "test", "chart"))]
    assert push["script"] == ["sciapps push gaia-dr3-hrd"] and "resource_group" not in push  # beside the other batches
    # the signing, one at a time per batch: a datalab is in the same batch in every pipeline
    assert publish["needs"] == ["sciapps", f"push {n}"] and publish["resource_group"] == f"sciapps-publish-{n}"
    assert publish["script"] == ["sciapps publish gaia-dr3-hrd ${SCIAPPS_ISSUES_TOKEN:+--notify}"]
    assert published["stages"] == ["sciapps", "build", "scan", "test", "chart", "push", "publish"]
    assert published[f"publish charts {c}"]["script"] == ["sciapps push ds9-fits-viewer --chart-only"]
    assert published[f"publish charts {c}"]["resource_group"] == f"sciapps-publish-{c}"
    # one datalab's findings do not stop the others of its batch: its publication names it
    assert all(
        published[f"{job} {n}"]["allow_failure"] == {"exit_codes": [1]}
        for job in ("build", "scan", "test", "chart", "push", "publish")
    )
    assert "SCIAPPS_MERGE_REQUEST" not in published["variables"] and "review" not in published
    checked = child_pipeline(p)
    assert checked["stages"] == ["sciapps", "build", "scan", "test", "chart"] and "review" not in checked


def test_a_datalab_is_in_the_same_batch_in_every_pipeline():
    ids = [f"lab-{i:04d}" for i in range(300)]
    alone = {i: shard(i) for i in ids}
    for some in (ids[:7], ids[100:], ids[::3]):
        child = child_pipeline(Plan("HEAD", [Planned(i, "build", ("x",)) for i in some]), "publish")
        for name, job in child.items():
            if name.startswith("build "):
                assert all(alone[i] == int(name.split()[1]) for i in job["script"][-1].split()[2:])
    assert set(alone.values()) == set(range(1, MAX_CHAINS + 1))


def test_an_operator_sets_the_chains_and_each_build_stages_where_the_bases_are_pinned():
    """`pipeline: chains:` spreads a plan over as many chains as the runners have job slots;
    with the bases pinned in the registry, each build stages its image there (staging/<id>
    on the protected branch, review/<id> for a merge request) for the later jobs."""
    from sciapps.config import parse_config

    config = parse_config("registry: 127.0.0.1:5000/sciapps\npipeline: {chains: 120}\n", REPO / "sciapps.yaml")
    assert config.chains == 120
    p = Plan("HEAD", [Planned(f"lab-{i:04d}", "build", ("x",)) for i in range(2000)])
    child = child_pipeline(p, "publish", pinned_bases='{"jl_base": {}}', chains=config.chains)
    builds = [name for name in child if name.startswith("build ")]
    assert len(builds) == 120 and len([n for n in child if isinstance(child[n], dict) and "script" in child[n]]) == 6 * 120 + 1
    assert all(child[name]["script"][-1].endswith("--stage-to staging") for name in builds)
    review = child_pipeline(Plan("HEAD", p.items[:3], trusted="a" * 40), "review", "7", "", "main", '{"x": {}}')
    assert all(review[n]["script"][-1].endswith("--stage-to review") for n in review if n.startswith("build "))
    unpinned = child_pipeline(p, "publish", chains=3)  # bases not in the registry: chains keep to one runner
    assert not any("--stage-to" in unpinned[n]["script"][-1] for n in unpinned if n.startswith("build "))


def test_the_child_pipeline_is_valid_gitlab_ci_and_batched(tmp_path):
    ids = [f"lab-{i:04d}" for i in range(2000)]
    p = Plan("HEAD", [Planned(i, "build", ("x",)) for i in ids] + [Planned("other", "chart", ("y",))])
    parent = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
    child = child_pipeline(p)
    builds = [name for name in child if name.startswith("build ")]
    assert len(builds) == MAX_CHAINS and child["scan 1"]["needs"] == ["sciapps", "build 1"]
    assert f"chart only {shard('other')}" in child
    # after the job that makes SciApps, with its artifact
    assert "needs" not in child["build 1"] and child["stages"][0] == "sciapps"
    assert child["sciapps"] == parent["sciapps"] == PREPARE_JOB  # the same job makes it in the parent and the child
    planned = [i for name in builds for i in child[name]["script"][-1].split()[2:]]
    assert sorted(planned) == ids  # every datalab once
    assert all(planned.index(a) < planned.index(b) for a, b in zip(planned, planned[1:]) if shard(a) == shard(b))
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


def test_a_merge_requests_child_ends_with_review_images_a_preview_and_the_review(tmp_path):
    p = Plan("HEAD", [Planned("lab-a", "build", ("x",)), Planned("lab-b", "build", ("x",))], trusted="1" * 40)
    child = child_pipeline(p, "review", "12", "https://previews.example.org", "main")
    assert child["stages"][-2:] == ["preview", "review"] and child["variables"]["SCIAPPS_MERGE_REQUEST_IID"] == "12"
    images = sorted(name for name in child if name.startswith("review image "))
    assert images == sorted({f"review image {shard('lab-a')}", f"review image {shard('lab-b')}"})
    for name in images:
        n = name.split()[-1]
        assert child[name]["needs"] == ["sciapps", *(f"{s} {n}" for s in ("build", "scan", "test", "chart"))]
        assert child[name]["script"][0].startswith("sciapps push --review ")
    assert child["preview"]["needs"] == ["sciapps", *images]
    assert "public-preview/" in child["preview"]["artifacts"]["paths"]
    pages = child["preview pages"]  # deployed by the previews' own Pages project, only where one is set
    assert pages["rules"] == [{"if": "$SCIAPPS_PREVIEWS_PROJECT"}] and pages["trigger"]["project"] == "$SCIAPPS_PREVIEWS_PROJECT"
    assert pages["environment"] == {
        "name": "preview/mr-12",
        "url": "https://previews.example.org/mr-12/",
        "auto_stop_in": "2 weeks",
    }
    assert "preview pages" not in child_pipeline(p, "review", "12", target_branch="main")  # no previews' origin: not deployed
    (tmp_path / "child.yml").write_text(yaml.safe_dump(child))
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.gitlab-ci", str(tmp_path / "child.yml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with pytest.raises(SciAppsError):
        child_pipeline(p, "review", "12; rm -rf /", target_branch="main")


def test_the_previews_projects_pipeline_is_valid_gitlab_ci():
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.gitlab-ci", str(REPO / "ci" / "previews.gitlab-ci.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = yaml.safe_load((REPO / "ci" / "previews.gitlab-ci.yml").read_text())["pages"]
    assert pages["pages"]["path_prefix"] == "mr-$PREVIEW_MERGE_REQUEST" and "expire_in" in pages["pages"]


def test_the_previews_pages_job_unpacks_only_the_preview_store(tmp_path):
    """The artifact is a merge request's: a path out of public-preview/, up the tree or
    absolute, is never written, and a store that claims more than 2 GB unpacked is refused."""
    import shlex
    import zipfile

    script = yaml.safe_load((REPO / "ci" / "previews.gitlab-ci.yml").read_text())["pages"]["script"]
    code = next(shlex.split(line)[2] for line in script if line.startswith("python3 -c"))

    def unpack(entries) -> subprocess.CompletedProcess:
        work = tmp_path / str(len(list(tmp_path.iterdir())))
        work.mkdir()
        with zipfile.ZipFile(work / "preview.zip", "w") as z:
            for name, data in entries:
                z.writestr(name, data)
        return subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=60)

    hostile = [
        ("public-preview/index.html", "ok"),
        ("public-preview/../../escaped.txt", "x"),
        ("/tmp/absolute-from-a-preview.txt", "x"),
        ("elsewhere/index.html", "x"),
        ("public-preview/a/../../up.txt", "x"),
    ]
    done = unpack(hostile)
    work = tmp_path / "0"
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    assert written == ["preview.zip", "public-preview/index.html"] and not Path("/tmp/absolute-from-a-preview.txt").exists()
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    empty = unpack([("elsewhere/index.html", "x")])
    assert empty.returncode == 1 and "no preview store in the artifact" in empty.stderr

    big = tmp_path / "big"
    big.mkdir()
    with zipfile.ZipFile(big / "preview.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for n in range(3):  # 3 x 1 GB of zeros: a few MB packed
            with z.open(f"public-preview/zeros-{n}", "w", force_zip64=True) as member:
                chunk = bytes(2**24)
                for _ in range(64):
                    member.write(chunk)
    refused = subprocess.run([sys.executable, "-c", code], cwd=big, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "larger than 2 GB unpacked" in refused.stderr
    assert not (big / "public-preview").exists()
