"""The pre-commit hook this repository offers runs the same validation, for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CASES, REPO


def test_hook_definition():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "sciapps-validate"
    assert hook["entry"] == "sciapps validate" and hook["language"] == "python"
    assert hook["files"] == "^datalabs/"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_runs_the_hook(tmp_path):
    pre_commit = Path(sys.executable).with_name("pre-commit")
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    catalog = tmp_path / "catalog"
    good = catalog / "datalabs" / "good-one"
    shutil.copytree(CASES / "valid" / "minimal", good)
    (good / "datalab.yaml").write_text((good / "datalab.yaml").read_text().replace("id: minimal", "id: good-one"))
    (good / "expected.yaml").unlink()
    _git(catalog, "init", "-q")
    _git(catalog, "add", "-A")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }

    def hook():
        return subprocess.run(
            [str(pre_commit), "try-repo", str(REPO), "sciapps-validate", "--all-files"],
            cwd=catalog,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    passing = hook()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    (good / "datalab.yaml").write_text((good / "datalab.yaml").read_text().replace("license: MIT", "license: MIT licence"))
    _git(catalog, "add", "-A")
    failing = hook()
    assert failing.returncode == 1
    assert "DL-022 unknown_license" in failing.stdout
