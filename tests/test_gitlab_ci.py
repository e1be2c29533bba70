"""The pipeline itself: checked against GitLab's CI schema, and run end to end with
gitlab-ci-local on a throwaway repository, once as a merge request and once on the
default branch (skipped without gitlab-ci-local or Docker on a laptop; CI installs both)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, _needs

MIRROR = REPO / "tests" / "scanning" / "osv"


def test_gitlab_ci_matches_gitlabs_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run([str(checker), "--builtin-schema", "vendor.gitlab-ci", str(REPO / ".gitlab-ci.yml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=CI test", "-c", "user.email=ci@example.org", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def throwaway(tmp_path, registry, approved):
    """A copy of this repository with a merge request's worth of change on top."""
    if shutil.which("gitlab-ci-local") is None or shutil.which("rsync") is None:
        _needs("gitlab-ci-local and rsync", "npm install -g gitlab-ci-local@4.55.0; apt-get install rsync")
    root = tmp_path / "catalog"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target, follow_symlinks=False) if not (REPO / name).is_symlink() else target.symlink_to((REPO / name).readlink())
    (root / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", root / "build" / "base-images.json")
    config = root / "sciapps.yaml"
    config.write_text(config.read_text().replace("registry: 127.0.0.1:5000/sciapps", f"registry: {registry}/sciapps"))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "catalog")
    base = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "-b", "ds9-summary")  # the merge request's branch
    metadata = root / "datalabs" / "ds9-fits-viewer" / "datalab.yaml"
    metadata.write_text(metadata.read_text().replace("version: 1.0.0\n", "version: 1.0.1\n", 1).replace(
        "changelog:\n", 'changelog:\n  - version: 1.0.1\n    date: "2026-11-25"\n    changes: [Clearer summary]\n', 1))
    _git(root, "commit", "-qam", "ds9-fits-viewer 1.0.1")
    return root, base


def run_pipeline(root: Path, *variables: str, succeeds: bool = True) -> str:
    # --shell-isolation: each job in its own copy of the repository, as on GitLab
    args = ["gitlab-ci-local", "--shell-isolation", "--variable", f"OSV_MIRROR={MIRROR}"]
    for variable in variables:
        args += ["--variable", variable]
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1800)
    output = proc.stdout + proc.stderr
    assert (proc.returncode == 0) is succeeds, output[-6000:]
    return output


def passed_jobs(output: str) -> set[str]:
    return set(re.findall(r"^ PASS  (\S+)", output, re.MULTILINE))


def test_merge_request_pipeline(throwaway):
    """A merge request changes a datalab, and also tries to judge itself: it makes its author
    a moderator and changes SciApps' code. Every job runs the target branch's SciApps with
    the target's rules; the datalab passes every stage, and the review fails the merge
    request for changing the rules without a moderator."""
    from tests.review.fake_gitlab import FakeGitLab, Server

    root, base = throwaway
    roles = root / "roles.yaml"
    roles.write_text(roles.read_text().replace("moderators: [cbenedetti, mlindqvist]", "moderators: [cbenedetti, mlindqvist, aokonkwo]"))
    init = root / "tools" / "sciapps" / "__init__.py"
    init.write_text(init.read_text() + "\nprint('THE MERGE REQUEST CODE RAN')\n")
    _git(root, "commit", "-qam", "make me a moderator")
    gitlab = Server(FakeGitLab(open_merge_request=True))  # merge request !7, opened by aokonkwo
    try:
        output = run_pipeline(root, "CI_PIPELINE_SOURCE=merge_request_event", f"CI_MERGE_REQUEST_DIFF_BASE_SHA={base}",
                              "GITLAB_USER_LOGIN=mlindqvist", f"CI_API_V4_URL={gitlab.url}/api/v4", "CI_PROJECT_ID=42",
                              "CI_MERGE_REQUEST_IID=7", "SCIAPPS_REVIEW_TOKEN=glpat-test", succeeds=False)
    finally:
        gitlab.close()
    assert passed_jobs(output) == {"validate", "build", "scan", "test", "chart"}
    assert re.search(r"^ FAIL  review", output, re.MULTILINE)
    assert "datalabs to build:ds9-fits-viewer" in output and "THE MERGE REQUEST CODE RAN" not in output
    review = (root / ".gitlab-ci-local" / "artifacts" / "review" / "review.md").read_text()
    assert "author: `aokonkwo`" in review  # GitLab's answer, not the pipeline's runner (mlindqvist)
    assert "## `ds9-fits-viewer`: changed" in review and "`version`: `1.0.0` → `1.0.1`" in review and "Role checks: passed" in review
    listed = re.findall(r"^- `([^`]+)` \((\w)\)$", review.split("## Repository files", 1)[1].split("Role checks", 1)[0], re.MULTILINE)
    assert listed == [("roles.yaml", "M"), ("tools/sciapps/__init__.py", "M")]  # nothing the jobs wrote themselves
    assert "only a moderator may change these files; `aokonkwo` is not one" in review
    for stage in ("build", "scan", "test", "chart"):
        assert re.search(rf"\| {stage} \| passed \|", review), review


def _bump(root: Path, datalab: str, version: str) -> None:
    """Raise a datalab's version, with its changelog entry: one merged change."""
    metadata = root / "datalabs" / datalab / "datalab.yaml"
    text = metadata.read_text()
    old = re.search(r"^version: (\S+)$", text, re.MULTILINE)
    text = text.replace(old[0], f"version: {version}", 1).replace(
        "changelog:\n", f'changelog:\n  - version: {version}\n    date: "2026-11-25"\n    changes: [Release {version}]\n', 1)
    metadata.write_text(text)
    _git(root, "commit", "-qam", f"{datalab} {version}")


def _api(root: Path, datalab: str) -> dict:
    return json.loads((root / ".gitlab-ci-local" / "artifacts" / "pages" / "public" / "api" / "datalabs" / f"{datalab}.json").read_text())


def test_default_branch_pipelines_leave_a_store_of_every_release(throwaway, registry, tmp_path):
    """Three default-branch pipelines, as an operator sees them: the first publishes
    xmm-epic-spectrum-fit 2.0.2, the second ds9-fits-viewer 1.0.1, the third xmm 2.0.3.
    The pages job gets no artifact: it reads the release records from the registry. After
    the third, both datalabs show their checks, xmm lists both versions with their own
    digests, and `sciapps verify` passes for each."""
    from sciapps.releases import signing

    root, _ = throwaway
    _git(root, "checkout", "-q", "main")
    signing.generate(tmp_path / "private" / "release.key", root / "keys" / "release.pub")
    _git(root, "add", "keys/release.pub")
    _git(root, "commit", "-qm", "the catalog's public key")
    key = f"{signing.SIGNING_KEY_VARIABLE}={tmp_path / 'private' / 'release.key'}"
    for datalab, version in (("xmm-epic-spectrum-fit", "2.0.2"), ("ds9-fits-viewer", "1.0.1"), ("xmm-epic-spectrum-fit", "2.0.3")):
        _bump(root, datalab, version)
        output = run_pipeline(root, "CI_COMMIT_REF_PROTECTED=true", key)
        assert passed_jobs(output) == {"validate", "build", "scan", "test", "chart", "push", "pages"}, output[-3000:]
        assert f"{datalab}: published {version} build 1" in output
        after = _api(root, datalab)
        assert after["release"]["version"] == version and after["release"]["verified"], after["release"]
    xmm, ds9 = _api(root, "xmm-epic-spectrum-fit"), _api(root, "ds9-fits-viewer")
    for e in (xmm, ds9):
        assert {stage: c["status"] for stage, c in e["ci"].items()} == dict.fromkeys(("build", "scan", "test", "chart"), "passed")
    assert [(v["version"], v["verified"]) for v in xmm["versions"]] == [("2.0.3", True), ("2.0.2", True)]
    assert xmm["versions"][0]["digest"] != xmm["versions"][1]["digest"]
    assert [(v["version"], v["verified"]) for v in ds9["versions"]] == [("1.0.1", True)]
    page = (root / ".gitlab-ci-local" / "artifacts" / "pages" / "public" / "datalabs" / "ds9-fits-viewer" / "index.html").read_text()
    assert "<strong>verified</strong>" in page and "not published yet" not in page
    for spec in ("xmm-epic-spectrum-fit@2.0.2", "xmm-epic-spectrum-fit@2.0.3", "ds9-fits-viewer"):
        proc = subprocess.run([sys.executable, "-m", "sciapps", "verify", spec], cwd=root, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with urllib.request.urlopen(f"http://{registry}/v2/charts/xmm-epic-spectrum-fit/tags/list", timeout=10) as response:
        tags = json.load(response)["tags"]
    # every version's tag, and each build's chart kept under its image tag too (nothing left untagged)
    assert {"2.0.2", "2.0.3"} <= set(tags) and {t.split("-")[0] for t in tags if "-" in t} == {"2.0.2", "2.0.3"}


def test_sciapps_ci_reproduces_the_pipeline_locally(throwaway):
    root, base = throwaway
    proc = subprocess.run(
        [sys.executable, "-m", "sciapps", "ci", "--base", base, "--author", "aokonkwo", "--osv-mirror", str(MIRROR)],
        cwd=root, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for stage in ("validate", "build", "scan", "test", "chart", "review"):
        assert f"== {stage}: sciapps" in proc.stdout
    assert "== all stages passed" in proc.stdout
    assert "Role checks: passed" in (root / "build" / "review.md").read_text()
