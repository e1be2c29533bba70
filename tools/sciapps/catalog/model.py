"""The plain, read-only objects every stage works with: a `Datalab` and its files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping

from sciapps.datalab_types import type_of
from sciapps.safefiles import read_inside, read_text_inside
from sciapps.schema import is_datalab_id
from sciapps.yamlio import LineIndex

METADATA_FILE = "datalab.yaml"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of a datalab directory, as found without following symlinks."""

    path: str  # POSIX path relative to the datalab directory
    size: int
    kind: str = "file"  # "file", "symlink" or "special" (fifo, socket, device)
    link_inside: bool = True  # for symlinks: does the target resolve inside the datalab?


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """Why datalab.yaml could not be read; `kind` names the loading rule that reports it."""

    kind: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Datalab:
    """A datalab directory: its parsed metadata (treat as read-only), text and file list."""

    dir: Path
    metadata: Mapping[str, Any] | None
    text: str | None
    files: tuple[FileEntry, ...]
    files_truncated: bool = False
    load_problem: LoadProblem | None = None
    max_file_bytes: int = 20 * 1024 * 1024  # limits.file_mb: no read of one of its files goes past it

    def read(self, relpath: str, limit: int | None = None) -> bytes:
        """The bytes of one of its files: a regular file inside the folder, reached without
        any symlink, at most `limit` (default: the per-file limit) bytes; else `UnsafeFile`."""
        return read_inside(self.dir, relpath, min(limit or self.max_file_bytes, self.max_file_bytes))

    def read_text(self, relpath: str, limit: int | None = None) -> str:
        return read_text_inside(self.dir, relpath, min(limit or self.max_file_bytes, self.max_file_bytes))

    @property
    def dir_name(self) -> str:
        return self.dir.name

    @property
    def metadata_file(self) -> Path:
        return self.dir / METADATA_FILE

    @property
    def id(self) -> str:
        """The metadata's id when it is a valid id, else the folder's name."""
        value = (self.metadata or {}).get("id")
        return value if is_datalab_id(value) else self.dir_name

    def get(self, key: str, default: Any = None) -> Any:
        return (self.metadata or {}).get(key, default)

    def references(self) -> list[tuple[tuple, str, str]]:
        """Files the metadata names: (JSON path, relative path, role), role being
        "entry", "test", "screenshot" or "icon"."""
        meta = self.metadata or {}
        refs: list[tuple[tuple, str, str]] = []

        def add(path: tuple, value: Any, role: str) -> None:
            if isinstance(value, str):  # anything else is the schema's to report
                refs.append((path, value, role))

        kind = type_of(meta)
        if kind is not None and kind.entry_is_file:
            add(("entry",), meta.get("entry"), "entry")
        tests = meta.get("tests")
        for index, test in enumerate(tests if isinstance(tests, list) else []):
            add(("tests", index), test, "test")
        shots = meta.get("screenshots")
        for index, shot in enumerate(shots if isinstance(shots, list) else []):
            if isinstance(shot, dict):
                add(("screenshots", index, "file"), shot.get("file"), "screenshot")
        add(("icon",), meta.get("icon"), "icon")
        return refs

    @cached_property
    def _files_by_path(self) -> dict[str, FileEntry]:
        return {entry.path: entry for entry in self.files}

    def file(self, relpath: str) -> FileEntry | None:
        entry = self._files_by_path.get(relpath)
        if entry is None and self.files_truncated:  # the walk stopped early: look on disk
            path = self.dir / relpath
            if path.is_file() and not path.is_symlink():
                return FileEntry(relpath, path.stat().st_size)
        return entry

    @cached_property
    def line_index(self) -> LineIndex:
        """Built only when a finding needs a line number."""
        return LineIndex.build(self.text or "")

    def line(self, path: Iterable) -> int | None:
        return self.line_index.line(path) if self.text else None

    def display(self, relpath: str | None = None) -> str:
        """A path for messages: relative to the working directory when the datalab is below it."""
        target = self.dir / relpath if relpath else self.metadata_file  # "." is the directory
        absolute = Path(os.path.abspath(target))
        cwd = Path.cwd()
        return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(absolute)
