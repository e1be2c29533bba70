"""`sciapps submit`: a datalab folder becomes a merge request on the catalog's GitLab project.

One commit with every file of the datalab on a new branch, then the merge request with
the moderator's checklist in its description (python-gitlab), the same steps as the
store's Create page. A user who may not push to the catalog's project submits from their
fork. A retry reuses what the last attempt left: an existing branch gets the commit, an
open merge request is updated by it. If the merge request cannot be opened, the branch
this attempt created is deleted, so nothing is left half-created.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sciapps.catalog.loader import load_datalab
from sciapps.catalog.model import Datalab
from sciapps.catalog.validate import errors_of
from sciapps.config import CATALOG_DIR, Config
from sciapps.errors import SciAppsError
from sciapps.stages import STAGES
from sciapps.safefiles import UnsafeFile

CHECKLIST = """\
## Checklist for the moderator

- [ ] The description says what the datalab does and for which data; screenshots show it.
- [ ] The licence fits the code and data it ships; citations credit the missions.
- [ ] CI passed: {stages} (see the pipeline and the moderation report).
- [ ] Scan findings below the threshold are acceptable; any new exception has a reason and an expiry.
- [ ] Resources and data mounts are what the datalab needs, no more.
- [ ] The maintainers are reachable and agree (CODEOWNERS approval).
""".format(stages=", ".join(stage.NAME for stage in STAGES[:-1]) + f" and {STAGES[-1].NAME}")


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
        raise SciAppsError(
            f"GitLab at {url} refused the token",
            "create a personal access token with the `api` scope and pass it with GITLAB_TOKEN",
        ) from None
    except gitlab.exceptions.GitlabGetError as exc:
        raise SciAppsError(
            f"project {project!r} not found at {url} ({exc.response_code})", "set gitlab.project in sciapps.yaml"
        ) from None
    except Exception as exc:  # network
        raise SciAppsError(f"cannot reach GitLab at {url} ({type(exc).__name__})", "check the URL and the network") from None


def actions_for(lab: Datalab) -> list[dict]:
    """Commit actions: create or update each file of the datalab, in binary-safe base64."""
    actions = []
    for entry in lab.files:
        if entry.kind != "file":
            continue
        path = f"{CATALOG_DIR}/{lab.id}/{entry.path}"
        try:
            data = lab.read(entry.path)
        except UnsafeFile as exc:
            raise SciAppsError(f"{lab.id}: {exc}", f"run `sciapps validate {lab.dir}` and fix what it reports") from None
        content = base64.b64encode(data).decode()
        actions.append({"action": "create", "file_path": path, "content": content, "encoding": "base64"})
    return actions


def submit(lab: Datalab, url: str, token: str, project_id: str, target_branch: str = "main") -> Submission:
    """The same steps as the store's Create page: one commit on `datalab/<id>-<version>`
    (started from the target branch), then the merge request; from the user's fork when
    they may not push to the catalog's project; an open merge request is updated."""
    import gitlab

    upstream = _project(url, token, project_id)
    version = str(lab.get("version"))
    branch = re.sub(r"[^A-Za-z0-9._/-]+", "-", f"datalab/{lab.id}-{version}")
    folder = f"{CATALOG_DIR}/{lab.id}"
    created = False
    work = upstream
    try:
        known = _exists(upstream, lab.id, target_branch)
        title = f"{'Update' if known else 'Add'} datalab {lab.id} {version}"
        fork = None if _can_push(upstream) else _fork_of(upstream)
        work = fork or upstream
        listed = upstream.mergerequests.list(source_branch=branch, state="opened", get_all=False)
        open_mr = next((mr for mr in listed if getattr(mr, "source_project_id", upstream.id) == work.id), None)
        try:
            work.branches.get(branch)
            branch_exists = True
        except gitlab.exceptions.GitlabGetError:
            branch_exists = False
        if branch_exists:
            before = _tree(work, folder, branch)
        else:
            before = _tree(upstream, folder, target_branch) if known else set()
        actions = actions_for(lab)
        wanted = {a["file_path"] for a in actions}
        for action in actions:  # an update, or a retry: those files are changed, not created
            if action["file_path"] in before:
                action["action"] = "update"
        actions += [{"action": "delete", "file_path": path} for path in sorted(before - wanted)]
        commit = {"branch": branch, "commit_message": title, "actions": actions}
        if not branch_exists:
            commit["start_branch"] = target_branch
            if fork is not None:
                commit["start_project"] = upstream.id  # a fork may be behind: start from the catalog
        work.commits.create(commit)
        created = not branch_exists
        if open_mr is not None:
            return Submission(branch, open_mr.web_url, False, True)
        data = {
            "source_branch": branch,
            "target_branch": target_branch,
            "title": title,
            "description": f"{lab.get('summary')}\n\nSubmitted with `sciapps submit`.\n\n{CHECKLIST}",
            "remove_source_branch": True,
        }
        if fork is not None:
            data["target_project_id"] = upstream.id
        mr = work.mergerequests.create(data)
    except (gitlab.exceptions.GitlabError, OSError, _requests_error()) as exc:
        left = _clean_up(work, branch) if created else "nothing was left behind"
        if isinstance(exc, gitlab.exceptions.GitlabAuthenticationError):
            raise SciAppsError(
                f"GitLab at {url} refused the token during the submission ({left})",
                "create a new token with the `api` scope and run `sciapps submit` again",
            ) from None
        if isinstance(exc, gitlab.exceptions.GitlabError) and exc.response_code == 403:
            raise SciAppsError(
                f"GitLab does not let this account push to {project_id} ({left})",
                "ask the catalog's moderators for Developer access",
            ) from None
        if not isinstance(exc, gitlab.exceptions.GitlabError):
            raise SciAppsError(
                f"cannot reach GitLab at {url} during the submission ({type(exc).__name__}; {left})",
                "check the network and run `sciapps submit` again",
            ) from None
        raise SciAppsError(
            f"GitLab refused the submission: {exc.error_message} ({left})", "fix what it says and run `sciapps submit` again"
        ) from None
    return Submission(branch, mr.web_url, created, False)


def _requests_error():
    import requests

    return requests.exceptions.RequestException


def _clean_up(project, branch: str) -> str:
    """Delete the branch this attempt created; say what is left."""
    try:
        project.branches.delete(branch)
        return f"the branch {branch} it had created was deleted: nothing was left behind"
    except Exception:  # noqa: BLE001 - any failure here is reported, not raised
        return f"the branch {branch} was created but could not be deleted; running `sciapps submit` again reuses it"


def _can_push(project) -> bool:
    """Developer access or more (project or group); not told means try."""
    permissions = getattr(project, "permissions", None)
    if not permissions:
        return True
    levels = [(permissions.get(k) or {}).get("access_level") or 0 for k in ("project_access", "group_access")]
    return max(levels) >= 30


def _fork_of(upstream, wait_s: float = 120):
    """The user's fork of the catalog's project: found, or made once and awaited."""
    import time

    client = upstream.manager.gitlab
    forks = upstream.forks.list(owned=True, get_all=False)
    fork = client.projects.get(forks[0].id) if forks else client.projects.get(upstream.forks.create({}).id)
    deadline = time.monotonic() + wait_s
    while getattr(fork, "import_status", "none") not in ("finished", "none"):
        if fork.import_status == "failed" or time.monotonic() > deadline:
            raise SciAppsError(
                f"GitLab could not make your fork of {upstream.path_with_namespace} ({fork.import_status})", "try again later"
            )
        time.sleep(1)
        fork = client.projects.get(fork.id)
    return fork


def _tree(project, folder: str, ref: str) -> set[str]:
    import gitlab

    try:
        items = project.repository_tree(path=folder, ref=ref, recursive=True, get_all=True)
    except gitlab.exceptions.GitlabGetError:
        return set()
    return {item["path"] for item in items if item["type"] == "blob"}


def _exists(project, datalab_id: str, ref: str) -> bool:
    import gitlab

    try:
        project.files.get(file_path=f"{CATALOG_DIR}/{datalab_id}/datalab.yaml", ref=ref)
        return True
    except gitlab.exceptions.GitlabGetError:
        return False


def submit_folder(
    config: Config,
    path: Path,
    gitlab_url: str | None,
    project: str | None,
    target_branch: str | None,
    token: str,
    log: Callable[[str], None],
) -> Submission:
    """Submit the datalab in `path` (which must validate) to the catalog's GitLab project;
    what the command line leaves out comes from sciapps.yaml `gitlab:`."""
    settings = config.gitlab
    gitlab_url = gitlab_url or (settings.url if settings else None)
    project = project or (settings.project if settings else None)
    target_branch = target_branch or (settings.target_branch if settings else "main")
    if not gitlab_url or not project:
        raise SciAppsError(
            "no GitLab project: pass --gitlab-url and --project, or set gitlab.url and gitlab.project in sciapps.yaml",
            "see `sciapps submit --help`",
        )
    lab = load_datalab(path.absolute(), config.limits)
    problems = errors_of(lab, config)
    if problems:
        for finding in problems:
            log(finding.format())
        raise SciAppsError(f"{lab.id} has validation errors; nothing was submitted", f"fix them (sciapps validate {path})")
    return submit(lab, gitlab_url, token, project, target_branch)
