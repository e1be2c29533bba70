"""Which datalabs a change touches: Git's view of the catalog since a revision."""

from __future__ import annotations

from pathlib import Path

from sciapps.config import CATALOG_DIR, Config
from sciapps.errors import SciAppsError
from sciapps.schema import is_datalab_id
from sciapps.gitcmd import commit, git, paths, top
from sciapps.text import printable


def changed_datalabs(root: Path, base_rev: str, catalog: str = CATALOG_DIR) -> list[str]:
    """Ids of the datalabs whose files differ between `base_rev` and the working tree
    (committed, staged, unstaged or untracked); deleted datalabs are left out."""
    try:
        prefix = top(root)  # the catalog's path is the repository's, as Git names what changed
        base = commit(prefix, base_rev)
        names = paths(git(prefix, "diff", "--name-only", "-z", base, "--", catalog))
        names += paths(git(prefix, "ls-files", "-z", "--others", "--exclude-standard", "--", catalog))
    except SciAppsError as exc:
        if "not in a Git repository" in exc.message:
            raise SciAppsError(exc.message, "--changed needs Git history; name the datalabs instead") from None
        raise SciAppsError(
            f"git cannot compare with {base_rev!r}: {exc.message}", "pass an existing commit, e.g. --base origin/main"
        ) from None
    ids = sorted({n.split("/")[1] for n in names if n.count("/") >= 2})
    return [i for i in ids if (prefix / catalog / i).is_dir() and not (prefix / catalog / i).is_symlink()]


def changed_ids(config: Config, base_rev: str) -> tuple[list[str], list[str]]:
    """(ids of the changed datalabs, warnings): a changed folder whose name is not a datalab
    id is left out with a warning, so what reaches a shell or a job name is only ever an id."""
    ids, warnings = [], []
    for name in changed_datalabs(config.root, base_rev):
        if is_datalab_id(name):
            ids.append(name)
        else:
            warnings.append(f"left out: the folder {printable(repr(name))} is not a datalab id (`sciapps validate` reports it)")
    return ids, warnings
