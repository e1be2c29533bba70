"""Who opened a merge request, as GitLab says: the author a review judges.

GitLab has no predefined CI variable for a merge request's author: `$GITLAB_USER_LOGIN`
is whoever started the pipeline (a moderator re-running it, a scheduled run), so role
checks against it judge the wrong person. The review asks the API instead, with a
read-only token, and fails closed: no answer means no review.
"""

from __future__ import annotations

import os
import re

from sciapps.errors import SciAppsError

VARIABLES = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID")
TOKEN_VARIABLE = "SCIAPPS_REVIEW_TOKEN"  # a project access token with read_api, as a masked CI variable


def merge_request_author(api_url: str, project: str, iid: str, token: str, timeout: float = 20) -> str:
    """The GitLab username of the author of merge request `iid` in `project`."""
    import gitlab
    import requests

    base = api_url.removesuffix("/").removesuffix("/api/v4")
    try:
        client = gitlab.Gitlab(base, private_token=token, timeout=timeout, retry_transient_errors=False)
        username = client.projects.get(project, lazy=True).mergerequests.get(iid).author["username"]
    except gitlab.exceptions.GitlabAuthenticationError:
        raise SciAppsError(
            f"GitLab refused the review token for {base}", f"give {TOKEN_VARIABLE} a project access token with the read_api scope"
        ) from None
    except gitlab.exceptions.GitlabGetError as exc:
        raise SciAppsError(
            f"GitLab has no merge request !{iid} in project {project} ({exc.response_code})",
            "check CI_PROJECT_ID and CI_MERGE_REQUEST_IID",
        ) from None
    except (requests.RequestException, gitlab.exceptions.GitlabError, KeyError, TypeError) as exc:
        raise SciAppsError(
            f"cannot ask GitLab at {base} who opened merge request !{iid} ({type(exc).__name__})",
            "the review does not run without knowing its author: retry the job when GitLab answers",
        ) from None
    if not isinstance(username, str) or not username:
        raise SciAppsError(f"GitLab gave no author for merge request !{iid}", "retry the job") from None
    return username


def author_from_environment() -> str:
    """The author of the merge request this pipeline runs for, from GitLab's API."""
    missing = [name for name in (*VARIABLES, TOKEN_VARIABLE) if not os.environ.get(name)]
    if missing:
        raise SciAppsError(
            f"cannot ask GitLab for the merge request's author: {', '.join(missing)} not set",
            f"run in a merge request pipeline with {TOKEN_VARIABLE} set (a read_api project access token)",
        )
    return merge_request_author(*(os.environ[name] for name in VARIABLES), os.environ[TOKEN_VARIABLE])


def author_or_none(log) -> str | None:
    """The merge request's author, or None (said why) when GitLab cannot tell: a plan then
    builds nothing that needs a role, and the review, which must know, fails."""
    try:
        return author_from_environment()
    except SciAppsError as exc:
        log(f"warning: {exc.message}; nothing that needs a role is built")
        return None


def merging_merge_request(api_url: str, project: str, sha: str, token: str, timeout: float = 20) -> str | None:
    """The merge request that merged commit `sha`, as GitLab's API says ("List merge
    requests associated with a commit"): its full reference (`group/project!iid`), or None
    when GitLab names none. The one whose merge or squash commit `sha` is, merged."""
    import gitlab
    import requests

    base = api_url.removesuffix("/").removesuffix("/api/v4")
    try:
        client = gitlab.Gitlab(base, private_token=token, timeout=timeout, retry_transient_errors=False)
        found = client.projects.get(project, lazy=True).commits.get(sha, lazy=True).merge_requests()
    except (requests.RequestException, gitlab.exceptions.GitlabError) as exc:
        raise SciAppsError(f"cannot ask GitLab at {base} which merge request merged {sha[:12]} ({type(exc).__name__})") from None
    for mr in found[:100] if isinstance(found, list) else []:
        if (
            not isinstance(mr, dict)
            or mr.get("state") != "merged"
            or sha not in (mr.get("merge_commit_sha"), mr.get("squash_commit_sha"))
        ):
            continue
        reference = (mr.get("references") or {}).get("full") if isinstance(mr.get("references"), dict) else None
        if isinstance(reference, str) and MERGE_REQUEST_REFERENCE.fullmatch(reference):
            return reference
    return None


MERGE_REQUEST_REFERENCE = re.compile(r"[\w./-]{1,200}![0-9]{1,9}")
