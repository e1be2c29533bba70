"""`sciapps submit` against replayed GitLab API responses (tests/review/gitlab/)."""

from __future__ import annotations

import base64

import pytest

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.errors import SciAppsError
from sciapps.review.submit import submit
from tests.conftest import REPO
from tests.review.fake_gitlab import PROJECT, FakeGitLab, Server
from tests.catalogs import write_settings


@pytest.fixture
def gitlab_server():
    servers = []

    def start(fake: FakeGitLab) -> str:
        servers.append(Server(fake))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


def lab():
    return load_datalab(REPO / "datalabs" / "gaia-dr3-hrd", load_config(REPO / "sciapps.yaml").limits)


VERSION = lab().get("version")  # the example's version today


def test_opens_a_merge_request_with_one_commit(gitlab_server):
    fake = FakeGitLab()
    result = submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert result.merge_request_url == "https://gitlab.example.org/datalabs/sciapps/-/merge_requests/7"
    assert result.created_branch and result.branch == f"datalab/gaia-dr3-hrd-{VERSION}"
    posts = {path.split("?")[0]: body for method, path, body, _ in fake.requests if method == "POST"}
    commit = posts[f"{PROJECT}/repository/commits"]
    assert {"branch", "commit_message", "actions"} <= set(commit)  # required by POST /repository/commits
    assert (
        commit["branch"] == f"datalab/gaia-dr3-hrd-{VERSION}" and commit["start_branch"] == "main"
    )  # the branch comes with the commit
    files = {a["file_path"]: a for a in commit["actions"]}
    assert set(files) == {f"datalabs/gaia-dr3-hrd/{e.path}" for e in lab().files}
    for action in files.values():
        assert action["action"] == "create" and action["encoding"] == "base64"
    png = files["datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png"]["content"]
    assert base64.b64decode(png) == (REPO / "datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png").read_bytes()
    mr = posts[f"{PROJECT}/merge_requests"]
    assert {"source_branch", "target_branch", "title"} <= set(mr)  # required by POST /merge_requests
    assert mr["title"] == f"Add datalab gaia-dr3-hrd {VERSION}" and "Checklist for the moderator" in mr["description"]


def test_failed_merge_request_removes_the_branch_it_created(gitlab_server):
    fake = FakeGitLab(merge_request_status=409)
    with pytest.raises(SciAppsError, match="refused the submission") as info:
        submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert fake.branch_deleted and "nothing was left behind" in info.value.message
    assert f"datalab/gaia-dr3-hrd-{VERSION}" not in fake.branches


def test_retry_reuses_an_open_merge_request(gitlab_server):
    fake = FakeGitLab(open_merge_request=True, branch_exists=True)
    result = submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert result.reused_merge_request and not result.created_branch
    assert len(fake.calls("POST", "/repository/commits")) == 1  # the open merge request gets the new files
    assert not fake.calls("POST", "/merge_requests")


def test_expired_token_is_a_clear_error(gitlab_server):
    with pytest.raises(SciAppsError, match="refused the token"):
        submit(lab(), gitlab_server(FakeGitLab(token_valid=False)), "glpat-expired", "datalabs/sciapps")


def test_unreachable_gitlab():
    with pytest.raises(SciAppsError, match="cannot reach GitLab"):
        submit(lab(), "http://127.0.0.1:9", "glpat-test", "datalabs/sciapps")


def test_cli_takes_the_project_from_sciapps_yaml(gitlab_server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sciapps.cli import cli

    url = gitlab_server(FakeGitLab())
    write_settings(tmp_path, {"gitlab.url": url})
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-test")
    result = CliRunner().invoke(
        cli, ["submit", str(REPO / "datalabs" / "gaia-dr3-hrd"), "--config", str(tmp_path / "sciapps.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "merge request opened: https://gitlab.example.org/datalabs/sciapps/-/merge_requests/7" in result.output


def test_cli_without_a_project_is_a_usage_error(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from sciapps.cli import cli

    (tmp_path / "sciapps.yaml").write_text("store: {title: Test}\n")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-test")
    result = CliRunner().invoke(
        cli, ["submit", str(REPO / "datalabs" / "gaia-dr3-hrd"), "--config", str(tmp_path / "sciapps.yaml")]
    )
    assert result.exit_code == 2 and "set gitlab.url and gitlab.project in sciapps.yaml" in result.output


def test_without_push_access_submits_from_a_fork(gitlab_server, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    fake = FakeGitLab(member=False)
    result = submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    (fork,) = fake.forks
    (commit,) = fake.calls("POST", f"/projects/{fork.id}/repository/commits")
    assert commit["start_project"] == 42
    (mr,) = fake.calls("POST", f"/projects/{fork.id}/merge_requests")
    assert mr["target_project_id"] == 42 and result.created_branch
    assert fake.upstream.branches == {"main"}


def test_network_failure_before_the_merge_request_cleans_up(gitlab_server):
    fake = FakeGitLab(fail={"POST merge_requests": "drop"})
    with pytest.raises(SciAppsError, match="cannot reach GitLab") as info:
        submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert "nothing was left behind" in info.value.message and fake.branch_deleted
