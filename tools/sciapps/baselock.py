"""The approved-base lock, `build/base-images.json`: which image id each approved base is.

Builds start `FROM` these ids, validation checks pinned digests against them, scans check
that images start with their layers. `images.bases` writes it; everything reads it here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sciapps import __version__
from sciapps.config import Config
from sciapps.errors import SciAppsError

LOCK = Path("build") / "base-images.json"
# The approved bases, in build order, each a folder of base-images/, and the one each is built FROM
ORDER = ("datalabs_ubuntu_base", "jl_base", "x_base")
PARENT = {"jl_base": "datalabs_ubuntu_base", "x_base": "datalabs_ubuntu_base"}


@dataclass(frozen=True)
class BaseImage:
    name: str
    image_id: str
    ref: str  # <registry>/<name>:<hash>
    built: str
    digest: str | None = None  # the registry's, once pushed


def lock_path(config: Config) -> Path:
    return config.root / LOCK


def read_lock(config: Config) -> dict[str, BaseImage]:
    path = lock_path(config)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: BaseImage(**item) for name, item in data["bases"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SciAppsError(f"{path}: unreadable ({exc})", "run `sciapps base-images build` to write it again") from None


def write_lock(config: Config, bases: dict[str, BaseImage]) -> None:
    path = lock_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"generated_by": f"sciapps {__version__}", "bases": {n: b.__dict__ for n, b in sorted(bases.items())}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
