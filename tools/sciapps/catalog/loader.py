"""Finding datalab directories and loading each into a `Datalab`, one at a time.

Loading never raises for a bad datalab: what is wrong is recorded as a `LoadProblem`
and reported by the loading rules. It reads nothing bigger than the limits and never
follows a symlink.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable

from sciapps import yamlio
from sciapps.catalog.model import METADATA_FILE, Datalab, FileEntry, LoadProblem
from sciapps.config import CATALOG_DIR, Config, Limits
from sciapps.errors import SciAppsError
from sciapps.schema import is_datalab_id

__all__ = ["CATALOG_DIR", "discover", "load_datalab", "resolve", "walk"]
SKIPPED_DIRS = {".git", "__pycache__", ".ipynb_checkpoints"}


def _is_datalab_dir(path: Path) -> bool:
    return (path / METADATA_FILE).exists() or (path / METADATA_FILE).is_symlink()


def _datalab_of_file(path: Path) -> Path | None:
    """The datalab a file belongs to: the nearest folder with a datalab.yaml, or the
    folder right below `datalabs/` (a datalab whose datalab.yaml is missing)."""
    for folder in path.parents:
        if _is_datalab_dir(folder):
            return folder
        if folder.parent.name == CATALOG_DIR:
            return folder
    return None


def _children(catalog: Path) -> list[Path]:
    """Every entry of a catalog folder: each is a datalab folder or is reported as not one
    (hidden and `_` folders, files, links included: nothing under datalabs/ goes unseen)."""
    with os.scandir(catalog) as entries:
        return sorted(Path(entry.path) for entry in entries)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Datalab directories named by `paths`: catalogs, datalab folders or files inside them.

    A path that does not exist is a usage error; files that belong to no datalab
    (a README at the repository's root, say) are ignored, as pre-commit passes them too.
    """
    found: dict[Path, None] = {}
    for path in paths:
        path = Path(os.path.abspath(path))
        if not path.exists() and not path.is_symlink():
            raise SciAppsError(f"{path}: no such file or directory", "give a catalog folder, a datalab folder or a file in one")
        if path.is_dir() and not path.is_symlink():
            if _is_datalab_dir(path):
                found[path] = None
            elif (path / CATALOG_DIR).is_dir():
                found.update(dict.fromkeys(_children(path / CATALOG_DIR)))
            else:
                found.update(dict.fromkeys(_children(path)))
        else:
            owner = _datalab_of_file(path)
            if owner is not None:
                found[owner] = None
    return list(found)


def walk(root: Path, max_files: int) -> tuple[tuple[FileEntry, ...], bool]:
    """All entries below `root` without following symlinks; stops after `max_files`."""
    entries: list[FileEntry] = []
    top = os.fspath(root)
    real_root = os.path.realpath(top)
    skip = len(top) + 1
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:  # unreadable: reported as an entry that is not a regular file, never skipped
            if folder != top:
                entries.append(FileEntry(folder[skip:].replace(os.sep, "/"), 0, "special"))
            continue
        for item in items:
            if item.is_dir(follow_symlinks=False):
                if item.name not in SKIPPED_DIRS:
                    stack.append(item.path)
                continue
            rel = item.path[skip:].replace(os.sep, "/")
            if item.is_file(follow_symlinks=False):
                entries.append(FileEntry(rel, item.stat(follow_symlinks=False).st_size))
            elif item.is_symlink():
                target = os.path.realpath(item.path)
                inside = target.startswith(real_root + os.sep)
                entries.append(FileEntry(rel, 0, "symlink", inside and os.path.exists(target)))
            else:
                entries.append(FileEntry(rel, 0, "special"))
            if len(entries) > max_files:
                return tuple(entries), True
    return tuple(entries), False


def metadata_of(folder: Path, limits: Limits) -> dict | None:
    """A datalab's parsed datalab.yaml, read with the loader's bounds, without listing its
    files; None when it cannot be read (`sciapps validate` says why)."""
    data, _, problem = _read_metadata(folder / METADATA_FILE, limits)
    return data if problem is None and isinstance(data, dict) else None


def _read_metadata(path: Path, limits: Limits) -> tuple[dict | None, str | None, LoadProblem | None]:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None, None, LoadProblem("missing", f"{METADATA_FILE} is missing")
    except OSError as exc:
        return None, None, LoadProblem("missing", f"{METADATA_FILE} cannot be read ({exc.strerror})")
    if not stat.S_ISREG(info.st_mode):
        return None, None, LoadProblem("missing", f"{METADATA_FILE} is not a regular file (a symlink or a folder)")
    if info.st_size > limits.metadata_bytes:
        return (
            None,
            None,
            LoadProblem("too-large", f"{METADATA_FILE} is {info.st_size:,} bytes, over the {limits.metadata_bytes:,}-byte limit"),
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, None, LoadProblem("missing", f"{METADATA_FILE} cannot be read ({exc.strerror})")
    if b"\0" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\0")) + 1
        return None, None, LoadProblem("encoding", "binary data (a NUL byte), not text", line)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, None, LoadProblem("encoding", f"byte 0x{raw[exc.start]:02x} is not UTF-8", line)
    try:
        data = yamlio.load(text)
    except yamlio.YamlProblem as exc:
        return None, text, LoadProblem(exc.kind, exc.message, exc.line)
    if data is None:
        return None, text, LoadProblem("not-mapping", f"{METADATA_FILE} is empty")
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        return None, text, LoadProblem("not-mapping", f"the document is a {kind}, not a mapping of fields", 1)
    reread = yamlio.rereads(text)
    if reread:  # every later rule would judge a value the author never wrote: this first
        return None, text, LoadProblem("reread", reread[0].sentence(), reread[0].line)
    return data, text, None


def load_datalab(folder: Path, limits: Limits) -> Datalab:
    if folder.is_symlink() or not folder.is_dir():
        kind = "a symlink" if folder.is_symlink() else "a file" if folder.is_file() else "not a folder"
        problem = LoadProblem("not-a-folder", f"{folder.name!r} in the catalog is {kind}, not a datalab folder")
        return Datalab(folder, None, None, (), False, problem, limits.bytes("file_mb"))
    files, truncated = walk(folder, limits.max_files)
    metadata, text, problem = _read_metadata(folder / METADATA_FILE, limits)
    return Datalab(folder, metadata, text, files, truncated, problem, limits.bytes("file_mb"))


def resolve(config: Config, ids: list[str]) -> list[Datalab]:
    """Load the named datalabs of the catalog; an unknown id is a usage error."""
    labs = []
    for datalab_id in ids:
        if not is_datalab_id(datalab_id):
            raise SciAppsError(
                f"{datalab_id!r} is not a datalab id",
                "ids are lower-case letters, digits and hyphens; `sciapps validate` lists the catalog",
            )
        folder = config.catalog / datalab_id
        if not (folder / METADATA_FILE).is_file():
            raise SciAppsError(
                f"no datalab {datalab_id!r} in {config.catalog}", "`sciapps validate` lists the catalog; check the spelling"
            )
        labs.append(load_datalab(folder, config.limits))
    return labs
