"""The maintainers' issues of the revisits and of the publication: one GitLab issue per
datalab and cause on the catalog's project, kept up to date with python-gitlab rather
than opened again."""

from __future__ import annotations

from typing import Callable

from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.schema import is_datalab_id

TOKEN_VARIABLE = "SCIAPPS_ISSUES_TOKEN"


def maintainers_issues(
    config: Config,
    cause: str,
    bodies: dict[str, str],
    title: str,
    checked: str,
    token: str | None,
    log: Callable[[str], None],
    scope: set[str] | None = None,
) -> dict[str, str]:
    """One open issue per datalab and cause (labels `sciapps::<cause>`, `<cause>::<id>`):
    opened for a datalab in `bodies`, updated when its body changed (its first line, which
    carries the date, aside), closed with a note when the datalab is no longer in `bodies`
    (of the datalabs in `scope`, when the run looked at only these)."""
    import gitlab
    import requests

    settings = config.gitlab
    if settings is None:
        raise SciAppsError("sciapps.yaml has no gitlab: project to open issues on", "set gitlab.url and gitlab.project")
    client = gitlab.Gitlab(settings.url, private_token=token or None, timeout=30, retry_transient_errors=False)
    done: dict[str, str] = {}
    label = f"sciapps::{cause}"
    try:
        project = client.projects.get(settings.project, lazy=True)
        open_issues: dict[str, object] = {}
        for issue in project.issues.list(labels=[label], state="opened", iterator=True):
            ids = [name.removeprefix(f"{cause}::") for name in issue.labels if name.startswith(f"{cause}::")]
            if len(ids) == 1 and is_datalab_id(ids[0]):
                open_issues.setdefault(ids[0], issue)
        for datalab in sorted(set(bodies) | {d for d in open_issues if scope is None or d in scope}):
            issue = open_issues.get(datalab)
            if datalab not in bodies:
                issue.notes.create({"body": f"`sciapps {cause}` of {checked[:10]}: all clear. Closing."})
                issue.state_event = "close"
                issue.save()
                done[datalab] = "closed"
            elif issue is None:
                project.issues.create(
                    {"title": title.format(id=datalab), "description": bodies[datalab], "labels": [label, f"{cause}::{datalab}"]}
                )
                done[datalab] = "opened"
            elif (issue.description or "").split("\n", 1)[1:] != bodies[datalab].split("\n", 1)[1:]:
                issue.description = bodies[datalab]
                issue.save()
                done[datalab] = "updated"
            else:
                done[datalab] = "unchanged"
    except gitlab.exceptions.GitlabAuthenticationError:
        raise SciAppsError(
            f"{settings.url} refused the token for {settings.project}'s issues",
            f"give a project access token with the api scope and the Reporter role in ${TOKEN_VARIABLE}",
        ) from None
    except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
        raise SciAppsError(
            f"{settings.url} did not take the {cause} issues ({type(exc).__name__}); the results are in build/{cause}.json",
            f"check that GitLab is reachable from this runner, then run `sciapps {cause} --notify` again",
        ) from None
    for datalab, what in done.items():
        log(f"{datalab}: maintainers' issue {what}")
    return done
