"""SciApps for a pipeline's jobs (sciapps.runtime and the jobs' setup, trust.PREPARE and
trust.SETUP): the wheels are locked by hash, and a commit cannot bring its own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile

import pytest

from sciapps.runtime import INSTALLER, INSTALLER_WHEEL, REQUIREMENTS, RUNTIME, LockError, lock, main
from sciapps.trust import SETUP
from tests.gitrepo import git


def _wheel(folder, name: str) -> bytes:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.txt", name)
    return path.read_bytes()


def test_the_wheels_are_locked_by_hash_and_uv_stands_apart(tmp_path):
    house, out = tmp_path / "wheels", tmp_path / "out"
    house.mkdir()
    click = _wheel(house, "click-8.1.7-py3-none-any.whl")
    sciapps = _wheel(house, "sciapps-0.1.0-py3-none-any.whl")
    uv = _wheel(house, "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    lines = lock(house, out)
    assert lines == [
        f"click==8.1.7 --hash=sha256:{hashlib.sha256(click).hexdigest()}",
        f"sciapps==0.1.0 --hash=sha256:{hashlib.sha256(sciapps).hexdigest()}",
    ]
    assert (out / REQUIREMENTS).read_text() == "\n".join(lines) + "\n"
    assert (out / INSTALLER_WHEEL).read_bytes() == uv
    assert (out / INSTALLER).read_text() == f"{hashlib.sha256(uv).hexdigest()}  {INSTALLER_WHEEL}\n"
    assert sorted(p.name for p in (out / "wheels").iterdir()) == [
        "click-8.1.7-py3-none-any.whl",
        "sciapps-0.1.0-py3-none-any.whl",
    ]


@pytest.mark.parametrize(
    "names, why",
    [
        ([], "0 wheels"),
        (["sciapps-0.1.0-py3-none-any.whl"], "expected one uv wheel"),
        (["uv-1-py3-none-any.whl", "uv-2-py3-none-any.whl"], "expected one uv wheel"),
        (["uv-1-py3-none-any.whl", "not a wheel.whl"], "is not a wheel's file name"),
    ],
)
def test_a_wheelhouse_that_is_not_one_is_refused(tmp_path, names, why):
    house = tmp_path / "wheels"
    house.mkdir()
    for name in names:
        _wheel(house, name)
    with pytest.raises(LockError, match=why):
        lock(house, tmp_path / "out")
    assert main([str(house), str(tmp_path / "out2")]) == 2


def _job(root, lines: list[str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CI_COMMIT_REF_PROTECTED": "true",
        "CI_COMMIT_BRANCH": "main",
        "CI_DEFAULT_BRANCH": "main",
        "BASE_REV": "HEAD",
        "TMPDIR": str(root.parent),
    }
    return subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + "\n".join(lines)], cwd=root, env=env, capture_output=True, text=True
    )


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "checkout"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("catalog\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "catalog")
    return root


def test_a_commit_that_tracks_the_runtime_runs_nothing(checkout):
    installer = next(i for i, line in enumerate(SETUP) if INSTALLER in line and "sha256sum" in line)
    (checkout / RUNTIME).mkdir()
    (checkout / RUNTIME / REQUIREMENTS).write_text("evil==1.0\n")
    git(checkout, "add", "-f", RUNTIME)
    git(checkout, "commit", "-qm", "my own wheels")
    job = _job(checkout, [*SETUP[: installer + 1], "echo INSTALLED"])
    assert job.returncode == 2 and "INSTALLED" not in job.stdout
    assert f"the commit tracks {RUNTIME}, which only the pipeline's sciapps job writes" in job.stdout


def test_an_installer_that_is_not_the_locked_one_never_runs(checkout):
    installer = next(i for i, line in enumerate(SETUP) if INSTALLER in line and "sha256sum" in line)
    (checkout / RUNTIME).mkdir()
    (checkout / RUNTIME / INSTALLER_WHEEL).write_bytes(b"another uv")
    (checkout / RUNTIME / INSTALLER).write_text(f"{hashlib.sha256(b'the locked uv').hexdigest()}  {INSTALLER_WHEEL}\n")
    job = _job(checkout, [*SETUP[: installer + 1], "echo INSTALLED"])
    assert job.returncode != 0 and "INSTALLED" not in job.stdout
    assert not [p for p in checkout.parent.iterdir() if p.name.startswith("tmp")]  # the job's folder is gone too
