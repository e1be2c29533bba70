"""Reading a file that a merge request supplied: bounded, inside its folder, never through a link.

A datalab's files are hostile until a moderator approves them: `Dockerfile` may be a
symlink to `/dev/zero`, `notebooks/` a symlink to `/etc`, `apt.txt` a FIFO that blocks
forever. `read_inside` opens each part of the path relative to the folder with
`O_NOFOLLOW` (so no symlink is followed, at any depth), refuses anything that is not a
regular file, and reads at most `limit` bytes, checked before and while reading.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath


class UnsafeFile(Exception):
    """Why a file was not read: one sentence, for a finding or an error message."""


def _parts(relpath: str) -> list[str]:
    if not relpath or "\0" in relpath or "\\" in relpath:
        raise UnsafeFile(f"{relpath!r} is not a usable file name")
    path = PurePosixPath(relpath)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or path.parts[0] == ".":
        raise UnsafeFile(f"{relpath!r} is not a path inside the datalab")
    return list(path.parts)


def read_inside(root: Path, relpath: str, limit: int) -> bytes:
    """The bytes of `root/relpath` when it is a regular file of at most `limit` bytes,
    reached from `root` without following any symlink; else `UnsafeFile`."""
    parts = _parts(relpath)
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        folder = os.open(root, flags | os.O_DIRECTORY)
    except OSError as exc:
        raise UnsafeFile(f"{root}: cannot open the folder ({exc.strerror})") from None
    fd = -1
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=folder)
            except OSError as exc:
                raise UnsafeFile(f"{relpath}: {part!r} is not a folder of the datalab ({exc.strerror})") from None
            os.close(folder)
            folder = inner
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer
            fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=folder)
        except OSError as exc:
            reason = "a symlink" if exc.errno == errno.ELOOP else exc.strerror  # O_NOFOLLOW met a link
            raise UnsafeFile(f"{relpath}: cannot be read ({reason})") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{relpath}: not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"{relpath}: {info.st_size:,} bytes, over the {limit:,}-byte limit")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise UnsafeFile(f"{relpath}: over the {limit:,}-byte limit")
        return b"".join(chunks)
    finally:
        if fd >= 0:
            os.close(fd)
        os.close(folder)


def read_text_inside(root: Path, relpath: str, limit: int) -> str:
    """Like `read_inside`, decoded as UTF-8 (a byte-order mark is dropped)."""
    data = read_inside(root, relpath, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnsafeFile(f"{relpath}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8") from None


def write_atomically(path: Path, text: str) -> None:
    """Write a text file so that a reader sees the old content or the new, never half."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
