"""`sciapps submit`: a datalab folder becomes a merge request on the catalog's GitLab project.

One commit with every file of the datalab on a new branch, then the merge request with
the moderator's checklist in its description (python-gitlab). A retry reuses what the
last attempt left: an existing branch gets the commit, an existing merge request is
returned. If the merge request cannot be opened, the branch this attempt created is
deleted, so nothing is left half-created.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from sciapps.catalog.model import Datalab
from sciapps.errors import SciAppsError

CHECKLIST = """\
## Checklist for the moderator

- [ ] The description says what the datalab does and for which data; screenshots show it.
- [ ] The licence fits the code and data it ships; citations credit the missions.
- [ ] CI passed: validation, build, scan, test and chart (see the pipeline and the moderation report).
- [ ] Resources and data mounts are what the datalab needs, no more.
- [ ] The maintainers are reachable and agree (CODEOWNERS approval).
"""


@dataclass
class Submission:
    branch: str
    merge_request_url: str
    created_branch: bool
    reused_merge_request: bool


def _project(url: str, token: str, project: str):
    import gitlab

    try:
        client = gitlab.Gitlab(url, private_token=token, timeout=30)
        return client.projects.get(project)
    except gitlab.exceptions.GitlabAuthenticationError:
        raise SciAppsError(f"GitLab at {url} refused the token", "create a personal access token with the `api` scope and pass it with GITLAB_TOKEN") from None
    except gitlab.exceptions.GitlabGetError as exc:
        raise SciAppsError(f"project {project!r} not found at {url} ({exc.response_code})", "set gitlab.project in sciapps.yaml") from None
    except Exception as exc:  # network
        raise SciAppsError(f"cannot reach GitLab at {url} ({type(exc).__name__})", "check the URL and the network") from None


def actions_for(lab: Datalab) -> list[dict]:
    """Commit actions: create or update each file of the datalab, in binary-safe base64."""
    actions = []
    for entry in lab.files:
        if entry.kind != "file":
            continue
        path = f"datalabs/{lab.id}/{entry.path}"
        content = base64.b64encode((lab.dir / entry.path).read_bytes()).decode()
        actions.append({"action": "create", "file_path": path, "content": content, "encoding": "base64"})
    return actions


def submit(lab: Datalab, url: str, token: str, project_id: str, target_branch: str = "main") -> Submission:
    import gitlab

    project = _project(url, token, project_id)
    version = str(lab.get("version"))
    branch = re.sub(r"[^A-Za-z0-9._/-]+", "-", f"datalab/{lab.id}-{version}")
    title = f"{'Update' if _exists(project, lab.id, target_branch) else 'Add'} datalab {lab.id} {version}"
    existing = project.mergerequests.list(source_branch=branch, state="opened", get_all=False)
    if existing:
        return Submission(branch, existing[0].web_url, False, True)
    created = False
    try:
        project.branches.get(branch)
    except gitlab.exceptions.GitlabGetError:
        project.branches.create({"branch": branch, "ref": target_branch})
        created = True
    try:
        actions = actions_for(lab)
        existing_files = set()
        if _exists(project, lab.id, branch):  # an update, or a retry: those files are changed, not created
            tree = project.repository_tree(path=f"datalabs/{lab.id}", ref=branch, recursive=True, get_all=True)
            existing_files = {f["path"] for f in tree if f["type"] == "blob"}
        for action in actions:
            if action["file_path"] in existing_files:
                action["action"] = "update"
        project.commits.create({"branch": branch, "commit_message": title, "actions": actions})
        mr = project.mergerequests.create({
            "source_branch": branch,
            "target_branch": target_branch,
            "title": title,
            "description": f"{lab.get('summary')}\n\nSubmitted with `sciapps submit`.\n\n{CHECKLIST}",
            "remove_source_branch": True,
        })
    except gitlab.exceptions.GitlabError as exc:
        if created:
            try:
                project.branches.delete(branch)
            except gitlab.exceptions.GitlabError:
                pass
        raise SciAppsError(f"GitLab refused the submission: {exc.error_message}", "fix what it says and run `sciapps submit` again; nothing was left behind") from None
    return Submission(branch, mr.web_url, created, False)


def _exists(project, datalab_id: str, ref: str) -> bool:
    import gitlab

    try:
        project.files.get(file_path=f"datalabs/{datalab_id}/datalab.yaml", ref=ref)
        return True
    except gitlab.exceptions.GitlabGetError:
        return False


