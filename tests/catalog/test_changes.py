"""Which datalabs a change touches, as Git sees the catalog (no Docker needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sciapps.catalog.changes import changed_datalabs
from tests.conftest import CASES, REPO

IMAGES = CASES / "images"


def copy(tmp_path: Path, case: str) -> Path:
    target = tmp_path / "datalabs" / case
    shutil.copytree(IMAGES / case, target)
    return target


def test_changed_datalabs_from_git(tmp_path):
    import git

    repo = git.Repo.init(tmp_path)
    for case in ("tiny-lab", "tiny-desktop"):
        copy(tmp_path, case)
    repo.index.add(["datalabs"])
    repo.index.commit("catalog", author=git.Actor("t", "t@t"), committer=git.Actor("t", "t@t"))
    assert changed_datalabs(tmp_path, "HEAD") == []
    (tmp_path / "datalabs" / "tiny-desktop" / "new.txt").write_text("x")
    assert changed_datalabs(tmp_path, "HEAD") == ["tiny-desktop"]
    from sciapps.errors import SciAppsError

    with pytest.raises(SciAppsError, match="cannot compare"):
        changed_datalabs(tmp_path, "no-such-rev")


def test_changed_sees_every_folder_name_and_prints_only_ids(tmp_path):
    """Names Git would quote are seen; a name that is not an id never reaches a shell."""
    import git

    from sciapps.cli import cli

    repo = git.Repo.init(tmp_path)
    copy(tmp_path, "tiny-lab")
    (tmp_path / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text())
    repo.git.add(A=True)
    repo.index.commit("catalog", author=git.Actor("t", "t@t"), committer=git.Actor("t", "t@t"))
    for name in ("gaïa-dr3", "--push", "tiny lab; rm -rf ~"):
        shutil.copytree(IMAGES / "tiny-desktop", tmp_path / "datalabs" / name)
    (tmp_path / "datalabs" / "tiny-lab" / "new.txt").write_text("x")
    assert changed_datalabs(tmp_path, "HEAD") == sorted(["--push", "gaïa-dr3", "tiny lab; rm -rf ~", "tiny-lab"])
    result = CliRunner().invoke(cli, ["changed", "--base", "HEAD", "--config", str(tmp_path / "sciapps.yaml")])
    assert result.exit_code == 0 and result.stdout.split() == ["tiny-lab"]
    assert result.stderr.count("is not a datalab id") == 3
