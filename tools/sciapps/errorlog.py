"""The last line of defence: an unexpected error becomes a log file and exit code 3."""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import traceback
from pathlib import Path

from sciapps import __version__


def log_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sciapps"


_SECRET_OPTION = re.compile(r"^--?[\w-]*(token|password|secret|key)[\w-]*$", re.IGNORECASE)
_SECRET_VARIABLE = re.compile(r"(TOKEN|SECRET|PASSWORD|PRIVATE_KEY|SIGNING_KEY)", re.IGNORECASE)


def _secrets(argv: list[str]) -> set[str]:
    """Values that must never reach a log: those of options named like a token or a
    password (`--token X`, `--token=X`), and of environment variables named so."""
    found = set()
    for index, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if _SECRET_OPTION.match(name):
            if eq:
                found.add(value)
            elif index + 1 < len(argv):
                found.add(argv[index + 1])
    found.update(value for name, value in os.environ.items() if _SECRET_VARIABLE.search(name))
    return {s for s in found if len(s) >= 4}


def redact(text: str, argv: list[str] | None = None) -> str:
    for secret in sorted(_secrets(sys.argv if argv is None else argv), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def write_crash_log(exc: BaseException) -> Path:
    """Write the traceback and versions to a log a user can attach to an issue; tokens and
    passwords, from the command line or the environment, are replaced by [redacted]."""
    text = redact(
        f"sciapps {__version__}\npython {sys.version.split()[0]} on {platform.platform()}\n"
        f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
    )
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "sciapps-error.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    raise exc
