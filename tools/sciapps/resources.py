"""Where SciApps finds the files it ships: schemas and vocabularies.

In a checkout (and an editable install) they are the repository's own `schemas/`;
a wheel carries a copy inside the package as `sciapps/_schemas`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sciapps.errors import SciAppsError

_PACKAGE = Path(__file__).resolve().parent


@cache
def schemas_dir() -> Path:
    for candidate in (_PACKAGE / "_schemas", _PACKAGE.parents[1] / "schemas"):
        if (candidate / "vocabularies").is_dir():
            return candidate
    raise SciAppsError("SciApps cannot find its schemas (schemas/vocabularies)", "reinstall it: pip install -e .")


def repo_root() -> Path:
    """The source checkout SciApps was installed from (for regenerating files)."""
    return _PACKAGE.parents[1]
