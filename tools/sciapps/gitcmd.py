"""Git, called one way: the `git` binary with hooks and fsmonitor off (a repository's own
configuration runs nothing), bounded in time and in output, lists NUL-separated (no name is
quoted away), and every failure a `SciAppsError` that says what to do. Every part of
SciApps that asks Git something asks it here.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sciapps.errors import SciAppsError

TIMEOUT_S = 300
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
HISTORY_HINT = "run in a clone of the catalog with the revision (GIT_DEPTH: 0 in CI), e.g. --base origin/main"


@dataclass(frozen=True)
class Answer:
    returncode: int
    stdout: str
    stderr: str


def run(root: Path, *args: str, timeout: float = TIMEOUT_S, limit: int = MAX_OUTPUT_BYTES) -> Answer:
    """`git <args>` in `root`, whatever its exit code; only a missing git, a timeout or an
    answer larger than `limit` is an error."""
    try:
        proc = subprocess.Popen(
            ["git", *SAFE, *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise SciAppsError("git is not installed", "install git") from None
    except NotADirectoryError:
        raise SciAppsError(f"{root} is not a folder", "run in a clone of the catalog") from None
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    size, deadline = 0, time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0 or size > limit:
                proc.kill()
                proc.wait()
                why = f"took more than {timeout:g} s" if left <= 0 else f"answered more than {limit // 2**20} MiB"
                raise SciAppsError(f"git {args[0] if args else ''} {why} in {root}", "retry the job; see the repository's size")
            for key, _ in selector.select(timeout=min(left, 1.0)):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.fd].append(data)
                size += len(data)
    proc.wait()
    out = b"".join(chunks[proc.stdout.fileno()]).decode("utf-8", "surrogateescape")
    err = b"".join(chunks[proc.stderr.fileno()]).decode("utf-8", "replace")
    proc.stdout.close()
    proc.stderr.close()
    return Answer(proc.returncode, out, err)


def git(root: Path, *args: str, hint: str = HISTORY_HINT, timeout: float = TIMEOUT_S) -> str:
    """The output of `git <args>`; a failure is an error that says what Git said, and `hint`."""
    answer = run(root, *args, timeout=timeout)
    if answer.returncode != 0:
        if "not a git repository" in answer.stderr.lower():
            raise SciAppsError(f"{root} is not in a Git repository", hint)
        raise SciAppsError(f"git {args[0]} failed in {root}: {answer.stderr.strip()[:300]}", hint)
    return answer.stdout


def commit(root: Path, rev: str) -> str:
    """The commit `rev` names; a revision that looks like an option is refused."""
    if rev.startswith("-"):
        raise SciAppsError(f"{rev!r} is not a revision", "pass a commit, e.g. --base origin/main")
    return git(root, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether commit `older` is in the history of `newer` (both full commit ids)."""
    if not all(re.fullmatch(r"[0-9a-f]{40}", rev) for rev in (older, newer)):
        return False
    return run(root, "merge-base", "--is-ancestor", older, newer).returncode == 0


def head(root: Path) -> str | None:
    """The checked-out commit, or None outside a repository (or before its first commit)."""
    try:
        answer = run(root, "rev-parse", "--verify", "HEAD^{commit}", timeout=30)
    except SciAppsError:
        return None
    value = answer.stdout.strip()
    return value if answer.returncode == 0 and len(value) == 40 else None


def object_type(root: Path, rev: str, path: str) -> str | None:
    """ "blob", "tree", ... of `rev:path`, or None when there is none."""
    answer = run(root, "cat-file", "-t", f"{rev}:{path}")
    return answer.stdout.strip() if answer.returncode == 0 else None


def show(root: Path, rev: str, path: str) -> str | None:
    """The file `path` at `rev`, or None when it has none."""
    answer = run(root, "show", f"{rev}:{path}")
    return answer.stdout if answer.returncode == 0 else None


def show_bytes(root: Path, rev: str, path: str, limit: int) -> bytes | None:
    """The bytes of `path` at `rev` (a picture, say), or None when it has none or it is
    larger than `limit`."""
    try:
        answer = run(root, "show", f"{rev}:{path}", limit=limit)
    except SciAppsError:
        return None
    data = answer.stdout.encode("utf-8", "surrogateescape")
    return data if answer.returncode == 0 and len(data) <= limit else None


def paths(output: str) -> list[str]:
    """A NUL-separated list of paths."""
    return [p for p in output.split("\0") if p]


def top(root: Path) -> Path:
    """The repository's top folder."""
    return Path(git(root, "rev-parse", "--show-toplevel").strip())


def config_value(root: Path, key: str) -> str | None:
    """A Git setting as Git resolves it (the repository's, then the user's), or None."""
    try:
        answer = run(root, "config", "--get", key, timeout=30)
    except SciAppsError:
        return None
    return answer.stdout.strip() or None if answer.returncode == 0 else None
