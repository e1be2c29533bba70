"""The approved-base lock, `build/base-images.json`: which image id each approved base is.

Builds start `FROM` these ids, validation checks pinned digests against them, scans check
that images start with their layers. `images.bases` writes it; everything reads it here.
"""

from __future__ import annotations

import json
import re
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


MAX_PINNED_CHARS = 16 * 1024
PINNED_HINT = "pass what the plan pinned ($SCIAPPS_BASES)"
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_REF = re.compile(r"[A-Za-z0-9._:/-]{1,300}:[A-Za-z0-9_.-]{1,128}")


def pinned_lock(config: Config) -> str:
    """The lock as one line of JSON, for the child pipeline to pin (`SCIAPPS_BASES`), when
    every approved base in it has a registry digest; "" otherwise (nothing to pull by)."""
    bases = read_lock(config)
    if not bases or not all(b.digest for b in bases.values()):
        return ""
    return json.dumps({n: b.__dict__ for n, b in sorted(bases.items())}, separators=(",", ":"), sort_keys=True)


def unpin(config: Config, text: str) -> dict[str, BaseImage]:
    """Write the lock a plan pinned (`pinned_lock`'s text) as this checkout's
    build/base-images.json, every field checked first; SciAppsError names what is wrong."""
    try:
        data = json.loads(text) if len(text) <= MAX_PINNED_CHARS else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not data or not set(data) <= set(ORDER):
        raise SciAppsError("the pinned approved bases are not a lock of known bases", PINNED_HINT)
    bases: dict[str, BaseImage] = {}
    for name, item in data.items():
        fields = ("name", "image_id", "ref", "built", "digest")
        if not isinstance(item, dict) or set(item) != set(fields) or not all(isinstance(item[f], str) for f in fields):
            raise SciAppsError(f"the pinned base {name} is not a lock entry", PINNED_HINT)
        if item["name"] != name or not _SHA256.fullmatch(item["image_id"]) or not _SHA256.fullmatch(item["digest"]):
            raise SciAppsError(f"the pinned base {name} has no image id and digest", PINNED_HINT)
        if not _REF.fullmatch(item["ref"]) or len(item["built"]) > 40:
            raise SciAppsError(f"the pinned base {name} has no valid reference", PINNED_HINT)
        bases[name] = BaseImage(**item)
    write_lock(config, bases)
    return bases
