"""Who may do what in a catalog: `roles.yaml` (moderators, advanced developers).

A merge request is always judged by the target branch's roles, never by the copy it
brings: `sciapps admit` puts the target's roles.yaml in place before anything reads it,
and the review reads it from the target revision with Git.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sciapps.errors import SciAppsError
from sciapps.schema import load_validated

ROLES_FILE = "roles.yaml"


@dataclass(frozen=True)
class Roles:
    moderators: tuple[str, ...]
    advanced_developers: tuple[str, ...] = ()

    def may_build_advanced(self, author: str | None) -> bool:
        """Advanced mode (a datalab's own Dockerfile) is for advanced developers and moderators."""
        return author is not None and author in (*self.moderators, *self.advanced_developers)


def load_roles(root: Path) -> Roles:
    path = root / ROLES_FILE
    if not path.is_file():
        raise SciAppsError(f"{path}: no roles file", "write roles.yaml with `moderators:` (GitLab usernames)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SciAppsError(f"{path}: cannot read ({exc})", "save roles.yaml as UTF-8 text") from None
    return parse_roles(text, str(path))


def parse_roles(text: str, shown: str) -> Roles:
    data = load_validated(text, "roles.schema.json", shown)
    return Roles(tuple(data["moderators"]), tuple(data.get("advanced_developers", [])))
