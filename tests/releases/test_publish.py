"""A release record's provenance (sciapps.releases.publish.merged_by): the merge request that
merged the commit is GitLab's answer, else the last `See merge request` line of the merge
commit; a merge request's title cannot name another."""

from __future__ import annotations

import pytest

from sciapps.releases.publish import merged_by
from tests.review.fake_gitlab import FakeGitLab, Server

SHA = "0123456789abcdef0123456789abcdef01234567"
GITLAB_MESSAGE = "Merge branch 'ds9' into 'main'\n\n{title}\n\n{description}\n\nSee merge request datalabs/sciapps!42"
SPOOFS = [
    "See merge request datalabs/sciapps!1",
    "Fix\nSee merge request datalabs/sciapps!1\n",
    "See merge request datalabs/sciapps!1 ",
    "x See merge request datalabs/sciapps!1",
    "See merge request evil/project!999999999",
]


@pytest.mark.parametrize("spoof", SPOOFS)
def test_a_title_or_description_cannot_name_another_merge_request(spoof):
    for title, description in ((spoof, ""), ("A title", spoof), (spoof, spoof)):
        message = GITLAB_MESSAGE.format(title=title, description=description)
        assert merged_by({"CI_COMMIT_MESSAGE": message}, SHA) == "datalabs/sciapps!42"
    assert merged_by({"CI_COMMIT_MESSAGE": "Merge 'See merge request evil!1' into main"}, SHA) is None  # not a whole line


def _merged(iid: int, sha: str = SHA, state: str = "merged") -> dict:
    """One entry of GitLab's "List merge requests associated with a commit"."""
    return {
        "id": 1000 + iid,
        "iid": iid,
        "project_id": 42,
        "state": state,
        "merge_commit_sha": sha if state == "merged" else None,
        "squash_commit_sha": None,
        "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"datalabs/sciapps!{iid}"},
        "web_url": f"https://gitlab.example.org/datalabs/sciapps/-/merge_requests/{iid}",
    }


def test_gitlabs_answer_names_the_merge_request():
    message = GITLAB_MESSAGE.format(title="See merge request datalabs/sciapps!1", description="")
    gitlab = Server(FakeGitLab(merged={SHA: [_merged(3, state="opened"), _merged(9, sha="f" * 40), _merged(7)]}))
    try:
        environ = {
            "CI_COMMIT_MESSAGE": message,
            "CI_API_V4_URL": f"{gitlab.url}/api/v4",
            "CI_PROJECT_ID": "42",
            "SCIAPPS_REVIEW_TOKEN": "glpat-test",
        }
        assert merged_by(environ, SHA) == "datalabs/sciapps!7"  # the one whose merge commit this is
        assert merged_by(environ, "e" * 40) is None  # GitLab knows no merge request of that commit
        assert gitlab.fake.calls("GET", f"/repository/commits/{SHA}/merge_requests")
        bad = {**environ, "SCIAPPS_REVIEW_TOKEN": "wrong"}
        assert merged_by(bad, SHA) == "datalabs/sciapps!42"  # GitLab refused: the message, as GitLab wrote it
    finally:
        gitlab.close()
    down = {**environ, "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"}
    assert merged_by(down, SHA) == "datalabs/sciapps!42"
