"""Git, called one way (sciapps.gitcmd): a repository's configuration runs nothing, answers
are bounded, names are never quoted away, and every failure is an error that says what to do."""

from __future__ import annotations


import pytest

from sciapps import gitcmd
from sciapps.errors import SciAppsError
from tests.gitrepo import git as _git


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("one\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    return root


def test_a_repositorys_own_configuration_runs_nothing(repo, tmp_path):
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    _git(repo, "config", "core.fsmonitor", str(hook))  # git diff and ls-files would run it
    _git(repo, "config", "core.hooksPath", str(tmp_path))
    (tmp_path / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (tmp_path / "post-checkout").chmod(0o755)
    head = gitcmd.commit(repo, "HEAD")
    gitcmd.git(repo, "diff", "--name-only", "-z", head, "--")
    gitcmd.git(repo, "ls-files", "-z", "--others")
    gitcmd.git(repo, "checkout", "-q", head, "--", ".")
    assert not marker.exists()


def test_names_are_never_quoted_away(repo):
    odd = 'new\nline é "quoted".txt'
    (repo / odd).write_text("x")
    assert gitcmd.paths(gitcmd.git(repo, "ls-files", "-z", "--others")) == [odd]


def test_answers_and_time_are_bounded(repo):
    with pytest.raises(SciAppsError, match="answered more than 0 MiB"):
        gitcmd.run(repo, "log", "-p", limit=10)
    with pytest.raises(SciAppsError, match="took more than 0.2 s"):
        gitcmd.run(repo, "-c", "alias.wait=!sleep 5", "wait", timeout=0.2)


def test_failures_say_what_to_do(repo, tmp_path):
    with pytest.raises(SciAppsError, match="is not a revision"):
        gitcmd.commit(repo, "--output=/tmp/x")
    with pytest.raises(SciAppsError, match="git rev-parse failed") as caught:
        gitcmd.commit(repo, "no-such-revision")
    assert caught.value.hint == gitcmd.HISTORY_HINT
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    with pytest.raises(SciAppsError, match="is not in a Git repository"):
        gitcmd.git(elsewhere, "rev-parse", "HEAD")
    assert gitcmd.head(elsewhere) is None and gitcmd.head(repo) == gitcmd.commit(repo, "HEAD")
    assert gitcmd.show(repo, "HEAD", "a.txt") == "one\n" and gitcmd.show(repo, "HEAD", "missing.txt") is None
    assert gitcmd.object_type(repo, "HEAD", "a.txt") == "blob" and gitcmd.object_type(repo, "HEAD", "nothing") is None
